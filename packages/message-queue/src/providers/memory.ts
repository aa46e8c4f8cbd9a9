import { invariant } from '@noa/core';
import { Heap } from '../internal/heap.js';
import { InFlight } from '../internal/in-flight.js';
import { getOrCreate } from '../internal/local-counts.js';
import type {
  ConsumeOptions,
  Delivery,
  OutgoingMessage,
  ProviderCapabilities,
  ProviderConsumer,
  QueueProvider,
  RawDeadLetter,
} from '../provider.js';
import type { QueueStats } from '../types.js';

export interface MemoryProviderOptions {
  /** How long a completed jobId still deduplicates publishes. Default 3 600 000 (1 h). */
  dedupeWindowMs?: number;
}

interface Entry {
  id: string;
  body: string;
  priority: number;
  seq: number;
  dedupe: boolean;
}

interface Consumer {
  slots: InFlight;
  options: ConsumeOptions;
}

const capabilities: ProviderCapabilities = {
  dedupe: true,
  delay: true,
  priority: true,
  deadLetterAdmin: true,
  schedules: true,
};

class MemoryQueue {
  readonly waiting = new Heap<Entry>((a, b) =>
    a.priority !== b.priority ? a.priority > b.priority : a.seq < b.seq,
  );
  readonly delayed = new Heap<{ entry: Entry; dueAt: number }>((a, b) => a.dueAt < b.dueAt);
  readonly active = new Map<string, Entry>();
  readonly dead = new Map<string, { entry: Entry; failedAt: number }>();
  /** Ids of jobs that exist (waiting, delayed, active, dead), for dedupe. */
  readonly ids = new Set<string>();
  /** Completed deduplicating ids -> when they stop deduplicating. */
  readonly done = new Map<string, number>();
  readonly consumers: Consumer[] = [];
  completed = 0;
  failed = 0;
  #seq = 0;
  #timer: NodeJS.Timeout | undefined;
  #timerDueAt = Number.POSITIVE_INFINITY;
  #next = 0;

  constructor(readonly dedupeWindowMs: number) {}

  nextSeq(): number {
    return ++this.#seq;
  }

  enqueue(entry: Entry, delayMs: number): void {
    if (delayMs > 0) {
      const dueAt = Date.now() + delayMs;
      this.delayed.push({ entry, dueAt });
      this.#arm(dueAt);
    } else {
      this.waiting.push(entry);
      this.pump();
    }
  }

