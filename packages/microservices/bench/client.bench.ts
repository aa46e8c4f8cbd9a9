import { randomUUID } from 'node:crypto';
import { type BenchTable, compare } from '@noa/testkit';
import { Pool } from 'undici';
import { createServiceClient, createServiceRegistry, memoryRegistry } from '../src/index.js';
import { startChild } from './child.js';

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

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
  const { table } = await compare(
    'Service client: GET with a small JSON answer, against undici directly (upstream in another process)',
    {
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
    },
    {
      id: 'microservices-client-overhead',
      timeMs: quick ? 300 : 1_500,
      rounds: quick ? 2 : 5,
      concurrency: 16,
      notes: ['goal: the full client within 10% of undici direct (ratio >= 0.90)'],
    },
  );
  await full.close();
  await bare.close();
  await pool.close();
  await registry.close();
  await upstream.stop();
  return table;
}
