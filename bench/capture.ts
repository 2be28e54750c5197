/**
 * bench/capture.ts: what a capture costs the traced programs and the host,
 * and what it records. Every ratio is taken against a baseline measured in
 * the same run, rounds interleaved, medians reported (the machine may be
 * shared: absolute times drift, ratios much less).
 *
 *   1. iowork-loop (openat + 4 pread64 + pwrite64 + fstat + close on a
 *      page-cached file, ~1M syscalls/s): the loop's own elapsed time
 *      traced / untraced, with ior (--hooks raw and --hooks tracepoints),
 *      strace -f -o /dev/null and a bpftrace script printing one line per
 *      event; events recorded for the loop's file vs issued (exact);
 *      events/s sustained live; bytes per event on disk.
 *   2. A real-program workload (tar, git, sqlite3 on a ~1500-file tree):
 *      the same ratios; events recorded; bytes per event.
 *   3. getppid-loop, a syscall ior does not trace, run beside a whole-host
 *      capture that records nothing (--comm): the cost each kind of hook
 *      puts on the rest of the host.
 *   4. Attach and detach: loader start to HELLO, the stop to END (programs
 *      detached, file complete), and to the loader's exit (perf events
 *      released).
 *   5. Pipeline capacity: a recorded loader stream (iowork-loop) decoded
 *      and written to zstd Parquet in-process as fast as it goes.
 *
 *   node build/bench/capture.js [--quick]
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../common/assets.js';
import { EventDecoder, FrameReader, FrameType, LoaderProcess, PathResolver } from '../capture/index.js';
import { HelloFrameSchema, type EndFrame, type HelloFrame } from '../schema/index.js';
import { TraceReader, TraceWriter } from '../trace/index.js';

const QUICK = process.argv.includes('--quick');
const ROUNDS = QUICK ? 1 : 3;
/** The real programs spread more from run to run (forks, page cache) than the loop: more rounds for their median. */
const REAL_ROUNDS = QUICK ? 1 : 5;
const LOOP_ITERS = Number(process.env.IOR_BENCH_LOOP_ITERS ?? (QUICK ? 50_000 : 200_000)); // x8 syscalls
const SLOW_ITERS = QUICK ? 2_000 : 10_000; // for strace and bpftrace (20-130x slower)
const GETPPID_ITERS = QUICK ? 1_000_000 : 4_000_000;
const IOR_BIN = path.join(REPO_ROOT, 'bin', 'ior');
const BUILD = path.join(REPO_ROOT, 'native', 'build');
const LOOP = path.join(BUILD, 'iowork-loop');
const GETPPID = path.join(BUILD, 'getppid-loop');
const HOOKS = ['raw', 'tracepoints'] as const;
type Hooks = (typeof HOOKS)[number];
/** The row name of a capture with these hooks; raw is the default (docs/capture.md). */
const hooksName = (hooks: Hooks) => `ior --hooks ${hooks}${hooks === 'raw' ? ' (default)' : ''}`;

interface LoopResult {
  syscalls: Record<string, number>;
  setup: Record<string, number>;
  total: number;
  elapsed_ns: number;
  cpu_ns: number;
}
/** A timed run: wall-clock and the traced program's own CPU time (stable on a shared machine). */
interface Timed {
  elapsed_ns: number;
  cpu_ns: number;
}
interface Summary {
  events: number;
  bytes: number;
  bytes_per_event: number;
  duration_s: number;
  events_lost: number;
  losses: Record<string, number>;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : '-');

