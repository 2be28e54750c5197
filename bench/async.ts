/**
 * Async I/O: capture overhead and replay rate on fio's io_uring engine.
 *
 * 1. Capture overhead: fio io_uring 4 KiB random reads at iodepth 32 for a
 *    fixed time, untraced and under `ior capture`, alternated ROUNDS times;
 *    the ratio of IOPS (traced / untraced, medians). Buffered on a file in
 *    the page cache (the worst case: every request costs the kernel almost
 *    nothing but the tracing) and O_DIRECT.
 *    Targets (issue #8): >= 0.7 hot, >= 0.95 direct. Beside it, what the
 *    IOPS of a noisy host cannot show: the CPU time ior's BPF programs ran
 *    per I/O in the traced runs (kernel.bpf_stats_enabled, on for the
 *    bench; bpftool's run_time_ns), and its share of fio's time per I/O:
 *    the most the capture can take from the IOPS if every such ns were on
 *    fio's critical path.
 * 2. Replay: a captured fio io_uring O_DIRECT run replayed at --speed max:
 *    operations per second of the replay against fio's own IOPS in the same
 *    run, on the same file system. Target >= 0.8.
 *
 *   node build/bench/async.js [--seconds N] [--rounds N]
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../common/assets.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '4' }, rounds: { type: 'string', default: '3' } } });
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const IOR = path.join(REPO_ROOT, 'bin', 'ior');
const FILE_MB = 256;

const dir = fs.mkdtempSync('/var/tmp/ior-bench-async-');
const data = path.join(dir, 'data');
fs.writeFileSync(data, Buffer.alloc(FILE_MB << 20, 1));

function fioArgs(direct: number, out: string, extra: string[] = []): string[] {
  return ['fio', '--name=b', `--filename=${data}`, `--size=${FILE_MB}M`, '--bs=4k', '--rw=randread', '--ioengine=io_uring', '--iodepth=32',
    `--direct=${direct}`, '--time_based', `--runtime=${SECONDS}`, '--output-format=json', `--output=${out}`, ...extra];
}

function iops(jsonFile: string): number {
  return JSON.parse(fs.readFileSync(jsonFile, 'utf8')).jobs[0].read.iops as number;
}

function run(argv: string[]): void {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.slice(0, 3).join(' ')} ... exited ${r.status}: ${r.stderr}`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** ns ior's BPF programs have run so far (their run_time_ns, kept while kernel.bpf_stats_enabled is 1). */
function bpfRunNs(): number {
  const progs = JSON.parse(spawnSync('bpftool', ['prog', 'show', '-j'], { encoding: 'utf8' }).stdout || '[]') as { name?: string; run_time_ns?: number }[];
  return progs.filter((p) => p.name?.startsWith('ior_')).reduce((sum, p) => sum + (p.run_time_ns ?? 0), 0);
}

/** A traced fio run; meanwhile, the BPF programs' run time over its middle (ns of BPF per ns of wall time). */
async function tracedRun(direct: number, out: string, trace: string): Promise<number> {
  const child = spawn(process.execPath, [IOR, 'capture', '-o', trace, '--json', '--', ...fioArgs(direct, out)], { stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await sleep(1000);
  const a = bpfRunNs(), t0 = process.hrtime.bigint();
  await sleep((SECONDS - 2) * 1000);
  const b = bpfRunNs(), t1 = process.hrtime.bigint();
  const code = await exited;
  if (code !== 0) throw new Error(`ior capture -- fio exited ${code}`);
  return (b - a) / Number(t1 - t0);
}

async function overhead(direct: number): Promise<{ untraced: number; traced: number; ratio: number; bpfNsPerIo: number }> {
  const out = path.join(dir, 'fio.json');
  const trace = path.join(dir, 'trace.parquet');
  if (!direct) run(['dd', `if=${data}`, 'of=/dev/null', 'bs=1M', 'status=none']); // in the page cache
  const untraced: number[] = [], traced: number[] = [], bpfPerIo: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    run(fioArgs(direct, out));
    untraced.push(iops(out));
    fs.rmSync(trace, { force: true });
    const bpfShare = await tracedRun(direct, out, trace);
    traced.push(iops(out));
    bpfPerIo.push((bpfShare * 1e9) / iops(out));
  }
  const u = median(untraced), t = median(traced);
  return { untraced: u, traced: t, ratio: t / u, bpfNsPerIo: median(bpfPerIo) };
}

const k = (x: number) => `${Math.round(x / 1000)}k`;
const statsWere = fs.readFileSync('/proc/sys/kernel/bpf_stats_enabled', 'utf8').trim();
fs.writeFileSync('/proc/sys/kernel/bpf_stats_enabled', '1');
try {
  for (const [name, direct, target] of [['buffered, page cache hot', 0, 0.7], ['O_DIRECT', 1, 0.95]] as const) {
    const r = await overhead(direct);
    const perIoNs = 1e9 / r.traced;
    console.log(`capture overhead, fio io_uring 4k randread iodepth 32, ${name}: untraced ${k(r.untraced)} IOPS, traced ${k(r.traced)} IOPS, ratio ${r.ratio.toFixed(2)} (target >= ${target}) (medians of ${ROUNDS}); ior's BPF ran ${Math.round(r.bpfNsPerIo)} ns per I/O, ${((100 * r.bpfNsPerIo) / perIoNs).toFixed(1)}% of fio's ${(perIoNs / 1e3).toFixed(2)} us per I/O (at most ${(1 - r.bpfNsPerIo / perIoNs).toFixed(3)} of the IOPS if all of it were on fio's path)`);
  }
} finally {
  fs.writeFileSync('/proc/sys/kernel/bpf_stats_enabled', statsWere);
}

// replay: a traced O_DIRECT run, replayed at full speed
{
  const out = path.join(dir, 'fio.json');
  const trace = path.join(dir, 'replay-src.parquet');
  fs.rmSync(trace, { force: true });
  run([process.execPath, IOR, 'capture', '-o', trace, '--json', '--', ...fioArgs(1, out)]);
  const fioIops = iops(out);
  const target = path.join(dir, 'target');
  fs.mkdirSync(target);
  run([process.execPath, IOR, 'replay', trace, '--target', target, '--init-only', '--json']);
  const r = spawnSync(process.execPath, [IOR, 'replay', trace, '--target', target, '--no-init', '--speed', 'max', '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`replay exited ${r.status}: ${r.stderr}`);
  const report = JSON.parse(r.stdout) as { duration: { achieved_s: number }; async: { ops: number; replayed_mean_depth: number; traced_mean_depth: number } };
  const replayIops = report.async.ops / report.duration.achieved_s;
  console.log(`replay at --speed max of a fio io_uring O_DIRECT trace (${report.async.ops} ops): ${k(replayIops)} ops/s vs fio's ${k(fioIops)} IOPS, ratio ${(replayIops / fioIops).toFixed(2)} (target >= 0.8); mean depth ${report.async.replayed_mean_depth} replayed, ${report.async.traced_mean_depth} traced`);
}
fs.rmSync(dir, { recursive: true });
