import { type BackoffOptions, invariant, validateBackoff } from '@noa/core';
import { type ServiceRegistry, validateServiceName } from '../registry.js';

/** Checks what every client needs (a registry, a valid service name) and resolves its retry policy. */
export function resolveClientBasics(
  where: string,
  options: {
    registry?: ServiceRegistry;
    service?: string;
    retry?: { attempts?: number; backoff?: BackoffOptions } | false;
  },
): { attempts: number; backoff: BackoffOptions } {
  invariant(options && typeof options.registry?.discover === 'function', `${where}: registry is required`);
  validateServiceName(options.service);
  const retry = options.retry ?? {};
  const attempts = retry === false ? 1 : (retry.attempts ?? 3);
  invariant(Number.isInteger(attempts) && attempts >= 1, `${where}: retry.attempts must be an integer >= 1`);
  // Retries go to another instance, so the first waits little; jitter spreads synchronized clients.
  const backoff: BackoffOptions = {
    delayMs: 10,
    maxDelayMs: 200,
    jitter: 'full',
    ...(retry ? retry.backoff : {}),
  };
  validateBackoff(backoff);
  return { attempts, backoff };
}
