/**
 * @noa/microservices benchmarks: balancer quality and pick cost, weighted share error, service
 * client overhead against undici, and the gateway against fast-gateway and @fastify/http-proxy.
 * Run: pnpm --filter @noa/microservices bench (NOA_BENCH_QUICK=1 for a short run).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchResultsFile, type BenchTable, renderText, writeBenchResults } from '@noa/testkit';
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

// A partial run (NOA_BENCH_ONLY) replaces only its own tables in the results file.
const dir = fileURLToPath(new URL('..', import.meta.url));
const resultsFile = join(dir, 'bench', 'results', 'microservices.json');
let merged = tables;
if (only && existsSync(resultsFile)) {
  const previous = (JSON.parse(readFileSync(resultsFile, 'utf8')) as BenchResultsFile).tables;
  const fresh = new Map(tables.map((t) => [t.id, t]));
  merged = previous.map((t) => fresh.get(t.id) ?? t);
  for (const t of tables) if (!previous.some((p) => p.id === t.id)) merged.push(t);
}
if (!quick) console.log(`\nwrote ${writeBenchResults(dir, 'microservices', merged)}`);
