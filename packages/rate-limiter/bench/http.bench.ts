/** Middleware overhead on a real HTTP server (autocannon over loopback), against express-rate-limit and @fastify/rate-limit. */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type BenchTable, formatDuration, median, renderText } from '@noa/testkit';
// @ts-expect-error autocannon ships no type declarations
import autocannon from 'autocannon';

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p99: number };
  non2xx: number;
  errors: number;
}

interface Server {
  child: ChildProcess;
  url: string;
}

interface Run {
  rps: number;
  p99Ms: number;
  errors: number;
  /** Server process CPU time per request served, µs (undefined where /proc is missing). */
  cpuMicros: number | undefined;
}

const serverScript = fileURLToPath(new URL('./http-server.ts', import.meta.url));
const CONNECTIONS = 32;

let ticksPerSecond: number | undefined;
/** CPU time (user + system) of a process so far, in µs, from /proc (Linux); undefined elsewhere. */
function processCpuMicros(pid: number): number | undefined {
  try {
    ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    // Fields after the command name (which is in parentheses): state is field 3, utime 14, stime 15.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) / ticksPerSecond) * 1e6;
  } catch {
    return undefined;
  }
}

async function start(framework: string, variant: string): Promise<Server> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@noa/source', serverScript, framework, variant],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`${framework}/${variant} server exited with ${code}`)));
  });
  const url = `http://127.0.0.1:${port}/`;
  await autocannon({ url, connections: CONNECTIONS, duration: 1 }); // warm-up
  return { child, url };
}

async function load({ child, url }: Server, durationS: number): Promise<Run> {
  const before = processCpuMicros(child.pid!);
  const result: AutocannonResult = await autocannon({ url, connections: CONNECTIONS, duration: durationS });
  const after = processCpuMicros(child.pid!);
  return {
    rps: result.requests.average,
    p99Ms: result.latency.p99,
    errors: result.non2xx + result.errors,
    cpuMicros:
      before === undefined || after === undefined
        ? undefined
        : (after - before) / Math.max(1, result.requests.total),
  };
}

/** Bytes of the response head (status line and headers): what the limiter adds to every response. */
async function headBytes(url: string): Promise<number> {
  const response = await fetch(url);
  await response.arrayBuffer();
  let bytes = 'HTTP/1.1 200 OK\r\n'.length + 2;
  response.headers.forEach((value, name) => {
    bytes += name.length + value.length + 4;
  });
  return bytes;
}

export async function httpBench({ quick }: { quick: boolean }): Promise<BenchTable[]> {
  const durationS = quick ? 1 : 3;
  const rounds = quick ? 1 : 3;
  const rows: (string | number)[][] = [];
  const variants = {
    express: { none: 'no limiter', noa: '@noa/rate-limiter rateLimit()', peer: 'express-rate-limit' },
    fastify: { none: 'no limiter', noa: '@noa/rate-limiter fastifyRateLimit', peer: '@fastify/rate-limit' },
  };
  for (const [framework, names] of Object.entries(variants)) {
    const servers = new Map<string, Server>();
    try {
      for (const variant of Object.keys(names)) servers.set(variant, await start(framework, variant));
      const runs = new Map<string, Run[]>([...servers.keys()].map((v) => [v, []]));
      // Interleaved rounds, so a noisy moment on this shared machine hits every variant alike.
      for (let round = 0; round < rounds; round++)
        for (const [variant, server] of servers) runs.get(variant)!.push(await load(server, durationS));
      const summary = new Map(
        [...runs].map(([variant, list]) => {
          const cpu = list.map((r) => r.cpuMicros).filter((c): c is number => c !== undefined);
          return [
            variant,
            {
              rps: median(list.map((r) => r.rps)),
              p99Ms: median(list.map((r) => r.p99Ms)),
              errors: list.reduce((sum, r) => sum + r.errors, 0),
              cpu: cpu.length ? median(cpu) : undefined,
            },
          ];
        }),
      );
      const baseline = summary.get('none')!;
      for (const [variant, label] of Object.entries(names)) {
        const s = summary.get(variant)!;
        rows.push([
          framework === 'express' ? 'Express 5' : 'Fastify 5',
          label,
          Math.round(s.rps),
          formatDuration(s.p99Ms * 1e6),
          `${(s.rps / baseline.rps).toFixed(2)}×`,
          s.cpu === undefined ? 'n/a' : `${s.cpu.toFixed(1)} µs`,
          s.cpu === undefined || baseline.cpu === undefined
            ? 'n/a'
            : `+${(s.cpu - baseline.cpu).toFixed(1)} µs`,
          await headBytes(servers.get(variant)!.url),
          s.errors,
        ]);
      }
    } finally {
      for (const { child } of servers.values()) child.kill();
    }
  }
  const table: BenchTable = {
    id: 'rate-limiter-http',
    title: 'Middleware overhead: GET / returning JSON, autocannon over loopback',
    columns: [
      'server',
      'limiter',
      'req/s',
      'p99',
      'vs no limiter',
      'server CPU per request',
      'limiter CPU per request',
      'response head bytes',
      'non-2xx/errors',
    ],
    rows,
    notes: [
      `${CONNECTIONS} connections, median of ${rounds} interleaved round(s) of ${durationS} s after a 1 s warm-up; each server in its own process; memory stores; fixed window, limit never reached`,
      'server CPU per request: the server process CPU time (/proc) over the requests it served; limiter CPU: the same minus the no-limiter row',
      'autocannon shares the 2 cores with the server, so req/s also moves with the bytes it has to parse: ours sends the legacy and the IETF headers by default (headers: "both"), the response head column shows each size',
    ],
  };
  console.log(renderText(table));
  return [table];
}
