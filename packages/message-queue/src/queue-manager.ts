import { randomUUID } from 'node:crypto';
import {
  type BackoffOptions,
  invariant,
  type Logger,
  type Metrics,
  NoaError,
  noopLogger,
  noopMetrics,
  TypedEventEmitter,
} from '@noa/core';
import { decodeRecord, encodeRecord, type JobRecord } from './internal/job-record.js';
import { unsupported, validatePublishOptions, validateQueueName } from './internal/validate.js';
import type { OutgoingMessage, QueueProvider } from './provider.js';
import { createCron } from './schedule.js';
import type {
  DeadLetter,
  DeadLetterQueue,
  JobHandler,
  ProcessOptions,
  PublishBatchItem,
  PublishOptions,
  PublishResult,
  QueueManagerOptions,
  QueueStats,
  Schedule,
  ScheduleOptions,
  WorkerCloseOptions,
} from './types.js';
import { QueueWorker, type Worker } from './worker.js';

export type QueueManagerEvents = {
  /** A schedule tick failed to publish, or a signal-triggered close failed. */
  error: [error: unknown];
};

export interface QueueManager extends TypedEventEmitter<QueueManagerEvents> {
  readonly provider: QueueProvider;
  publish<T>(queue: string, data: T, options?: PublishOptions): Promise<PublishResult>;
  publishBatch<T>(queue: string, items: PublishBatchItem<T>[]): Promise<PublishResult[]>;
  process<T = unknown>(queue: string, handler: JobHandler<T>, options?: ProcessOptions): Worker;
  schedule<T>(name: string, options: ScheduleOptions<T>): Promise<Schedule>;
  deadLetters<T = unknown>(queue: string): DeadLetterQueue<T>;
  stats(queue: string): Promise<QueueStats>;
  /** Stops schedules, closes every worker gracefully, then the provider. */
  close(options?: WorkerCloseOptions): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const DEFAULT_ATTEMPTS = 3;
const DEFAULT_BACKOFF: BackoffOptions = { type: 'exponential', delayMs: 1_000, jitter: true };

class Manager extends TypedEventEmitter<QueueManagerEvents> implements QueueManager {
  readonly provider: QueueProvider;
  readonly #attempts: number;
  readonly #backoff: BackoffOptions;
  readonly #logger: Logger;
  readonly #metrics: Metrics;
  readonly #signals: NodeJS.Signals[];
  readonly #workers = new Set<QueueWorker<unknown>>();
  readonly #schedules = new Map<string, Schedule>();
  #onSignal: ((signal: NodeJS.Signals) => void) | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: QueueManagerOptions) {
    super();
    invariant(
      options?.provider && typeof options.provider.publish === 'function',
      'createQueueManager: pass a provider, e.g. memoryProvider() or redisProvider({ connection })',
      'NOA_MQ_INVALID_OPTION',
    );
    this.provider = options.provider;
    validatePublishOptions(options.defaults ?? {}, this.provider.name, {
      dedupe: true,
      delay: true,
      priority: true,
      deadLetterAdmin: true,
      schedules: true,
    });
    this.#attempts = options.defaults?.attempts ?? DEFAULT_ATTEMPTS;
    this.#backoff = options.defaults?.backoff ?? DEFAULT_BACKOFF;
    this.#logger = options.logger ?? noopLogger;
    this.#metrics = options.metrics ?? noopMetrics;
    this.#signals = options.closeOnSignals === false ? [] : (options.closeOnSignals ?? ['SIGTERM', 'SIGINT']);
  }

  #assertOpen(): void {
    if (this.#closing) throw new NoaError('NOA_MQ_CLOSED', 'this queue manager is closed; create a new one');
  }

