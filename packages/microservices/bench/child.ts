import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

/** Starts a fixture process and resolves with its first output line; it exits when we close its stdin. */
export interface Child {
  line: string;
  child: ChildProcess;
  /** CPU time (µs, user + system) the child has used so far. */
  cpuMicros(): Promise<number>;
  stop(): Promise<void>;
}

export async function startChild(file: string, args: string[], typescript = false): Promise<Child> {
  const child = spawn(
    process.execPath,
    [
      ...(typescript ? ['--conditions=@noa/source', '--import', 'tsx'] : []),
      fileURLToPath(new URL(file, import.meta.url)),
      ...args,
    ],
    { cwd: packageDir, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl !== -1) resolve(out.slice(0, nl));
    });
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code}`)));
  });
  let pending: ((micros: number) => void) | undefined;
  let buffer = '';
  child.stdout!.on('data', (d) => {
    buffer += d;
    const match = /cpu (\d+)\n/.exec(buffer);
    if (match && pending) {
      buffer = '';
      pending(Number(match[1]));
      pending = undefined;
    }
  });
  return {
    line,
    child,
    cpuMicros: () =>
      new Promise<number>((resolve) => {
        buffer = '';
        pending = resolve;
        child.stdin!.write('cpu\n');
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.stdin!.end();
        setTimeout(() => child.kill('SIGKILL'), 2_000).unref();
      }),
  };
}
