/**
 * A small in-process stand-in for the parts of kafkajs the provider uses (no Kafka broker runs on
 * this machine): keyed partitions, consumer groups with committed offsets, eachMessage with
 * partitionsConsumedConcurrently, pause()/resume, and "throwing does not advance the offset".
 */
import type { Kafka } from 'kafkajs';

export interface FakeRecord {
  key: string | null;
  value: string;
  headers: Record<string, string>;
}

const PARTITIONS = 3;

function partitionOf(key: string | null, counter: number): number {
  if (key === null) return counter % PARTITIONS;
  let h = 0;
  for (const c of key) h = (h * 31 + c.charCodeAt(0)) | 0;
  return Math.abs(h) % PARTITIONS;
}

export class FakeKafka {
  readonly topics = new Map<string, FakeRecord[][]>();
  /** group -> "topic/partition" -> next offset to consume */
  readonly committed = new Map<string, Map<string, number>>();
  readonly sends: { topic: string; acks?: number; messages: FakeRecord[] }[] = [];
  /** Calls of eachMessage's heartbeat(), by consumer group. */
  readonly heartbeats = new Map<string, number>();
  #rr = 0;

  topic(name: string): FakeRecord[][] {
    let t = this.topics.get(name);
    if (!t) this.topics.set(name, (t = Array.from({ length: PARTITIONS }, () => [])));
    return t;
  }

  all(name: string): FakeRecord[] {
    return this.topic(name).flat();
  }

  asKafka(): Kafka {
    return {
      producer: () => ({
        connect: async () => {},
        disconnect: async () => {},
        send: async ({ topic, acks, messages }: { topic: string; acks?: number; messages: FakeRecord[] }) => {
          const records = messages.map((m) => ({
            key: m.key ?? null,
            value: String(m.value),
            headers: Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, String(v)])),
          }));
          this.sends.push({ topic, acks, messages: records });
          for (const r of records) this.topic(topic)[partitionOf(r.key, this.#rr++)]!.push(r);
          return [];
        },
      }),
      consumer: ({ groupId }: { groupId: string }) => this.#consumer(groupId),
      admin: () => ({
        connect: async () => {},
        disconnect: async () => {},
        fetchTopicOffsets: async (topic: string) =>
          this.topic(topic).map((p, partition) => ({
            partition,
            low: '0',
            high: String(p.length),
            offset: String(p.length),
          })),
        fetchOffsets: async ({ groupId, topics }: { groupId: string; topics: string[] }) =>
          topics.map((topic) => ({
            topic,
            partitions: this.topic(topic).map((_, partition) => ({
              partition,
              offset: String(this.committed.get(groupId)?.get(`${topic}/${partition}`) ?? -1),
            })),
          })),
      }),
    } as unknown as Kafka;
  }

  #consumer(groupId: string) {
    let topics: string[] = [];
    let running = false;
    let stop!: () => void;
    const stopped = new Promise<void>((r) => {
      stop = r;
    });
    const loops: Promise<void>[] = [];
    const offsets = this.committed.get(groupId) ?? new Map<string, number>();
    this.committed.set(groupId, offsets);
    return {
      connect: async () => {},
      subscribe: async ({ topics: list }: { topics: string[] }) => {
        topics = list;
      },
      run: async ({
        eachMessage,
        partitionsConsumedConcurrently = 1,
      }: {
        eachMessage: (payload: unknown) => Promise<void>;
        partitionsConsumedConcurrently?: number;
      }) => {
        running = true;
        let slots = partitionsConsumedConcurrently;
        const waiters: (() => void)[] = [];
        const acquire = async () => {
          while (slots === 0) await new Promise<void>((r) => waiters.push(r));
          slots--;
        };
        const releaseSlot = () => {
          slots++;
          waiters.shift()?.();
        };
        for (const topic of topics) {
          for (let partition = 0; partition < PARTITIONS; partition++) {
            loops.push(
              (async () => {
                const key = `${topic}/${partition}`;
                let pausedUntilResume: Promise<void> | undefined;
                while (running) {
                  if (pausedUntilResume) await Promise.race([pausedUntilResume, stopped]);
                  const offset = offsets.get(key) ?? 0;
                  const record = this.topic(topic)[partition]![offset];
                  if (!record || !running) {
                    await new Promise((r) => setTimeout(r, 5));
                    continue;
                  }
                  await acquire();
                  try {
                    await eachMessage({
                      topic,
                      partition,
                      message: {
                        key: record.key === null ? null : Buffer.from(record.key),
                        value: Buffer.from(record.value),
                        headers: Object.fromEntries(
                          Object.entries(record.headers).map(([k, v]) => [k, Buffer.from(v)]),
                        ),
                        offset: String(offset),
                      },
                      heartbeat: async () => {
                        this.heartbeats.set(groupId, (this.heartbeats.get(groupId) ?? 0) + 1);
                      },
                      pause: () => {
                        let resume!: () => void;
                        pausedUntilResume = new Promise<void>((r) => {
                          resume = () => {
                            pausedUntilResume = undefined;
                            r();
                          };
                        });
                        return resume;
                      },
                    });
                    offsets.set(key, offset + 1); // committed after eachMessage resolved
                  } catch {
                    if (!pausedUntilResume) await new Promise((r) => setTimeout(r, 5));
                  } finally {
                    releaseSlot();
                  }
                }
              })(),
            );
          }
        }
      },
      disconnect: async () => {
        running = false;
        stop();
        await Promise.all(loops);
      },
    };
  }
}
