import { memoryProvider } from '../src/index.js';
import { queueContract } from './contract.js';

// One provider for the whole file: two managers over it are two schedulers sharing one backend.
const shared = memoryProvider();
queueContract('memory', { create: () => shared, timeoutMs: 5_000 });
