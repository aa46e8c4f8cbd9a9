import { invariant, NoaError } from '@noa/core';
import type { DriverConnection, NodeConfig, NodeState, PoolDriver } from '../driver.js';
import { pollUntil } from '../internal/nodes.js';
import { offsetReached } from '../positions.js';

/**
 * An in-process replicated key-value cluster: one writable primary, replicas that apply its log
 * (pausable, to create real lag), nodes that can be stopped, killed and promoted. It is the
 * embedded default of createPool: demos and tests of routing, lag and failover without servers.
 *
 * Commands: GET key, SET key value, INCR key, DEL key, KEYS, PING, SLEEP ms.
 */
export interface MemoryCluster {
  /** Node ids, the initial primary first (`memory-0`, `memory-1`, ...). */
  readonly nodes: readonly string[];
  /** The node that currently takes writes. */
  readonly primary: string;
  /** Stops a node: its connections break and new ones are refused. */
  stop(node: string): void;
  start(node: string): void;
  /** The replica stops applying the log (its lag grows with every write) until resumed. */
  pauseReplication(node: string): void;
  resumeReplication(node: string): void;
  /** Makes a replica the primary; the old primary becomes a read-only replica of it. Unreplicated writes are lost, as on a real server. */
  promote(node: string): void;
  /** Open connections of a node, the server's view (optionally only those of one application name). */
  connections(node: string, applicationName?: string): number;
  /** Kills open connections of a node (all, or `count`, optionally only one application's); returns how many. */
  kill(node: string, options?: { count?: number; applicationName?: string }): number;
  /** A copy of a node's data. */
  snapshot(node: string): Map<string, unknown>;
}

interface LogEntry {
  seq: number;
  key: string;
  value: unknown;
  at: number;
}

class MemoryServer {
  running = true;
  writable: boolean;
  paused = false;
  applied = 0;
  readonly data = new Map<string, unknown>();
  readonly connections = new Set<MemoryConnection>();
  constructor(
    readonly id: string,
    primary: boolean,
  ) {
    this.writable = primary;
  }
}

class MemoryClusterImpl implements MemoryCluster {
  readonly servers = new Map<string, MemoryServer>();
  log: LogEntry[] = [];
  seq = 0;

  constructor(replicas: number) {
    for (let i = 0; i <= replicas; i++)
      this.servers.set(`memory-${i}`, new MemoryServer(`memory-${i}`, i === 0));
  }

  get nodes(): string[] {
    return [...this.servers.keys()];
  }

  get primary(): string {
    for (const server of this.servers.values()) if (server.writable) return server.id;
    return '';
  }

  server(id: string): MemoryServer {
    const server = this.servers.get(id);
    invariant(server, `memory cluster: unknown node ${id}`);
    return server;
  }

  write(server: MemoryServer, entries: { key: string; value: unknown }[]): void {
    if (!server.writable) {
      throw new NoaError(
        'NOA_MEMORY_READ_ONLY',
        `memory node ${server.id} is a read-only replica; write to the primary`,
      );
    }
    const at = Date.now();
    for (const { key, value } of entries) {
      this.seq += 1;
      this.log.push({ seq: this.seq, key, value, at });
      apply(server.data, key, value);
    }
    server.applied = this.seq;
    for (const replica of this.servers.values()) if (replica !== server) this.replicate(replica);
  }

  replicate(server: MemoryServer): void {
    if (server.writable || server.paused || !server.running) return;
    for (const entry of this.log) {
      if (entry.seq <= server.applied) continue;
      apply(server.data, entry.key, entry.value);
      server.applied = entry.seq;
    }
  }

  lagMs(server: MemoryServer): number {
    if (server.writable) return 0;
    const next = this.log.find((entry) => entry.seq > server.applied);
    return next ? Date.now() - next.at : 0;
  }

  stop(id: string): void {
    const server = this.server(id);
    server.running = false;
    for (const connection of server.connections) connection.killed = true;
    server.connections.clear();
  }

  start(id: string): void {
    const server = this.server(id);
    server.running = true;
    this.replicate(server);
  }

  pauseReplication(id: string): void {
    this.server(id).paused = true;
  }

  resumeReplication(id: string): void {
    const server = this.server(id);
    server.paused = false;
    this.replicate(server);
  }

  promote(id: string): void {
    const server = this.server(id);
    for (const other of this.servers.values()) other.writable = false;
    server.writable = true;
    this.log = this.log.filter((entry) => entry.seq <= server.applied);
    this.seq = server.applied;
  }

  connections(id: string, applicationName?: string): number {
    let count = 0;
    for (const connection of this.server(id).connections) {
      if (applicationName === undefined || connection.applicationName === applicationName) count += 1;
    }
    return count;
  }

  kill(
    id: string,
    { count = Number.POSITIVE_INFINITY, applicationName }: { count?: number; applicationName?: string } = {},
  ): number {
    const server = this.server(id);
    let killed = 0;
    for (const connection of [...server.connections]) {
      if (killed >= count) break;
      if (applicationName !== undefined && connection.applicationName !== applicationName) continue;
      connection.killed = true;
      server.connections.delete(connection);
      killed += 1;
    }
    return killed;
  }

