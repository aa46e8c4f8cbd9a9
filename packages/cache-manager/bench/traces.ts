/**
 * Synthetic access traces for the hit-rate simulator, and Belady's optimal policy (the offline
 * limit: on a miss with a full cache, evict the key whose next use is farthest away).
 * Deterministic: every generator takes a seed.
 */

/** mulberry32: small, fast, good enough to draw trace samples reproducibly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Zipf over `keys` ranks with exponent `s`, sampled by binary search of the CDF. */
export function zipfTrace(keys: number, s: number, length: number, seed: number, prefix = 'z'): string[] {
  const cdf = new Float64Array(keys);
  let sum = 0;
  for (let rank = 0; rank < keys; rank++) cdf[rank] = sum += 1 / (rank + 1) ** s;
  const random = seededRandom(seed);
  // Ranks are shuffled onto key ids so popularity does not follow insertion order.
  const ids = Array.from({ length: keys }, (_, i) => i);
  for (let i = keys - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [ids[i], ids[j]] = [ids[j]!, ids[i]!];
  }
  const out: string[] = new Array(length);
  for (let i = 0; i < length; i++) {
    const target = random() * sum;
    let lo = 0;
    let hi = keys - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    out[i] = `${prefix}${ids[lo]}`;
  }
  return out;
}

/** A loop over `keys` distinct keys, repeated to `length`. */
export function loopTrace(keys: number, length: number, prefix = 'l'): string[] {
  return Array.from({ length }, (_, i) => `${prefix}${i % keys}`);
}

/**
 * Zipf traffic polluted by scans: after every `zipfRun` Zipf requests comes a burst of `scanRun`
 * keys walking a loop of `scanKeys` keys (a batch job reading a table), as in the Caffeine and
 * ARC papers' database traces. LRU lets each burst flush its hot set.
 */
export function scanPollutedTrace(
  keys: number,
  s: number,
  length: number,
  seed: number,
  { zipfRun, scanRun, scanKeys }: { zipfRun: number; scanRun: number; scanKeys: number },
): string[] {
  const zipf = zipfTrace(keys, s, length, seed);
  const out: string[] = [];
  let scanPosition = 0;
  for (let i = 0; out.length < length; ) {
    for (let j = 0; j < zipfRun && out.length < length; j++) out.push(zipf[i++]!);
    for (let j = 0; j < scanRun && out.length < length; j++) out.push(`s${scanPosition++ % scanKeys}`);
  }
  return out;
}

/** Hits of Belady's optimal policy for `trace` and `capacity`. O(n log n). */
export function beladyHits(trace: string[], capacity: number): number {
  const n = trace.length;
  const nextUse = new Int32Array(n);
  const last = new Map<string, number>();
  for (let i = n - 1; i >= 0; i--) {
    nextUse[i] = last.get(trace[i]!) ?? n + i; // never used again: farthest, distinct
    last.set(trace[i]!, i);
  }
  const cached = new Map<string, number>(); // key -> its next use
  const heap: Array<[number, string]> = []; // max-heap on next use, with stale entries skipped
  const push = (item: [number, string]) => {
    heap.push(item);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]![0] >= heap[i]![0]) break;
      [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
      i = parent;
    }
  };
  const pop = (): [number, string] => {
    const top = heap[0]!;
    const end = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = end;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let largest = i;
        if (l < heap.length && heap[l]![0] > heap[largest]![0]) largest = l;
        if (r < heap.length && heap[r]![0] > heap[largest]![0]) largest = r;
        if (largest === i) break;
        [heap[largest], heap[i]] = [heap[i]!, heap[largest]!];
        i = largest;
      }
    }
    return top;
  };
  let hits = 0;
  for (let i = 0; i < n; i++) {
    const key = trace[i]!;
    if (cached.has(key)) hits++;
    else if (cached.size >= capacity) {
      for (;;) {
        const [use, victim] = pop();
        if (cached.get(victim) === use) {
          cached.delete(victim);
          break;
        }
      }
    }
    cached.set(key, nextUse[i]!);
    push([nextUse[i]!, key]);
  }
  return hits;
}

/** Replays `trace` through a get-then-set-on-miss cache and counts hits. */
export function replay(
  trace: string[],
  cache: { get(key: string): unknown; set(key: string, value: unknown): unknown },
) {
  let hits = 0;
  for (const key of trace) {
    if (cache.get(key) !== undefined) hits++;
    else cache.set(key, 1);
  }
  return hits;
}

/**
 * A recency-heavy trace (a news feed, a session store): each request re-reads a key used recently,
 * at a stack distance drawn from a geometric distribution with mean `meanDistance`, or with
 * probability `fresh` a key never seen before. LRU is near-ideal here; frequency counts lag.
 */
export function recencyTrace(length: number, seed: number, meanDistance: number, fresh: number): string[] {
  const random = seededRandom(seed);
  const out: string[] = new Array(length);
  const recent: number[] = []; // most recent last; bounded so the walk stays O(distance)
  let next = 0;
  for (let i = 0; i < length; i++) {
    let id: number;
    if (recent.length === 0 || random() < fresh) id = next++;
    else {
      const distance = Math.min(recent.length - 1, Math.floor(-Math.log(1 - random()) * meanDistance));
      id = recent.splice(recent.length - 1 - distance, 1)[0]!;
    }
    recent.push(id);
    if (recent.length > 8 * meanDistance) recent.shift();
    out[i] = `r${id}`;
  }
  return out;
}

/**
 * Hits of the best fixed set of `capacity` keys for the whole trace: the keys requested most, each
 * paying one cold miss. The limit of a policy that knows every key's popularity (and that
 * popularity never changes); unlike Belady's optimal, it cannot exploit the order of requests.
 */
export function bestFixedSetHits(trace: string[], capacity: number): number {
  const counts = new Map<string, number>();
  for (const key of trace) counts.set(key, (counts.get(key) ?? 0) + 1);
  const sorted = [...counts.values()].sort((a, b) => b - a);
  let hits = 0;
  for (let i = 0; i < Math.min(capacity, sorted.length); i++) hits += sorted[i]! - 1;
  return hits;
}
