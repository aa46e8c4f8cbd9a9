/**
 * Regenerates the benchmark tables in every package README from the JSON the benchmarks wrote
 * (`packages/<name>/bench/results/*.json`). A table goes between the markers
 * `<!-- bench:ID -->` and `<!-- /bench:ID -->`; numbers are never typed by hand.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BenchResultsFile, type BenchTable, renderMarkdown } from '@noa/testkit';

const root = new URL('..', import.meta.url).pathname;
let updated = 0;
for (const group of ['packages', 'examples']) {
  for (const name of readdirSync(join(root, group))) {
    const dir = join(root, group, name);
    const readme = join(dir, 'README.md');
    const results = join(dir, 'bench', 'results');
    if (!existsSync(readme) || !existsSync(results)) continue;
    const tables = new Map<string, { table: BenchTable; file: BenchResultsFile }>();
    for (const entry of readdirSync(results).filter((f) => f.endsWith('.json'))) {
      const file = JSON.parse(readFileSync(join(results, entry), 'utf8')) as BenchResultsFile;
      for (const table of file.tables) tables.set(table.id, { table, file });
    }
    const before = readFileSync(readme, 'utf8');
    const after = before.replace(
      /<!-- bench:([\w-]+) -->[\s\S]*?<!-- \/bench:\1 -->/g,
      (block, id: string) => {
        const found = tables.get(id);
        if (!found) return block;
        const { table, file } = found;
        const origin = `_${table.title}. Node ${file.node}, ${file.cores} × ${file.cpu}, ${file.generatedAt.slice(0, 10)}._`;
        return `<!-- bench:${id} -->\n${origin}\n\n${renderMarkdown(table)}\n<!-- /bench:${id} -->`;
      },
    );
    if (after !== before) {
      writeFileSync(readme, after);
      updated++;
      console.log(`updated ${group}/${name}/README.md`);
    }
  }
}
console.log(`bench:readme: ${updated} README(s) updated`);
