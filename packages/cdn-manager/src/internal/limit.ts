/**
 * Runs at most `concurrency` tasks at once. `urgent` tasks jump the queue: they are the next steps
 * of work already started, so a started file is finished before new files are opened (bounded
 * memory, and the heavy files queued first stay first).
 */
export interface Limit {
  run<T>(task: () => Promise<T> | T, urgent?: boolean): Promise<T>;
}

export function createLimit(concurrency: number): Limit {
  const queue: (() => void)[] = [];
  let active = 0;
  const next = () => {
    if (active >= concurrency) return;
    const start = queue.shift();
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
        if (urgent) queue.unshift(start);
        else queue.push(start);
        next();
      });
    },
  };
}
