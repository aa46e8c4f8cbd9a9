import { EventEmitter } from 'node:events';
import { requireService, uniqueName } from '@noa/testkit';
import { type Document, Long, MongoClient, Timestamp } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { mongoDriver, mongoNodeState } from '../src/drivers/mongodb.js';
import { createPool } from '../src/index.js';
import { poolContract } from './contract.js';

/** Records what the driver asks of MongoClient; stands in for a server this machine cannot run. */
class FakeMongoClient extends EventEmitter {
  static instances: FakeMongoClient[] = [];
  commands: { database: string; command: Document; session: unknown }[] = [];
  closed = false;
  sessions: { started: boolean; committed: boolean; aborted: boolean; ended: boolean }[] = [];
  hello: Document = {
    isWritablePrimary: true,
    lastWrite: { opTime: { ts: new Timestamp({ t: 100, i: 1 }) } },
  };
  constructor(
    readonly url: string,
    readonly options: Document,
  ) {
    super();
    FakeMongoClient.instances.push(this);
  }
  async connect() {
    return this;
  }
  async close() {
    this.closed = true;
  }
  db(database: string) {
    return {
      command: async (command: Document, options: { session?: unknown }) => {
        this.commands.push({ database, command, session: options.session });
        if (command.hello) return this.hello;
        if (command.fail) throw Object.assign(new Error('socket closed'), { name: 'MongoNetworkError' });
        return { ok: 1 };
      },
    };
  }
  startSession() {
    const session = { started: false, committed: false, aborted: false, ended: false };
    this.sessions.push(session);
    return {
      startTransaction: () => {
        session.started = true;
      },
      commitTransaction: async () => {
        session.committed = true;
      },
      abortTransaction: async () => {
        session.aborted = true;
      },
      endSession: async () => {
        session.ended = true;
      },
    };
  }
}

const fakeDriver = () =>
  mongoDriver({
    primary: 'mongodb://db-a:27017/shop',
    replicas: ['mongodb://db-b:27017/shop'],
    MongoClient: FakeMongoClient as unknown as typeof MongoClient,
  });

describe('mongoDriver mapping (fake mongodb client)', () => {
  it('pins each connection to one member with directConnection, maxPoolSize 1 and the appName', async () => {
    const driver = fakeDriver();
    expect(driver.nodes.map((n) => [n.id, n.role])).toEqual([
      ['db-a:27017/shop', 'primary'],
      ['db-b:27017/shop', 'replica'],
    ]);
    const connection = await driver.connect('db-b:27017/shop', { applicationName: 'orders' });
    const client = connection.client as unknown as FakeMongoClient;
    expect(client.url).toBe('mongodb://db-b:27017/shop');
    expect(client.options).toMatchObject({ directConnection: true, maxPoolSize: 1, appName: 'orders' });
    await connection.query({ find: 'orders', filter: {} }, undefined, { prepare: false });
    await connection.query({ ping: 1 }, { database: 'admin' }, { prepare: false });
    expect(client.commands.map((c) => c.database)).toEqual(['shop', 'admin']);
    await connection.close();
    expect(client.closed).toBe(true);
  });

  it('runs transactions in a session: commit, abort', async () => {
    const driver = fakeDriver();
    const connection = await driver.connect('db-a:27017/shop', { applicationName: 'orders' });
    const client = connection.client as unknown as FakeMongoClient;
    await driver.begin(connection);
    await connection.query({ insert: 'orders', documents: [{ _id: 1 }] }, undefined, { prepare: false });
    await driver.commit(connection);
    await driver.begin(connection);
    await driver.rollback(connection);
    expect(client.commands[0]!.session).toBeDefined();
    expect(client.sessions).toEqual([
      { started: true, committed: true, aborted: false, ended: true },
      { started: true, committed: false, aborted: true, ended: true },
    ]);
  });

  it('marks a connection broken on a network error or a failed heartbeat', async () => {
    const driver = fakeDriver();
    const connection = await driver.connect('db-a:27017/shop', { applicationName: 'x' });
    await expect(connection.query({ fail: 1 }, undefined, { prepare: false })).rejects.toThrow(
      'socket closed',
    );
    expect(connection.broken).toBe(true);
    const other = await driver.connect('db-a:27017/shop', { applicationName: 'x' });
    (other.client as unknown as FakeMongoClient).emit('serverHeartbeatFailed', {});
    expect(other.broken).toBe(true);
  });

  it('maps hello and replSetGetStatus to role, lag and position', () => {
    const ts = new Timestamp({ t: 1_700_000_000, i: 5 });
    expect(mongoNodeState({ isWritablePrimary: true, lastWrite: { opTime: { ts } } }, undefined)).toEqual({
      writable: true,
      lagMs: 0,
      position: Long.fromBits(5, 1_700_000_000, true).toString(),
    });
    const status = {
      members: [
        { state: 1, optimeDate: new Date('2026-01-01T00:00:10Z') },
        { self: true, state: 2, optimeDate: new Date('2026-01-01T00:00:07Z') },
      ],
    };
    expect(mongoNodeState({ secondary: true, lastWrite: { opTime: { ts } } }, status)).toMatchObject({
      writable: false,
      lagMs: 3_000,
    });
    expect(mongoNodeState({ secondary: false }, undefined).lagMs).toBe(Number.POSITIVE_INFINITY);
  });

  it('routes a pool: writes to the primary member, reads to the secondary (fake mongodb client)', async () => {
    FakeMongoClient.instances = [];
    const pool = createPool({ driver: fakeDriver(), healthCheckIntervalMs: 60_000 });
    try {
      await pool.checkHealth();
      // the fake answers hello as a writable primary everywhere: mark b a secondary
      for (const client of FakeMongoClient.instances.filter((c) => c.url.includes('db-b'))) {
        client.hello = { secondary: true, lastWrite: { opTime: { ts: new Timestamp({ t: 100, i: 1 }) } } };
      }
      await pool.checkHealth();
      await pool.query({ insert: 'orders', documents: [{ _id: 1 }] });
      await pool.query({ find: 'orders' }, undefined, { role: 'read' });
      expect(pool.stats().nodes['db-a:27017/shop']!.acquired).toBe(1);
      expect(pool.stats().nodes['db-b:27017/shop']!.acquired).toBe(1);
    } finally {
      await pool.close();
    }
  });
});

const mongo = await requireService('mongodb');
const collection = uniqueName('cp_mongo');
if (!mongo.available) it.skip(`MongoDB live contract: ${mongo.reason}`, () => {});
describe.skipIf(!mongo.available)('MongoDB (live, MONGODB_URL)', () => {
  poolContract('mongodb', {
    driver: () => mongoDriver({ primary: mongo.url }),
    setup: async () => {},
    teardown: async () => {
      const client = new MongoClient(mongo.url);
      await client.connect();
      await client
        .db()
        .collection(collection)
        .drop()
        .catch(() => {});
      await client.close();
    },
    write: (pool, key, value) =>
      pool.query({
        update: collection,
        updates: [{ q: { _id: key }, u: { $set: { v: value } }, upsert: true }],
      }),
    read: async (pool, key, role) => {
      const result = (await pool.query({ find: collection, filter: { _id: key } }, undefined, {
        role,
      })) as Document;
      return result.cursor.firstBatch[0]?.v ?? null;
    },
    serverConnections: async (name) => {
      const client = new MongoClient(mongo.url);
      await client.connect();
      try {
        const result = await client.db('admin').command({ currentOp: 1, $all: true, appName: name });
        return new Set((result.inprog as Document[]).map((op) => op.connectionId)).size;
      } finally {
        await client.close();
      }
    },
  });
});
