/**
 * @noa/core benchmarks: the circuit breaker's closed-state execute against opossum and cockatiel,
 * and the serializers (JSON, msgpack, protobuf) for size and speed. Run: pnpm --filter @noa/core bench
 */
import { fileURLToPath } from 'node:url';
import { type BenchTable, compare, renderText, writeBenchResults } from '@noa/testkit';
import { ConsecutiveBreaker, circuitBreaker, handleAll } from 'cockatiel';
import Long from 'long';
// @ts-expect-error opossum ships no type declarations
import Opossum from 'opossum';
import protobuf from 'protobufjs';
import { createCircuitBreaker, jsonSerializer } from '../src/index.js';
import { msgpackSerializer } from '../src/msgpack.js';
import { protobufSerializer } from '../src/protobuf.js';

protobuf.util.Long = Long as never;
protobuf.configure();

const quick = process.env.NOA_BENCH_QUICK === '1';
const timeMs = quick ? 100 : 500;
const rounds = quick ? 2 : 5;
const tables: BenchTable[] = [];

// --- circuit breaker, closed state -------------------------------------------------------------
const action = () => Promise.resolve(1);
const noa = createCircuitBreaker({ failureThreshold: 5, halfOpenAfterMs: 10_000 });
// opossum's default 10 s timeout arms a timer per call; turned off so both do the same work.
const opossum = new Opossum(action, { timeout: false, errorThresholdPercentage: 50, resetTimeout: 10_000 });
const opossumDefault = new Opossum(action, { resetTimeout: 10_000 });
const cockatiel = circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) });

const breakerResult = await compare(
  'Circuit breaker: execute() in closed state (async no-op action)',
  {
    '@noa/core': () => noa.execute(action),
    'opossum (timeout off)': () => opossum.fire(),
    'opossum (defaults)': () => opossumDefault.fire(),
    cockatiel: () => cockatiel.execute(action),
    'no breaker (limit)': () => action(),
  },
  { id: 'core-circuit-breaker', timeMs, rounds },
);
tables.push(breakerResult.table);
opossum.shutdown();
opossumDefault.shutdown();

// --- serializers ---------------------------------------------------------------------------------
const root = protobuf.parse(`
  syntax = "proto3";
  message Order { int64 id = 1; string customer = 2; repeated Item items = 3; double total = 4; bool paid = 5; string created_at = 6; }
  message Item { string sku = 1; int32 quantity = 2; double price = 3; }
`).root;
const order = {
  id: '918273645',
  customer: 'customer-4711@example.com',
  items: Array.from({ length: 8 }, (_, i) => ({
    sku: `SKU-${1000 + i}`,
    quantity: (i % 3) + 1,
    price: 9.99 + i,
  })),
  total: 123.45,
  paid: true,
  created_at: '2026-11-25T10:00:00.000Z',
};
const serializers = {
  json: jsonSerializer,
  msgpack: msgpackSerializer(),
  protobuf: protobufSerializer(root.lookupType('Order')),
};
const sizeTable: BenchTable = {
  id: 'core-serializer-size',
  title: 'Serializers: encoded size of an order with 8 line items',
  columns: ['serializer', 'bytes', 'vs json'],
  rows: Object.entries(serializers).map(([name, s]) => {
    const bytes = s.encode(order).byteLength;
    return [name, bytes, `${(bytes / serializers.json.encode(order).byteLength).toFixed(2)}×`];
  }),
};
console.log(renderText(sizeTable));
tables.push(sizeTable);

const encoded = Object.fromEntries(Object.entries(serializers).map(([name, s]) => [name, s.encode(order)]));
tables.push(
  (
    await compare(
      'Serializers: encode + decode round trip of the same order',
      Object.fromEntries(
        Object.entries(serializers).map(([name, s]) => [name, () => s.decode(s.encode(order))]),
      ),
      { id: 'core-serializer-speed', timeMs, rounds },
    )
  ).table,
);
tables.push(
  (
    await compare(
      'Serializers: decode only',
      Object.fromEntries(
        Object.entries(serializers).map(([name, s]) => [name, () => s.decode(encoded[name]!)]),
      ),
      { id: 'core-serializer-decode', timeMs, rounds },
    )
  ).table,
);

const file = writeBenchResults(fileURLToPath(new URL('..', import.meta.url)), 'core', tables);
console.log(`\nwrote ${file}`);
