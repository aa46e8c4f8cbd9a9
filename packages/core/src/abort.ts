import { NoaError } from './errors.js';

/** The error for an operation stopped by its AbortSignal; the signal's reason is the cause. */
export function abortError(signal: AbortSignal, what = 'operation'): NoaError {
  return new NoaError('NOA_ABORTED', `${what} was aborted`, { cause: signal.reason });
}

/** Resolves after `ms`, or rejects with `NOA_ABORTED` as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortError(signal, 'sleep'));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal!, 'sleep'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
