import { memoryRegistry } from '../src/index.js';
import { registryContract } from './contract.js';

const shared = memoryRegistry({ pollIntervalMs: 1_000 });
registryContract('memory', { create: () => shared });
