import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  createMemoryMetrics,
  isNoaError,
  NoaError,
  noopLogger,
  noopMetrics,
  runHealthChecks,
  TypedEventEmitter,
} from '../src/index.js';
import { prometheusMetrics } from '../src/prometheus.js';

describe('NoaError', () => {
  it('carries a code, a message and a cause', () => {
    const cause = new Error('root');
    const error = new NoaError('NOA_X', 'what happened', { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ code: 'NOA_X', message: 'what happened', cause, name: 'NoaError' });
    expect(isNoaError(error)).toBe(true);
    expect(isNoaError(error, 'NOA_X')).toBe(true);
    expect(isNoaError(error, 'NOA_Y')).toBe(false);
    expect(isNoaError(new Error('plain'))).toBe(false);
    expect(isNoaError({ name: 'NoaError', code: 'NOA_X' })).toBe(false);
  });
});

describe('TypedEventEmitter', () => {
  type Events = { hit: [key: string]; error: [error: Error] };

  it('calls listeners in order, supports once and off', () => {
    const emitter = new TypedEventEmitter<Events>();
    const seen: string[] = [];
    const a = (k: string) => seen.push(`a:${k}`);
    emitter.on('hit', a).once('hit', (k) => seen.push(`once:${k}`));
    expect(emitter.emit('hit', 'x')).toBe(true);
    emitter.emit('hit', 'y');
    emitter.off('hit', a);
    emitter.emit('hit', 'z');
    expect(seen).toEqual(['a:x', 'once:x', 'a:y']);
    expect(emitter.listenerCount('hit')).toBe(0);
  });

  it('does not throw when error is emitted with no listener', () => {
    const emitter = new TypedEventEmitter<Events>();
    expect(emitter.emit('error', new Error('nobody listens'))).toBe(false);
  });

  it('a listener removed during emit does not disturb the current emit', () => {
    const emitter = new TypedEventEmitter<Events>();
    const seen: string[] = [];
    const second = () => seen.push('second');
    emitter
      .on('hit', () => {
        seen.push('first');
        emitter.off('hit', second);
      })
      .on('hit', second);
    emitter.emit('hit', 'k');
    emitter.emit('hit', 'k');
    expect(seen).toEqual(['first', 'second', 'first']);
  });
});

describe('runHealthChecks', () => {
  it('reports the worst status and turns throws and timeouts into failures', async () => {
    const report = await runHealthChecks(
      [
        { name: 'db', check: async () => ({ status: 'pass' }) },
        { name: 'replica', check: async () => ({ status: 'warn', observedValue: 1500, output: 'lagging' }) },
        {
          name: 'broken',
          check: async () => {
            throw new Error('refused');
          },
        },
        { name: 'hung', check: () => new Promise(() => {}) },
      ],
      { timeoutMs: 20 },
    );
    expect(report.status).toBe('fail');
    expect(report.checks.db!.status).toBe('pass');
    expect(report.checks.replica).toMatchObject({ status: 'warn', observedValue: 1500 });
    expect(report.checks.broken).toMatchObject({ status: 'fail', output: 'refused' });
    expect(report.checks.hung).toMatchObject({ status: 'fail', output: expect.stringMatching(/timed out/) });
  });

  it('passes when all checks pass', async () => {
    expect((await runHealthChecks([{ name: 'a', check: async () => ({ status: 'pass' }) }])).status).toBe(
      'pass',
    );
  });
});

describe('metrics', () => {
  it('memory metrics record counters, gauges and histograms per label set', () => {
    const metrics = createMemoryMetrics();
    const hits = metrics.counter({ name: 'hits_total', help: 'hits', labelNames: ['tier'] });
    hits.inc(1, { tier: 'memory' });
    hits.inc(2, { tier: 'memory' });
    hits.inc(1, { tier: 'redis' });
    const size = metrics.gauge({ name: 'size', help: 'entries' });
    size.set(10);
    size.dec(3);
    metrics.histogram({ name: 'latency_seconds', help: 'latency' }).observe(0.5);
    expect(metrics.value('hits_total', { tier: 'memory' })).toBe(3);
    expect(metrics.value('hits_total', { tier: 'redis' })).toBe(1);
    expect(metrics.value('size')).toBe(7);
    expect(metrics.observations('latency_seconds')).toEqual([0.5]);
  });

  it('prometheus adapter exposes the series and shares a metric asked for twice', async () => {
    const registry = new Registry();
    const metrics = prometheusMetrics({ registry, prefix: 'test_' });
    metrics
      .counter({ name: 'requests_total', help: 'requests', labelNames: ['route'] })
      .inc(1, { route: '/a' });
    metrics
      .counter({ name: 'requests_total', help: 'requests', labelNames: ['route'] })
      .inc(2, { route: '/a' });
    metrics.gauge({ name: 'open', help: 'open' }).set(4);
    metrics.histogram({ name: 'latency_seconds', help: 'latency', buckets: [0.1, 1] }).observe(0.05);
    const text = await registry.metrics();
    expect(text).toContain('test_requests_total{route="/a"} 3');
    expect(text).toContain('test_open 4');
    expect(text).toContain('test_latency_seconds_bucket{le="0.1"} 1');
  });

  it('noop metrics and logger accept calls and do nothing', () => {
    noopMetrics.counter({ name: 'x', help: 'x' }).inc();
    noopMetrics.histogram({ name: 'y', help: 'y' }).observe(1);
    noopLogger.info({ a: 1 }, 'msg');
    noopLogger.error('msg');
    expect(Object.isFrozen(noopLogger)).toBe(true);
  });
});
