import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRateLimiter, memoryStore } from '@noa/rate-limiter';
import { rateLimit } from '@noa/rate-limiter/express';

export const title = '@noa/rate-limiter: five algorithms, rules, headers, blocking';

export async function run(): Promise<void> {
  // The same greedy client (one attempt per ms for 2 s, simulated clock) against each algorithm.
  for (const algorithm of [
    'sliding-window',
    'fixed-window',
    'token-bucket',
    'leaky-bucket',
    'gcra',
  ] as const) {
    let now = 0;
    const limiter = createRateLimiter({
      algorithm,
      limit: 10,
      windowMs: 1_000,
      store: memoryStore({ now: () => now }),
    });
    let admitted = 0;
    for (; now < 2_000; now++) if ((await limiter.consume('client')).allowed) admitted++;
    console.log(`  ${algorithm.padEnd(14)} admitted ${admitted} of 2000 attempts in 2 s (limit 10/s)`);
  }

  const limiter = createRateLimiter({
    algorithm: 'gcra',
    limit: 3,
    windowMs: 60_000,
    blockAfterViolations: 2,
  });
  const reasons = [];
  for (let i = 0; i < 6; i++) reasons.push((await limiter.consume('user:42')).reason);
  console.log(`  blockAfterViolations: ${reasons.join(', ')}`);
  await limiter.close();

  // The Express middleware also runs on a plain node:http server: two rules, IETF + legacy headers.
  const middleware = rateLimit({
    rules: [
      { name: 'per-ip', limit: 5, windowMs: 60_000 },
      { name: 'search', match: { path: '/search' }, limit: 2, windowMs: 60_000, algorithm: 'token-bucket' },
    ],
  });
  const server = createServer((req, res) => middleware(req, res, () => res.end('ok')));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const statuses = [];
  let last: Response | undefined;
  for (let i = 0; i < 3; i++) {
    last = await fetch(`${url}/search`);
    statuses.push(last.status);
    await last.text();
  }
  console.log(
    `  HTTP /search x3 -> ${statuses.join(', ')}; Retry-After: ${last?.headers.get('retry-after')} s`,
  );
  console.log(`  RateLimit-Policy: ${last?.headers.get('ratelimit-policy')}`);
  console.log(`  RateLimit: ${last?.headers.get('ratelimit')}`);
  server.close();
  await middleware.close();
}
