import type { Logger } from '@noa/core';
import type { DriverConnection, NodeConfig, NodeRole, PoolDriver } from '../driver.js';
import { createResourcePool, type ResourcePool, type ResourcePoolOptions } from '../resource-pool.js';

export type NodeHealth = 'up' | 'down' | 'lagging';

export type NodePoolOptions = Pick<
  ResourcePoolOptions<unknown>,
  | 'min'
  | 'max'
  | 'acquireTimeoutMs'
  | 'idleTimeoutMs'
  | 'maxLifetimeMs'
  | 'validateAfterIdleMs'
  | 'leakDetectionMs'
>;

/** One server of the cluster: its own resource pool plus what the health checks learned. */
export class PoolNode<Conn extends DriverConnection> {
  readonly id: string;
  readonly config: NodeConfig;
  readonly pool: ResourcePool<Conn>;
  role: NodeRole;
  health: NodeHealth = 'up';
  lagMs = 0;
  position: string | undefined;
  writable: boolean;
  lastError: unknown;
  /** A connection outside the pool used only by health checks, so a saturated pool cannot starve them. */
  monitor: Conn | undefined;
  checking: Promise<void> | undefined;

  constructor(
    driver: PoolDriver<Conn>,
    config: NodeConfig,
    applicationName: string,
    options: NodePoolOptions,
    logger: Logger,
  ) {
    this.id = config.id;
    this.config = config;
    this.role = config.role;
    this.writable = config.role === 'primary';
    this.pool = createResourcePool<Conn>({
      ...options,
      name: `node ${config.id}`,
      logger,
      create: () => driver.connect(config.id, { applicationName }),
      destroy: (connection) => connection.close(),
      isBroken: (connection) => connection.broken,
      validate: async (connection) => {
        if (connection.broken) return false;
        await connection.ping();
        return true;
      },
    });
  }

  /** Usable for reads as a replica: up, not lagging, not the primary, and read-only (a second writable node is split brain). */
  get readable(): boolean {
    return this.role === 'replica' && this.health === 'up' && !this.writable;
  }

  get active(): number {
    return this.pool.stats().active;
  }

  get weight(): number {
    return this.config.weight;
  }
}
