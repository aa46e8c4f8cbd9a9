import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { requireService, serviceUrl, uniqueName, waitUntil } from '@noa/testkit';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { ALGORITHMS } from './contract.js';

const redis = await requireService('redis');
const hammer = fileURLToPath(new URL('./fixtures/hammer.ts', import.meta.url));
const PROCESSES = 4;
const REQUESTS_EACH = 150;
const LIMIT = 100;

/** Everything a child printed so far, line by line. */
function output(child: ChildProcess): string[] {
  const lines: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => lines.push(line));
  return lines;
}

describe.skipIf(!redis.available)('exactness across processes on one Redis key', () => {
  const prefix = uniqueName('rl_exact');
  afterAll(async () => {
    const client = new Redis(serviceUrl('redis'));
    const keys = await client.keys(`${prefix}*`);
    if (keys.length) await client.del(...keys);
    client.disconnect();
  });

  it.each(ALGORITHMS)(
    `%s: ${PROCESSES} processes × ${REQUESTS_EACH} concurrent requests admit exactly the limit`,
    async (algorithm) => {
      const children = Array.from({ length: PROCESSES }, () =>
        spawn(
          process.execPath,
          [
            '--import',
            'tsx',
            '--conditions=@noa/source',
            hammer,
            serviceUrl('redis'),
            prefix,
            algorithm,
            String(LIMIT),
            `hot-${algorithm}`,
            String(REQUESTS_EACH),
          ],
          { stdio: ['pipe', 'pipe', 'inherit'] },
        ),
      );
      const outputs = children.map(output);
      const exited = children.map((child) => new Promise((resolve) => child.once('exit', resolve)));
      // Start them together, once every child has connected.
      await waitUntil(() => outputs.every((lines) => lines[0] === 'ready'), { timeoutMs: 45_000 });
      for (const child of children) child.stdin!.end('go\n');
      await Promise.all(exited);
      const reports = outputs.map(
        (lines) => JSON.parse(lines[1]!) as { admitted: number; unavailable: number },
      );
      expect(reports.reduce((sum, r) => sum + r.unavailable, 0)).toBe(0);
      expect(reports.reduce((sum, r) => sum + r.admitted, 0)).toBe(LIMIT);
    },
    60_000,
  );
});
