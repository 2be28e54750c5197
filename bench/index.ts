/**
 * npm run bench: runs every benchmark script in turn (each is its own
 * process, so one's memory and page cache state do not skew the next) and
 * prints their figures. Pass section names to run only those:
 *   npm run bench -- capture stats
 * The figures are copied into docs/benchmarks.md by hand, with the date.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SECTIONS = ['capture', 'async', 'pipeline', 'stats', 'replay', 'binary'];
const here = path.dirname(fileURLToPath(import.meta.url));
const asked = process.argv.slice(2);
let failed = 0;
for (const name of asked.length ? asked : SECTIONS) {
  const script = path.join(here, `${name}.js`);
  if (!fs.existsSync(script)) {
    console.error(`bench: no benchmark named ${name} (${script})`);
    failed++;
    continue;
  }
  console.log(`\n=== ${name} ===`);
  const r = spawnSync(process.execPath, ['--expose-gc', script], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
