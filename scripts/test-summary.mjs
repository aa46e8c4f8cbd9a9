// Sums the vitest JSON reports of every package into one closing line: "N passed, N failed, N skipped".
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
let passed = 0;
let failed = 0;
let skipped = 0;
let reports = 0;
let failedFiles = 0;
for (const group of ['packages', 'examples']) {
  for (const name of readdirSync(join(root, group))) {
    const file = join(root, group, name, '.vitest-results', 'results.json');
    if (!existsSync(file)) continue;
    const r = JSON.parse(readFileSync(file, 'utf8'));
    reports++;
    passed += r.numPassedTests;
    failed += r.numFailedTests;
    skipped += r.numPendingTests + r.numTodoTests;
    console.log(
      `  ${group}/${name}: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`,
    );
    // A file can fail outside any test (a hook, an import): its message is all there is to read.
    for (const file of r.testResults ?? []) {
      if (file.status === 'failed' && file.message) {
        failedFiles++;
        console.log(`    failed: ${file.name.slice(root.length)}: ${file.message.split('\n')[0]}`);
      }
    }
  }
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
if (reports === 0 || failed > 0 || failedFiles > 0 || passed === 0) process.exit(1);
