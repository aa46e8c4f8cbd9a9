import { randomUUID } from 'node:crypto';
import { type BenchTable, compare, median, renderText } from '@noa/testkit';
import { Pool } from 'undici';
import { createServiceClient, createServiceRegistry, memoryRegistry } from '../src/index.js';
import { startChild } from './child.js';

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

/** This process's CPU time (µs) per call of `fn` over `count` calls with `concurrency` in flight. */
async function cpuPerRequest(
  fn: () => Promise<unknown>,
  count: number,
  concurrency: number,
): Promise<number> {
  let left = count;
  const lane = async () => {
    while (left-- > 0) await fn();
  };
  const before = process.cpuUsage();
  await Promise.all(Array.from({ length: concurrency }, lane));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / count;
}

/** Request overhead of the service client against undici's Pool used directly, same upstream. */
export async function clientOverhead(quick: boolean): Promise<BenchTable> {
  const upstream = await startChild('./fixtures/upstream.mjs', ['1']);
  const [port] = JSON.parse(upstream.line) as number[];
  const registry = createServiceRegistry({ backend: memoryRegistry() });
  await registry.register({ name: 'users', address: '127.0.0.1', port: port! });
  const pool = new Pool(`http://127.0.0.1:${port}`, {
    connections: 64,
    keepAliveTimeout: 4_000,
    pipelining: 1,
  });
  const full = createServiceClient({ registry, service: 'users' });
  const bare = createServiceClient({
    registry,
    service: 'users',
    retry: false,
    circuitBreaker: false,
    outlierDetection: false,
  });
  await full.request({ path: '/warm' });
  await bare.request({ path: '/warm' });
  const tasks: Record<string, () => Promise<unknown>> = {
    'undici Pool.request (direct)': async () => {
      const res = await pool.request({ method: 'GET', path: '/users/1' });
      await res.body.arrayBuffer();
    },
    // What propagation alone costs: the two headers our client adds to every request.
    'undici Pool.request + x-request-id + traceparent': async () => {
      const res = await pool.request({
        method: 'GET',
        path: '/users/1',
        headers: { 'x-request-id': randomUUID(), traceparent: TRACEPARENT },
      });
      await res.body.arrayBuffer();
    },
    '@noa client (retries, breaker, ejection, trace headers)': () => full.request({ path: '/users/1' }),
    '@noa client (resilience off)': () => bare.request({ path: '/users/1' }),
  };
  const rounds = quick ? 2 : 5;
  const { table } = await compare(
    'Service client: GET with a small JSON answer, against undici directly (upstream in another process)',
    tasks,
    {
      id: 'microservices-client-overhead',
      timeMs: quick ? 300 : 1_500,
      rounds,
      concurrency: 16,
      print: false,
      notes: [
        "CPU per request: this process's CPU time over a fixed number of requests (16 in flight), median of the same number of interleaved rounds; steadier than ops/s on a shared machine",
        'goal: the full client within 10% of undici direct (ratio >= 0.90)',
      ],
    },
  );
  // CPU time per request, in its own interleaved rounds: on a shared 2-core machine the ops/s of
  // a round swings with what else runs, the CPU a request costs this process much less.
  const names = Object.keys(tasks);
  const cpu: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
  const perRound = quick ? 2_000 : 20_000;
  for (let round = 0; round < rounds; round++) {
    for (const name of round % 2 === 0 ? names : [...names].reverse()) {
      cpu[name]!.push(await cpuPerRequest(tasks[name]!, perRound, 16));
    }
  }
  const cpuMedian = names.map((name) => median(cpu[name]!));
  table.columns.push('CPU per request', 'CPU vs direct');
  table.rows.forEach((row, i) => {
    row.push(`${cpuMedian[i]!.toFixed(1)} µs`, `${(cpuMedian[0]! / cpuMedian[i]!).toFixed(2)}×`);
  });
  console.log(renderText(table));
  await full.close();
  await bare.close();
  await pool.close();
  await registry.close();
  await upstream.stop();
  return table;
}
