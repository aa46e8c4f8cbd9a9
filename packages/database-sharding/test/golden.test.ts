import { describe, expect, it } from 'vitest';
import {
  consistentHashStrategy,
  geoStrategy,
  hashStrategy,
  jumpHashStrategy,
  rendezvousStrategy,
  xxhash64,
} from '../src/index.js';

// Pinned key -> shard samples. These must never change between versions: a change would silently
// send existing rows' keys to other shards. If one fails, the change is a breaking data migration.
const shards = Array.from({ length: 10 }, (_, i) => `s${i}`);
const keys: (string | number)[] = [
  'user:1',
  'user:42',
  42,
  '42',
  'ü',
  '',
  'order-2024-000123',
  1234567890123,
  3.5,
  -7,
  'a-much-longer-key-that-is-over-thirty-two-bytes-long',
  '日本語キー',
  '😀',
];

const golden = {
  hash: ['s3', 's6', 's1', 's1', 's5', 's1', 's9', 's7', 's2', 's1', 's5', 's4', 's4'],
  jump: ['s2', 's5', 's1', 's1', 's7', 's7', 's6', 's1', 's1', 's2', 's2', 's6', 's8'],
  rendezvous: ['s9', 's7', 's2', 's2', 's3', 's7', 's9', 's5', 's8', 's3', 's4', 's7', 's7'],
  consistent: ['s7', 's4', 's7', 's7', 's3', 's8', 's5', 's7', 's4', 's5', 's4', 's9', 's0'],
};

describe('golden key -> shard mappings', () => {
  it('XXH64 of the canonical key bytes (UTF-8; numbers as String(n))', () => {
    expect(keys.map((k) => xxhash64(k).toString(16))).toEqual([
      'd9c7c4609e6080f3',
      'dc1fea7da8d2d1c2',
      '6de6f5d076d742b9',
      '6de6f5d076d742b9',
      '1e03879e435793d',
      'ef46db3751d8e999',
      '4185ca85b8e8294f',
      '81f613829897771f',
      '2e3c602a0755b622',
      'c4ec0c6ad41198f',
      'fbd8c6a732f63e73',
      '11d544c2b05eb65a',
      '9025b8abaae87b80',
    ]);
  });

  it.each([
    ['hash', hashStrategy({ shards })],
    ['jump', jumpHashStrategy({ shards })],
    ['rendezvous', rendezvousStrategy({ shards })],
    ['consistent', consistentHashStrategy({ shards, virtualNodes: 160 })],
  ] as const)('%s', (name, strategy) => {
    expect(keys.map((k) => strategy.shardFor(k))).toEqual(golden[name]);
  });

  it('geo with jump inside the regions', () => {
    const geo = geoStrategy({ regions: { eu: ['eu0', 'eu1', 'eu2'], us: ['us0', 'us1'] }, inner: 'jump' });
    expect(keys.map((id, i) => geo.shardFor({ region: i % 2 ? 'eu' : 'us', id }))).toEqual([
      'us0',
      'eu0',
      'us1',
      'eu1',
      'us1',
      'eu2',
      'us1',
      'eu1',
      'us1',
      'eu2',
      'us1',
      'eu2',
      'us1',
    ]);
  });

  it('the strategies survive a JSON round trip of their spec unchanged', async () => {
    const { createStrategy } = await import('../src/index.js');
    const ring = consistentHashStrategy({ shards, virtualNodes: 160, seed: 7 });
    const copy = createStrategy(JSON.parse(JSON.stringify(ring.toSpec())));
    for (const k of keys) expect(copy.shardFor(k)).toBe(ring.shardFor(k));
  });
});
