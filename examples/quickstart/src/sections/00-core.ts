import { createCircuitBreaker, createSingleFlight, jsonSerializer, retry, withTimeout } from '@noa/core';
import { msgpackSerializer } from '@noa/core/msgpack';

export const title = '@noa/core: serializers, circuit breaker, retry, timeouts, single-flight';

export async function run(): Promise<void> {
  const order = { id: 42, customer: 'ada@example.com', items: [{ sku: 'A-1', qty: 2 }], paid: true };
  const json = jsonSerializer.encode(order);
  const msgpack = msgpackSerializer().encode(order);
  console.log(
    `  serializers: the same order is ${json.byteLength} bytes as JSON, ${msgpack.byteLength} as msgpack`,
  );

  const breaker = createCircuitBreaker({ failureThreshold: 3, halfOpenAfterMs: 50 });
  breaker.on('open', ({ failures }) =>
    console.log(`  circuit breaker: opened after ${failures} consecutive failures`),
  );
  for (let i = 0; i < 3; i++)
    await breaker.execute(() => Promise.reject(new Error('upstream down'))).catch(() => {});
  const rejected = await breaker.execute(() => 'never called').catch((e: { code: string }) => e.code);
  console.log(`  circuit breaker: next call fails fast with ${rejected}`);
  await new Promise((r) => setTimeout(r, 60));
  console.log(
    `  circuit breaker: after the cool-down a trial call succeeds -> ${await breaker.execute(() => 'ok')}; state ${breaker.state}`,
  );

  let attempts = 0;
  const value = await retry(
    async () => {
      attempts++;
      if (attempts < 3) throw new Error('flaky');
      return 'loaded';
    },
    { attempts: 5, backoff: { type: 'exponential', delayMs: 5, jitter: 'full' } },
  );
  console.log(`  retry: '${value}' after ${attempts} attempts with exponential backoff and full jitter`);

  const timedOut = await withTimeout(new Promise(() => {}), 20).catch((e: { code: string }) => e.code);
  console.log(`  withTimeout: a call that never answers becomes ${timedOut} after 20 ms`);

  const flight = createSingleFlight();
  let loads = 0;
  const load = () => new Promise<string>((r) => setTimeout(() => r(`profile #${++loads}`), 10));
  const results = await Promise.all(Array.from({ length: 100 }, () => flight.do('user:1', load)));
  console.log(
    `  single-flight: 100 concurrent loads of one key ran the loader ${loads} time(s) -> ${results[0]}`,
  );
}
