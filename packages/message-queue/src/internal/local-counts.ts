/** Returns the map's value for `key`, creating it first when missing. */
export function getOrCreate<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = create();
    map.set(key, value);
  }
  return value;
}

export interface LocalCounts {
  completed: number;
  failed: number;
}

/**
 * Per-queue completed/failed counts kept by this process, for brokers that cannot report them
 * (RabbitMQ, SQS, Kafka): `stats()` says so in the README's provider table.
 */
export function localCounts(): (queue: string) => LocalCounts {
  const counts = new Map<string, LocalCounts>();
  return (queue) => getOrCreate(counts, queue, () => ({ completed: 0, failed: 0 }));
}
