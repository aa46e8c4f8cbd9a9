import { sleep } from '@noa/core';

/** Time as the rate limiters and retries see it; injectable so backlogs can be simulated. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = { now: () => Date.now(), sleep };

export interface SimulatedClock extends Clock {
  /** Moves time forward without anyone sleeping. */
  advance(ms: number): void;
}

/**
 * A clock whose sleeps return at once and move time forward instead: draining an hour of rate-limited
 * purges takes milliseconds. Exact when sleeps happen one after another, as the rate limiter makes
 * them (it serves waiters in turn).
 */
export function createSimulatedClock(startMs = 0): SimulatedClock {
  let now = startMs;
  return {
    now: () => now,
    sleep: async (ms, signal) => {
      if (signal?.aborted) throw signal.reason;
      now += Math.max(0, ms);
    },
    advance: (ms) => {
      now += ms;
    },
  };
}
