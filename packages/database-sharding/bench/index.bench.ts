/**
 * @noa/database-sharding benchmarks: lookup cost, balance and key movement of jump, rendezvous,
 * the consistent-hash ring (160 virtual nodes), a Maglev table and the `hashring` npm package
 * (ketama/md5, 160 points per server), all in one run; then the router's own overhead and the cost
 * of the cross-shard merge. Run: pnpm --filter @noa/database-sharding bench
 */
import { fileURLToPath } from 'node:url';
import { type BenchTable, compare, formatDuration, renderText, writeBenchResults } from '@noa/testkit';
// @ts-expect-error hashring ships no type declarations
import HashRing from 'hashring';
import {
  consistentHashStrategy,
  createShardRouter,
  hashStrategy,
  jumpHashStrategy,
  mergeShardRows,
  rendezvousStrategy,
  type ShardPool,
} from '../src/index.js';
import { MaglevTable } from './maglev.js';

const quick = process.env.NOA_BENCH_QUICK === '1';
const timeMs = quick ? 100 : 400;
const rounds = quick ? 2 : 5;
const KEYS = quick ? 100_000 : 1_000_000;
const tables: BenchTable[] = [];

interface Lookup {
  get(key: string): string;
}
type Make = (shards: string[]) => Lookup;

const algorithms: Record<string, Make> = {
  'jump (@noa)': (shards) => {
    const s = jumpHashStrategy({ shards });
    return { get: (k) => s.shardFor(k) };
  },
  'rendezvous (@noa)': (shards) => {
    const s = rendezvousStrategy({ shards });
    return { get: (k) => s.shardFor(k) };
  },
  'ring, 160 vnodes (@noa)': (shards) => {
    const s = consistentHashStrategy({ shards, virtualNodes: 160 });
    return { get: (k) => s.shardFor(k) };
  },
  'maglev, M=65537': (shards) => {
    const s = new MaglevTable(shards);
    return { get: (k) => s.shardFor(k) };
  },
  'hash mod n (@noa)': (shards) => {
    const s = hashStrategy({ shards });
    return { get: (k) => s.shardFor(k) };
  },
  'hashring (npm, ketama md5)': (shards) => {
    const ring = new HashRing(shards);
    return { get: (k) => ring.get(k) as string };
  },
};

const shardNames = (n: number) => Array.from({ length: n }, (_, i) => `shard-${i}`);
const keys = Array.from({ length: KEYS }, (_, i) => `user:${i}`);

// --- lookup cost -----------------------------------------------------------------------------------
for (const n of [10, 100]) {
  let i = 0;
  const tasks = Object.fromEntries(
    Object.entries(algorithms).map(([name, make]) => {
      const lookup = make(shardNames(n));
      return [name, () => lookup.get(keys[i++ % 100_000]!)];
    }),
  );
  const result = await compare(`Shard lookup for a string key, ${n} shards`, tasks, {
    id: `sharding-lookup-${n}`,
    timeMs,
    rounds,
    notes: [
      'keys cycle through 100,000 distinct strings; hashring caches the last 5,000 lookups (its default)',
    ],
  });
  tables.push(result.table);
}

// --- balance and movement ------------------------------------------------------------------------------
function assign(lookup: Lookup, shards: string[]): Uint16Array {
  const index = new Map(shards.map((s, i) => [s, i]));
  const out = new Uint16Array(KEYS);
  for (let k = 0; k < KEYS; k++) out[k] = index.get(lookup.get(keys[k]!))!;
  return out;
}

