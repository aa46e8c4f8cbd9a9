import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createShardManager, geoStrategy, rangeStrategy } from '../src/index.js';
import { MIGRATIONS } from '../src/internal/migrations.js';
import { createPgliteShard } from '../src/pglite.js';

describe('shard manager', () => {
  it('the embedded migrations are exactly migrations/*.sql', () => {
    for (const { name, sql } of MIGRATIONS) {
      expect(sql).toBe(readFileSync(new URL(`../migrations/${name}`, import.meta.url), 'utf8'));
    }
    expect(MIGRATIONS.map((m) => m.name)).toEqual(['CreateShardMetadata.sql', 'CreateShardMapping.sql']);
  });

  it('stores range and geo strategies and gives them back unchanged; maps are separate by name', async () => {
    const metadata = await createPgliteShard();
    await using users = createShardManager({ metadata, name: 'users' });
    await using events = createShardManager({ metadata, name: 'events' });
    await users.migrate();
    const ranges = rangeStrategy({
      ranges: [
        { shard: 'r0', to: 100 },
        { shard: 'r1', from: 100 },
      ],
    }).split(500, 'r2');
    await users.publish(ranges);
    const geo = geoStrategy({
      regions: { eu: ['eu0', 'eu1'], us: ['us0'] },
      inner: 'rendezvous',
      defaultRegion: 'us',
    });
    await events.publish(geo.toSpec());
    const loaded = await createShardManager({ metadata, name: 'users' }).load();
    expect(loaded.spec).toEqual(ranges.toSpec());
    expect(loaded.strategy.shardFor(700)).toBe('r2');
    const loadedGeo = await createShardManager({ metadata, name: 'events' }).load();
    expect(loadedGeo.version).toBe(1);
    expect(loadedGeo.strategy.shardFor({ region: 'eu', id: 'x' })).toBe(
      geo.shardFor({ region: 'eu', id: 'x' }),
    );
    expect(loadedGeo.publishedAt).toBeInstanceOf(Date);
    await metadata.close();
  });

  it('validates its options and what is published', async () => {
    const metadata = await createPgliteShard();
    expect(() => createShardManager({} as never)).toThrow(/metadata/);
    expect(() => createShardManager({ metadata, pollIntervalMs: 1 })).toThrow(/pollIntervalMs/);
    const manager = createShardManager({ metadata });
    await manager.migrate();
    await expect(manager.publish({ type: 'hash', shards: [] })).rejects.toThrow(/non-empty/);
    await expect(manager.publish({ type: 'hash', shards: ['a'] }, { shardInfo: { b: {} } })).rejects.toThrow(
      /does not use/,
    );
    await expect(manager.get(0)).rejects.toThrow(/positive integer/);
    await expect(manager.get(7)).rejects.toMatchObject({ code: 'NOA_SHARDING_NO_SHARD_MAP' });
    await manager.close();
    await expect(manager.load()).rejects.toMatchObject({ code: 'NOA_SHARDING_CLOSED' });
    await metadata.close();
  });
});
