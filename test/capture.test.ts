/**
 * Capture on the real kernel: deterministic workloads, checked event by event.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { needBpf } from './helpers/bpf.js';
import { ior, iorSpawn, waitForOutput, exitOf, NATIVE_BUILD, IOR_BIN } from './helpers/cli.js';
import { readTrace, tempDir } from './helpers/fixture.js';
import { BUILDS, PRE_BYTES, buildEnv, expectedFixedRows, fixedCaptureProblems, pick } from './helpers/fixed-workload.js';
import { emptyLosses, type TraceEvent } from '../schema/index.js';
import { TraceReader } from '../trace/index.js';

/** Both kinds of kernel hooks must record the same rows (docs/capture.md). */
const HOOKS = ['raw', 'tracepoints'] as const;

for (const hooks of HOOKS)
for (const build of BUILDS)
test(`every syscall of a deterministic workload, event by event, with an fd opened before the capture (--hooks ${hooks}, ${build} build)`, async (t) => {
  if (!needBpf(t)) return;
  const dir = fs.realpathSync(tempDir('fixed'));
  fs.writeFileSync(path.join(dir, 'pre.txt'), Buffer.alloc(PRE_BYTES, 'p'));
  const work = spawn(path.join(NATIVE_BUILD, 'iowork-fixed'), [dir], { stdio: ['pipe', 'pipe', 'inherit'] });
  await waitForOutput(work.stdout!, /ready\n/);
  const trace = path.join(dir, 'fixed.parquet');
  const capture = spawn(process.execPath, [IOR_BIN, 'capture', '--hooks', hooks, '--pid', String(work.pid), '-o', trace], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...buildEnv(build) },
  });
  await waitForOutput(capture.stderr!, /ior: capturing/);
  work.stdin!.end('g');
  assert.deepEqual(await exitOf(work), { code: 0, signal: null });
  capture.kill('SIGINT');
  assert.equal((await exitOf(capture)).code, 0);

  const { rows, footer } = await readTrace(trace);
  assert.deepEqual(rows.filter((r) => r.pid === work.pid).map(pick), expectedFixedRows(dir));
  const check = fixedCaptureProblems(rows, footer, work.pid!, dir, { build, hooks });
  assert.deepEqual(check.problems, []);
  assert.equal(check.matched, check.expected);
  fs.rmSync(dir, { recursive: true });
});

