import { type BenchTable, compare, formatDuration, percentile } from '@noa/testkit';
import {
  type BalancerName,
  createBalancer,
  createServiceClient,
  createServiceRegistry,
  memoryRegistry,
  type ServiceInstance,
} from '../src/index.js';
import { startChild } from './child.js';

const NAMES: BalancerName[] = ['round-robin', 'random', 'least-connections', 'weighted', 'p2c-ewma'];

/** Balancer quality: real requests to 10 upstreams (in another process), one 10x slower. */
export async function balancerLatency(quick: boolean): Promise<BenchTable> {
  const upstreams = await startChild('./fixtures/upstream.mjs', ['10', '9', '2', '10']);
  const ports = JSON.parse(upstreams.line) as number[];
  const registry = createServiceRegistry({ backend: memoryRegistry() });
  for (const [i, port] of ports.entries())
    await registry.register({ name: 'users', id: `u${i}`, address: '127.0.0.1', port });
  const requests = quick ? 1_500 : 4_000;
  const rounds = quick ? 1 : 3;
  const concurrency = 16;
  // One measurement: a fresh client (cold balancer state) sending `requests` with `concurrency` in flight.
  const measure = async (name: BalancerName) => {
    const client = createServiceClient({
      registry,
      service: 'users',
      balancer: name,
      retry: false,
      circuitBreaker: false,
      outlierDetection: false,
    });
    const latencies: number[] = [];
    let slow = 0;
    let issued = 0;
    const lane = async () => {
      while (issued < requests) {
        issued++;
        const started = process.hrtime.bigint();
        const res = await client.request({ path: '/users/1' });
        latencies.push(Number(process.hrtime.bigint() - started));
        if (res.instance.id === 'u9') slow++;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
    await client.close();
    latencies.sort((a, b) => a - b);
    return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), slowShare: slow / requests };
  };
  const runs = new Map<BalancerName, { p50: number; p99: number; slowShare: number }[]>(
    NAMES.map((n) => [n, []]),
  );
  for (let round = 0; round < rounds; round++) {
    for (const name of round % 2 === 0 ? NAMES : [...NAMES].reverse())
      runs.get(name)!.push(await measure(name));
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
  const rows: (string | number)[][] = [];
  const p99s: Record<string, number> = {};
  for (const name of NAMES) {
    const list = runs.get(name)!;
    p99s[name] = median(list.map((r) => r.p99));
    rows.push([
      name,
      formatDuration(median(list.map((r) => r.p50))),
      formatDuration(p99s[name]!),
      `${(median(list.map((r) => r.slowShare)) * 100).toFixed(1)}%`,
    ]);
  }
  await registry.close();
  await upstreams.stop();
  for (const row of rows) row.push(`${(p99s[row[0] as string]! / p99s['round-robin']!).toFixed(2)}×`);
  return {
    id: 'microservices-balancer-latency',
    title: 'Balancers: 10 upstreams (2 ms), one 10× slower (20 ms); latency through the service client',
    columns: ['balancer', 'p50', 'p99', 'share sent to the slow one', 'p99 vs round-robin'],
    rows,
    notes: [
      `median of ${rounds} interleaved round(s) of ${requests} requests from a fresh client, ${concurrency} in flight; upstreams in a separate process`,
      'goal: p2c-ewma p99 <= 0.5x round-robin',
    ],
  };
}

const instance = (i: number, weight = 1): ServiceInstance => ({
  id: `i${i}`,
  name: 'svc',
  address: '127.0.0.1',
  port: 1000 + i,
  tags: [],
  meta: {},
  weight,
  healthy: true,
});

/** Smooth weighted round-robin's share error over 100k picks, against a weighted-random pick. */
export function weightedError(): BenchTable {
  const weights = [1, 2, 3, 5, 8, 13, 21, 34, 55, 89];
  const items = weights.map((w, i) => instance(i, w));
  const total = weights.reduce((a, w) => a + w, 0);
  const picks = 100_000;
  const run = (pick: () => ServiceInstance) => {
    const counts = new Map<string, number>();
    for (let i = 0; i < picks; i++) {
      const id = pick().id;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    let maxAbs = 0;
    let maxRel = 0;
    for (const item of items) {
      const expected = (picks * item.weight) / total;
      const diff = Math.abs((counts.get(item.id) ?? 0) - expected);
      maxAbs = Math.max(maxAbs, diff);
      maxRel = Math.max(maxRel, diff / expected);
    }
    return [maxAbs.toFixed(1), `${(maxRel * 100).toFixed(3)}%`];
  };
  const swrr = createBalancer('weighted');
  const cumulative = weights.map((_, i) => weights.slice(0, i + 1).reduce((a, w) => a + w, 0));
  const weightedRandom = () => {
    const r = Math.random() * total;
    return items[cumulative.findIndex((c) => r < c)]!;
  };
  return {
    id: 'microservices-weighted-error',
    title: 'Weighted balancing: share error over 100,000 picks (weights 1,2,3,5,8,...,89)',
    columns: ['method', 'largest error (picks)', 'largest relative error'],
    rows: [
      ['@noa smooth weighted round-robin', ...run(() => swrr.pick(items))],
      ['weighted random (for comparison)', ...run(weightedRandom)],
    ],
  };
}

/** Cost of one pick over 10 instances. */
export async function pickCost(quick: boolean): Promise<BenchTable> {
  const items = Array.from({ length: 10 }, (_, i) => instance(i, i + 1));
  const tasks: Record<string, () => unknown> = {};
  for (const name of NAMES) {
    const balancer = createBalancer(name);
    tasks[name] = () => {
      const picked = balancer.pick(items);
      balancer.onStart(picked);
      balancer.onEnd(picked, 1);
    };
  }
  const { table } = await compare('Balancer pick + bookkeeping over 10 instances', tasks, {
    id: 'microservices-balancer-pick',
    timeMs: quick ? 100 : 400,
    rounds: quick ? 2 : 5,
  });
  return table;
}
