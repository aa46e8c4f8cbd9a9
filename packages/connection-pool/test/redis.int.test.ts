import { isNoaError } from '@noa/core';
import { RedisServerProcess, requireService, uniqueName, waitUntil } from '@noa/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseInfo, redisDriver, redisNodeState } from '../src/drivers/redis.js';
import { createPool, type Pool } from '../src/index.js';
import { poolContract } from './contract.js';
import { redisAt } from './redis-server.js';

const redis = await requireService('redis');
const prefix = `${uniqueName('cp_redis')}:`;

async function clients(name: string): Promise<string[]> {
  const admin = new Redis(redis.url);
  try {
    const list = String(await admin.call('CLIENT', 'LIST'));
    return list
      .split('\n')
      .filter((line) => line.includes(` name=${name} `))
      .map((line) => /(?:^|\s)id=(\d+)/.exec(line)![1]!);
  } finally {
    admin.disconnect();
  }
}

describe('redisNodeState (unit)', () => {
  it('maps INFO replication of a primary and of replicas', () => {
    expect(redisNodeState(parseInfo('# Replication\r\nrole:master\r\nmaster_repl_offset:42\r\n'))).toEqual({
      writable: true,
      lagMs: 0,
      position: '42',
    });
    expect(
      redisNodeState(
        parseInfo('role:slave\nmaster_link_status:up\nmaster_sync_in_progress:0\nslave_repl_offset:40\n'),
      ),
    ).toEqual({ writable: false, lagMs: 0, position: '40' });
    expect(
      redisNodeState(parseInfo('role:slave\nmaster_link_status:down\nslave_repl_offset:40\n')).lagMs,
    ).toBe(Number.POSITIVE_INFINITY);
  });
});

describe.skipIf(!redis.available)('Redis', () => {
  poolContract('redis', {
    driver: () => redisDriver({ primary: redis.url }),
    setup: async () => {},
    teardown: async () => {
      const admin = new Redis(redis.url);
      const keys = await admin.keys(`${prefix}*`);
      if (keys.length) await admin.del(...keys);
      admin.disconnect();
    },
    write: (pool, key, value) => pool.query('SET', [`${prefix}${key}`, value]),
    read: async (pool, key, role) => {
      const value = await pool.query('GET', [`${prefix}${key}`], { role });
      return value === null ? null : Number(value);
    },
    serverConnections: async (name) => (await clients(name)).length,
    killOne: async (name) => {
      const [id] = await clients(name);
      if (!id) return 0;
      const admin = new Redis(redis.url);
      try {
        return Number(await admin.call('CLIENT', 'KILL', 'ID', id));
      } finally {
        admin.disconnect();
      }
    },
  });
});

const hasRedisServer = redis.available;
describe.skipIf(!hasRedisServer)('Redis primary + replica (own redis-server processes)', () => {
  let primaryPort = 0;
  let replicaPort = 0;
  const servers: RedisServerProcess[] = [];
  const pools: Pool<ReturnType<typeof redisDriver>>[] = [];

  beforeAll(async () => {
    const primary = await RedisServerProcess.start();
    primaryPort = primary.port;
    servers.push(primary);
    const replica = await RedisServerProcess.start({
      args: ['--replicaof', '127.0.0.1', String(primaryPort)],
    });
    replicaPort = replica.port;
    servers.push(replica);
    await waitUntil(
      () =>
        redisAt(replicaPort, async (c) => parseInfo(await c.info('replication')).master_link_status === 'up'),
      { timeoutMs: 15_000, message: 'replica linked' },
    );
  });
  afterAll(async () => {
    await Promise.all(pools.map((pool) => pool.close({ timeoutMs: 1_000 })));
    await Promise.all(servers.map((server) => server.stop()));
  });

  const open = () => {
    const pool = createPool({
      driver: redisDriver({
        primary: [`redis://127.0.0.1:${primaryPort}`, `redis://127.0.0.1:${replicaPort}`],
      }),
      healthCheckIntervalMs: 100,
      causalWaitMs: 2_000,
    });
    pools.push(pool);
    return pool;
  };
  const port = async (pool: Pool<ReturnType<typeof redisDriver>>, role: 'read' | 'write', causal = false) =>
    Number(
      (
        (await pool.query('CONFIG', ['GET', 'port'], {
          role,
          consistency: causal ? 'causal' : 'eventual',
        })) as string[]
      )[1],
    );

  it('reads from the replica, writes to the primary, causal reads see the write', async () => {
    const pool = open();
    await pool.checkHealth();
    expect(await port(pool, 'write')).toBe(primaryPort);
    expect(await port(pool, 'read')).toBe(replicaPort);
    await pool.query('SET', ['causal', 'v1']);
    expect(await pool.query('GET', ['causal'], { role: 'read', consistency: 'causal' })).toBe('v1');
    expect(pool.stats().nodes[`127.0.0.1:${replicaPort}`]!.acquired).toBeGreaterThanOrEqual(2);
  });

  it('fails writes fast when the primary dies, follows the promoted replica, and loses no acknowledged write', async () => {
    const pool = open();
    await pool.checkHealth();
    const acknowledged: string[] = [];
    for (let i = 0; i < 50; i++) {
      await pool.query('SET', [`k${i}`, String(i)]);
      acknowledged.push(`k${i}`);
    }
    // wait for replication so the promoted replica holds every acknowledged write (WAIT 1 replica)
    await pool.query('WAIT', [1, 5_000]);
    await servers[0]!.kill();
    await waitUntil(
      async () => {
        await pool.checkHealth();
        return pool.stats().nodes[`127.0.0.1:${primaryPort}`]!.health === 'down';
      },
      { timeoutMs: 10_000 },
    );
    const error = await pool.query('SET', ['during', '1']).catch((e: unknown) => e);
    expect(isNoaError(error, 'NOA_POOL_PRIMARY_UNAVAILABLE')).toBe(true);
    await redisAt(replicaPort, (c) => c.call('REPLICAOF', 'NO', 'ONE'));
    await pool.checkHealth();
    expect(pool.primary).toBe(`127.0.0.1:${replicaPort}`);
    await pool.query('SET', ['after', '1']);
    for (const key of acknowledged) expect(await pool.query('GET', [key])).toBe(key.slice(1));
    expect(pool.stats().failovers).toBe(1);
  });
});
