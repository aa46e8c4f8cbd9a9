import { request } from 'undici';
import type { InstanceRecord } from '../instance.js';
import type { RegistryBackend } from '../registry-backend.js';

/**
 * Keeps one registration alive on a backend that does not run checks itself: TTL heartbeats every
 * third of the TTL, or the HTTP check every interval (healthy for 1.5 intervals after each pass, so
 * a dead process leaves rotation within two intervals). A backend that lost the entry (expired and
 * reaped during a partition) gets it registered again.
 */
export function startLocalCheck(
  backend: RegistryBackend,
  record: InstanceRecord,
  onError: (error: unknown) => void,
): () => void {
  const { check, instance } = record;
  if (!check || (check.kind === 'http' && backend.runsHttpChecks)) return () => {};
  let stopped = false;
  const controller = new AbortController();
  const passFor = check.kind === 'ttl' ? check.ttlMs : check.intervalMs * 1.5;
  const tick = async () => {
    try {
      if (check.kind === 'http') {
        const failure = await probe(check.url, check.timeoutMs, controller.signal);
        if (stopped) return;
        if (failure) return await backend.fail(instance.name, instance.id, failure);
      }
      if (!(await backend.pass(instance.name, instance.id, passFor)) && !stopped)
        await backend.register(record);
    } catch (error) {
      if (!stopped) onError(error);
    }
  };
  const timer = setInterval(tick, check.kind === 'ttl' ? check.ttlMs / 3 : check.intervalMs);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
    controller.abort();
  };
}

/** Calls a health URL; returns why it failed, or undefined when it answered 2xx/3xx. */
export async function probe(
  url: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<string | undefined> {
  try {
    const response = await request(url, {
      method: 'GET',
      signal: signal
        ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)])
        : AbortSignal.timeout(timeoutMs),
    });
    await response.body.dump();
    return response.statusCode < 400 ? undefined : `health check answered ${response.statusCode}`;
  } catch (error) {
    return `health check failed: ${(error as Error).message}`;
  }
}
