import type { Balancer } from '../balancer.js';

export interface P2cEwmaOptions {
  /** How fast old latency is forgotten (the EWMA's time constant). Default 10 000, as in Finagle and Linkerd. */
  decayMs?: number;
  /** Cost of an instance with requests in flight but no latency sample yet. Default 100 000 (ms). */
  penaltyMs?: number;
  random?: () => number;
  /** Clock in ms, for tests. Default performance.now. */
  now?: () => number;
}

interface Load {
  ewmaMs: number;
  inflight: number;
  stampMs: number;
}

/**
 * Power of two choices over peak-EWMA latency (Finagle's and Linkerd's balancer): pick two instances
 * at random and send to the one with the lower cost = latency estimate × (requests in flight + 1).
 * The estimate jumps up to a slower sample at once ("peak") and decays towards faster ones, and also
 * decays while idle, so a slow instance gets probed again later instead of being starved forever.
 */
export function p2cEwma(options: P2cEwmaOptions = {}): Balancer {
  const {
    decayMs = 10_000,
    penaltyMs = 100_000,
    random = Math.random,
    now = () => performance.now(),
  } = options;
  const loads = new Map<string, Load>();
  const load = (id: string) => {
    let entry = loads.get(id);
    if (!entry) loads.set(id, (entry = { ewmaMs: 0, inflight: 0, stampMs: now() }));
    return entry;
  };
  const observe = (entry: Load, rttMs: number) => {
    const t = now();
    const elapsed = Math.max(0, t - entry.stampMs);
    entry.stampMs = t;
    if (rttMs > entry.ewmaMs) entry.ewmaMs = rttMs;
    else {
      const w = Math.exp(-elapsed / decayMs);
      entry.ewmaMs = entry.ewmaMs * w + rttMs * (1 - w);
    }
  };
  const cost = (id: string) => {
    const entry = load(id);
    observe(entry, 0); // decay while idle
    if (entry.ewmaMs === 0 && entry.inflight > 0) return penaltyMs + entry.inflight;
    return entry.ewmaMs * (entry.inflight + 1);
  };
  return {
    name: 'p2c-ewma',
    pick(instances) {
      const n = instances.length;
      if (n === 1) return instances[0]!;
      const i = Math.floor(random() * n);
      let j = Math.floor(random() * (n - 1));
      if (j >= i) j++;
      const a = instances[i]!;
      const b = instances[j]!;
      return cost(a.id) <= cost(b.id) ? a : b;
    },
    onStart: (instance) => void load(instance.id).inflight++,
    onEnd(instance, latencyMs) {
      const entry = load(instance.id);
      entry.inflight = Math.max(0, entry.inflight - 1);
      observe(entry, latencyMs);
    },
    retain(ids) {
      for (const id of loads.keys()) if (!ids.has(id)) loads.delete(id);
    },
  };
}
