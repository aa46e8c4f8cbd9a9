/**
 * @noa/microservices benchmarks: balancer quality and pick cost, weighted share error, service
 * client overhead against undici, and the gateway against fast-gateway and @fastify/http-proxy.
 * Run: pnpm --filter @noa/microservices bench (NOA_BENCH_QUICK=1 for a short run).
 */
import { fileURLToPath } from 'node:url';
import { type BenchTable, renderText, writeBenchResults } from '@noa/testkit';
import { balancerLatency, pickCost, weightedError } from './balancers.bench.js';
import { clientOverhead } from './client.bench.js';
import { gatewayThroughput } from './gateway.bench.js';

const quick = process.env.NOA_BENCH_QUICK === '1';
const only = process.env.NOA_BENCH_ONLY; // e.g. "gateway" while iterating
const tables: BenchTable[] = [];
const print = (table: BenchTable) => {
  console.log(renderText(table));
  tables.push(table);
};

if (!only || only === 'balancers') {
  print(await balancerLatency(quick));
  print(weightedError());
  tables.push(await pickCost(quick));
}
if (!only || only === 'client') tables.push(await clientOverhead(quick));
if (!only || only === 'gateway') for (const table of await gatewayThroughput(quick)) print(table);

if (!only) {
  const file = writeBenchResults(fileURLToPath(new URL('..', import.meta.url)), 'microservices', tables);
  console.log(`\nwrote ${file}`);
}
