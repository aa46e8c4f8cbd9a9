import { type ClientSession, type Document, MongoClient, type MongoClientOptions } from 'mongodb';
import type { DriverConnection, NodeState, PoolDriver } from '../driver.js';
import { buildNodes, pollUntil, urlId } from '../internal/nodes.js';
import { WatchedConnection } from '../internal/watched-connection.js';
import { offsetReached } from '../positions.js';

export interface MongoDriverOptions {
  /** `mongodb://host:port/db` of one member; a list makes every entry a failover candidate (the first starts as primary). */
  primary: string | string[];
  /** Members read from when a query asks for `role: 'read'`. */
  replicas?: string[];
  /** Database commands run against unless a query names one (default: the URL's path, else `test`). */
  database?: string;
  /** Passed to every MongoClient (the pool sets directConnection, maxPoolSize 1 and appName). */
  clientOptions?: MongoClientOptions;
  /** The MongoClient class, when you want to pass your own. */
  MongoClient?: typeof MongoClient;
}

/** A database command (`{ find: 'users', filter: { ... } }`), optionally against another database. */
export type MongoConnection = DriverConnection<Document, { database?: string }, Document, MongoClient>;

class MongoPooledConnection extends WatchedConnection<MongoClient> implements MongoConnection {
  session: ClientSession | undefined;
  constructor(
    client: MongoClient,
    private readonly database: string,
  ) {
    // With directConnection the client watches exactly one server: a failed heartbeat means it is gone.
    super(client, ['serverHeartbeatFailed', 'topologyClosed']);
  }

  async query(command: Document, params: { database?: string } | undefined): Promise<Document> {
    try {
      return await this.client
        .db(params?.database ?? this.database)
        .command(command, this.session ? { session: this.session } : {});
    } catch (error) {
      if (isNetworkError(error)) this.markBroken();
      throw error;
    }
  }

  async ping(): Promise<void> {
    await this.query({ ping: 1 }, undefined);
  }

  async close(): Promise<void> {
    this.markBroken();
    await this.session?.endSession().catch(() => {});
    await this.client.close().catch(() => {});
  }
}

function isNetworkError(error: unknown): boolean {
  const name = (error as { name?: string } | undefined)?.name ?? '';
  return /MongoNetwork|MongoServerSelection|MongoTopologyClosed/.test(name);
}

const own = (connection: MongoConnection) => connection as MongoPooledConnection;

async function endTransaction(
  connection: MongoConnection,
  how: 'commitTransaction' | 'abortTransaction',
): Promise<void> {
  const session = own(connection).session;
  own(connection).session = undefined;
  try {
    await session?.[how]();
  } finally {
    await session?.endSession();
  }
}

/** The 64-bit optime timestamp as a decimal string, comparable as an integer. */
function opTime(hello: Document): string | undefined {
  const ts = hello.lastWrite?.opTime?.ts;
  return ts === undefined ? undefined : String(ts);
}

/** The node state from `hello` and, on a secondary, `replSetGetStatus` (exported for tests). */
export function mongoNodeState(hello: Document, status: Document | undefined): NodeState {
  if (hello.isWritablePrimary === true || hello.ismaster === true) {
    return { writable: true, lagMs: 0, position: opTime(hello) };
  }
  let lagMs = hello.secondary === true ? 0 : Number.POSITIVE_INFINITY;
  const members = (status?.members ?? []) as Document[];
  const self = members.find((member) => member.self === true);
  const primary = members.find((member) => member.state === 1);
  if (hello.secondary === true && self?.optimeDate && primary?.optimeDate) {
    lagMs = Math.max(0, new Date(primary.optimeDate).getTime() - new Date(self.optimeDate).getTime());
  } else if (hello.secondary === true && members.length > 0 && !primary) {
    lagMs = Number.POSITIVE_INFINITY; // no primary to replicate from
  }
  return { writable: false, lagMs, position: opTime(hello) };
}

/**
 * MongoDB through the official driver. Each pooled connection is a MongoClient with
 * `directConnection: true` and `maxPoolSize: 1`, pinned to one member, so the pool (not the driver)
 * decides where reads go. Queries are database commands; transactions use a session.
 */
export function mongoDriver(options: MongoDriverOptions): PoolDriver<MongoConnection> {
  const Client = options.MongoClient ?? MongoClient;
  const list = buildNodes('mongoDriver', options?.primary, options?.replicas, (address) =>
    urlId(address, 27017),
  );
  const databaseOf = (url: string) =>
    options.database ?? (new URL(url).pathname.replace(/^\//, '') || 'test');
  const command = (connection: MongoConnection, cmd: Document, database?: string) =>
    connection.query(cmd, database ? { database } : undefined, { prepare: false });
  const hello = (connection: MongoConnection) => command(connection, { hello: 1 });
  return {
    name: 'mongodb',
    nodes: list.nodes,
    async connect(nodeId, { applicationName }) {
      const url = list.address(nodeId);
      const client = new Client(url, {
        serverSelectionTimeoutMS: 5_000,
        ...options.clientOptions,
        directConnection: true,
        maxPoolSize: 1,
        minPoolSize: 0,
        appName: applicationName,
      });
      await client.connect();
      return new MongoPooledConnection(client, databaseOf(url));
    },
    async begin(connection) {
      const session = connection.client.startSession();
      session.startTransaction();
      own(connection).session = session;
    },
    commit: (connection) => endTransaction(connection, 'commitTransaction'),
    rollback: (connection) => endTransaction(connection, 'abortTransaction'),
    async inspect(connection) {
      const state = await hello(connection);
      let status: Document | undefined;
      if (state.secondary === true) {
        status = await command(connection, { replSetGetStatus: 1 }, 'admin').catch(() => undefined);
      }
      return mongoNodeState(state, status);
    },
    currentPosition: async (connection) => opTime(await hello(connection)),
    positionReached: offsetReached,
    waitForPosition: (connection, target, timeoutMs) =>
      pollUntil(async () => {
        const position = opTime(await hello(connection));
        return position !== undefined && offsetReached(position, target);
      }, timeoutMs),
  };
}
