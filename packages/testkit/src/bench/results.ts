import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { BenchTable } from './table.js';

export interface BenchResultsFile {
  generatedAt: string;
  node: string;
  cpu: string;
  cores: number;
  tables: BenchTable[];
}

/**
 * Writes the tables to `<dir>/bench/results/<name>.json`; READMEs are generated from these files by
 * `pnpm bench:readme`, never typed by hand.
 */
export function writeBenchResults(packageDir: string, name: string, tables: BenchTable[]): string {
  const dir = join(packageDir, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  const body: BenchResultsFile = {
    generatedAt: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    tables,
  };
  writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`);
  return file;
}
