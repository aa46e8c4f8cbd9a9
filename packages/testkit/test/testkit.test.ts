import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  compare,
  formatNumber,
  hostPort,
  isReachable,
  median,
  percentile,
  renderMarkdown,
  requireService,
  uniqueName,
  waitUntil,
} from '../src/index.js';

describe('testkit', () => {
  it('uniqueName gives distinct, identifier-safe names', () => {
    const names = new Set(Array.from({ length: 100 }, () => uniqueName('My Queue!')));
    expect(names.size).toBe(100);
    for (const name of names) expect(name).toMatch(/^noa_my_queue_[a-z0-9_]+$/);
  });

  it('hostPort understands URLs, host:port lists and default ports', () => {
    expect(hostPort('redis://127.0.0.1:6380')).toEqual({ host: '127.0.0.1', port: 6380 });
    expect(hostPort('postgres://u@db.local/test')).toEqual({ host: 'db.local', port: 5432 });
    expect(hostPort('k1:9092,k2:9092')).toEqual({ host: 'k1', port: 9092 });
  });

  it('isReachable tells an open port from a closed one', async () => {
    const server = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const { port } = server.address() as { port: number };
    expect(await isReachable(`tcp://127.0.0.1:${port}`)).toBe(true);
    await new Promise((r) => server.close(r));
    expect(await isReachable(`tcp://127.0.0.1:${port}`, 200)).toBe(false);
  });

  it('requireService skips services this machine cannot run unless configured', async () => {
    const previous = process.env.KAFKA_BROKERS;
    delete process.env.KAFKA_BROKERS;
    const kafka = await requireService('kafka');
    expect(kafka.available).toBe(false);
    expect(kafka.reason).toMatch(/KAFKA_BROKERS/);
    if (previous !== undefined) process.env.KAFKA_BROKERS = previous;
  });

  it('waitUntil returns the first truthy value and fails with the message after the timeout', async () => {
    let n = 0;
    expect(await waitUntil(() => (++n >= 3 ? n : 0), { intervalMs: 1 })).toBe(3);
    await expect(waitUntil(() => false, { timeoutMs: 30, message: 'never' })).rejects.toThrow(
      /never did not hold/,
    );
  });

  it('percentile picks nearest-rank values', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile([], 50)).toBe(0);
  });

  it('compare measures every task and reports ratios to the baseline', async () => {
    let a = 0;
    let b = 0;
    const { table, byTask } = await compare(
      'test',
      { a: () => a++, b: async () => b++ },
      { id: 't', timeMs: 20, rounds: 1, print: false },
    );
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(0);
    expect(byTask.a!.ops).toBeGreaterThan(0);
    expect(table.rows[0]![4]).toBe('1.00×');
    expect(renderMarkdown(table)).toContain('| task | ops/s | p50 | p99 | vs a |');
  });

  it('median takes the middle value, or the mean of the middle two', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('formatNumber prints counts as integers and measurements with two decimals or three digits', () => {
    expect(formatNumber(0)).toBe('0');
    expect(formatNumber(42)).toBe('42');
    expect(formatNumber(1234567)).toBe('1,234,567');
    expect(formatNumber(1234.6)).toBe('1,235');
    expect(formatNumber(4.5)).toBe('4.50');
    expect(formatNumber(0.01234)).toBe('0.0123');
  });
});
