import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface WorkerOptions {
  nodes: string;
  namespace: string;
  keyPrefix: string;
  lock?: 'local' | 'distributed';
  leaseMs?: number;
}

/** A cache-worker process and a typed way to call it. */
export class CacheWorker {
  #next = 0;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  readonly events: Array<{ event: string; key?: string }> = [];
  readonly exited: Promise<number | null>;

  private constructor(readonly child: ChildProcess) {
    child.on('message', (message: any) => {
      if (message.event) {
        this.events.push(message);
        return;
      }
      const call = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      if (message.ok) call?.resolve(message.value.undefined ? undefined : message.value.value);
      else call?.reject(new Error(message.error));
    });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    this.exited.then(() => {
      for (const call of this.#pending.values()) call.reject(new Error('worker exited'));
      this.#pending.clear();
    });
  }

  static async start(options: WorkerOptions): Promise<CacheWorker> {
    const child = fork(fileURLToPath(new URL('./cache-worker.ts', import.meta.url)), {
      execArgv: ['--import', 'tsx', '--conditions=@noa/source'],
      env: {
        ...process.env,
        REDIS_NODES: options.nodes,
        NAMESPACE: options.namespace,
        KEY_PREFIX: options.keyPrefix,
        LOCK: options.lock ?? 'local',
        LEASE_MS: String(options.leaseMs ?? 5_000),
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const worker = new CacheWorker(child);
    await new Promise<void>((resolve, reject) => {
      const check = (message: any) => {
        if (message?.event === 'started') {
          child.off('message', check);
          resolve();
        }
      };
      child.on('message', check);
      child.once('exit', (code) => reject(new Error(`worker exited with ${code} before starting`)));
    });
    return worker;
  }

  call<T = unknown>(op: string, ...args: unknown[]): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, op, args });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    await this.call('close').catch(() => {});
    this.child.kill('SIGTERM');
    await this.exited;
  }
}
