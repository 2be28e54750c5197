/**
 * dist/ior: its size (and what it is made of) and the start-up time of
 * `ior --version` (Node start, unpack check, loader --probe), cold and warm,
 * next to `bin/ior --version` from the source tree measured in the same run.
 *
 *   cold: a fresh unpack directory (everything is written out again) and,
 *         as root, the page cache dropped before each run
 *   warm: the same unpack directory, files cached, after two unmeasured runs
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../common/assets.js';

const COLD_RUNS = 5;
const WARM_RUNS = 15;
const DIST = path.join(REPO_ROOT, 'dist', 'ior');
const MANIFEST = path.join(REPO_ROOT, 'build', 'sea', 'manifest.json');
const isRoot = process.getuid?.() === 0;

const mib = (bytes: number) => (bytes < 1048576 ? `${(bytes / 1024).toFixed(0)} KiB` : `${(bytes / 1048576).toFixed(1)} MiB`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Wall time of one run in ms; fails the bench if the command fails. */
function timeRun(cmd: string, args: string[], env: NodeJS.ProcessEnv): number {
  const started = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, cwd: os.tmpdir(), encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return ms;
}

function dropPageCache(): void {
  spawnSync('sync');
  fs.writeFileSync('/proc/sys/vm/drop_caches', '3');
}

const build = spawnSync('bash', [path.join(REPO_ROOT, 'scripts', 'build-binary.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
if (build.status !== 0) throw new Error('scripts/build-binary.sh failed');

const size = fs.statSync(DIST).size;
const manifest = JSON.parse(fs.readFileSync(MANIFEST, 'utf8')) as { files: { name: string; size: number }[] };
const assets = manifest.files.reduce((s, f) => s + f.size, 0);
console.log(`size           ${mib(size)} (${size} bytes): embedded files ${mib(assets)} = ${manifest.files.map((f) => `${f.name} ${mib(f.size)}`).join(', ')}; the rest is Node (stripped) and the CLI bundle`);

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ior-bench-binary-'));
try {
  const cold: number[] = [];
  for (let i = 0; i < COLD_RUNS; i++) {
    if (isRoot) dropPageCache();
    cold.push(timeRun(DIST, ['--version'], { IOR_UNPACK_DIR: path.join(scratch, `cold-${i}`) }));
  }
  const warmEnv = { IOR_UNPACK_DIR: path.join(scratch, 'warm') };
  for (let i = 0; i < 2; i++) timeRun(DIST, ['--version'], warmEnv);
  const warm = Array.from({ length: WARM_RUNS }, () => timeRun(DIST, ['--version'], warmEnv));
  for (let i = 0; i < 2; i++) timeRun(process.execPath, [path.join(REPO_ROOT, 'bin', 'ior'), '--version'], {});
  const source = Array.from({ length: WARM_RUNS }, () => timeRun(process.execPath, [path.join(REPO_ROOT, 'bin', 'ior'), '--version'], {}));
  const probe = Array.from({ length: WARM_RUNS }, () => timeRun(path.join(REPO_ROOT, 'native', 'build', 'ior-loader'), ['--probe'], {}));

  const line = (name: string, xs: number[], note: string) =>
    console.log(`${name.padEnd(15)}${median(xs).toFixed(0).padStart(5)} ms median (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)}, ${xs.length} runs)  ${note}`);
  line('cold --version', cold, `fresh unpack dir${isRoot ? ', page cache dropped' : ' (not root: page cache kept)'}`);
  line('warm --version', warm, 'unpacked, cached');
  line('bin/ior', source, 'same command from the source tree (node + ESM files)');
  line('loader --probe', probe, 'of which: ior-loader --probe alone');
  console.log(`ratios         cold/warm ${(median(cold) / median(warm)).toFixed(2)}x, warm dist/ior vs bin/ior ${(median(warm) / median(source)).toFixed(2)}x`);
} finally {
  fs.rmSync(scratch, { recursive: true, force: true });
}
