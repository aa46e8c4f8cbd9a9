/**
 * Replication positions, compared on the client so a causal read can pick a replica that is
 * already far enough without asking it.
 */

/** A PostgreSQL LSN such as `16/B374D848` as a number of bytes. */
export function parseLsn(lsn: string): bigint {
  const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(lsn.trim());
  if (!match) throw new TypeError(`not a PostgreSQL LSN: ${lsn}`);
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

/** Whether the replica's replay LSN is at or past the target LSN. */
export function lsnReached(position: string, target: string): boolean {
  return parseLsn(position) >= parseLsn(target);
}

/**
 * A MariaDB GTID position such as `0-1-100,1-2-7` (domain-server-sequence, one per domain) as
 * domain -> sequence. The server id is ignored: ordering within a domain is by sequence.
 */
export function parseMariaGtid(position: string): Map<number, bigint> {
  const byDomain = new Map<number, bigint>();
  for (const part of position.split(',')) {
    const trimmed = part.trim();
    if (!trimmed) continue;
    const match = /^(\d+)-(\d+)-(\d+)$/.exec(trimmed);
    if (!match) throw new TypeError(`not a MariaDB GTID position: ${position}`);
    const domain = Number(match[1]);
    const sequence = BigInt(match[3]!);
    const known = byDomain.get(domain);
    if (known === undefined || sequence > known) byDomain.set(domain, sequence);
  }
  return byDomain;
}

/** Whether the replica's GTID position includes every domain's sequence of the target. */
export function mariaGtidReached(position: string, target: string): boolean {
  const have = parseMariaGtid(position);
  for (const [domain, sequence] of parseMariaGtid(target)) {
    if ((have.get(domain) ?? -1n) < sequence) return false;
  }
  return true;
}

/** Integer offsets (Redis replication offsets). */
export function offsetReached(position: string, target: string): boolean {
  return BigInt(position) >= BigInt(target);
}
