import { waitUntil } from '@noa/testkit';
import { describe, expect, it } from 'vitest';
import { createServiceRegistry, memoryRegistry } from '../src/index.js';
import { registryContract } from './contract.js';

const shared = memoryRegistry({ pollIntervalMs: 1_000 });
registryContract('memory', { create: () => shared });

describe('registry watches', () => {
  it('a throwing watch listener is reported as an error and does not stop other listeners', async () => {
    const registry = createServiceRegistry({ backend: memoryRegistry() });
    const errors: unknown[] = [];
    registry.on('error', (e) => errors.push(e));
    const seen: number[] = [];
    registry.watch('svc', () => {
      throw new Error('listener bug');
    });
    registry.watch('svc', (list) => seen.push(list.length));
    await registry.register({ name: 'svc', address: '127.0.0.1', port: 4100 });
    await waitUntil(() => seen.at(-1) === 1, { message: 'second listener still called' });
    expect(errors.length).toBeGreaterThan(0);
    await registry.close();
  });
});
