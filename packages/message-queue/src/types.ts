import type { BackoffOptions, Logger, Metrics } from '@noa/core';
import type { QueueProvider } from './provider.js';

/** How a job is published. Every option is validated; a provider that cannot honour one throws NOA_MQ_UNSUPPORTED. */
export interface PublishOptions {
  /**
   * Your id for the job. Publishing the same jobId again while the job exists (and, on Redis and
   * memory, for `dedupeWindowMs` after it completed) is a no-op that returns the same id.
   */
  jobId?: string;
  /** Run no earlier than this many milliseconds from now. Default 0. */
  delayMs?: number;
  /** 0..255, higher runs first. Default 0. */
  priority?: number;
  /** Total attempts, the first included, before the job goes to the dead-letter queue. Default 3. */
  attempts?: number;
  /** Wait between attempts (core's backoffDelay). Default exponential from 1 000 ms with full jitter. */
  backoff?: BackoffOptions;
  /** SQS FIFO message group / ordering key (Kafka message key). Jobs of one group run in order. */
  groupId?: string;
}

export type PublishBatchItem<T = unknown> = PublishOptions & { data: T };

export interface PublishResult {
  id: string;
}

/** One failed attempt, kept with the job so the dead-letter queue shows its whole history. */
export interface AttemptRecord {
  attempt: number;
  error: string;
  stack?: string;
  /** Epoch milliseconds. */
  at: number;
}

/** What a handler receives. */
export interface Job<T = unknown> {
  readonly id: string;
  readonly queue: string;
  readonly data: T;
  /** 1 for the first attempt. */
  readonly attempt: number;
  readonly maxAttempts: number;
  /** Epoch milliseconds of the original publish. */
  readonly publishedAt: number;
  /** Failed attempts so far. */
  readonly history: readonly AttemptRecord[];
  /** Reports progress (0..100 or any JSON value); also extends the job's lock where the provider has one. */
  progress(value: number | Record<string, unknown>): Promise<void>;
}

export type JobHandler<T = unknown> = (job: Job<T>) => unknown | Promise<unknown>;

export interface ProcessOptions {
  /** Jobs handled at once by this worker (RabbitMQ prefetch). Default 1. */
  concurrency?: number;
  /**
   * How long a job stays locked to this worker without a sign of life (Redis lock, SQS visibility
   * timeout). The worker extends it automatically while the handler runs, so it only matters when
   * the process dies: then the job is redelivered after this long. Default 30 000.
   */
  lockMs?: number;
}

export interface WorkerCloseOptions {
  /**
   * Longest wait for active jobs to finish. When it passes, the jobs still running are handed back
   * to the queue (redelivered elsewhere) and close() resolves. Default: wait for them.
   */
  timeoutMs?: number;
}

export interface QueueStats {
  waiting: number;
  active: number;
  delayed: number;
  completed: number;
  failed: number;
  dead: number;
}

/** A job in the dead-letter queue. */
export interface DeadLetter<T = unknown> {
  id: string;
  queue: string;
  /** The job's data; for a malformed message, the raw body as a string. */
  data: T;
  /** The final error. */
  error: string;
  stack?: string;
  attempts: number;
  history: AttemptRecord[];
  publishedAt?: number;
  failedAt?: number;
}

export interface DeadLetterQueue<T = unknown> {
  /** Oldest first, at most `limit` (default 100). */
  list(limit?: number): Promise<DeadLetter<T>[]>;
  /** Puts the job back on its queue with a fresh attempt budget; false when no such dead job. */
  retry(id: string): Promise<boolean>;
  /** Deletes every dead job of the queue; returns how many where the provider can tell. */
  purge(): Promise<number>;
}

export interface ScheduleOptions<T = unknown> {
  /** Cron pattern (croner syntax, 5 or 6 fields). */
  cron: string;
  data?: T;
  /** Queue the tick's job goes to. Default: the schedule's name. */
  queue?: string;
  /** IANA time zone. Default: the process's. */
  timezone?: string;
  /** Options of each published job (jobId is set per tick and cannot be given). */
  job?: Omit<PublishOptions, 'jobId' | 'delayMs'>;
}

export interface Schedule {
  readonly name: string;
  /** Next tick, or null when the pattern has none. */
  nextRun(): Date | null;
  stop(): void;
}

export interface QueueManagerOptions {
  provider: QueueProvider;
  /** Defaults for attempts and backoff of every publish. */
  defaults?: Pick<PublishOptions, 'attempts' | 'backoff'>;
  logger?: Logger;
  metrics?: Metrics;
  /**
   * Signals on which every worker closes gracefully before the process exits (the default
   * behaviour of the signal then proceeds). Installed while workers run. Default ['SIGTERM', 'SIGINT'];
   * false to handle signals yourself.
   */
  closeOnSignals?: NodeJS.Signals[] | false;
}
