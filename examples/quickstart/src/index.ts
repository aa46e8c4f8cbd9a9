/**
 * The Noa quickstart: every file in ./sections is one package's tour, run in file-name order.
 * Each exports a title and a run() that prints what the package did, on embedded defaults only.
 */
import { readdirSync } from 'node:fs';

interface Section {
  title: string;
  run(): Promise<void>;
}

const dir = new URL('./sections/', import.meta.url);
const files = readdirSync(dir)
  .filter((f) => /\.ts$/.test(f) && !f.endsWith('.d.ts'))
  .sort();
let failures = 0;
for (const file of files) {
  const section = (await import(new URL(file, dir).href)) as Section;
  console.log(`\n━━ ${section.title} ${'━'.repeat(Math.max(0, 70 - section.title.length))}`);
  try {
    await section.run();
  } catch (error) {
    failures++;
    console.error(`  ✗ ${section.title} failed:`, error);
  }
}
console.log(`\nquickstart: ${files.length - failures} of ${files.length} sections ran`);
if (failures) process.exitCode = 1;
