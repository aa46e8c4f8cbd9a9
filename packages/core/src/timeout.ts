import { abortError } from './abort.js';
import { invariant, NoaError } from './errors.js';

/**
 * Settles like `promise`, or rejects with `NOA_TIMEOUT` after `ms`, or with `NOA_ABORTED` when
 * `signal` aborts, whichever comes first. The timer is cleared as soon as the race is decided.
 * The underlying work is not cancelled: pass the same signal to it when it supports one.
 * The timer is deliberately not unref()ed: someone awaits this deadline, so it must fire.
 */
export function withTimeout<T>(promise: PromiseLike<T>, ms: number, signal?: AbortSignal): Promise<T> {
  invariant(Number.isFinite(ms) && ms >= 0, `withTimeout: ms must be a number >= 0, got ${ms}`);
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = () => {
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      if (settled) return;
      finish();
      reject(abortError(signal!));
    };
    const timer = setTimeout(() => {
      if (settled) return;
      finish();
      reject(new NoaError('NOA_TIMEOUT', `operation timed out after ${ms} ms`));
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        if (settled) return;
        finish();
        resolve(value);
      },
      (error) => {
        if (settled) return;
        finish();
        reject(error);
      },
    );
  });
}
