-- @noa/database-sharding: one row per published version of a shard map (PostgreSQL and MySQL/MariaDB).
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
