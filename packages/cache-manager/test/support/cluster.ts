import { isReachable } from '@noa/testkit';

/** The Redis Cluster started by scripts/services/20-redis-cluster.sh (override with REDIS_CLUSTER_NODES). */
export async function requireRedisCluster(): Promise<{ available: boolean; nodes: string; reason?: string }> {
  const nodes = process.env.REDIS_CLUSTER_NODES ?? '127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002';
  if (await isReachable(nodes.split(',')[0]!)) return { available: true, nodes };
  const reason = `Redis Cluster is unreachable at ${nodes}; start it with scripts/services/20-redis-cluster.sh`;
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(reason);
  return { available: false, nodes, reason };
}

export const clusterNodes = (nodes: string) =>
  nodes.split(',').map((address) => {
    const [host, port] = address.split(':');
    return { host: host!, port: Number(port) };
  });
