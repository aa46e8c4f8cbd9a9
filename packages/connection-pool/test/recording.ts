import type { DriverConnection, PoolDriver } from '../src/index.js';

/**
 * Wraps a driver to remember the server-side id of every connection it opens, by application name,
 * for backends that show no application name in their process list (MariaDB without
 * performance_schema): the test then asks the server which of those ids are still connected.
 */
export function recordingDriver<C extends DriverConnection>(
  driver: PoolDriver<C>,
  serverId: (connection: C) => number | string,
  opened: Map<string, Set<number | string>>,
): PoolDriver<C> {
  return {
    ...driver,
    nodes: driver.nodes,
    async connect(nodeId, context) {
      const connection = await driver.connect(nodeId, context);
      let ids = opened.get(context.applicationName);
      if (!ids) opened.set(context.applicationName, (ids = new Set()));
      ids.add(serverId(connection));
      return connection;
    },
  };
}
