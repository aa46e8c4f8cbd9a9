import { createPgliteShard } from '../src/pglite.js';
import { crossShardContract, shardMapContract } from './contract.js';

// PGlite is the embedded default: real PostgreSQL (compiled to WASM), one instance per shard.
crossShardContract('PGlite (embedded PostgreSQL)', async () => {
  const shards = {
    s0: await createPgliteShard(),
    s1: await createPgliteShard(),
    s2: await createPgliteShard(),
  };
  const reference = await createPgliteShard();
  const broken = await createPgliteShard();
  await broken.close();
  return {
    dialect: 'postgres',
    shards,
    reference,
    broken,
    close: async () => {
      for (const db of [...Object.values(shards), reference]) await db.close();
    },
  };
});

shardMapContract('PGlite', async () => {
  const metadata = await createPgliteShard();
  const shards = { a: await createPgliteShard(), b: await createPgliteShard(), c: await createPgliteShard() };
  return {
    metadata,
    shards,
    close: async () => {
      for (const db of [metadata, ...Object.values(shards)]) await db.close();
    },
  };
});
