import { type BenchTable, median } from '@noa/testkit';
import autocannon from 'autocannon';
import { SignJWT } from 'jose';
import { startChild } from './child.js';

const SECRET = 'benchmark-secret-that-is-at-least-32-bytes-long';

interface Result {
  rps: number;
  /** Proxy CPU time per request: robust on a shared, noisy machine where req/s is not. */
  cpuMicrosPerRequest: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

async function run(
  url: string,
  seconds: number,
  headers: Record<string, string>,
  cpu: () => Promise<number>,
): Promise<Result> {
  const before = await cpu();
  return new Promise((resolve, reject) => {
    autocannon({ url, connections: 32, pipelining: 1, duration: seconds, headers }, async (error, result) => {
      if (error) return reject(error);
      const used = (await cpu()) - before;
      resolve({
        cpuMicrosPerRequest: used / Math.max(1, result.requests.total),
        rps: result.requests.average,
        p50: result.latency.p50,
        p99: result.latency.p99,
        errors: result.errors + result.timeouts,
        non2xx: result.non2xx,
      });
    });
  });
}

/**
 * The gateway under autocannon (loopback, every proxy and the upstream in its own process), against
 * fast-gateway and @fastify/http-proxy, the upstream directly as the limit, and with JWT + rate limit
 * + circuit breaker on.
 */
export async function gatewayThroughput(quick: boolean): Promise<BenchTable[]> {
  const seconds = quick ? 2 : 4;
  const rounds = quick ? 1 : 3;
  const upstream = await startChild('./fixtures/upstream.mjs', ['1']);
  const [port] = JSON.parse(upstream.line) as number[];
  const token = await new SignJWT({ sub: 'bench-user' })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer('bench')
    .setAudience('api')
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(SECRET));
  const targets: { name: string; kind?: string; headers?: Record<string, string> }[] = [
    { name: 'upstream directly (the limit)' },
    { name: '@noa gateway (bare proxy)', kind: 'noa-bare' },
    { name: 'fast-gateway', kind: 'fast-gateway' },
    { name: '@fastify/http-proxy', kind: 'fastify-http-proxy' },
    {
      name: '@noa gateway + JWT + rate limit + breaker',
      kind: 'noa-full',
      headers: { authorization: `Bearer ${token}` },
    },
  ];
  const started = await Promise.all(
    targets.map(async (t) => {
      if (!t.kind)
        return { url: `http://127.0.0.1:${port}/users/1`, stop: async () => {}, cpu: upstream.cpuMicros };
      const child = await startChild('./fixtures/proxy-target.ts', [t.kind, String(port)], true);
      return {
        url: `http://127.0.0.1:${child.line.split(' ')[1]}/api/users/1`,
        stop: child.stop,
        cpu: child.cpuMicros,
      };
    }),
  );
  const results: Result[][] = targets.map(() => []);
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? targets.map((_, i) => i) : targets.map((_, i) => targets.length - 1 - i);
    for (const i of order) {
      const { url, cpu } = started[i]!;
      await run(url, 0.5, targets[i]!.headers ?? {}, cpu); // warm-up
      results[i]!.push(await run(url, seconds, targets[i]!.headers ?? {}, cpu));
    }
  }
  await Promise.all(started.map((s) => s.stop()));
  await upstream.stop();
  const summary = results.map((list) => ({
    rps: median(list.map((r) => r.rps)),
    cpu: median(list.map((r) => r.cpuMicrosPerRequest)),
    p50: median(list.map((r) => r.p50)),
    p99: median(list.map((r) => r.p99)),
    errors: list.reduce((a, r) => a + r.errors + r.non2xx, 0),
  }));
  const bare = summary[1]!.rps;
  const rows = targets
    .slice(0, 4)
    .map((t, i) => [
      t.name,
      Math.round(summary[i]!.rps),
      `${summary[i]!.p50} ms`,
      `${summary[i]!.p99} ms`,
      `${(summary[i]!.rps / bare).toFixed(2)}×`,
      `${summary[i]!.cpu.toFixed(0)} µs`,
      summary[i]!.errors,
    ]);
  const note = `autocannon, 32 connections, ${seconds} s per run, median of ${rounds} interleaved round(s); upstream and each proxy in its own process on loopback`;
  const full = summary[4]!;
  return [
    {
      id: 'microservices-gateway-proxy',
      title: 'Gateway: bare proxy requests/s (GET, small JSON)',
      columns: ['target', 'req/s', 'p50', 'p99', 'vs @noa bare', 'CPU per request', 'errors'],
      rows,
      notes: [
        note,
        'CPU per request = the proxy process CPU time / requests served (the upstream row: the upstream itself)',
        'goal: @noa ahead of both peers',
      ],
    },
    {
      id: 'microservices-gateway-plugins',
      title: 'Gateway: cost of JWT (HS256) + rate limit (memory) + circuit breaker + retries',
      columns: [
        'configuration',
        'req/s',
        'p50',
        'p99',
        'vs bare',
        'CPU per request',
        'CPU vs bare',
        'errors',
      ],
      rows: [
        [
          '@noa gateway (bare proxy)',
          Math.round(bare),
          `${summary[1]!.p50} ms`,
          `${summary[1]!.p99} ms`,
          '1.00×',
          `${summary[1]!.cpu.toFixed(0)} µs`,
          '1.00×',
          summary[1]!.errors,
        ],
        [
          targets[4]!.name,
          Math.round(full.rps),
          `${full.p50} ms`,
          `${full.p99} ms`,
          `${(full.rps / bare).toFixed(2)}×`,
          `${full.cpu.toFixed(0)} µs`,
          `${(full.cpu / summary[1]!.cpu).toFixed(2)}×`,
          full.errors,
        ],
      ],
      notes: [note, 'goal: at most 25% slower than the bare proxy (ratio >= 0.75)'],
    },
  ];
}
