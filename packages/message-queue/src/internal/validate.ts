import { invariant, NoaError, validateBackoff } from '@noa/core';
import type { ProviderCapabilities } from '../provider.js';
import type { PublishOptions } from '../types.js';

const QUEUE_NAME = /^[A-Za-z0-9_.:-]{1,200}$/;

export function validateQueueName(queue: unknown): asserts queue is string {
  invariant(
    typeof queue === 'string' && QUEUE_NAME.test(queue),
    `queue name must be 1-200 characters of letters, digits, _ . : or -, got ${JSON.stringify(queue)}`,
    'NOA_MQ_INVALID_QUEUE',
  );
}

export function unsupported(provider: string, feature: string, hint: string): NoaError {
  return new NoaError('NOA_MQ_UNSUPPORTED', `the ${provider} provider does not support ${feature}: ${hint}`);
}

/** Checks publish options at the boundary, and that the provider can honour them. */
export function validatePublishOptions(
  options: PublishOptions,
  provider: string,
  capabilities: ProviderCapabilities,
): void {
  const { jobId, delayMs, priority, attempts, backoff, groupId } = options;
  const code = 'NOA_MQ_INVALID_OPTION';
  if (jobId !== undefined) {
    invariant(
      typeof jobId === 'string' && jobId.length > 0 && jobId.length <= 200,
      'jobId must be a non-empty string of at most 200 characters',
      code,
    );
    if (!capabilities.dedupe)
      throw unsupported(provider, 'jobId deduplication', 'drop jobId and make the handler idempotent');
  }
  if (delayMs !== undefined) {
    invariant(Number.isFinite(delayMs) && delayMs >= 0, 'delayMs must be a number >= 0', code);
    if (delayMs > 0 && !capabilities.delay)
      throw unsupported(provider, 'delayed jobs', 'publish without delayMs, or use Redis, RabbitMQ or SQS');
  }
  if (priority !== undefined) {
    invariant(
      Number.isInteger(priority) && priority >= 0 && priority <= 255,
      'priority must be an integer from 0 to 255 (higher runs first)',
      code,
    );
    if (priority > 0 && !capabilities.priority)
      throw unsupported(provider, 'priorities', 'use a separate queue for urgent jobs, or Redis or RabbitMQ');
  }
  if (attempts !== undefined)
    invariant(Number.isInteger(attempts) && attempts >= 1, 'attempts must be an integer >= 1', code);
  if (backoff !== undefined) {
    invariant(typeof backoff === 'object' && backoff !== null, 'backoff must be an object', code);
    validateBackoff(backoff);
  }
  if (groupId !== undefined)
    invariant(
      typeof groupId === 'string' && groupId.length > 0 && groupId.length <= 128,
      'groupId must be a string of 1-128 characters',
      code,
    );
}
