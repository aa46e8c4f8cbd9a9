import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { isReachable } from './services.js';
import { waitUntil } from './wait.js';

/** A TCP port free on loopback right now, for a server the test starts itself. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * A redis-server of the test's own on a free loopback port (never the shared one), for fault
 * tests: it can be killed, paused with SIGSTOP (sockets stay open, nothing answers) and restarted
 * on the same port.
 */
export class RedisServerProcess {
  #process: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    readonly args: string[],
  ) {}

  static async start({
    port,
    args = [],
  }: {
    port?: number;
    args?: string[];
  } = {}): Promise<RedisServerProcess> {
    const server = new RedisServerProcess(port ?? (await freePort()), args);
    await server.restart();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the process (again) on the same port and waits until it accepts connections. */
  async restart(): Promise<void> {
    this.#process = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...this.args],
      { stdio: 'ignore' },
    );
    await waitUntil(() => isReachable(`127.0.0.1:${this.port}`, 200), {
      timeoutMs: 10_000,
      message: `redis-server on ${this.port}`,
    });
  }

  /** SIGKILL: connections are refused until restart(). */
  async kill(): Promise<void> {
    const child = this.#process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** SIGSTOP: the server keeps its sockets but answers nothing until resume(). */
  pause(): void {
    this.#process?.kill('SIGSTOP');
  }

  resume(): void {
    this.#process?.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    this.resume();
    await this.kill();
  }
}
