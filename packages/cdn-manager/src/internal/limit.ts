/**
 * Runs at most `concurrency` tasks at once, in submission order, except that `urgent` tasks go
 * before every non-urgent one: they are the next steps of work already started, so a started file
 * is finished before new files are opened (bounded memory; the heavy files queued first stay first).
 */
export interface Limit {
  run<T>(task: () => Promise<T> | T, urgent?: boolean): Promise<T>;
}

export function createLimit(concurrency: number): Limit {
  const urgentQueue: (() => void)[] = [];
  const queue: (() => void)[] = [];
  let active = 0;
  const next = () => {
    if (active >= concurrency) return;
    const start = urgentQueue.shift() ?? queue.shift();
    if (!start) return;
    active++;
    start();
  };
  return {
    run<T>(task: () => Promise<T> | T, urgent = false): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const start = () => {
          // A task that throws synchronously still frees its slot.
          Promise.resolve()
            .then(task)
            .then(resolve, reject)
            .finally(() => {
              active--;
              next();
            });
        };
        (urgent ? urgentQueue : queue).push(start);
        next();
      });
    },
  };
}