function movedFraction(a: Uint16Array, aShards: string[], b: Uint16Array, bShards: string[]): number {
  let moved = 0;
  for (let k = 0; k < KEYS; k++) if (aShards[a[k]!] !== bShards[b[k]!]) moved++;
  return moved / KEYS;
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const points = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)}`;

const balanceRows: (string | number)[][] = [];
const movementRows: (string | number)[][] = [];
for (const n of [10, 100]) {
  const shards = shardNames(n);
  const grown = shardNames(n + 1);
  for (const [name, make] of Object.entries(algorithms)) {
    const base = assign(make(shards), shards);
    const counts = new Array(n).fill(0);
    for (let k = 0; k < KEYS; k++) counts[base[k]!]++;
    const mean = KEYS / n;
    const cv = Math.sqrt(counts.reduce((acc, c) => acc + (c - mean) ** 2, 0) / n) / mean;
    balanceRows.push([name, String(n), pct(cv), (Math.max(...counts) / mean).toFixed(3)]);

    const grow = movedFraction(base, shards, assign(make(grown), grown), grown);
    // Jump numbers shards by position: only the last one can be removed cheaply.
    const removedIndex = name.startsWith('jump') ? n - 1 : Math.floor(n / 2);
    const without = shards.filter((_, i) => i !== removedIndex);
    const remove = movedFraction(base, shards, assign(make(without), without), without);
    movementRows.push([
      name,
      String(n),
      pct(grow),
      pct(1 / (n + 1)),
      points(grow - 1 / (n + 1)),
      pct(remove),
      pct(1 / n),
      points(remove - 1 / n),
    ]);
    if (name.startsWith('jump')) {
      const middle = shards.filter((_, i) => i !== Math.floor(n / 2));
      const removeMiddle = movedFraction(base, shards, assign(make(middle), middle), middle);
      movementRows.push([
        'jump: remove a middle shard',
        String(n),
        '',
        '',
        '',
        pct(removeMiddle),
        pct(1 / n),
        points(removeMiddle - 1 / n),
      ]);
    }
  }
}
const balance: BenchTable = {
  id: 'sharding-balance',
  title: `Balance over ${KEYS.toLocaleString('en-US')} keys: coefficient of variation of keys per shard, and the fullest shard over the mean`,
  columns: ['algorithm', 'shards', 'CV', 'max/mean'],
  rows: balanceRows,
  notes: [
    `goal: jump CV under 1%; a perfect random assignment has CV ≈ sqrt(n/keys) (${pct(Math.sqrt(10 / KEYS))} at 10, ${pct(Math.sqrt(100 / KEYS))} at 100 shards)`,
  ],
};
console.log(renderText(balance));
tables.push(balance);
const movement: BenchTable = {
  id: 'sharding-movement',
  title: `Keys moved (of ${KEYS.toLocaleString('en-US')}) going from N to N+1 shards and removing one shard, against the ideal`,
  columns: ['algorithm', 'N', 'N→N+1', 'ideal 1/(N+1)', 'Δ points', 'remove one', 'ideal 1/N', 'Δ points'],
  rows: movementRows,
  notes: [
    'goal: within one percentage point of ideal. Removal takes the middle shard (jump: the last, and separately a middle one).',
  ],
};
console.log(renderText(movement));
tables.push(movement);

// --- router overhead -------------------------------------------------------------------------------------
const noop = { rows: [], rowCount: 0 };
const noopPool: ShardPool = { query: () => Promise.resolve(noop) };
const shards10 = shardNames(10);
const router = createShardRouter({
  strategy: jumpHashStrategy({ shards: shards10 }),
  shards: Object.fromEntries(shards10.map((s) => [s, noopPool])),
});
let q = 0;
const overhead = await compare(
  'Routing overhead: router.query(key, sql) on a pool that answers at once, vs calling the pool directly',
  {
    'pool.query (no routing)': () => noopPool.query('SELECT 1', []),
    'router.query (jump, 10 shards)': () => router.query(keys[q++ % 100_000]!, 'SELECT 1', []),
  },
  { id: 'sharding-router-overhead', timeMs, rounds },
);
tables.push(overhead.table);
const perCall = (name: string) => 1e9 / overhead.byTask[name]!.opsPerSec;
const overheadNs = perCall('router.query (jump, 10 shards)') - perCall('pool.query (no routing)');
const summary: BenchTable = {
  id: 'sharding-router-overhead-summary',
  title: 'Routing overhead per query (difference of the mean times per call above)',
  columns: ['measure', 'value', 'goal'],
  rows: [['router.query − pool.query', formatDuration(Math.max(0, overheadNs)), '< 1 µs']],
};
console.log(renderText(summary));
tables.push(summary);

// --- cross-shard merge -------------------------------------------------------------------------------------
const parts = shards10.map((shard, s) => ({
  shard,
  rows: Array.from({ length: 50 }, (_, i) => ({
    id: i * 10 + s,
    created_at: new Date(1_700_000_000_000 - (i * 10 + s) * 1000),
  })),
}));
const orderBy = [
  { column: 'created_at', direction: 'desc' as const },
  { column: 'id', direction: 'desc' as const },
];
const naive = (a: Record<string, unknown>, b: Record<string, unknown>) =>
  (b.created_at as Date).getTime() - (a.created_at as Date).getTime() || (b.id as number) - (a.id as number);
const merge = await compare(
  'Cross-shard ORDER BY created_at DESC LIMIT 50 over 10 shards × 50 rows',
  {
    'mergeShardRows (k-way merge, checks order)': () => mergeShardRows(parts, { orderBy, limit: 50 }),
    'concat + sort + slice': () =>
      parts
        .flatMap((p) => p.rows)
        .sort(naive)
        .slice(0, 50),
  },
  { id: 'sharding-merge', timeMs, rounds },
);
tables.push(merge.table);
await router.close();

const file = writeBenchResults(fileURLToPath(new URL('..', import.meta.url)), 'database-sharding', tables);
console.log(`\nwrote ${file}`);
