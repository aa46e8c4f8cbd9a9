import { invariant } from '@noa/core';
import type { NodeConfig } from '../driver.js';

/** A node address as users write it: a URL, or the driver's own options plus an optional weight. */
export type NodeAddress<Options> = string | (Options & { weight?: number });

export interface NodeList<A> {
  nodes: NodeConfig[];
  address(id: string): A;
}

/**
 * The nodes of a driver: `primary` (one address, or a list of failover candidates of which the first
 * starts as primary) and `replicas`. Each gets a stable id from `idOf`; credentials never appear in ids.
 */
export function buildNodes<A>(
  driver: string,
  primary: A | readonly A[] | undefined,
  replicas: readonly A[] | undefined,
  idOf: (address: A) => string,
): NodeList<A> {
  const candidates = Array.isArray(primary)
    ? (primary as readonly A[])
    : primary === undefined
      ? []
      : [primary as A];
  invariant(
    candidates.length > 0,
    `${driver}: primary is required (a connection URL or options, or a list of candidates)`,
  );
  invariant(replicas === undefined || Array.isArray(replicas), `${driver}: replicas must be an array`);
  const nodes: NodeConfig[] = [];
  const byId = new Map<string, A>();
  const add = (address: A, role: NodeConfig['role'], candidate: boolean) => {
    invariant(address !== undefined && address !== null && address !== '', `${driver}: empty node address`);
    const id = idOf(address);
    if (byId.has(id)) return; // listed as a candidate and as a replica: one node
    const weight = typeof address === 'object' ? ((address as { weight?: number }).weight ?? 1) : 1;
    invariant(Number.isFinite(weight) && weight > 0, `${driver}: weight of ${id} must be a positive number`);
    byId.set(id, address);
    nodes.push({ id, role, candidate, weight });
  };
  for (const [i, address] of candidates.entries()) add(address, i === 0 ? 'primary' : 'replica', true);
  for (const address of replicas ?? []) add(address, 'replica', false);
  return {
    nodes,
    address: (id) => {
      const address = byId.get(id);
      invariant(address !== undefined, `${driver}: unknown node ${id}`, 'NOA_POOL_UNKNOWN_NODE');
      return address;
    },
  };
}

/** `host:port/path` of a connection URL, without credentials or query. */
export function urlId(url: string, defaultPort: number): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    invariant(false, `not a valid connection URL: ${url.replace(/\/\/[^@/]*@/, '//***@')}`);
  }
  const host = parsed.hostname || 'localhost';
  return `${host}:${parsed.port || defaultPort}${parsed.pathname === '/' ? '' : parsed.pathname}`;
}

/** Polls `check` every `intervalMs` until it returns true or `timeoutMs` passed. */
export async function pollUntil(
  check: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 5,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

interface HostOptions {
  host?: string;
  port?: number;
  database?: string;
}

/** The id of a node written as a URL, or as client options holding a URL under `urlKey` or host/port/database. */
export function addressId<O extends HostOptions>(
  address: NodeAddress<O>,
  defaultPort: number,
  urlKey: keyof O,
): string {
  if (typeof address === 'string') return urlId(address, defaultPort);
  const url = address[urlKey];
  if (typeof url === 'string') return urlId(url, defaultPort);
  return `${address.host ?? 'localhost'}:${address.port ?? defaultPort}/${address.database ?? ''}`;
}

/** Client options for a node: a URL goes under `urlKey`; options pass through without our `weight`. */
export function addressOptions<O>(address: NodeAddress<O>, urlKey: keyof O): O {
  if (typeof address === 'string') return { [urlKey]: address } as O;
  const { weight: _weight, ...options } = address;
  return options as O;
}

/** Transactions as plain SQL statements. */
export function sqlTransactions<C>(run: (connection: C, sql: string) => Promise<unknown>, begin = 'BEGIN') {
  return {
    begin: async (connection: C) => void (await run(connection, begin)),
    commit: async (connection: C) => void (await run(connection, 'COMMIT')),
    rollback: async (connection: C) => void (await run(connection, 'ROLLBACK')),
  };
}