function run(cmd: string, args: string[], opts: { cwd?: string } = {}): { stdout: string; stderr: string; wallMs: number } {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: opts.cwd, maxBuffer: 256 << 20 });
  const wallMs = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr.slice(-2000)}`);
  return { stdout: r.stdout, stderr: r.stderr, wallMs };
}

function has(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}

/** A loader left releasing perf events (--hooks tracepoints) would hold the kernel's event mutex and skew the next run. */
async function loadersGone(): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const alive = fs.readdirSync('/proc').some((p) => /^\d+$/.test(p) && readComm(p) === 'ior-loader');
    if (!alive) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function readComm(pid: string): string {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Delete the previous trace and flush dirty pages: writeback must not land in the next timing. */
function settle(file?: string): void {
  if (file) fs.rmSync(file, { force: true });
  spawnSync('sync');
}

function lastJsonLines(stdout: string): unknown[] {
  return stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
}

async function countFileRows(trace: string, file: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const reader = await TraceReader.open(trace);
  for await (const b of reader.batches(['syscall', 'path'])) {
    for (let i = 0; i < b.length; i++) if (b.path[i] === file) counts[b.syscall[i]!] = (counts[b.syscall[i]!] ?? 0) + 1;
  }
  return counts;
}

// ---- 1. iowork-loop ---------------------------------------------------------

interface LoopRow {
  name: string;
  ratios: number[];
  cpuRatios: number[];
  recorded?: number;
  issued?: number;
  exact?: boolean;
  rate?: number;
  bytesPerEvent?: number;
  lost?: number;
  note?: string;
}

async function loopBench(dir: string): Promise<LoopRow[]> {
  const file = path.join(dir, 'loop.dat');
  const trace = path.join(dir, 'loop.parquet');
  const untraced = (iters: number) => lastJsonLines(run(LOOP, [file, String(iters)]).stdout)[0] as LoopResult;
  const rows = new Map<string, LoopRow>();
  const row = (name: string) => rows.get(name) ?? rows.set(name, { name, ratios: [], cpuRatios: [] }).get(name)!;
  const ratio = (r: LoopRow, traced: Timed, base: Timed) => {
    r.ratios.push(traced.elapsed_ns / base.elapsed_ns);
    r.cpuRatios.push(traced.cpu_ns / base.cpu_ns);
  };
  const bpftraceScript = path.join(dir, 'one-line-per-event.bt');
  fs.writeFileSync(
    bpftraceScript,
    `tracepoint:syscalls:sys_exit_openat, tracepoint:syscalls:sys_exit_pread64, tracepoint:syscalls:sys_exit_pwrite64,
