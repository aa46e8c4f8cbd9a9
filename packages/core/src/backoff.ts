import { invariant } from './errors.js';

export type Jitter = 'full' | 'equal' | 'decorrelated' | 'none';

export interface BackoffOptions {
  /** How the delay grows with the attempt number. Default 'exponential'. */
  type?: 'exponential' | 'linear' | 'fixed';
  /** The base delay. Default 100. */
  delayMs?: number;
  /** The largest delay. Default 30 000. */
  maxDelayMs?: number;
  /** Growth factor for exponential backoff. Default 2. */
  factor?: number;
  /**
   * Randomisation so that clients retrying together do not stampede again together (see AWS's
   * "Exponential Backoff and Jitter"). `true` means 'full'. Default 'full'.
   */
  jitter?: Jitter | boolean;
}

export function validateBackoff(options: BackoffOptions): void {
  const { type = 'exponential', delayMs = 100, maxDelayMs = 30_000, factor = 2 } = options;
  invariant(
    ['exponential', 'linear', 'fixed'].includes(type),
    `backoff.type must be exponential, linear or fixed, got ${String(type)}`,
  );
  invariant(Number.isFinite(delayMs) && delayMs >= 0, 'backoff.delayMs must be a number >= 0');
  invariant(Number.isFinite(maxDelayMs) && maxDelayMs >= delayMs, 'backoff.maxDelayMs must be >= delayMs');
  invariant(Number.isFinite(factor) && factor >= 1, 'backoff.factor must be >= 1');
}

/**
 * The delay before retry number `retry` (1 for the first retry). `previousDelayMs` feeds the
 * decorrelated jitter, which grows from the last delay rather than from the attempt number.
 */
export function backoffDelay(
  options: BackoffOptions,
  retry: number,
  previousDelayMs?: number,
  random: () => number = Math.random,
): number {
  const { type = 'exponential', delayMs = 100, maxDelayMs = 30_000, factor = 2 } = options;
  const jitter: Jitter =
    options.jitter === true || options.jitter === undefined
      ? 'full'
      : options.jitter === false
        ? 'none'
        : options.jitter;
  const n = Math.max(1, retry);
  if (jitter === 'decorrelated') {
    const previous = previousDelayMs ?? delayMs;
    return Math.min(maxDelayMs, delayMs + random() * Math.max(0, previous * 3 - delayMs));
  }
  const ceiling = Math.min(
    maxDelayMs,
    type === 'fixed' ? delayMs : type === 'linear' ? delayMs * n : delayMs * factor ** (n - 1),
  );
  switch (jitter) {
    case 'full':
      return random() * ceiling;
    case 'equal':
      return ceiling / 2 + (random() * ceiling) / 2;
    default:
      return ceiling;
  }
}
