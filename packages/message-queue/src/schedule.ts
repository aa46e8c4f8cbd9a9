import { NoaError } from '@noa/core';
import { Cron } from 'croner';
import type { Schedule } from './types.js';

/** The nominal time of the tick that is firing now (croner reports the wall clock, which drifts by a few ms). */
export function nominalTick(cron: Cron, now: Date): number {
  const previous = cron.previousRuns(1, now)[0];
  const candidate = previous ? cron.nextRun(previous) : null;
  if (candidate && candidate.getTime() <= now.getTime()) return candidate.getTime();
  return previous?.getTime() ?? now.getTime();
}

/** Validates the pattern and time zone up front so a typo fails at schedule() time, not at 2 am. */
export function createCron(
  name: string,
  pattern: string,
  timezone: string | undefined,
  onTick: (tickMs: number) => Promise<void>,
): Schedule {
  let job: Cron;
  try {
    job = new Cron(pattern, { timezone, unref: true, protect: true, paused: true }, () =>
      onTick(nominalTick(job, new Date())),
    );
  } catch (cause) {
    throw new NoaError(
      'NOA_MQ_INVALID_CRON',
      `schedule "${name}": invalid cron pattern ${JSON.stringify(pattern)} or timezone (${(cause as Error).message}); use 5 or 6 fields like "0 2 * * *"`,
      { cause },
    );
  }
  job.resume();
  return {
    name,
    nextRun: () => job.nextRun(),
    stop: () => job.stop(),
  };
}
