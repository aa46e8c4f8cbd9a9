import { Redis, type RedisOptions } from 'ioredis';
import type { DriverConnection, NodeState, PoolDriver } from '../driver.js';
import { buildNodes, type NodeAddress, pollUntil, urlId } from '../internal/nodes.js';
import { offsetReached } from '../positions.js';

export interface RedisDriverOptions {
  /** `redis://` URL or ioredis options; a list makes every entry a failover candidate (the first starts as primary). */
  primary: NodeAddress<RedisOptions> | NodeAddress<RedisOptions>[];
  replicas?: NodeAddress<RedisOptions>[];
  /** The ioredis Redis class, when you want to pass your own. */
  Redis?: typeof Redis;
}

/** A command name (`GET`, `SET`, ...) and its arguments. */
export type RedisConnection = DriverConnection<string, (string | number | Buffer)[], unknown, Redis>;

class IoredisConnection implements RedisConnection {
  #closed = false;
  constructor(readonly client: Redis) {
    // The pool replaces dead connections itself; an 'error' listener keeps ioredis from logging unhandled errors.
    client.on('error', () => {});
  }

  get broken(): boolean {
    return this.#closed || this.client.status !== 'ready';
  }

  query(command: string, args: (string | number | Buffer)[] | undefined): Promise<unknown> {
    return this.client.call(command, ...(args ?? []));
  }

  async ping(): Promise<void> {
    await this.client.ping();
  }

  async close(): Promise<void> {
    this.#closed = true;
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }
}

/** Parses `INFO replication` into its fields. */
export function parseInfo(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields[line.slice(0, colon)] = line.slice(colon + 1).trim();
  }
  return fields;
}

const replication = async (connection: RedisConnection) =>
  parseInfo(String(await connection.query('INFO', ['replication'], { prepare: false })));

/** The node state from `INFO replication` fields (exported for tests). */
export function redisNodeState(info: Record<string, string>): NodeState {
  if (info.role === 'master') return { writable: true, lagMs: 0, position: info.master_repl_offset };
  // Redis reports no time-based lag: a replica whose link is up and not resyncing counts as current.
  const current = info.master_link_status === 'up' && info.master_sync_in_progress !== '1';
  return {
    writable: false,
    lagMs: current ? 0 : Number.POSITIVE_INFINITY,
    position: info.slave_repl_offset,
  };
}

/**
 * Redis through ioredis. Each pooled connection is one ioredis client with reconnection and the
 * offline queue turned off: the pool replaces dead connections, so a command never waits on a
 * reconnect it did not ask for. Transactions are MULTI/EXEC/DISCARD; positions are replication offsets.
 */
export function redisDriver(options: RedisDriverOptions): PoolDriver<RedisConnection> {
  const RedisClass = options.Redis ?? Redis;
  const list = buildNodes('redisDriver', options?.primary, options?.replicas, (address) =>
    typeof address === 'string'
      ? urlId(address, 6379)
      : `${address.host ?? '127.0.0.1'}:${address.port ?? 6379}/${address.db ?? 0}`,
  );
  const run = (connection: RedisConnection, command: string) =>
    connection.query(command, [], { prepare: false });
  return {
    name: 'redis',
    nodes: list.nodes,
    async connect(nodeId, { applicationName }) {
      const address = list.address(nodeId);
      const own: RedisOptions = {
        lazyConnect: true,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        connectionName: applicationName.replace(/\s+/g, '-'),
      };
      const client =
        typeof address === 'string'
          ? new RedisClass(address, own)
          : new RedisClass({ ...address, ...own, weight: undefined } as RedisOptions);
      const connection = new IoredisConnection(client);
      try {
        await client.connect();
      } catch (error) {
        client.disconnect();
        throw error;
      }
      return connection;
    },
    begin: async (connection) => void (await run(connection, 'MULTI')),
    commit: async (connection) => {
      // EXEC answers null when a WATCHed key changed: the transaction did not run.
      if ((await run(connection, 'EXEC')) === null)
        throw new Error('redis: EXEC aborted (a WATCHed key changed)');
    },
    rollback: async (connection) => void (await run(connection, 'DISCARD')),
    inspect: async (connection) => redisNodeState(await replication(connection)),
    currentPosition: async (connection) => (await replication(connection)).master_repl_offset,
    positionReached: offsetReached,
    waitForPosition: (connection, target, timeoutMs) =>
      pollUntil(async () => {
        const position = (await replication(connection)).slave_repl_offset;
        return position !== undefined && offsetReached(position, target);
      }, timeoutMs),
  };
}
