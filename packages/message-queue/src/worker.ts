import {
  type BackoffOptions,
  backoffDelay,
  type Counter,
  type Histogram,
  type Labels,
  type Logger,
  type Metrics,
  noopMetrics,
  TypedEventEmitter,
} from '@noa/core';
import {
  attemptRecord,
  decodeRecord,
  encodeRecord,
  type JobRecord,
  malformedRecord,
} from './internal/job-record.js';
import type { Delivery, ProviderConsumer, QueueProvider } from './provider.js';
import type { AttemptRecord, Job, JobHandler, WorkerCloseOptions } from './types.js';

export type WorkerEvents = {
  /** The handler resolved and the job was acknowledged. */
  completed: [job: Job, durationMs: number];
  /** The handler threw and the job will run again after `delayMs`. */
  retrying: [job: Job, error: unknown, delayMs: number];
  /** The job failed its last attempt, or its message was malformed, and went to the dead-letter queue. */
  dead: [jobId: string, error: unknown];
  progress: [job: Job, value: unknown];
  /** Infrastructure trouble (a lost connection, a failed ack); the job is redelivered, nothing is lost. */
  error: [error: unknown];
};

export interface Worker extends TypedEventEmitter<WorkerEvents> {
  readonly queue: string;
  readonly running: boolean;
  /** Jobs being handled right now. */
  readonly active: number;
  /** Stops taking jobs and waits for the active ones (see WorkerCloseOptions.timeoutMs). */
  close(options?: WorkerCloseOptions): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface WorkerDefaults {
  backoff: BackoffOptions;
  metrics: Metrics;
}

interface Active {
  delivery: Delivery;
  /** Set once ack/retry/dead/release has been chosen, so exactly one happens. */
  settled: boolean;
}

class JobImpl<T> implements Job<T> {
  readonly queue: string;
  readonly id: string;
  readonly data: T;
  readonly maxAttempts: number;
  readonly publishedAt: number;
  readonly history: readonly AttemptRecord[];

  readonly #worker: QueueWorker<T>;
  readonly #delivery: Delivery;

  constructor(
    worker: QueueWorker<T>,
    delivery: Delivery,
    record: JobRecord,
    readonly attempt: number,
  ) {
    this.#worker = worker;
    this.#delivery = delivery;
    this.queue = worker.queue;
    this.id = record.id;
    this.data = record.data as T;
    this.maxAttempts = record.maxAttempts;
    this.publishedAt = record.publishedAt;
    this.history = record.history;
  }

  async progress(value: number | Record<string, unknown>): Promise<void> {
    await this.#delivery.progress?.(value);
    this.#worker.emit('progress', this, value);
  }
}

/** Runs a handler over a provider's deliveries: decode, run, then ack, retry with backoff, or dead-letter. */
export class QueueWorker<T> extends TypedEventEmitter<WorkerEvents> implements Worker {
  readonly queue: string;
  readonly #handler: JobHandler<T>;
  readonly #defaults: WorkerDefaults;
  readonly #logger: Logger;
  readonly #active = new Set<Active>();
  readonly #consumer: ProviderConsumer;
  readonly #jobs: Counter;
  readonly #duration: Histogram | undefined;
  /** Metric labels, built once rather than per job. */
  readonly #labels: { completed: Labels; retried: Labels; dead: Labels; queue: Labels };
  #closing: Promise<void> | undefined;

