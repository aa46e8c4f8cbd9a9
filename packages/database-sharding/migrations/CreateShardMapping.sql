-- @noa/database-sharding: the shards of each published version, with optional JSON information per
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