  snapshot(id: string): Map<string, unknown> {
    return new Map(this.server(id).data);
  }
}

function apply(data: Map<string, unknown>, key: string, value: unknown): void {
  if (value === undefined) data.delete(key);
  else data.set(key, value);
}

export type MemoryStatement = 'GET' | 'SET' | 'INCR' | 'DEL' | 'KEYS' | 'PING' | 'SLEEP';

export type MemoryConnectionType = DriverConnection<MemoryStatement, unknown[], unknown, MemoryCluster>;

class MemoryConnection implements MemoryConnectionType {
  killed = false;
  tx: { key: string; value: unknown }[] | undefined;
  constructor(
    readonly cluster: MemoryClusterImpl,
    readonly server: MemoryServer,
    readonly applicationName: string,
  ) {}

  get client(): MemoryCluster {
    return this.cluster;
  }

  get broken(): boolean {
    return this.killed || !this.server.running;
  }

  async query(command: MemoryStatement, params: unknown[] | undefined): Promise<unknown> {
    await null; // answers asynchronously, like a server
    if (this.broken) throw new Error(`memory node ${this.server.id}: connection terminated`);
    const args = params ?? [];
    const key = String(args[0]);
    const data = this.server.data;
    switch (String(command).toUpperCase()) {
      case 'PING':
        return 'PONG';
      case 'GET':
        return data.get(key) ?? null;
      case 'KEYS':
        return [...data.keys()].sort();
      case 'SLEEP':
        await new Promise((resolve) => setTimeout(resolve, Number(args[0])));
        if (this.broken) throw new Error(`memory node ${this.server.id}: connection terminated`);
        return 'OK';
      case 'SET':
        return this.#write(key, args[1]);
      case 'DEL':
        return this.#write(key, undefined);
      case 'INCR': {
        let current: unknown = data.get(key) ?? 0;
        for (const entry of this.tx ?? []) if (entry.key === key) current = entry.value;
        const next = Number(current) + 1;
        this.#write(key, next);
        return next;
      }
    }
    throw new NoaError('NOA_MEMORY_UNKNOWN_COMMAND', `memory cluster: unknown command ${String(command)}`);
  }

  #write(key: string, value: unknown): string {
    if (this.tx) this.tx.push({ key, value });
    else this.cluster.write(this.server, [{ key, value }]);
    return 'OK';
  }

  async ping(): Promise<void> {
    await this.query('PING', undefined);
  }

  async close(): Promise<void> {
    this.killed = true;
    this.server.connections.delete(this);
  }
}

export function createMemoryCluster({ replicas = 1 }: { replicas?: number } = {}): MemoryCluster {
  invariant(
    Number.isInteger(replicas) && replicas >= 0,
    'createMemoryCluster: replicas must be an integer >= 0',
  );
  return new MemoryClusterImpl(replicas);
}

export interface MemoryDriverOptions {
  /** Every node may become the primary when the current one goes away (default false). */
  failover?: boolean;
  /** Read weights by node id, for the weighted balancer. */
  weights?: Record<string, number>;
}

/** The driver for a memory cluster. */
export function memoryDriver(
  cluster: MemoryCluster,
  options: MemoryDriverOptions = {},
): PoolDriver<MemoryConnectionType> {
  invariant(cluster instanceof MemoryClusterImpl, 'memoryDriver: pass a cluster from createMemoryCluster()');
  const impl = cluster;
  const nodes: NodeConfig[] = impl.nodes.map((id) => ({
    id,
    role: id === impl.primary ? 'primary' : 'replica',
    candidate: options.failover === true || id === impl.primary,
    weight: options.weights?.[id] ?? 1,
  }));
  const serverOf = (connection: MemoryConnectionType) => (connection as MemoryConnection).server;
  const tx = (connection: MemoryConnectionType) => connection as MemoryConnection;
  return {
    name: 'memory',
    nodes,
    async connect(nodeId, { applicationName }) {
      await null;
      const server = impl.server(nodeId);
      if (!server.running) throw new Error(`connect ECONNREFUSED memory node ${nodeId}`);
      const connection = new MemoryConnection(impl, server, applicationName);
      server.connections.add(connection);
      return connection;
    },
    async begin(connection) {
      tx(connection).tx = [];
    },
    async commit(connection) {
      const own = tx(connection);
      const entries = own.tx ?? [];
      own.tx = undefined;
      if (own.broken) throw new Error('memory node: connection terminated before commit');
      if (entries.length > 0) impl.write(own.server, entries);
    },
    async rollback(connection) {
      tx(connection).tx = undefined;
    },
    async inspect(connection): Promise<NodeState> {
      await connection.ping();
      const server = serverOf(connection);
      return { writable: server.writable, lagMs: impl.lagMs(server), position: String(server.applied) };
    },
    async currentPosition(connection) {
      await connection.ping();
      return String(serverOf(connection).applied);
    },
    positionReached: offsetReached,
    waitForPosition: (connection, target, timeoutMs) =>
      pollUntil(async () => {
        await connection.ping();
        return serverOf(connection).applied >= Number(target);
      }, timeoutMs),
  };
}
