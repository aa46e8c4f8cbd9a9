import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { requireService, serviceUrl, uniqueName, waitUntil } from '@noa/testkit';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { redisRegistry } from '../src/backends/redis.js';
import { createServiceRegistry } from '../src/index.js';

const redis = await requireService('redis');

describe.skipIf(!redis.available)('createService and SIGTERM (child process, real Redis)', () => {
  it('deregisters and exits when the process gets SIGTERM', async () => {
    const prefix = uniqueName('sigterm');
    const name = uniqueName('svc');
    const client = new Redis(serviceUrl('redis'));
    const registry = createServiceRegistry({ backend: redisRegistry({ client, prefix }) });
    const fixture = fileURLToPath(new URL('./fixtures/sigterm-service.ts', import.meta.url));
    const child = spawn(
      process.execPath,
      ['--conditions=@noa/source', '--import', 'tsx', fixture, serviceUrl('redis'), prefix, name],
      {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    try {
      let output = '';
      child.stdout.on('data', (d) => {
        output += d;
      });
      await waitUntil(() => output.includes('ready'), { timeoutMs: 30_000, message: 'child service ready' });
      expect(await registry.instances(name, { healthyOnly: true })).toHaveLength(1);
      const exited = new Promise<[number | null, string | null]>((resolve) =>
        child.once('exit', (code, signal) => resolve([code, signal])),
      );
      child.kill('SIGTERM');
      const [code, signal] = await exited;
      expect(code === 0 || signal === 'SIGTERM').toBe(true);
      expect(await registry.instances(name)).toEqual([]);
    } finally {
      child.kill('SIGKILL');
      await registry.close();
      const keys = await client.keys(`${prefix}*`);
      if (keys.length) await client.del(...keys);
      await client.quit();
    }
  });
});