  #message<T>(queue: string, data: T, options: PublishOptions, id?: string): OutgoingMessage {
    validatePublishOptions(options, this.provider.name, this.provider.capabilities(queue));
    const now = Date.now();
    const delayMs = options.delayMs ?? 0;
    const record: JobRecord = {
      v: 1,
      id: id ?? options.jobId ?? randomUUID(),
      data,
      attempt: 0,
      maxAttempts: options.attempts ?? this.#attempts,
      ...(options.backoff ? { backoff: options.backoff } : {}),
      ...(options.priority ? { priority: options.priority } : {}),
      publishedAt: now,
      ...(delayMs > 0 ? { runAt: now + delayMs } : {}),
      history: [],
    };
    return {
      id: record.id,
      body: encodeRecord(record),
      delayMs,
      priority: options.priority ?? 0,
      dedupe: options.jobId !== undefined,
      ...(options.groupId ? { groupId: options.groupId } : {}),
    };
  }

  async publish<T>(queue: string, data: T, options: PublishOptions = {}): Promise<PublishResult> {
    this.#assertOpen();
    validateQueueName(queue);
    const message = this.#message(queue, data, options);
    await this.provider.publish(queue, [message]);
    return { id: message.id };
  }

  async publishBatch<T>(queue: string, items: PublishBatchItem<T>[]): Promise<PublishResult[]> {
    this.#assertOpen();
    validateQueueName(queue);
    invariant(
      Array.isArray(items),
      'publishBatch: items must be an array of { data, ...options }',
      'NOA_MQ_INVALID_OPTION',
    );
    if (items.length === 0) return [];
    const messages = items.map(({ data, ...options }) => this.#message(queue, data, options));
    await this.provider.publish(queue, messages);
    return messages.map((m) => ({ id: m.id }));
  }

  process<T = unknown>(queue: string, handler: JobHandler<T>, options: ProcessOptions = {}): Worker {
    this.#assertOpen();
    validateQueueName(queue);
    invariant(
      typeof handler === 'function',
      'process: handler must be a function (job) => ...',
      'NOA_MQ_INVALID_OPTION',
    );
    const { concurrency = 1, lockMs = 30_000 } = options;
    invariant(
      Number.isInteger(concurrency) && concurrency >= 1 && concurrency <= 10_000,
      'process: concurrency must be an integer from 1 to 10000',
      'NOA_MQ_INVALID_OPTION',
    );
    invariant(
      Number.isFinite(lockMs) && lockMs >= 1_000,
      'process: lockMs must be a number >= 1000 (the lock is extended automatically while the handler runs)',
      'NOA_MQ_INVALID_OPTION',
    );
    const worker = new QueueWorker<T>(
      this.provider,
      queue,
      handler,
      { concurrency, lockMs },
      { backoff: this.#backoff, metrics: this.#metrics },
      this.#logger,
      (w) => this.#workerClosed(w as QueueWorker<unknown>),
    );
    this.#workers.add(worker as QueueWorker<unknown>);
    this.#installSignals();
    return worker;
  }

  #workerClosed(worker: QueueWorker<unknown>): void {
    this.#workers.delete(worker);
    if (this.#workers.size === 0) this.#removeSignals();
  }

  #installSignals(): void {
    if (this.#onSignal || this.#signals.length === 0) return;
    this.#onSignal = (signal) => {
      this.#logger.info({ signal }, 'message-queue: closing workers gracefully');
      const handler = this.#onSignal;
      this.close()
        .catch((error) => this.emit('error', error))
        .finally(() => {
          // Re-raise so the signal's default action (or the app's own handlers) still happen.
          if (handler) for (const s of this.#signals) process.removeListener(s, handler);
          if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
        });
    };
    for (const signal of this.#signals) process.once(signal, this.#onSignal);
  }

  #removeSignals(): void {
    if (!this.#onSignal || this.#closing) return;
    for (const signal of this.#signals) process.removeListener(signal, this.#onSignal);
    this.#onSignal = undefined;
  }

  async schedule<T>(name: string, options: ScheduleOptions<T>): Promise<Schedule> {
    this.#assertOpen();
    validateQueueName(name);
    invariant(
      options && typeof options.cron === 'string',
      'schedule: options.cron is required, e.g. "0 2 * * *"',
      'NOA_MQ_INVALID_OPTION',
    );
    invariant(
      !this.#schedules.has(name),
      `schedule "${name}" already exists in this manager`,
      'NOA_MQ_INVALID_OPTION',
    );
    const queue = options.queue ?? name;
    validateQueueName(queue);
    const capabilities = this.provider.capabilities(queue);
    if (!capabilities.schedules)
      throw unsupported(
        this.provider.name,
        'cron schedules',
        'run schedules through a Redis or memory manager, or use a FIFO queue',
      );
    const jobOptions = options.job ?? {};
    validatePublishOptions(jobOptions, this.provider.name, capabilities);
    const schedule = createCron(name, options.cron, options.timezone, async (tickMs) => {
      try {
        if (this.provider.claimTick && !(await this.provider.claimTick(name, tickMs))) return;
        // The tick's job id doubles as the dedupe key where the provider has no claimTick.
        const id = `${name}@${tickMs}`;
        const message = this.#message(
          queue,
          options.data ?? null,
          capabilities.dedupe ? { ...jobOptions, jobId: id } : jobOptions,
          id,
        );
        await this.provider.publish(queue, [message]);
      } catch (error) {
        this.#logger.error({ err: error, schedule: name }, 'message-queue: schedule tick failed');
        this.emit('error', error);
      }
    });
    this.#schedules.set(name, schedule);
    return {
      name,
      nextRun: () => schedule.nextRun(),
      stop: () => {
        schedule.stop();
        this.#schedules.delete(name);
        this.provider.releaseTick?.(name).catch((error) => this.emit('error', error));
      },
    };
  }

  deadLetters<T = unknown>(queue: string): DeadLetterQueue<T> {
    validateQueueName(queue);
    const provider = this.provider;
    const check = () => {
      this.#assertOpen();
      if (!provider.capabilities(queue).deadLetterAdmin)
        throw unsupported(
          provider.name,
          'dead-letter list/retry/purge',
          `consume the dead-letter topic with mq.process()`,
        );
    };
    return {
      async list(limit = 100) {
        check();
        invariant(
          Number.isInteger(limit) && limit >= 1,
          'deadLetters.list: limit must be an integer >= 1',
          'NOA_MQ_INVALID_OPTION',
        );
        const raw = await provider.listDead(queue, limit);
        return raw.map((entry) => toDeadLetter<T>(queue, entry.id, entry.body, entry.failedAt, entry.reason));
      },
      async retry(id: string) {
        check();
        invariant(
          typeof id === 'string' && id.length > 0,
          'deadLetters.retry: pass the id of a dead job',
          'NOA_MQ_INVALID_OPTION',
        );
        return provider.retryDead(queue, id, freshAttempts);
      },
      async purge() {
        check();
        return provider.purgeDead(queue);
      },
    };
  }

  stats(queue: string): Promise<QueueStats> {
    this.#assertOpen();
    validateQueueName(queue);
    return this.provider.stats(queue);
  }

  close(options: WorkerCloseOptions = {}): Promise<void> {
    this.#closing ??= (async () => {
      for (const schedule of this.#schedules.values()) schedule.stop();
      this.#schedules.clear();
      await Promise.all([...this.#workers].map((w) => w.close(options)));
      if (this.#onSignal) for (const s of this.#signals) process.removeListener(s, this.#onSignal);
      await this.provider.close();
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** A dead job retried by hand gets a fresh attempt budget; its history is kept. */
function freshAttempts(body: string): string {
  try {
    const record = decodeRecord(body);
    const { failedAt: _failedAt, ...rest } = record;
    return encodeRecord({ ...rest, attempt: 0 });
  } catch {
    return body; // malformed: goes back as it was, and will land here again
  }
}

function toDeadLetter<T>(
  queue: string,
  id: string,
  body: string,
  failedAt?: number,
  reason?: string,
): DeadLetter<T> {
  try {
    const record = decodeRecord(body);
    const last = record.history.at(-1);
    return {
      id: record.id,
      queue,
      data: record.data as T,
      error: reason ?? last?.error ?? 'unknown error',
      ...(last?.stack ? { stack: last.stack } : {}),
      attempts: record.attempt,
      history: record.history,
      publishedAt: record.publishedAt,
      ...((record.failedAt ?? failedAt) ? { failedAt: record.failedAt ?? failedAt } : {}),
    };
  } catch (error) {
    return {
      id,
      queue,
      data: body as T,
      error: reason ?? (error as Error).message,
      attempts: 0,
      history: [],
      ...(failedAt ? { failedAt } : {}),
    };
  }
}

/** One queue API over every provider: publish, process, schedule, dead letters, stats. */
export function createQueueManager(options: QueueManagerOptions): QueueManager {
  return new Manager(options);
}