  /** Hands waiting jobs to consumers with free slots, round robin. */
  pump(): void {
    while (this.waiting.size > 0) {
      const consumers = this.consumers.filter((c) => c.slots.free > 0);
      if (consumers.length === 0) return;
      for (let i = 0; i < consumers.length && this.waiting.size > 0; i++) {
        const consumer = consumers[(this.#next + i) % consumers.length]!;
        const entry = this.waiting.pop()!;
        this.active.set(entry.id, entry);
        consumer.slots.run(() => consumer.options.onDelivery(this.#delivery(entry)));
      }
      this.#next++;
    }
  }

  #arm(dueAt: number): void {
    if (dueAt >= this.#timerDueAt) return;
    clearTimeout(this.#timer);
    this.#timerDueAt = dueAt;
    this.#timer = setTimeout(() => this.#promote(), Math.max(0, dueAt - Date.now()));
    this.#timer.unref();
  }

  #promote(): void {
    this.#timerDueAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    while (this.delayed.size > 0 && this.delayed.peek()!.dueAt <= now)
      this.waiting.push(this.delayed.pop()!.entry);
    if (this.delayed.size > 0) this.#arm(this.delayed.peek()!.dueAt);
    this.pump();
  }

  #delivery(entry: Entry): Delivery {
    const settle = () => {
      this.active.delete(entry.id);
    };
    return {
      messageId: entry.id,
      body: entry.body,
      ack: async () => {
        settle();
        this.ids.delete(entry.id);
        this.completed++;
        if (entry.dedupe) this.done.set(entry.id, Date.now() + this.dedupeWindowMs);
      },
      retry: async (body, delayMs) => {
        settle();
        this.failed++;
        this.enqueue({ ...entry, body, seq: this.nextSeq() }, delayMs);
      },
      dead: async (body) => {
        settle();
        this.failed++;
        this.dead.set(entry.id, { entry: { ...entry, body }, failedAt: Date.now() });
      },
      release: async () => {
        settle();
        // Back in its original place: it was never attempted as far as the queue is concerned.
        this.waiting.push(entry);
        this.pump();
      },
    };
  }

  close(): void {
    clearTimeout(this.#timer);
  }
}

/**
 * The embedded provider: a complete implementation in this process (priorities, delays, retries,
 * dead letters, dedupe, once-per-tick schedules across managers sharing the provider). Not durable:
 * jobs live as long as the process.
 */
export function memoryProvider(options: MemoryProviderOptions = {}): QueueProvider {
  const { dedupeWindowMs = 3_600_000 } = options;
  invariant(
    Number.isFinite(dedupeWindowMs) && dedupeWindowMs >= 0,
    'memoryProvider: dedupeWindowMs must be a number >= 0',
  );
  const queues = new Map<string, MemoryQueue>();
  const ticks = new Map<string, number>();
  const queue = (name: string) => getOrCreate(queues, name, () => new MemoryQueue(dedupeWindowMs));

  return {
    name: 'memory',
    capabilities: () => capabilities,

    async publish(name: string, messages: OutgoingMessage[]) {
      const q = queue(name);
      const now = Date.now();
      for (const m of messages) {
        if (m.dedupe && (q.ids.has(m.id) || (q.done.get(m.id) ?? 0) > now)) continue;
        q.ids.add(m.id);
        q.enqueue(
          { id: m.id, body: m.body, priority: m.priority, seq: q.nextSeq(), dedupe: m.dedupe },
          m.delayMs,
        );
      }
      // Forget expired dedupe entries now and then rather than with a timer.
      if (q.done.size > 1024) for (const [id, until] of q.done) if (until <= now) q.done.delete(id);
    },

    consume(name: string, options: ConsumeOptions): ProviderConsumer {
      const q = queue(name);
      const consumer: Consumer = { slots: new InFlight(options.concurrency, () => q.pump()), options };
      q.consumers.push(consumer);
      queueMicrotask(() => q.pump());
      return {
        async close() {
          const index = q.consumers.indexOf(consumer);
          if (index !== -1) q.consumers.splice(index, 1);
          await consumer.slots.idle();
        },
      };
    },

    async stats(name: string): Promise<QueueStats> {
      const q = queue(name);
      return {
        waiting: q.waiting.size,
        active: q.active.size,
        delayed: q.delayed.size,
        completed: q.completed,
        failed: q.failed,
        dead: q.dead.size,
      };
    },

    async listDead(name: string, limit: number): Promise<RawDeadLetter[]> {
      const out: RawDeadLetter[] = [];
      for (const { entry, failedAt } of queue(name).dead.values()) {
        if (out.length >= limit) break;
        out.push({ id: entry.id, body: entry.body, failedAt });
      }
      return out;
    },

    async retryDead(name: string, id: string, rewrite: (body: string) => string) {
      const q = queue(name);
      const found = q.dead.get(id);
      if (!found) return false;
      q.dead.delete(id);
      q.enqueue({ ...found.entry, body: rewrite(found.entry.body), seq: q.nextSeq() }, 0);
      return true;
    },

    async purgeDead(name: string) {
      const q = queue(name);
      const count = q.dead.size;
      for (const id of q.dead.keys()) q.ids.delete(id);
      q.dead.clear();
      return count;
    },

    async claimTick(name: string, tickMs: number) {
      if ((ticks.get(name) ?? Number.NEGATIVE_INFINITY) >= tickMs) return false;
      ticks.set(name, tickMs);
      return true;
    },

    async close() {
      for (const q of queues.values()) q.close();
    },
  };
}
