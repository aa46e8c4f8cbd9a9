import { consulRegistry } from '../src/backends/consul.js';
import { registryContract } from './contract.js';
import { type FakeConsul, startFakeConsul } from './fake-consul.js';

const fake: FakeConsul = await startFakeConsul();
registryContract('consul (fake Consul agent HTTP API)', {
  create: () => consulRegistry({ host: fake.host, port: fake.port, waitMs: 2_000 }),
  cleanup: () => fake.close(),
});