  constructor(
    provider: QueueProvider,
    queue: string,
    handler: JobHandler<T>,
    options: { concurrency: number; lockMs: number },
    defaults: WorkerDefaults,
    logger: Logger,
    private readonly onClosed: (worker: QueueWorker<T>) => void,
  ) {
    super();
    this.queue = queue;
    this.#handler = handler;
    this.#defaults = defaults;
    this.#logger = logger;
    const { metrics } = defaults;
    this.#jobs = metrics.counter({
      name: 'mq_jobs_total',
      help: 'Jobs handled, by queue and outcome (completed, retried, dead)',
      labelNames: ['queue', 'outcome'],
    });
    this.#duration =
      metrics === noopMetrics
        ? undefined
        : metrics.histogram({
            name: 'mq_job_duration_seconds',
            help: 'Handler duration of completed jobs',
            labelNames: ['queue'],
          });
    this.#labels = {
      completed: { queue, outcome: 'completed' },
      retried: { queue, outcome: 'retried' },
      dead: { queue, outcome: 'dead' },
      queue: { queue },
    };
    this.#consumer = provider.consume(queue, {
      ...options,
      onDelivery: (delivery) => this.#deliver(delivery),
      onError: (error) => this.#error(error),
    });
  }

  get running(): boolean {
    return this.#closing === undefined;
  }

  get active(): number {
    return this.#active.size;
  }

  #error(error: unknown): void {
    this.#logger.warn({ err: error, queue: this.queue }, 'message-queue worker error; recovering');
    this.emit('error', error);
  }

  async #deliver(delivery: Delivery): Promise<void> {
    const active: Active = { delivery, settled: false };
    this.#active.add(active);
    try {
      await this.#handle(active);
    } finally {
      this.#active.delete(active);
    }
  }

  /** Claims the right to settle: exactly one outcome per delivery, none once close() released it. */
  #claim(active: Active): boolean {
    if (active.settled) return false;
    active.settled = true;
    return true;
  }

  /** Runs exactly one of the delivery's outcomes, unless close() already released it. */
  async #settle(active: Active, outcome: () => Promise<void> | void): Promise<boolean> {
    if (!this.#claim(active)) return false;
    try {
      await outcome();
      return true;
    } catch (error) {
      // The broker still holds the message (unacknowledged): it is redelivered, so nothing is lost.
      this.#error(error);
      return false;
    }
  }

  async #handle(active: Active): Promise<void> {
    const { delivery } = active;
    let record: JobRecord;
    try {
      record = decodeRecord(delivery.body);
    } catch (error) {
      const body = encodeRecord(malformedRecord(delivery.messageId, delivery.body, error));
      if (await this.#settle(active, () => delivery.dead(body, (error as Error).message))) {
        this.#jobs.inc(1, this.#labels.dead);
        this.emit('dead', delivery.messageId, error);
      }
      return;
    }
    const attempt = delivery.attempt ?? record.attempt + 1;
    const job = new JobImpl<T>(this, delivery, record, attempt);
    const timed = this.#duration !== undefined || this.hasListeners('completed');
    const started = timed ? performance.now() : 0;
    try {
      const result = this.#handler(job);
      // A synchronous handler costs no extra turn of the microtask queue.
      if (result && typeof (result as PromiseLike<unknown>).then === 'function') await result;
    } catch (error) {
      await this.#fail(active, job, record, attempt, error);
      return;
    }
    // The common outcome inline: no closure, and no extra turn when the ack is synchronous.
    if (!this.#claim(active)) return;
    try {
      const acked = delivery.ack();
      if (acked) await acked;
    } catch (error) {
      this.#error(error); // unacknowledged, so the broker redelivers it
      return;
    }
    this.#jobs.inc(1, this.#labels.completed);
    if (timed) {
      const ms = performance.now() - started;
      this.#duration?.observe(ms / 1000, this.#labels.queue);
      this.emit('completed', job, ms);
    }
  }

  async #fail(active: Active, job: Job, record: JobRecord, attempt: number, error: unknown): Promise<void> {
    const history = [...record.history, attemptRecord(attempt, error)];
    if (attempt < record.maxAttempts) {
      const delayMs = Math.round(backoffDelay(record.backoff ?? this.#defaults.backoff, attempt));
      const body = encodeRecord({ ...record, attempt, history });
      if (await this.#settle(active, () => active.delivery.retry(body, delayMs))) {
        this.#jobs.inc(1, this.#labels.retried);
        this.emit('retrying', job, error, delayMs);
      }
      return;
    }
    const body = encodeRecord({ ...record, attempt, history, failedAt: Date.now() });
    const message = error instanceof Error ? error.message : String(error);
    if (await this.#settle(active, () => active.delivery.dead(body, message))) {
      this.#jobs.inc(1, this.#labels.dead);
      this.emit('dead', job.id, error);
    }
  }

  close(options: WorkerCloseOptions = {}): Promise<void> {
    this.#closing ??= this.#close(options);
    return this.#closing;
  }

  async #close({ timeoutMs }: WorkerCloseOptions): Promise<void> {
    const closed = this.#consumer.close();
    if (timeoutMs !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        closed.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        // Hand the stuck jobs back so another worker runs them; their handlers' late results are
        // ignored, and we stop waiting for them.
        await Promise.all(
          [...this.#active].map((active) => this.#settle(active, () => active.delivery.release())),
        );
        closed.catch(() => {});
        this.onClosed(this);
        return;
      }
    }
    await closed;
    this.onClosed(this);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
