/**
 * The SQL of `migrations/*.sql`, embedded so `manager.migrate()` works from the bundle without
 * reading files (a unit test checks the two stay identical). Portable PostgreSQL/MySQL SQL.
 */
export const MIGRATIONS: readonly { name: string; sql: string }[] = [
  {
    name: 'CreateShardMetadata.sql',
    sql: `-- @noa/database-sharding: one row per published version of a shard map (PostgreSQL and MySQL/MariaDB).
-- A version becomes visible when its row is inserted; the (map_name, version) key makes concurrent
-- publishers of the same version conflict instead of overwriting each other.
CREATE TABLE IF NOT EXISTS noa_shard_metadata (
  map_name VARCHAR(200) NOT NULL,
  version BIGINT NOT NULL,
  publish_id VARCHAR(64) NOT NULL,
  strategy TEXT NOT NULL,
  published_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (map_name, version)
);
`,
  },
  {
    name: 'CreateShardMapping.sql',
    sql: `-- @noa/database-sharding: the shards of each published version, with optional JSON information per
-- shard (connection details, region, weight). Rows are written before the version's metadata row,
-- under the publish_id that row will name, so a reader never sees a version with missing shards.
CREATE TABLE IF NOT EXISTS noa_shard_mapping (
  map_name VARCHAR(200) NOT NULL,
  publish_id VARCHAR(64) NOT NULL,
  shard_id VARCHAR(200) NOT NULL,
  shard_order INTEGER NOT NULL,
  info TEXT,
  PRIMARY KEY (map_name, publish_id, shard_id)
);
`,
  },
];
