/** Middleware overhead on a real HTTP server (autocannon over loopback), against express-rate-limit and @fastify/rate-limit. */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type BenchTable, formatDuration, renderText } from '@noa/testkit';
// @ts-expect-error autocannon ships no type declarations
import autocannon from 'autocannon';

interface AutocannonResult {
  requests: { average: number };
  latency: { p99: number };
  non2xx: number;
  errors: number;
}

const serverScript = fileURLToPath(new URL('./http-server.ts', import.meta.url));

async function load(framework: string, variant: string, durationS: number) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@noa/source', serverScript, framework, variant],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  try {
    const port = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`${framework}/${variant} server exited with ${code}`)));
    });
    const url = `http://127.0.0.1:${port}/`;
    await autocannon({ url, connections: 32, duration: 1 }); // warm-up
    const result: AutocannonResult = await autocannon({ url, connections: 32, duration: durationS });
    return { rps: result.requests.average, p99Ms: result.latency.p99, errors: result.non2xx + result.errors };
  } finally {
    child.kill();
  }
}

export async function httpBench({ quick }: { quick: boolean }): Promise<BenchTable[]> {
  const durationS = quick ? 2 : 4;
  const rows: (string | number)[][] = [];
  const variants = {
    express: { none: 'no limiter', noa: '@noa/rate-limiter rateLimit()', peer: 'express-rate-limit' },
    fastify: { none: 'no limiter', noa: '@noa/rate-limiter fastifyRateLimit', peer: '@fastify/rate-limit' },
  };
  for (const [framework, names] of Object.entries(variants)) {
    let baseline = 0;
    for (const [variant, label] of Object.entries(names)) {
      const { rps, p99Ms, errors } = await load(framework, variant, durationS);
      if (variant === 'none') baseline = rps;
      rows.push([
        framework === 'express' ? 'Express 5' : 'Fastify 5',
        label,
        Math.round(rps),
        formatDuration(p99Ms * 1e6),
        `${(rps / baseline).toFixed(2)}×`,
        errors,
      ]);
    }
  }
  const table: BenchTable = {
    id: 'rate-limiter-http',
    title: 'Middleware overhead: GET / returning JSON, autocannon over loopback',
    columns: ['server', 'limiter', 'req/s', 'p99', 'vs no limiter', 'non-2xx/errors'],
    rows,
    notes: [
      `32 connections, ${durationS} s per row after a 1 s warm-up; server in its own process; memory stores; fixed window, limit never reached`,
    ],
  };
  console.log(renderText(table));
  return [table];
}
