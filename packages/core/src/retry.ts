import { abortError, sleep } from './abort.js';
import { type BackoffOptions, backoffDelay, validateBackoff } from './backoff.js';
import { invariant } from './errors.js';

export interface RetryOptions {
  /** Total attempts, the first included. Default 3. */
  attempts?: number;
  backoff?: BackoffOptions;
  /** Stops waiting and retrying; the pending attempt sees the same signal. */
  signal?: AbortSignal;
  /** Whether an error is worth another attempt. Default: every error. */
  shouldRetry?: (error: unknown, attempt: number) => boolean;
  /** Called before each wait, e.g. to log. */
  onRetry?: (info: { error: unknown; attempt: number; delayMs: number }) => void;
}

/**
 * Calls `fn` until it succeeds or `attempts` are used up, waiting with backoff and jitter between
 * attempts. The last error is rethrown unchanged, so callers can still tell errors apart.
 */
export async function retry<T>(
  fn: (attempt: number, signal?: AbortSignal) => T | PromiseLike<T>,
  options: RetryOptions = {},
): Promise<T> {
  const { attempts = 3, backoff = {}, signal, shouldRetry = () => true, onRetry } = options;
  invariant(Number.isInteger(attempts) && attempts >= 1, 'retry: attempts must be an integer >= 1');
  validateBackoff(backoff);
  let previousDelayMs: number | undefined;
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw abortError(signal, 'retry');
    try {
      return await fn(attempt, signal);
    } catch (error) {
      if (attempt >= attempts || signal?.aborted || !shouldRetry(error, attempt)) throw error;
      const delayMs = backoffDelay(backoff, attempt, previousDelayMs);
      previousDelayMs = delayMs;
      onRetry?.({ error, attempt, delayMs });
      await sleep(delayMs, signal);
    }
  }
}