tracepoint:syscalls:sys_exit_newfstatat, tracepoint:syscalls:sys_exit_close
/pid == cpid/ { printf("%d %d %s %s %d\\n", pid, tid, comm, probe, args->ret); }\n`,
  );
  for (let round = 0; round < ROUNDS; round++) {
    settle();
    const base = untraced(LOOP_ITERS);
    for (const hooks of HOOKS) {
      settle(trace);
      await loadersGone();
      const out = run(process.execPath, [IOR_BIN, 'capture', '--json', '--hooks', hooks, '-o', trace, '--', LOOP, file, String(LOOP_ITERS)]);
      const [loop, summary] = lastJsonLines(out.stdout) as [LoopResult, Summary];
      const r = row(hooksName(hooks));
      ratio(r, loop, base);
      const counts = await countFileRows(trace, file);
      const issued = Object.entries(loop.syscalls).reduce((n, [sc, k]) => n + k + (loop.setup[sc] ?? 0), 0);
      r.issued = issued;
      r.recorded = Object.values(counts).reduce((a, b) => a + b, 0);
      r.exact = (r.exact ?? true) && Object.entries(loop.syscalls).every(([sc, k]) => counts[sc] === k + (loop.setup[sc] ?? 0));
      r.rate = Math.min(r.rate ?? Infinity, loop.total / (loop.elapsed_ns / 1e9));
      r.bytesPerEvent = summary.bytes_per_event;
      r.lost = (r.lost ?? 0) + summary.events_lost;
    }
    const slowBase = untraced(SLOW_ITERS);
    if (has('strace')) {
      const out = run('strace', ['-f', '-o', '/dev/null', LOOP, file, String(SLOW_ITERS)]);
      ratio(row('strace -f -o /dev/null'), lastJsonLines(out.stdout)[0] as LoopResult, slowBase);
    } else row('strace -f -o /dev/null').note = 'strace not installed';
    if (has('bpftrace')) {
      await loadersGone();
      const out = run('bpftrace', ['-o', path.join(dir, 'bpftrace.out'), '-c', `${LOOP} ${file} ${SLOW_ITERS}`, bpftraceScript]);
      const loop = lastJsonLines(out.stdout)[0] as LoopResult;
      ratio(row('bpftrace, a line per event'), loop, slowBase);
    } else row('bpftrace, a line per event').note = 'bpftrace not installed';
  }
  settle(trace);
  return [...rows.values()];
}

// ---- 2. real programs ---------------------------------------------------------

const REAL_SCRIPT = `set -e
cd "$1"
start=$(date +%s%N)
rm -rf src copy repo db.sqlite src.tar
mkdir -p src
# a source-like tree: 1500 files in 30 directories
i=0; while [ $i -lt 30 ]; do mkdir -p src/d$i; j=0; while [ $j -lt 50 ]; do printf 'line %d of file %d/%d\\n' 1 2 3 4 5 6 7 8 > src/d$i/f$j.c; j=$((j+1)); done; i=$((i+1)); done
tar cf src.tar src
mkdir copy && tar xf src.tar -C copy
git init -q repo && cp -r src repo/ && cd repo && git add -A && git -c user.name=b -c user.email=b@b commit -qm init && git status --short >/dev/null && cd ..
sqlite3 db.sqlite 'create table t(k integer primary key, v text);' && i=0; while [ $i -lt 40 ]; do sqlite3 db.sqlite "begin; insert into t(v) select hex(randomblob(64)) from (with recursive c(x) as (select 1 union all select x+1 from c where x<200) select x from c); commit;"; i=$((i+1)); done
sqlite3 db.sqlite 'select count(*) from t;' >/dev/null
end=$(date +%s%N)
# the CPU time of the script's children (tar, git, sqlite3, ...), from times(1)
times > times.out # not in $(...): a subshell's times are its own
cpu=$(tail -n 1 times.out | awk '{ split($1, u, "m"); split($2, s, "m"); printf "%.0f", (u[1] * 60 + u[2] + s[1] * 60 + s[2]) * 1e9 }')
echo "{\\"elapsed_ns\\":$((end-start)),\\"cpu_ns\\":$cpu}"
`;

async function realBench(dir: string): Promise<LoopRow[]> {
  const script = path.join(dir, 'real.sh');
  const work = path.join(dir, 'real');
  const trace = path.join(dir, 'real.parquet');
  fs.writeFileSync(script, REAL_SCRIPT);
  fs.mkdirSync(work, { recursive: true });
  const timed = (cmd: string, args: string[]) => lastJsonLines(run(cmd, args).stdout)[0] as Timed;
  const rows = new Map<string, LoopRow>();
  const row = (name: string) => rows.get(name) ?? rows.set(name, { name, ratios: [], cpuRatios: [] }).get(name)!;
  const ratio = (r: LoopRow, traced: Timed, base: Timed) => {
    r.ratios.push(traced.elapsed_ns / base.elapsed_ns);
    r.cpuRatios.push(traced.cpu_ns / base.cpu_ns);
  };
  for (let round = 0; round < REAL_ROUNDS; round++) {
    settle();
    const base = timed('bash', [script, work]);
    for (const hooks of HOOKS) {
      settle(trace);
      await loadersGone();
      const out = run(process.execPath, [IOR_BIN, 'capture', '--json', '--hooks', hooks, '-o', trace, '--', 'bash', script, work]);
      const [res, summary] = lastJsonLines(out.stdout) as [Timed, Summary];
      const r = row(hooksName(hooks));
      ratio(r, res, base);
      r.recorded = summary.events;
      r.bytesPerEvent = summary.bytes_per_event;
      r.lost = (r.lost ?? 0) + summary.events_lost;
    }
    if (has('strace')) ratio(row('strace -f -o /dev/null'), timed('strace', ['-f', '-o', '/dev/null', 'bash', script, work]), base);
  }
  settle(trace);
  return [...rows.values()];
}

// ---- 3. the rest of the host ------------------------------------------------------

async function hostBench(dir: string): Promise<LoopRow[]> {
  const getppid = () => lastJsonLines(run(GETPPID, [String(GETPPID_ITERS)]).stdout)[0] as Timed;
  const rows: LoopRow[] = HOOKS.map((hooks) => ({ name: `whole-host ${hooksName(hooks)}`, ratios: [], cpuRatios: [] }));
  for (let round = 0; round < ROUNDS; round++) {
    const base = getppid();
    for (const [i, hooks] of HOOKS.entries()) {
      await loadersGone();
      const trace = path.join(dir, 'idle.parquet');
      const capture = spawn(process.execPath, [IOR_BIN, 'capture', '--hooks', hooks, '--comm', 'ior-nosuch', '-o', trace], { stdio: ['ignore', 'ignore', 'pipe'] });
      await new Promise<void>((resolve, reject) => {
        let seen = '';
        capture.stderr!.on('data', (d: Buffer) => {
          seen += d.toString();
          if (/ior: capturing/.test(seen)) resolve();
        });
        capture.on('exit', () => reject(new Error(`capture exited early: ${seen}`)));
      });
      const traced = getppid();
      rows[i]!.ratios.push(traced.elapsed_ns / base.elapsed_ns);
      rows[i]!.cpuRatios.push(traced.cpu_ns / base.cpu_ns);
      capture.kill('SIGINT');
      await new Promise((r) => capture.on('exit', r));
      settle(trace);
    }
  }
  return rows;
}

// ---- 4. attach / detach ------------------------------------------------------------

interface AttachTimes {
  hooks: Hooks;
  toHelloMs: number;
  attachMs: number;
  toEndMs: number;
  detachMs: number;
  toExitMs: number;
}

async function attachBench(): Promise<AttachTimes[]> {
  const out: AttachTimes[] = [];
  // LoaderProcess lets go of the loader after END (it may still release perf events): keep running until it exits
  const keepAlive = setInterval(() => {}, 60_000);
  for (const hooks of HOOKS) {
    await loadersGone();
    const t0 = performance.now();
    let hello: HelloFrame | undefined;
    let end: EndFrame | undefined;
    let helloAt = 0;
    const loader = new LoaderProcess(
      { ringMb: 64, pids: [], comm: 'ior-nosuch', command: [], hooks },
      {
        hello: (f) => {
          hello = f;
          helloAt = performance.now();
        },
        events: () => {},
        stats: () => {},
        log: () => {},
        end: (f) => (end = f),
      },
    );
    while (!hello) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 500));
    const stopAt = performance.now();
    loader.stop();
    await loader.done;
    const endAt = performance.now();
    await loader.exited;
    const exitAt = performance.now();
    out.push({
      hooks,
      toHelloMs: helloAt - t0,
      attachMs: hello.attach_ms,
      toEndMs: endAt - stopAt,
      detachMs: Number((end as unknown as { detach_ms: number } | undefined)?.detach_ms ?? NaN),
      toExitMs: exitAt - stopAt,
    });
  }
  clearInterval(keepAlive);
  return out;
}

// ---- 5. pipeline capacity --------------------------------------------------------------

/** Record the loader's raw stream while iowork-loop runs, then decode + write it as fast as possible. */
async function pipelineBench(dir: string): Promise<{ events: number; seconds: number }> {
  const stream = path.join(dir, 'loader.stream');
  const file = path.join(dir, 'pipe.dat');
  await loadersGone();
  const fd = fs.openSync(stream, 'w');
  const loaderBin = path.join(BUILD, 'ior-loader');
  const r = spawnSync(loaderBin, ['--ring-mb', '64', '--out-fd', '3', '--', LOOP, file, String(LOOP_ITERS)], { stdio: ['ignore', 'pipe', 'inherit', fd], encoding: 'utf8' });
  fs.closeSync(fd);
  if (r.status !== 0) throw new Error(`ior-loader exited ${r.status}`);
  const bytes = fs.readFileSync(stream);
  const frames = new FrameReader().push(bytes);
  const hello = HelloFrameSchema.parse(JSON.parse(frames.find((f) => f.type === FrameType.HELLO)!.payload.toString()));
  const out = path.join(dir, 'pipe.parquet');
  settle(out);
  const t0 = performance.now();
  const writer = TraceWriter.create(out);
  const decoder = new EventDecoder(hello, new PathResolver(), [], (b) => writer.append(b));
  for (const f of frames) if (f.type === FrameType.EVENTS) decoder.decode(f.payload);
  decoder.flush();
  const seconds = (performance.now() - t0) / 1000; // every row group compressed and written; the footer is the live captures' business
  writer.abort();
  fs.rmSync(stream, { force: true });
  return { events: Number(decoder.events), seconds };
}

// ---- report --------------------------------------------------------------------------

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('capture bench: skipped (needs root for BPF)');
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ior-bench-capture-'));
  try {
    console.log(`capture bench: ${ROUNDS} round(s) (${REAL_ROUNDS} for the real programs), medians; ${os.cpus().length} CPUs, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
    console.log('traced/untraced: wall-clock ratio (the targets); CPU ratio: the traced program\'s own CPU time, which waiting for a CPU on a busy machine does not inflate (it leaves out a tracer\'s own process: strace\'s cost is mostly there)');
    const loop = await loopBench(dir);
    console.log(`\n1. iowork-loop, ${LOOP_ITERS * 8} syscalls (${SLOW_ITERS * 8} for strace and bpftrace); target ior <= 1.7`);
    console.log(
      table(
        ['tracer', 'traced/untraced', 'CPU ratio', 'recorded/issued', 'exact', 'lost', 'events/s live', 'B/event'],
        loop.map((r) => [r.name, r.note ?? fmt(median(r.ratios)), r.note ? '-' : fmt(median(r.cpuRatios)), r.recorded === undefined ? '-' : `${r.recorded}/${r.issued}`, r.exact === undefined ? '-' : r.exact ? 'yes' : 'NO', r.lost === undefined ? '-' : String(r.lost), r.rate ? fmt(r.rate, 0) : '-', r.bytesPerEvent ? fmt(r.bytesPerEvent, 1) : '-']),
      ),
    );
    const real = await realBench(dir);
    console.log('\n2. real programs (tar, git, sqlite3 on a 1500-file tree); target ior < 1.05');
    console.log(table(['tracer', 'traced/untraced', 'CPU ratio', 'events', 'lost', 'B/event'], real.map((r) => [r.name, fmt(median(r.ratios)), fmt(median(r.cpuRatios)), r.recorded === undefined ? '-' : String(r.recorded), r.lost === undefined ? '-' : String(r.lost), r.bytesPerEvent ? fmt(r.bytesPerEvent, 1) : '-'])));
    const host = await hostBench(dir);
    console.log(`\n3. getppid-loop (${GETPPID_ITERS} untraced syscalls) beside a whole-host capture that records nothing`);
    console.log(table(['capture', 'time/without', 'CPU ratio'], host.map((r) => [r.name, fmt(median(r.ratios)), fmt(median(r.cpuRatios))])));
    const attach = await attachBench();
    console.log('\n4. attach and detach (ms)');
    console.log(table(['hooks', 'start->HELLO', 'attach', 'stop->END', 'detach', 'stop->loader exit'], attach.map((a) => [a.hooks, fmt(a.toHelloMs, 0), fmt(a.attachMs, 1), fmt(a.toEndMs, 0), fmt(a.detachMs, 1), fmt(a.toExitMs, 0)])));
    const pipe = await pipelineBench(dir);
    console.log(`\n5. decode + zstd Parquet write of a recorded stream: ${pipe.events} events in ${fmt(pipe.seconds)} s = ${fmt(pipe.events / pipe.seconds, 0)} events/s`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