test('-- CMD: the command runs with stdio untouched, its tree is traced, ior exits with its status', async (t) => {
  if (!needBpf(t)) return;
  const dir = fs.realpathSync(tempDir('cmd'));
  fs.writeFileSync(path.join(dir, 'in.txt'), 'hello from the traced command\n'.repeat(100));
  const trace = path.join(dir, 'cmd.parquet');
  const r = ior(['capture', '-o', trace, '--', 'sh', '-c', 'echo early >&2; cat in.txt; cat in.txt > out.txt; read line; echo "got $line"; echo "to stderr" >&2; v=$(echo sub); echo "$v"; echo piped | cat; exit 7'], { cwd: dir, input: 'typed input\n' });
  assert.equal(r.status, 7, r.stderr);
  assert.equal(r.stdout, 'hello from the traced command\n'.repeat(100) + 'got typed input\nsub\npiped\n');
  assert.match(r.stderr, /^to stderr$/m, 'the command writes to ior\'s stderr');
  assert.match(r.stderr, /^ior: capturing \d+ syscalls of sh -c[^\n]*\nearly\n/, "ior's capturing line comes before the command's first output");
  const { rows, footer } = await readTrace(trace);
  assert.equal(footer.stop_reason, 'command-exited');
  assert.deepEqual(footer.command_exit, { code: 7, signal: null });
  const pids = new Set(rows.map((x) => x.pid));
  assert.ok(pids.size >= 3, `sh and two cats traced (pids: ${[...pids].join(',')})`);
  assert.equal(footer.losses.unresolved_fds, 0, "every fd of the tree is named (fork copies, the command's own named by the loader), pipes are pathless, not unresolved");
  // $(...) and the pipeline: pipe2 is not traced, the children dup2 its ends onto 1 (and 0) and exit at once
  const pipeDups = rows.filter((x) => x.syscall === 'dup2' && x.file_type === 'pipe');
  assert.ok(pipeDups.length >= 2, `the subshell's and the pipeline's dup2 of a pipe are recorded (${pipeDups.length})`);
  for (const x of pipeDups) assert.ok(x.path === null && (x.fd2 === 0 || x.fd2 === 1) && x.ret === BigInt(x.fd2), `dup2 of a pipe end onto stdin or stdout, no path: ${x.path} ${x.fd2} ${x.ret}`);
  const pipeWrites = rows.filter((x) => x.syscall === 'write' && x.fd === 1 && x.file_type === 'pipe').map((x) => [x.path, x.bytes]);
  assert.deepEqual(pipeWrites, [[null, 4n], [null, 6n]], 'the subshell writes "sub\\n" and the pipeline\'s echo "piped\\n" into the pipes, pathless');
  const pipeReads = rows.filter((x) => x.comm === 'cat' && x.syscall === 'read' && x.fd === 0);
  assert.ok(pipeReads.length >= 1 && pipeReads.every((x) => x.file_type === 'pipe' && x.path === null), "cat reads the pipeline's pipe on fd 0, pathless");
  // ior forked sh before it attached: sh's first row is its exec
  assert.deepEqual([rows[0]!.syscall, rows[0]!.comm], ['process_exec', 'sh']);
  const first = rows.find((x) => !x.syscall.startsWith('process_'))!;
  assert.equal(first.comm, 'sh');
  assert.ok(['access', 'openat'].includes(first.syscall) && /ld\.so/.test(first.path ?? ''), `first event is the dynamic loader of sh: ${first.syscall} ${first.path}`);
  // cat reads with read(2) into a pipe and with copy_file_range(2) into a file (coreutils 9)
  const inTxt = path.join(dir, 'in.txt'), outTxt = path.join(dir, 'out.txt');
  // the cats are children of sh: their relative opens resolve against the cwd inherited at fork
  const cats = rows.filter((x) => x.comm === 'cat' && x.syscall === 'openat' && x.path?.startsWith(dir));
  assert.deepEqual(cats.map((x) => [x.path, x.ret >= 0n]), [[inTxt, true], [inTxt, true]]);
  const copies = rows.filter((x) => x.syscall === 'copy_file_range' || x.syscall === 'sendfile64');
  for (const x of copies) assert.deepEqual([x.path, x.path2], [inTxt, outTxt], `${x.syscall} names both files`);
  const moved = (pred: (x: TraceEvent) => boolean) => rows.filter(pred).reduce((s, x) => s + x.bytes, 0n);
  assert.equal(moved((x) => x.path === inTxt && (x.syscall === 'read' || x.syscall === 'copy_file_range')), 2n * 3000n);
  assert.equal(moved((x) => (x.path === outTxt && x.syscall === 'write') || (x.path2 === outTxt && x.syscall === 'copy_file_range')), 3000n);
  assert.equal(fs.readFileSync(path.join(dir, 'out.txt'), 'utf8').length, 3000);
  fs.rmSync(dir, { recursive: true });
});

