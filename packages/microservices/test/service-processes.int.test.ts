import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { requireService, serviceUrl, uniqueName, waitUntil } from '@noa/testkit';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { redisRegistry } from '../src/backends/redis.js';
import { createServiceClient, createServiceRegistry } from '../src/index.js';

const redis = await requireService('redis');
const fixture = fileURLToPath(new URL('./fixtures/redis-service.ts', import.meta.url));

/** A service in its own process, registered in Redis with a TTL check. */
async function startChild(prefix: string, name: string, ttlMs: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      '--conditions=@noa/source',
      '--import',
      'tsx',
      fixture,
      serviceUrl('redis'),
      prefix,
      name,
      String(ttlMs),
    ],
    { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  child.stdout!.on('data', (d) => {
    output += d;
  });
  await waitUntil(() => output.includes('ready'), { timeoutMs: 30_000, message: 'child service ready' });
  return child;
}

describe.skipIf(!redis.available)('service processes and faults (child processes, real Redis)', () => {
  const children: ChildProcess[] = [];
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    for (const fn of cleanup.splice(0)) await fn();
  });
  const setup = () => {
    const prefix = uniqueName('svcproc');
    const client = new Redis(serviceUrl('redis'));
    const registry = createServiceRegistry({ backend: redisRegistry({ client, prefix }) });
    cleanup.push(async () => {
      await registry.close();
      const keys = await client.keys(`${prefix}*`);
      if (keys.length) await client.del(...keys);
      await client.quit();
    });
    return { prefix, registry };
  };

  it('deregisters and exits when the process gets SIGTERM', async () => {
    const { prefix, registry } = setup();
    const name = uniqueName('svc');
    const child = await startChild(prefix, name, 30_000);
    children.push(child);
    expect(await registry.instances(name, { healthyOnly: true })).toHaveLength(1);
    const exited = new Promise<[number | null, string | null]>((resolve) =>
      child.once('exit', (code, signal) => resolve([code, signal])),
    );
    child.kill('SIGTERM');
    const [code, signal] = await exited;
    expect(code === 0 || signal === 'SIGTERM').toBe(true);
    expect(await registry.instances(name)).toEqual([]);
  });

  it('an instance killed with SIGKILL costs no request, and its TTL takes it out of rotation', async () => {
    const { prefix, registry } = setup();
    const name = uniqueName('svc');
    const [victim, survivor] = [await startChild(prefix, name, 1_000), await startChild(prefix, name, 1_000)];
    children.push(victim!, survivor!);
    const client = createServiceClient({ registry, service: name, retry: { attempts: 3 } });
    cleanup.unshift(() => client.close());
    await waitUntil(
      async () => (await client.request({ path: '/ping' })).status === 200 && client.instances().length === 2,
      {
        message: 'both instances discovered',
        timeoutMs: 15_000,
      },
    );
    const failures: unknown[] = [];
    let done = 0;
    const worker = async () => {
      while (done < 400) {
        done++;
        try {
          const res = await client.request({ path: '/ping' });
          if (res.status !== 200) failures.push(res.status);
        } catch (error) {
          failures.push(error);
        }
      }
    };
    const killer = (async () => {
      while (done < 100) await new Promise((r) => setTimeout(r, 2));
      victim!.kill('SIGKILL'); // no deregistration: only the TTL tells the registry
    })();
    await Promise.all([...Array.from({ length: 6 }, worker), killer]);
    expect(failures).toEqual([]);
    // The cached view (fed by pub/sub + the TTL timer) drops it once the TTL lapses.
    await waitUntil(async () => (await registry.instances(name, { healthyOnly: true })).length === 1, {
      message: 'dead instance left the registry by TTL',
      timeoutMs: 10_000,
    });
    expect(client.instances()).toHaveLength(1);
  });
});
