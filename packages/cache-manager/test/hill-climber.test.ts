import { describe, expect, it } from 'vitest';
import { recencyTrace, zipfTrace } from '../bench/traces.js';
import { HillClimber } from '../src/internal/hill-climber.js';
import { CacheNode } from '../src/internal/list.js';
import { AdaptivePolicy } from '../src/policies/adaptive.js';

/** One sample of `requests` requests with the given hit rate; returns the climber's adjustment. */
function sample(climber: HillClimber, hitRate: number, requests = 10_000): number {
  const hits = Math.round(hitRate * requests);
  for (let i = 0; i < hits; i++) climber.recordHit();
  for (let i = hits; i < requests; i++) climber.recordMiss();
  return climber.adjust();
}

describe('HillClimber (window sizing)', () => {
  it('takes the first sample as a baseline, then first shrinks the window by 6.25 % of capacity', () => {
    const climber = new HillClimber(1_000);
    expect(sample(climber, 0.5)).toBe(0);
    expect(sample(climber, 0.53)).toBe(-62); // a rise: keep the initial (shrinking) direction
  });

  it('keeps stepping the same way while the hit rate rises and reverses when it falls', () => {
    const climber = new HillClimber(1_000);
    sample(climber, 0.5);
    const first = sample(climber, 0.52);
    const second = sample(climber, 0.54);
    expect(Math.sign(second)).toBe(Math.sign(first));
    const third = sample(climber, 0.51);
    expect(Math.sign(third)).toBe(-Math.sign(second));
  });

  it('decays the step by 2 % per move, and restarts it at full size when the hit rate jumps by 5 points', () => {
    const climber = new HillClimber(1_000);
    sample(climber, 0.5);
    sample(climber, 0.52); // moves -62, next step -62.5 × 0.98
    expect(climber.step).toBeCloseTo(-62.5 * 0.98);
    sample(climber, 0.54);
    expect(climber.step).toBeCloseTo(-62.5 * 0.98 * 0.98);
    sample(climber, 0.65); // the workload changed: full step again, same direction (it rose)
    expect(climber.step).toBeCloseTo(-62.5);
  });

  it('moves nothing for a change within sampling noise, and lets the step decay', () => {
    const climber = new HillClimber(1_000);
    sample(climber, 0.5);
    // Standard error of the difference of two 10 000-request samples at 50 %: 0.71 points.
    expect(sample(climber, 0.505)).toBe(0);
    expect(sample(climber, 0.499)).toBe(0);
    expect(climber.step).toBeCloseTo(-62.5 * 0.98 * 0.98);
    expect(sample(climber, 0.52)).not.toBe(0);
  });

  it('ignores an empty sample', () => {
    const climber = new HillClimber(100);
    expect(climber.adjust()).toBe(0);
  });
});

describe('AdaptivePolicy window (hill climbing end to end)', () => {
  /** Replays `trace` (get, insert on miss) and returns the final window capacity. */
  function finalWindow(trace: string[], capacity: number): number {
    const policy = new AdaptivePolicy<number>(capacity);
    const nodes = new Map<string, CacheNode<number>>();
    for (const key of trace) {
      const node = nodes.get(key);
      if (node) {
        policy.hit(node);
        continue;
      }
      policy.miss();
      const added = new CacheNode(key, 1, 0);
      nodes.set(key, added);
      const victim = policy.add(added);
      if (victim) nodes.delete(victim.key);
    }
    expect(nodes.size).toBe(capacity);
    return policy.windowMax;
  }

  it('grows the window where recency pays and keeps it small on a stationary Zipf trace', () => {
    const capacity = 500;
    const initial = 5; // 1 %
    // Re-reads of recently used keys: frequency counts lag, a bigger LRU window wins.
    expect(finalWindow(recencyTrace(200_000, 6, 250, 0.1), capacity)).toBeGreaterThan(20 * initial);
    // Popularity never changes: the frequency filter should keep most of the cache.
    expect(finalWindow(zipfTrace(10_000, 0.9, 200_000, 3), capacity)).toBeLessThan(capacity / 10);
  });
});