for (const hooks of HOOKS)
test(`process lifecycle: fds and cwd inherited at fork, shared with CLONE_FILES | CLONE_FS, close-on-exec fds gone after exec (--hooks ${hooks})`, async (t) => {
  if (!needBpf(t)) return;
  const dir = fs.realpathSync(tempDir('lifecycle'));
  for (const name of ['a.txt', 'b.txt', 'c.txt']) fs.writeFileSync(path.join(dir, name), Buffer.alloc(200, name[0]));
  const trace = path.join(dir, 'lifecycle.parquet');
  const r = ior(['capture', '--hooks', hooks, '-o', trace, '--', path.join(NATIVE_BUILD, 'iowork-lifecycle'), dir]);
  assert.equal(r.status, 0, r.stderr);
  const { rows, footer } = await readTrace(trace);
  const f = (name: string) => path.join(dir, name);
  // rows about the workload's own files, the fstat of an fd that exec closed, and its processes' lifecycle
  const workload = rows.find((x) => x.path === dir)!.pid;
  const pids = new Set([workload, ...rows.filter((x) => x.syscall === 'process_fork' && x.pid === workload).map((x) => Number(x.ret))]);
  const mine = rows.filter((x) => x.path?.startsWith(dir) || (x.syscall === 'newfstatat' && x.fd === 5) || (x.syscall.startsWith('process_') && pids.has(x.pid)));
  const labels = new Map<number, string>();
  const who = (pid: number) => labels.get(pid) ?? labels.set(pid, ['parent', 'child', 'clone'][labels.size]!).get(pid)!;
  const O_RDONLY = 0, O_CLOEXEC = 0o2000000, F_SETFD = 2, F_DUPFD_CLOEXEC = 1030, EBADF = -9n, CLONE_FS = 0x200, CLONE_FILES = 0x400;
  assert.deepEqual(
    mine.map((x) => [who(x.pid), x.syscall, x.fd, x.path, x.syscall === 'process_fork' ? who(Number(x.ret)) : x.ret]),
    [
      // ior forked the command (before the capture attached to it) and it exec'd
      ['parent', 'process_exec', -1, null, 0n],
      ['parent', 'chdir', -1, dir, 0n],
      ['parent', 'openat', 3, f('a.txt'), 3n],
      ['parent', 'openat', 4, f('b.txt'), 4n],
      ['parent', 'openat', 5, f('c.txt'), 5n],
      ['parent', 'fcntl', 5, f('c.txt'), 0n],
      ['parent', 'fcntl', 3, f('a.txt'), 10n],
      ['parent', 'dup3', 3, f('a.txt'), 11n],
      ['parent', 'dup2', 4, f('b.txt'), 12n],
      ['parent', 'process_fork', -1, null, 'child'],
      // the forked child: the parent's fds and cwd
      ['child', 'pread64', 3, f('a.txt'), 10n],
      ['child', 'pread64', 4, f('b.txt'), 10n],
      ['child', 'openat', 6, f('d.txt'), 6n],
      ['child', 'write', 6, f('d.txt'), 10n],
      ['child', 'process_exec', -1, null, 0n],
      // after execve: 3, 6 and 12 stay; 4, 5, 10, 11 were close-on-exec
      ['child', 'pread64', 3, f('a.txt'), 10n],
      ['child', 'pwrite64', 6, f('d.txt'), 10n],
      ['child', 'pread64', 12, f('b.txt'), 10n],
      ['child', 'newfstatat', 5, null, EBADF],
      ['child', 'openat', 4, f('e.txt'), 4n],
      ['child', 'write', 4, f('e.txt'), 5n],
      ['child', 'process_exit', -1, null, 0n],
      ['parent', 'pread64', 10, f('a.txt'), 10n],
      ['parent', 'process_fork', -1, null, 'clone'],
      // the CLONE_FILES | CLONE_FS child: its open and chdir are the parent's too
      ['clone', 'mkdirat', -1, f('sub'), 0n],
      ['clone', 'chdir', -1, f('sub'), 0n],
      ['clone', 'openat', 6, f('sub/shared.txt'), 6n],
      ['clone', 'process_exit', -1, null, 0n],
      ['parent', 'write', 6, f('sub/shared.txt'), 7n],
      ['parent', 'close', 6, f('sub/shared.txt'), 0n],
      ['parent', 'openat', 6, f('sub/f.txt'), 6n],
      ['parent', 'close', 6, f('sub/f.txt'), 0n],
      ['parent', 'process_exit', -1, null, 0n],
    ],
  );
  const forks = mine.filter((x) => x.syscall === 'process_fork');
  assert.deepEqual(forks.map((x) => x.flags), [0, CLONE_FILES | CLONE_FS], 'the clone shares the fd table and cwd; fork copies them');
  const exec = mine.filter((x) => x.syscall === 'process_exec')[1]!;
  assert.deepEqual([exec.comm, exec.count, exec.latency_ns, exec.bytes], ['exe', BigInt(exec.pid), 0n, 0n], 'after exec: its new name (of /proc/self/exe), called by its only thread');
  const flagsOf = (syscall: string, fd: number) => mine.find((x) => x.syscall === syscall && x.fd === fd && who(x.pid) === 'parent')!.flags;
  assert.equal(flagsOf('openat', 4), O_RDONLY | O_CLOEXEC);
  assert.equal(flagsOf('fcntl', 5), F_SETFD);
  assert.equal(flagsOf('fcntl', 3), F_DUPFD_CLOEXEC);
  assert.equal(footer.losses.unresolved_fds, 1, 'only the fd that exec closed has no name');
  assert.equal(footer.events, rows.length);
  fs.rmSync(dir, { recursive: true });
});

