import { requireService } from '@noa/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueryAnalyzer, recommendIndexes } from '../src/index.js';
import { type MongoDbLike, type MongoQuery, mongoAdapter } from '../src/mongodb.js';
import { adapterContract } from './contract.js';
import {
  aggregateQueryPlanner,
  collscanExecutionStats,
  sortSpillExecutionStats,
} from './fixtures/mongodb-explain.js';

/** A Db whose `command` answers explain with a recorded document (MongoDB cannot run here). */
function fixtureDb(answer: (command: Record<string, any>) => Record<string, any>) {
  const commands: Record<string, any>[] = [];
  const db: MongoDbLike = {
    async command(command) {
      commands.push(command);
      return answer(command);
    },
  };
  return { db, commands };
}

adapterContract<MongoQuery>('mongodb (fixture explain documents)', {
  adapter: () => mongoAdapter({ db: fixtureDb(() => collscanExecutionStats).db }),
  selectiveRead: { collection: 'orders', filter: { user_id: 42 } },
  write: { collection: 'orders', pipeline: [{ $match: { status: 'new' } }, { $out: 'archive' }] },
});

describe('mongoAdapter (fixture explain documents)', () => {
  it('sends explain with executionStats only for analyze, and normalises a COLLSCAN', async () => {
    const { db, commands } = fixtureDb(() => collscanExecutionStats);
    const analyzer = createQueryAnalyzer({ adapter: mongoAdapter({ db }) });
    const report = await analyzer.explain({ collection: 'orders', filter: { user_id: 42 }, limit: 10 }, [], {
      analyze: true,
    });
    expect(commands[0]).toEqual({
      explain: { find: 'orders', filter: { user_id: 42 }, limit: 10 },
      verbosity: 'executionStats',
    });
    expect(report.plan).toMatchObject({
      kind: 'scan',
      access: 'full',
      table: 'orders',
      actualRows: 10,
      rowsExamined: 200000,
    });
    expect(report).toMatchObject({ totalMs: 61, rows: 10 });
    expect(report.findings[0]).toMatchObject({ kind: 'full-scan', severity: 'critical', table: 'orders' });
    await analyzer.explain({ collection: 'orders', filter: { user_id: 42 } });
    expect(commands[1]!.verbosity).toBe('queryPlanner');
  });

  it('reports an in-memory sort that spilled to disk', async () => {
    const analyzer = createQueryAnalyzer({
      adapter: mongoAdapter({ db: fixtureDb(() => sortSpillExecutionStats).db }),
    });
    const report = await analyzer.explain(
      { collection: 'orders', filter: { status: 'paid' }, sort: { created_at: -1 } },
      [],
      {
        analyze: true,
      },
    );
    expect(report.plan.kind).toBe('sort');
    expect(report.plan.children[0]!.children[0]).toMatchObject({
      kind: 'scan',
      access: 'index',
      index: 'status_1',
    });
    expect(report.findings.map((f) => f.kind)).toEqual(['sort-spill']);
  });

  it('normalises an aggregation through its $cursor stage; same fingerprint for other values', async () => {
    const analyzer = createQueryAnalyzer({
      adapter: mongoAdapter({ db: fixtureDb(() => aggregateQueryPlanner).db }),
    });
    const pipeline = (user: number) => [
      { $match: { user_id: user } },
      { $group: { _id: '$status', total: { $sum: '$total' } } },
    ];
    const a = await analyzer.explain({ collection: 'orders', pipeline: pipeline(1) });
    const b = await analyzer.explain({ collection: 'orders', pipeline: pipeline(2) });
    expect(a.plan.kind).toBe('projection');
    expect(a.plan.children[0]!.children[0]).toMatchObject({
      access: 'index',
      index: 'user_id_1',
      table: 'orders',
    });
    expect(a.fingerprint).toBe(b.fingerprint);
  });

  it('rejects bad queries and has no index advisor or wrap', async () => {
    const adapter = mongoAdapter({ db: fixtureDb(() => collscanExecutionStats).db });
    const analyzer = createQueryAnalyzer({ adapter });
    await expect(analyzer.explain({} as MongoQuery)).rejects.toMatchObject({
      code: 'NOA_DBOPT_INVALID_QUERY',
    });
    await expect(recommendIndexes({ adapter, workload: [] })).rejects.toMatchObject({
      code: 'NOA_DBOPT_UNSUPPORTED',
    });
    expect(() => analyzer.wrap({})).toThrow(expect.objectContaining({ code: 'NOA_DBOPT_UNSUPPORTED' }));
    expect(() => mongoAdapter({ db: {} as MongoDbLike })).toThrow(
      expect.objectContaining({ code: 'NOA_INVALID_OPTION' }),
    );
  });
});

const mongo = await requireService('mongodb');

describe.skipIf(!mongo.available)('mongoAdapter (live MongoDB from MONGODB_URL)', () => {
  let client: any;
  let db: MongoDbLike & { collection(name: string): any; dropDatabase(): Promise<unknown> };
  beforeAll(async () => {
    const { MongoClient } = await import('mongodb');
    const { uniqueName } = await import('@noa/testkit');
    client = new MongoClient(mongo.url);
    await client.connect();
    db = client.db(uniqueName('dbopt_mongo'));
    await db
      .collection('orders')
      .insertMany(Array.from({ length: 20000 }, (_, i) => ({ _id: i, user_id: i % 2000, total: i % 97 })));
  });
  afterAll(async () => {
    await db?.dropDatabase();
    await client?.close();
  });

  it('explains a COLLSCAN with executionStats', async () => {
    const analyzer = createQueryAnalyzer({ adapter: mongoAdapter({ db }) });
    const report = await analyzer.explain({ collection: 'orders', filter: { user_id: 7 } }, [], {
      analyze: true,
    });
    expect(report.rows).toBe(10);
    expect(report.findings.map((f) => f.kind)).toContain('full-scan');
  });
});
