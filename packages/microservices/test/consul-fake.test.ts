import { uniqueName } from '@noa/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { consulRegistry } from '../src/backends/consul.js';
import { createServiceClient, createServiceRegistry } from '../src/index.js';
import { registryContract } from './contract.js';
import { type FakeConsul, startFakeConsul } from './fake-consul.js';
import { startUpstream } from './helpers.js';

const fake: FakeConsul = await startFakeConsul();
afterAll(() => fake.close());
registryContract('consul (fake Consul agent HTTP API)', {
  create: () => consulRegistry({ host: fake.host, port: fake.port, waitMs: 2_000 }),
});

describe('discovery over Consul (fake agent)', () => {
  it('answers lookups from the watched cache: requests and instances() cost no call to Consul', async () => {
    const registry = createServiceRegistry({
      backend: consulRegistry({ host: fake.host, port: fake.port, waitMs: 5_000 }),
    });
    const name = uniqueName('cached');
    const upstreams = [await startUpstream(registry, name), await startUpstream(registry, name)];
    const client = createServiceClient({ registry, service: name });
    try {
      expect((await client.request({ path: '/warm' })).status).toBe(200);
      const health = () => fake.requests.filter((r) => r.startsWith(`GET /v1/health/service/${name}`)).length;
      const before = health();
      for (let i = 0; i < 100; i++) expect((await client.request({ path: '/x' })).status).toBe(200);
      for (let i = 0; i < 100; i++)
        expect(await registry.instances(name, { healthyOnly: true })).toHaveLength(2);
      // At most the watch's own blocking query coming back around; never one per lookup.
      expect(health() - before).toBeLessThanOrEqual(1);
      expect(upstreams[0]!.hits + upstreams[1]!.hits).toBe(101);
    } finally {
      await client.close();
      await Promise.all(upstreams.map((u) => u.kill()));
      await registry.close();
    }
  });
});