for (const hooks of HOOKS)
test(`zero loss at full rate: every syscall iowork-loop issues on its file is in the trace, exactly (--hooks ${hooks})`, async (t) => {
  if (!needBpf(t)) return;
  const dir = fs.realpathSync(tempDir('zeroloss'));
  const file = path.join(dir, 'loop.dat');
  const trace = path.join(dir, 'loop.parquet');
  const iterations = 100_000; // 800k syscalls, at the loop's full rate
  const r = ior(['capture', '--json', '--hooks', hooks, '-o', trace, '--', path.join(NATIVE_BUILD, 'iowork-loop'), file, String(iterations)]);
  assert.equal(r.status, 0, r.stderr);
  const [loop, summary] = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(loop.errors, 0);
  const issued: Record<string, number> = {};
  for (const [syscall, n] of Object.entries({ ...loop.syscalls }) as [string, number][]) issued[syscall] = n + (loop.setup[syscall] ?? 0);
  const recorded: Record<string, number> = {};
  const reader = await TraceReader.open(trace);
  let rows = 0;
  for await (const b of reader.batches(['syscall', 'path', 'pid'])) {
    rows += b.length;
    for (let i = 0; i < b.length; i++) if (b.path[i] === file && b.pid[i] === loop.pid) recorded[b.syscall[i]!] = (recorded[b.syscall[i]!] ?? 0) + 1;
  }
  assert.deepEqual(recorded, issued);
  assert.equal(rows, reader.footer.events, 'every decoded event is a row');
  assert.equal(summary.events_lost, 0);
  assert.deepEqual(reader.footer.losses, emptyLosses());
  fs.rmSync(dir, { recursive: true });
});

