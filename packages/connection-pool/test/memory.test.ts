import { createMemoryCluster, type MemoryCluster, memoryDriver } from '../src/drivers/memory.js';
import { poolContract } from './contract.js';

let cluster: MemoryCluster = createMemoryCluster({ replicas: 0 });

poolContract('memory', {
  driver: () => memoryDriver(cluster),
  setup: async () => {
    cluster = createMemoryCluster({ replicas: 0 });
  },
  teardown: async () => {},
  write: (pool, key, value, prepare) => pool.query('SET', [key, value], { prepare }),
  read: async (pool, key, role) => (await pool.query<number | null>('GET', [key], { role })) ?? null,
  serverConnections: async (name) => cluster.connections(cluster.primary, name),
  killOne: async (applicationName) => cluster.kill(cluster.primary, { count: 1, applicationName }),
});
