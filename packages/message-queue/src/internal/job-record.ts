import { type BackoffOptions, NoaError } from '@noa/core';
import type { AttemptRecord } from '../types.js';

/** The envelope every provider carries as the message body: the job plus its retry state. */
export interface JobRecord {
  v: 1;
  id: string;
  data: unknown;
  /** Attempts made so far (0 before the first). */
  attempt: number;
  maxAttempts: number;
  backoff?: BackoffOptions;
  priority?: number;
  publishedAt: number;
  /** Earliest run time; providers whose delays are capped (SQS: 15 min) re-delay until it passes. */
  runAt?: number;
  history: AttemptRecord[];
  failedAt?: number;
}

export function encodeRecord(record: JobRecord): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(record);
  } catch (cause) {
    throw new NoaError(
      'NOA_MQ_INVALID_DATA',
      `job data must be JSON-serializable: ${(cause as Error).message}`,
      { cause },
    );
  }
  if (text === undefined) throw new NoaError('NOA_MQ_INVALID_DATA', 'job data must be JSON-serializable');
  return text;
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Parses a message body; throws NOA_MQ_MALFORMED_MESSAGE when it is not a job record. */
export function decodeRecord(body: string): JobRecord {
  let value: Partial<JobRecord> | null;
  try {
    value = JSON.parse(body) as Partial<JobRecord> | null;
  } catch {
    throw new NoaError(
      'NOA_MQ_MALFORMED_MESSAGE',
      'message body is not JSON; it was not published by @noa/message-queue',
    );
  }
  if (
    value?.v !== 1 ||
    typeof value.id !== 'string' ||
    !isNumber(value.attempt) ||
    !isNumber(value.maxAttempts) ||
    !isNumber(value.publishedAt) ||
    !Array.isArray(value.history)
  ) {
    throw new NoaError(
      'NOA_MQ_MALFORMED_MESSAGE',
      'message body is not a @noa/message-queue job record (v, id, attempt, maxAttempts, publishedAt, history)',
    );
  }
  return value as JobRecord;
}

/** The error as stored in a job's history. */
export function attemptRecord(attempt: number, error: unknown): AttemptRecord {
  const err = error instanceof Error ? error : new Error(String(error));
  return {
    attempt,
    error: err.message || err.name,
    ...(err.stack ? { stack: err.stack } : {}),
    at: Date.now(),
  };
}

/** The record a malformed body becomes in the dead-letter queue, so it can be listed like any job. */
export function malformedRecord(messageId: string, body: string, error: unknown): JobRecord {
  return {
    v: 1,
    id: messageId,
    data: body,
    attempt: 1,
    maxAttempts: 1,
    publishedAt: Date.now(),
    history: [attemptRecord(1, error)],
    failedAt: Date.now(),
  };
}