// the two kinds of inflight slots: task storage (btf build) and a hash (core builds)
for (const build of ['btf', 'core'] as const)
test(`unpaired_enters counts calls in flight at the stop, not the threads a --pid capture saw (a live 5-thread process, ${build} build)`, async (t) => {
  if (!needBpf(t)) return;
  const dir = fs.realpathSync(tempDir('unpaired'));
  const file = path.join(dir, 'stat-me');
  fs.writeFileSync(file, 'x');
  // 4 worker threads stat a file every 5 ms and sleep in futex (not traced) in between: each thread
  // has a traced call behind it at the stop, and almost surely none inside one (~2 us of every 5 ms)
  const script = `const { Worker } = require('node:worker_threads');
    const src = "const fs = require('fs'); const s = new Int32Array(new SharedArrayBuffer(4)); for (;;) { fs.statSync('${file}'); Atomics.wait(s, 0, 0, 5); }";
    for (let i = 0; i < 4; i++) new Worker(src, { eval: true });
    setTimeout(() => process.stdout.write('ready\\n'), 300);`;
  const work = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await waitForOutput(work.stdout!, /ready\n/);
    const trace = path.join(dir, 'u.parquet');
    const r = ior(['capture', '--pid', String(work.pid), '-duration', '1', '-o', trace, '--json'], { env: { ...process.env, ...buildEnv(build) } });
    assert.equal(r.status, 0, r.stderr);
    const { rows, footer } = await readTrace(trace);
    const stats = rows.filter((e) => e.pid === work.pid && e.path === file);
    assert.ok(stats.length >= 4 * 50, `stat calls of the workers on ${file}: ${stats.length}`);
    assert.ok(new Set(stats.map((e) => e.tid)).size >= 4, 'every worker thread traced');
    // before the fix the loader counted every thread's consumed slot: 4 or more here
    assert.ok(Number(footer.losses.unpaired_enters) <= 1, `unpaired_enters ${footer.losses.unpaired_enters}`);
    // a stat that straddles the attach (exit hook live, enter not yet) leaves one unpaired exit per thread at most
    assert.ok(Number(footer.losses.unpaired_exits) <= 5, `unpaired_exits ${footer.losses.unpaired_exits}`);
  } finally {
    work.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('-duration ends the capture with a complete file; --json prints the summary', async (t) => {
  if (!needBpf(t)) return;
  const dir = tempDir('duration');
  const trace = path.join(dir, 'd.parquet');
  const started = Date.now();
  const r = ior(['capture', '-duration', '1', '--comm', 'ior-no-such', '-o', trace, '--json']);
  const elapsed = Date.now() - started;
  assert.equal(r.status, 0, r.stderr);
  assert.ok(elapsed >= 1000 && elapsed < 8000, `took ${elapsed} ms`);
  const summary = JSON.parse(r.stdout);
  assert.equal(summary.stop_reason, 'duration');
  assert.equal(summary.events, 0);
  assert.equal(summary.output, trace);
  const { footer } = await readTrace(trace);
  assert.equal(footer.stop_reason, 'duration');
  assert.equal(footer.capture.filters.comm, 'ior-no-such');
  assert.deepEqual(fs.readdirSync(dir), ['d.parquet'], 'no temp file left');
  fs.rmSync(dir, { recursive: true });
});

test('-- CMD and Ctrl-C twice: the capture stops with a complete file while the command still runs, exit 130', async (t) => {
  if (!needBpf(t)) return;
  const dir = tempDir('ctrlc');
  const trace = path.join(dir, 'c.parquet');
  const capture = iorSpawn(['capture', '-o', trace, '--', 'sleep', '3']);
  await waitForOutput(capture.stderr!, /ior: capturing/);
  capture.kill('SIGINT'); // the first goes to the command (a terminal sends it there too): ignored here
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(capture.exitCode, null, 'still capturing after one Ctrl-C');
  capture.kill('SIGINT');
  assert.deepEqual(await exitOf(capture), { code: 130, signal: null });
  const { rows, footer } = await readTrace(trace);
  assert.equal(footer.stop_reason, 'signal');
  assert.deepEqual(footer.command_exit, { code: null, signal: null });
  assert.ok(rows.some((x) => x.comm === 'sleep'), 'the command was traced');
  assert.deepEqual(fs.readdirSync(dir), ['c.parquet'], 'no temp file left');
  fs.rmSync(dir, { recursive: true });
});

test('bad capture input: one clear line, non-zero exit, nothing written', (t) => {
  if (!needBpf(t)) return;
  const dir = tempDir('bad');
  const cases: [string[], RegExp][] = [
    [['capture', '-o', path.join(dir, 'no', 'such', 'x.parquet'), '--', 'true'], /directory of -o .* does not exist/],
    [['capture', '-o', dir, '--', 'true'], /is a directory/],
    [['capture', '-duration', 'soon', '-o', path.join(dir, 'x.parquet')], /-duration "soon" is not a duration/],
    [['capture', '--syscalls', 'openat,frobnicate', '-o', path.join(dir, 'x.parquet'), '--', 'true'], /frobnicate is not traced by ior/],
  ];
  for (const [args, pattern] of cases) {
    const r = ior(args);
    assert.notEqual(r.status, 0, args.join(' '));
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trim().split('\n').filter((l) => l.startsWith('ior: ') && !l.startsWith('ior: capturing')).length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
  assert.deepEqual(fs.readdirSync(dir), []);
  const notRoot = spawnUnprivileged(['capture', '-o', '/tmp/ior-unprivileged.parquet', '--', 'true']);
  assert.equal(notRoot.status, 2, notRoot.stderr);
  assert.match(notRoot.stderr, /^ior: .*root/m);
  fs.rmSync(dir, { recursive: true });
});

/**
 * Run ior without privileges: the loader must refuse with one clear line.
 * uid 0 with every capability dropped, not another user: that one could
 * not read a checkout under a mode-700 directory such as /root.
 */
function spawnUnprivileged(args: string[]) {
  return spawnSync('setpriv', ['--inh-caps=-all', '--ambient-caps=-all', '--bounding-set=-all', process.execPath, IOR_BIN, ...args], { encoding: 'utf8', cwd: '/tmp' });
}

/** Run a shell script as root in a private mount namespace: the host's mounts are untouched. */
function inMountNamespace(script: string) {
  return spawnSync('unshare', ['--mount', 'sh', '-ec', script], { encoding: 'utf8', env: { ...process.env, NODE: process.execPath, IOR: IOR_BIN } });
}

for (const hooks of HOOKS)
test(`munmap of a file mapping is recorded with bpf_find_vma (Linux 5.17), and left out with a warning where the kernel lacks it (--hooks ${hooks})`, async (t) => {
  if (!needBpf(t)) return;
  const dir = fs.realpathSync(tempDir('vma'));
  fs.writeFileSync(path.join(dir, 'in.txt'), 'y'.repeat(1234));
  const run = (env: Record<string, string>, name: string) => {
    const r = spawnSync(process.execPath, [IOR_BIN, 'capture', '--hooks', hooks, '-o', path.join(dir, name), '--', 'cat', 'in.txt'], { cwd: dir, encoding: 'utf8', env: { ...process.env, ...env } });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'y'.repeat(1234));
    return r.stderr;
  };
  const readBytes = (rows: TraceEvent[]) => rows.filter((x) => x.syscall === 'read' && x.path === path.join(dir, 'in.txt')).reduce((n, x) => n + x.bytes, 0n);
  // this kernel has it: the dynamic loader unmaps /etc/ld.so.cache, a file mapping at offset 0
  assert.doesNotMatch(run({}, 'with.parquet'), /bpf_find_vma/);
  const withVma = await readTrace(path.join(dir, 'with.parquet'));
  const unmaps = withVma.rows.filter((x) => x.syscall === 'munmap');
  assert.ok(unmaps.length >= 1 && unmaps.every((x) => x.file_type === 'regular' && x.offset !== null && x.offset >= 0n), 'munmap rows are file mappings with their offset');
  assert.ok(withVma.footer.capture.attached.includes('munmap'));
  assert.equal(readBytes(withVma.rows), 1234n);
  // as on a kernel without the helper: the loader loads the programs built without it
  const stderr = run({ IOR_NO_FIND_VMA: '1' }, 'without.parquet');
  assert.match(stderr, /^ior: warning: 2 syscalls not traced on this kernel: munmap \(file attribution needs bpf_find_vma, Linux 5\.17\+\), msync \(file attribution needs bpf_find_vma, Linux 5\.17\+\)$/m);
  const without = await readTrace(path.join(dir, 'without.parquet'));
  assert.deepEqual(without.rows.filter((x) => x.syscall === 'munmap' || x.syscall === 'msync'), []);
  assert.deepEqual(without.footer.capture.skipped.map((x) => x.name), ['munmap', 'msync']);
  assert.ok(!without.footer.capture.attached.includes('munmap') && without.footer.capture.attached.includes('mmap'));
  assert.ok(without.rows.some((x) => x.syscall === 'mmap' && x.file_type === 'regular'), 'file mmaps are still recorded');
  assert.equal(readBytes(without.rows), 1234n);
  assert.equal(without.footer.losses.unresolved_fds, 0);
  fs.rmSync(dir, { recursive: true });
});

test('a kernel without BTF: one clear line, exit 2, no file', (t) => {
  if (!needBpf(t)) return;
  const dir = tempDir('nobtf');
  const r = inMountNamespace(`mount -t tmpfs none /sys/kernel/btf; "$NODE" "$IOR" capture -o ${dir}/x.parquet -- true`);
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr, 'ior: this kernel has no BTF (/sys/kernel/btf/vmlinux is missing); boot a kernel built with CONFIG_DEBUG_INFO_BTF=y (Debian 11+, Ubuntu 20.10+, RHEL 8.2+ ship one)\n');
  assert.deepEqual(fs.readdirSync(dir), []);
  fs.rmSync(dir, { recursive: true });
});

test('--hooks tracepoints: the loader mounts tracefs when it is not mounted, and skips a syscall without tracepoints, saying so', async (t) => {
  if (!needBpf(t)) return;
  const dir = fs.realpathSync(tempDir('tracefs'));
  fs.writeFileSync(path.join(dir, 'in.txt'), 'x'.repeat(1234));
  // unmounted: the loader mounts it (inside this namespace)
  const mounted = inMountNamespace(`umount /sys/kernel/tracing; ! mountpoint -q /sys/kernel/debug || umount /sys/kernel/debug
    "$NODE" "$IOR" capture --hooks tracepoints -o ${dir}/a.parquet -- cat ${dir}/in.txt`);
  assert.equal(mounted.status, 0, mounted.stderr);
  assert.equal(mounted.stdout, 'x'.repeat(1234));
  assert.match(mounted.stderr, /^ior: mounted tracefs on \/sys\/kernel\/tracing$/m);
  const a = await readTrace(path.join(dir, 'a.parquet'));
  assert.equal(a.rows.filter((x) => x.syscall === 'read' && x.path === path.join(dir, 'in.txt')).reduce((n, x) => n + x.bytes, 0n), 1234n);
  // a kernel whose tracefs has no sys_enter_sync / sys_exit_sync: a copy of the syscalls
  // directory (the tracepoint ids) without them, mounted over the real one
  const skipped = inMountNamespace(`T=/sys/kernel/tracing/events/syscalls; F=${dir}/fake
    mkdir $F; for d in $T/sys_*; do n=\${d##*/}; case $n in *_sync) continue;; esac; mkdir $F/$n; cat $d/id > $F/$n/id; done
    mount --bind $F $T
    "$NODE" "$IOR" capture --hooks tracepoints -o ${dir}/b.parquet --json -- cat ${dir}/in.txt`);
  assert.equal(skipped.status, 0, skipped.stderr);
  assert.equal(skipped.stderr, 'ior: warning: 1 syscall not traced on this kernel: sync (no tracepoint in this kernel)\n');
  assert.deepEqual(JSON.parse(skipped.stdout.slice(1234)).skipped_tracepoints, [{ name: 'sync', reason: 'no tracepoint in this kernel' }]);
  const b = await readTrace(path.join(dir, 'b.parquet'));
  assert.equal(b.footer.capture.attached.length, b.footer.capture.attached.includes('sync') ? -1 : 77);
  assert.equal(b.rows.filter((x) => x.syscall === 'read' && x.path === path.join(dir, 'in.txt')).reduce((n, x) => n + x.bytes, 0n), 1234n);
  fs.rmSync(dir, { recursive: true });
});
