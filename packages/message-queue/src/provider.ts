import type { QueueStats } from './types.js';

/** What a provider can do natively for a queue; the manager refuses the rest with NOA_MQ_UNSUPPORTED. */
export interface ProviderCapabilities {
  /** jobId deduplication. */
  dedupe: boolean;
  /** delayMs on publish. */
  delay: boolean;
  /** priority on publish. */
  priority: boolean;
  /** deadLetters().list/retry/purge. */
  deadLetterAdmin: boolean;
  /** Cron ticks fired once across schedulers (via claimTick, or jobId dedupe). */
  schedules: boolean;
}

/** A message as the manager hands it to a provider: an encoded job record plus routing facts. */
export interface OutgoingMessage {
  id: string;
  /** The encoded job record (JSON). */
  body: string;
  delayMs: number;
  priority: number;
  /** Set when the caller passed a jobId: the provider deduplicates on `id`. */
  dedupe: boolean;
  groupId?: string;
}

/** One received message. Exactly one of ack/retry/dead/release is called, once. */
export interface Delivery {
  /** Broker id (or the job id) for malformed bodies that carry none. */
  readonly messageId: string;
  readonly body: string;
  /**
   * The attempt number when the broker counts attempts itself (SQS FIFO retries by visibility and
   * cannot rewrite the body); otherwise undefined and the record's count is used.
   */
  readonly attempt?: number;
  /** Done: remove the message. May settle synchronously (an AMQP ack is a frame queued on the channel). */
  ack(): Promise<void> | void;
  /** Failed but has attempts left: make `body` (the updated record) deliverable again after `delayMs`. */
  retry(body: string, delayMs: number): Promise<void>;
  /** Failed for good (or malformed): move `body` to the dead-letter queue. */
  dead(body: string, error: string): Promise<void>;
  /** Hand back without counting an attempt (graceful close timed out). */
  release(): Promise<void>;
  /** Store progress where the provider can; extends the lock. */
  progress?(value: unknown): Promise<void>;
}

export interface ConsumeOptions {
  concurrency: number;
  lockMs: number;
  /** Called for each delivery, never more than `concurrency` at once; resolves after ack/retry/dead. */
  onDelivery(delivery: Delivery): Promise<void>;
  /** Reports infrastructure errors (lost connection, failed poll) the consumer recovers from itself. */
  onError(error: unknown): void;
}

export interface ProviderConsumer {
  /** Stop taking messages, hand back prefetched ones, wait for the active ones to settle. */
  close(): Promise<void>;
}

export interface RawDeadLetter {
  id: string;
  body: string;
  failedAt?: number;
  /** Why the broker dead-lettered it, when the body cannot say (crash loop, rejection). */
  reason?: string;
}

/** The small interface each backend implements, one file per backend under src/providers/. */
export interface QueueProvider {
  readonly name: string;
  capabilities(queue: string): ProviderCapabilities;
  publish(queue: string, messages: OutgoingMessage[]): Promise<void>;
  consume(queue: string, options: ConsumeOptions): ProviderConsumer;
  stats(queue: string): Promise<QueueStats>;
  listDead(queue: string, limit: number): Promise<RawDeadLetter[]>;
  /** Moves a dead message back to the queue with its body rewritten by `rewrite`. */
  retryDead(queue: string, id: string, rewrite: (body: string) => string): Promise<boolean>;
  purgeDead(queue: string): Promise<number>;
  /**
   * Claims one cron tick across every scheduler sharing the backend; true for exactly one caller.
   * Providers without it rely on jobId dedupe of the tick's job.
   */
  claimTick?(name: string, tickMs: number): Promise<boolean>;
  /** Gives up what claimTick holds for a stopped schedule (a leader lock), so another scheduler takes over. */
  releaseTick?(name: string): Promise<void>;
  close(): Promise<void>;
}
