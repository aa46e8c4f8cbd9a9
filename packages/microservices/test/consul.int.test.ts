import { hostPort, requireService } from '@noa/testkit';
import { describe } from 'vitest';
import { consulRegistry } from '../src/consul.js';
import { registryContract } from './contract.js';

// Live Consul: runs only when CONSUL_HTTP_ADDR is set (no Consul agent runs on this machine).
const consul = await requireService('consul');

describe.skipIf(!consul.available)('consul registry (live agent at CONSUL_HTTP_ADDR)', () => {
  registryContract('consul (live)', {
    create: () => {
      const { host, port } = hostPort(consul.url.includes('://') ? consul.url : `http://${consul.url}`);
      return consulRegistry({ host, port, token: process.env.CONSUL_HTTP_TOKEN, waitMs: 5_000 });
    },
  });
});
