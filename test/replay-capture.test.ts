/**
 * Replay against the real kernel: capture a real workload, replay it,
 * capture the replay, and compare syscall counts and bytes per file; threads
 * racing for fd numbers, captured and replayed; and the pace of a paced
 * workload replayed at 1x and 2x.
 */
import { test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { needBpf } from './helpers/bpf.js';
import { captureReplay, ior, IOR_BIN, NATIVE_BUILD } from './helpers/cli.js';
import { diskDir, event, readTrace, tempDir, writeFixtureTrace } from './helpers/fixture.js';
import { INIT_KEY, StoredInitSchema, type TraceEvent } from '../schema/index.js';
import { planReplay, type ReplayReport } from '../replay/index.js';
import { TraceReader } from '../trace/index.js';

/** The kernel syscall the replay issues for each traced one (docs/replay.md, "issued as"), confined by openat2 walks. */
const ISSUED: Record<string, string> = {
  open: 'openat2', openat: 'openat2', openat2: 'openat2', creat: 'openat2', close: 'close',
  read: 'read', pread64: 'pread64', readv: 'readv', preadv: 'preadv', write: 'write', pwrite64: 'pwrite64', writev: 'writev', pwritev: 'pwritev',
  lseek: 'lseek', fsync: 'fsync', fdatasync: 'fdatasync', ftruncate: 'ftruncate', fallocate: 'fallocate', fadvise64: 'fadvise64',
  newstat: 'newfstatat', newlstat: 'newfstatat', newfstatat: 'newfstatat', newfstat: 'newfstat', statx: 'statx',
  access: 'faccessat2', faccessat: 'faccessat2', faccessat2: 'faccessat2', unlink: 'unlinkat', unlinkat: 'unlinkat', rmdir: 'unlinkat',
  rename: 'renameat2', renameat: 'renameat2', renameat2: 'renameat2', mkdir: 'mkdirat', mkdirat: 'mkdirat', getdents64: 'getdents64',
  readlink: 'readlinkat', readlinkat: 'readlinkat', fchmod: 'fchmod', fchmodat: 'fchmodat', chmod: 'fchmodat', utimensat: 'utimensat',
  dup: 'dup/fcntl', dup2: 'dup/fcntl', dup3: 'dup/fcntl', fcntl: 'dup/fcntl', copy_file_range: 'copy_file_range', sendfile64: 'sendfile64', fchdir: 'newfstat',
  symlink: 'symlinkat', symlinkat: 'symlinkat', link: 'linkat', linkat: 'linkat',
  // a forked child's copies of the parent's files; the files exec and exit drop
  process_fork: 'dup/fcntl', process_exec: 'close', process_exit: 'close',
};
/** ... and where each executor thread is chrooted into the target: as themselves */
const ISSUED_CHROOT: Record<string, string> = { ...ISSUED, open: 'openat', openat: 'openat', openat2: 'openat', creat: 'openat', chdir: 'chdir', fchdir: 'fchdir' };
/** dups are issued as dup3 onto the fd held for the traced number, or fcntl(F_DUPFD_CLOEXEC): counted with fcntl */
const DUPS = new Set(['dup', 'dup2', 'dup3', 'fcntl']);
const READS = new Set(['read', 'pread64', 'readv', 'preadv', 'preadv2']);
const WRITES = new Set(['write', 'pwrite64', 'writev', 'pwritev', 'pwritev2']);

/** Bytes read and written per file under `root`, paths relative to it (copy_file_range: in and out). */
function bytesPerFile(rows: TraceEvent[], root: string): Record<string, { read: number; written: number }> {
  const out: Record<string, { read: number; written: number }> = {};
  const add = (p: string | null, key: 'read' | 'written', n: bigint) => {
    if (p === null || !p.startsWith(root + '/') || n <= 0n) return;
    const f = (out[p.slice(root.length)] ??= { read: 0, written: 0 });
    f[key] += Number(n);
  };
  for (const r of rows) {
    if (READS.has(r.syscall)) add(r.path, 'read', r.bytes);
    else if (WRITES.has(r.syscall)) add(r.path, 'written', r.bytes);
    else if (r.syscall === 'copy_file_range' || r.syscall === 'sendfile64') {
      add(r.path, 'read', r.bytes);
      add(r.path2, 'written', r.bytes);
    }
  }
  return out;
}

/** p99 of the host's own lateness waking for deadlines, ms (test/workloads/sleep-jitter.c with these arguments). */
function hostTimerLateness(args: string[]): number {
  const r = spawnSync(path.join(NATIVE_BUILD, 'sleep-jitter'), args, { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return Number(/^p99 ([0-9.]+) /.exec(r.stdout)![1]) / 1e3;
}

for (const confine of ['chroot', 'openat2'] as const) {
  test(`end to end (--confine ${confine}): capture a workload, replay it, capture the replay: same calls and bytes per file${confine === 'chroot' ? ', no syscall of ior\'s own' : ''}`, async (t) => {
    if (!needBpf(t)) return;
    const dir = fs.realpathSync(tempDir('replay-e2e'));
    const work = path.join(dir, 'work');
    const target = path.join(dir, 'target');
    const script = path.join(dir, 'workload.sh');
    fs.writeFileSync(script, `set -eu
mkdir -p "$1/data/sub"
cd "$1"
i=0
while [ $i -lt 30 ]; do printf 'record %04d\\n' $i >> data/wal.log; i=$((i + 1)); done
dd if=/dev/zero of=data/blob bs=4096 count=64 conv=fsync status=none
for n in 1 2 3 4; do head -c $((n * 20000)) /dev/urandom > data/sub/f$n.tmp; mv data/sub/f$n.tmp data/sub/f$n.bin; done
cat data/sub/f1.bin data/sub/f2.bin data/blob > /dev/null
cp data/sub/f3.bin data/copy.bin
dd if=data/blob of=data/part bs=1000 skip=3 count=7 status=none
truncate -s 100 data/copy.bin
rm data/sub/f4.bin
ls -l data data/sub > data/listing
`);
    const t1 = path.join(dir, 'traced.parquet'); // not under --path-prefix work (a string prefix)
    const cap = ior(['capture', '-o', t1, '--', 'sh', script, work]);
    assert.equal(cap.status, 0, cap.stderr);

    // the replay's own calls, captured: only what it does under the target (chrooted threads name
    // the paths of chdir and truncate, which have no *at form, from their root: as traced)
    const t2 = path.join(dir, 'replay.parquet');
    const report = captureReplay(t1, target, t2, { replayArgs: ['--confine', confine], pathPrefixes: confine === 'chroot' ? [work] : [] }) as ReplayReport;
    assert.equal(report.events.failed, 0, JSON.stringify(report.failed));
    assert.equal(report.confinement.mode, confine === 'chroot' ? 'chroot' : 'openat2 (asked for)');
    assert.equal(report.confinement.threads_walking, 0);

    const replayRows = (await readTrace(t2)).rows;
    const replayPid = replayRows.find((x) => x.comm === 'node' || x.comm.startsWith('ior'))?.pid;
    // worker threads issue the replayed calls; the main thread only checks the target (scan, marker) before the clock
    const issued = replayRows.filter((x) => x.pid === replayPid && x.tid !== x.pid && !x.syscall.startsWith('process_'));
    const counts: Record<string, number> = {};
    for (const x of issued) {
      const name = DUPS.has(x.syscall) ? 'dup/fcntl' : x.syscall;
      counts[name] = (counts[name] ?? 0) + 1;
    }

    const expected: Record<string, number> = {};
    const add = (name: string, n: number) => {
      if (n > 0) expected[name] = (expected[name] ?? 0) + n;
    };
    const issuedAs = confine === 'chroot' ? ISSUED_CHROOT : ISSUED;
    for (const s of report.syscalls) {
      if (s.ops === 0) continue;
      if (s.syscall === 'chdir' && confine === 'openat2') {
        // emulated: an O_PATH open of the directory, closed again
        add('openat2', s.ops);
        add('close', s.ops);
        continue;
      }
      if (s.syscall === 'truncate' && confine === 'openat2') {
        // through the confined parent (/proc/self/fd/N/leaf): the parent's open is a counted helper
        add('truncate', s.ops);
        continue;
      }
      if (s.syscall === 'chdir' && confine === 'chroot') {
        // issued on the traced path itself, which only --path-prefix work keeps (the shell's cd "$1")
        assert.equal(counts.chdir, issued.filter((x) => x.syscall === 'chdir' && x.path === work).length);
        assert.ok(counts.chdir! >= 1 && counts.chdir! <= s.ops);
        add('chdir', counts.chdir!);
        continue;
      }
      assert.ok(issuedAs[s.syscall], `the test knows how ${s.syscall} is issued`);
      add(issuedAs[s.syscall]!, s.ops);
    }
    const h = report.added.helper_syscalls;
    add(confine === 'chroot' ? 'openat' : 'openat2', report.added.pre_capture_opens);
    add('openat2', h['parent directory opens (openat2 O_PATH)']! + h['whole-path O_PATH opens (openat2)']!);
    add('close', h['parent directory closes']! + h['whole-path O_PATH closes']! + h['closes of fds replaced by dup2/dup3']! + h['closes of fds that opens failing in the trace got']!);
    add('lseek', h['lseeks placing fds opened before the capture']!);
    assert.deepEqual(counts, expected, 'syscall counts of the replay, as captured, match the report (replayed per type + the helpers it names)');
    const helpers = Object.values(h).reduce((a, b) => a + b, 0);
    if (confine === 'chroot') assert.equal(helpers, 0, `no helper syscalls when chrooted: ${JSON.stringify(h)}`);
    else assert.ok(helpers > 0, 'the openat2 walk opens parent directories');

    // glibc's fstat is newfstatat(fd, "", AT_EMPTY_PATH): replayed on an fd too, not as a walk of the fd's path
    const fdStats = (rows: TraceEvent[]) => rows.filter((x) => (x.syscall === 'newfstatat' || x.syscall === 'statx') && ((x.flags ?? 0) & 0x1000) !== 0);
    const tracedRows = (await readTrace(t1)).rows;
    // (files and directories; not those of /proc, /sys and /dev, which are not replayed)
    const tracedFdStats = fdStats(tracedRows).filter((x) => x.fd >= 0 && (x.file_type === 'regular' || x.file_type === 'directory') && !/^\/(proc|sys|dev)\//.test(x.path ?? ''));
    const replayedFdStats = fdStats(issued);
    assert.ok(tracedFdStats.length >= 5, `fstat calls in the trace: ${tracedFdStats.length}`);
    assert.deepEqual(replayedFdStats.filter((x) => x.fd < 0).map((x) => x.path), [], 'every fd-form stat issued on an fd');
    assert.equal(replayedFdStats.length, tracedFdStats.length, 'as many fd-form stats as traced on files');

    // bytes per file: the trace's under work/, the replay's under target/work/
    const traced = bytesPerFile(tracedRows, work);
    const replayed = bytesPerFile(issued, path.join(target, work.slice(1)));
    assert.ok(Object.keys(traced).length >= 8, `files: ${Object.keys(traced).join(' ')}`);
    assert.deepEqual(replayed, traced, 'same bytes read and written per file');
    assert.equal(fs.statSync(path.join(target, work.slice(1), 'data/part')).size, 7000);
    assert.equal(fs.statSync(path.join(target, work.slice(1), 'data/copy.bin')).size, 100, 'truncate replayed on the mapped path');

    if (confine === 'chroot') {
      // the replay captured whole: chdir("/") into the new root by the thread probing whether chroot is
      // allowed (at the setup for the init and at the one for the run) and by the nursery, not a chroot
      // and chdir per executor thread (permission checks on the target's file system: a FUSE daemon's
      // ACCESS requests); and no CPU count by glibc (malloc's new arenas read /sys/devices/system/cpu/online
      // and /proc/stat unless an arena maximum is set: inside the chroot, paths of the target)
      const t3 = path.join(dir, 'replay-all.parquet');
      const target2 = path.join(dir, 'target2');
      const again = captureReplay(t1, target2, t3, { replayArgs: ['--confine', confine], allPaths: true }) as ReplayReport;
      assert.equal(again.events.failed, 0, JSON.stringify(again.failed));
      const rows = (await readTrace(t3)).rows;
      const pid = rows.find((x) => x.comm.startsWith('ior') || x.comm === 'node')?.pid;
      const threads = rows.filter((x) => x.pid === pid && x.tid !== x.pid && !x.syscall.startsWith('process_'));
      const roots = threads.filter((x) => x.syscall === 'chdir' && x.path === '/');
      assert.ok(roots.length >= 1 && roots.length <= 3, `chdir("/") by ${roots.length} threads (the confinement probes and the nursery; ${again.workers} executor threads)`);
      // (Node's own threads load modules; the executor's are named. The capture does not model chroot:
      // an absolute path a chrooted thread names is shown as named)
      const host = threads.filter((x) => (x.comm === 'ior-lane' || x.comm === 'ior-nursery') && /^\/(sys|proc)\//.test(x.path ?? ''));
      assert.deepEqual(host.map((x) => `${x.syscall} ${x.path}`), [], 'executor threads name no path of /sys or /proc (the replay skips the trace\'s)');
    }
    fs.rmSync(dir, { recursive: true });
  });
}

test('the capture stores the replay\'s initial state, worked out as the trace is written (several row groups): the same as a plan pass of the whole trace; a first replay into a new target starts from it', async (t) => {
  if (!needBpf(t)) return;
  const dir = fs.realpathSync(tempDir('stored-init'));
  const pre = path.join(dir, 'pre');
  fs.mkdirSync(path.join(pre, 'sub'), { recursive: true });
  // files there before the capture: a replay needs them, at the sizes the workload reads
  fs.writeFileSync(path.join(pre, 'a.bin'), Buffer.alloc(12345, 1));
  fs.writeFileSync(path.join(pre, 'b.bin'), Buffer.alloc(70000, 2));
  fs.writeFileSync(path.join(pre, 'sub/c.txt'), Buffer.alloc(999, 3));
  const script = path.join(dir, 'workload.sh');
  // a byte per read: over 4096 rows a second, so each second's checkpoint writes a row group the follower reads
  fs.writeFileSync(script, `set -eu
cd "$1"
dd if=pre/a.bin of=/dev/null bs=1 status=none
sleep 1.5
dd if=pre/b.bin of=/dev/null bs=1000 count=5 status=none
dd if=pre/a.bin of=/dev/null bs=1 count=9000 status=none
sleep 1.5
cat pre/sub/c.txt > out.txt
mv out.txt out2.txt
rm pre/a.bin
`);
  const file = path.join(dir, 'trace.parquet');
  const cap = ior(['capture', '-o', file, '--json', '--', 'sh', script, dir]);
  assert.equal(cap.status, 0, cap.stderr);
  const reader = await TraceReader.open(file);
  assert.ok(reader.rowGroupCount >= 2, `row groups: ${reader.rowGroupCount}`);
  const stored = StoredInitSchema.parse(JSON.parse(reader.keyValue(INIT_KEY) ?? 'null'));
  assert.equal(stored.events, reader.rowCount);
  const plan = await planReplay(file);
  assert.deepEqual(stored.init, JSON.parse(JSON.stringify(plan.init)), 'the state worked out during the capture is the plan pass\'s');
  // and what the workload shows (an oracle of its own): the files it read, at the extents it read; what it created, absent
  const rel = (p: string) => path.join(dir, p).slice(1);
  const sizes = Object.fromEntries(stored.init.files.filter((f) => f.rel.startsWith(rel('pre'))).map((f) => [f.rel, f.size]));
  assert.deepEqual(sizes, { [rel('pre/a.bin')]: 12345, [rel('pre/b.bin')]: 5000, [rel('pre/sub/c.txt')]: 999 });
  assert.ok(stored.init.absent.includes(rel('out.txt')) && stored.init.absent.includes(rel('out2.txt')), stored.init.absent.join(' '));
  const target = path.join(dir, 'target');
  const r = ior(['replay', file, '--target', target, '--speed', 'max', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as ReplayReport;
  assert.equal(report.init?.stateFrom, 'trace');
  assert.equal(report.events.failed, 0, JSON.stringify(report.failed));
  assert.equal(report.events.short_transfers, 0);
  assert.equal(fs.statSync(path.join(target, rel('pre/b.bin'))).size, 5000);
  assert.equal(fs.existsSync(path.join(target, rel('pre/a.bin'))), false, 'removed by the replayed rm');
  assert.equal(fs.statSync(path.join(target, rel('out2.txt'))).size, 999);

  // --root DIR: the workload's directory is the target's top; the stored state serves it (the workload made no symlinks)
  const rooted = path.join(dir, 'target-root');
  const init = ior(['replay', file, '--root', dir, '--target', rooted, '--init-only', '--json']);
  assert.equal(init.status, 0, init.stderr);
  assert.equal((JSON.parse(init.stdout) as { init: { stateFrom: string } }).init.stateFrom, 'trace');
  assert.deepEqual(fs.readdirSync(rooted).filter((f) => !f.startsWith('.')).sort(), ['pre', 'workload.sh'], 'only the root\'s files (sh reads the script there), at its depth: no usr/, lib/ or tmp/');
  assert.equal(fs.statSync(path.join(rooted, 'pre/a.bin')).size, 12345);
  const replayTrace = path.join(dir, 'replay-root.parquet');
  const cap2 = ior(['capture', '-o', replayTrace, '--path-prefix', rooted, '--', process.execPath, IOR_BIN, 'replay', file, '--root', dir, '--target', rooted, '--no-init', '--speed', 'max', '--json']);
  assert.equal(cap2.status, 0, cap2.stderr);
  const rootReport = JSON.parse(cap2.stdout) as ReplayReport;
  assert.equal(rootReport.root, dir);
  assert.equal(rootReport.events.failed, 0, JSON.stringify(rootReport.failed));
  assert.ok((rootReport.skipped['outside --root'] ?? 0) > 0, 'the loader\'s and the shell\'s own files are skipped');
  const issued = (await readTrace(replayTrace)).rows.filter((x) => x.tid !== x.pid && !x.syscall.startsWith('process_'));
  const tracedRows = (await readTrace(file)).rows;
  const opened = (rows: TraceEvent[], top: string) => rows.filter((x) => x.syscall === 'openat' && x.path?.startsWith(top + '/')).map((x) => x.path!.slice(top.length)).sort();
  assert.deepEqual(opened(issued, rooted), opened(tracedRows, dir), 'the same opens, on the same paths below the root as below the target');
  assert.deepEqual(bytesPerFile(issued, rooted), bytesPerFile(tracedRows, dir), 'the same bytes per file');
  assert.equal(fs.statSync(path.join(rooted, 'out2.txt')).size, 999);
  fs.rmSync(dir, { recursive: true });
});

test('the AT_EMPTY_PATH forms (fstat, statx, faccessat2, fchownat, fchmodat2 on an fd) and readlinkat(fd, "") replay on the replay\'s fd, as traced, not as walks of the fd\'s path (--root)', async (t) => {
  if (!needBpf(t)) return;
  const dir = fs.realpathSync(tempDir('fd-at'));
  const work = path.join(dir, 'work'), target = path.join(dir, 'target');
  fs.mkdirSync(work);
  const t1 = path.join(dir, 'traced.parquet'), t2 = path.join(dir, 'replay.parquet');
  const cap = ior(['capture', '-o', t1, '--', path.join(NATIVE_BUILD, 'fd-at-calls'), work]);
  assert.equal(cap.status, 0, cap.stderr);
  const init = ior(['replay', t1, '--root', work, '--target', target, '--init-only', '--json']);
  assert.equal(init.status, 0, init.stderr);
  const r = ior(['capture', '-o', t2, '--path-prefix', target, '--', process.execPath, IOR_BIN, 'replay', t1, '--root', work, '--target', target, '--no-init', '--speed', 'max', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as ReplayReport;
  assert.equal(report.events.failed, 0, JSON.stringify(report.failed));
  const onFd = (rows: TraceEvent[], file: string) => {
    const out: Record<string, number> = {};
    for (const x of rows) if (x.path === file && ((x.flags ?? 0) & 0x1000) !== 0) out[`${x.syscall}${x.fd >= 0 ? ' on an fd' : ' on a path'}`] = (out[`${x.syscall}${x.fd >= 0 ? ' on an fd' : ' on a path'}`] ?? 0) + 1;
    return out;
  };
  const traced = onFd((await readTrace(t1)).rows, path.join(work, 'file'));
  const calls = ['newfstatat', 'statx', 'faccessat2', 'fchownat', 'fchmodat2'];
  assert.deepEqual(traced, Object.fromEntries(calls.map((c) => [`${c} on an fd`, 3])), 'the workload\'s calls, as the capture saw them');
  const issued = (await readTrace(t2)).rows.filter((x) => x.tid !== x.pid);
  assert.deepEqual(onFd(issued, path.join(target, 'file')), traced, 'the same calls, on the replay\'s fd');
  assert.equal(fs.statSync(path.join(target, 'file')).mode & 0o777, 0o640, 'fchmodat2 changed the file through its fd');
  // readlinkat(lfd, "") on the link opened O_PATH | O_NOFOLLOW: the capture names the link and its fd,
  // the replay reads it through its own fd (as a walk it would be readlinkat(dirfd, "link"), path set, fd -1)
  const readlinks = (rows: TraceEvent[], link: string) =>
    rows.filter((x) => x.syscall === 'readlinkat' && x.path === link).map((x) => `${x.fd >= 0 ? 'on an fd' : 'on a path'} ${x.ret}`);
  assert.deepEqual(readlinks((await readTrace(t1)).rows, path.join(work, 'link')), Array(3).fill('on an fd 4'), 'the workload\'s readlinkat calls, as the capture saw them');
  assert.deepEqual(readlinks(issued, path.join(target, 'link')), Array(3).fill('on an fd 4'), 'the same calls on the replay\'s fd, the same result');
  fs.rmSync(dir, { recursive: true });
});

test('fork: parent and children write through the same open files; the replay shares them as the kernel does (same writes at the same offsets), exec and exit close what they drop', async (t) => {
  if (!needBpf(t)) return;
  const dir = fs.realpathSync(tempDir('fork-share'));
  const work = path.join(dir, 'work');
  fs.mkdirSync(work);
  const t1 = path.join(dir, 'traced.parquet');
  const cap = ior(['capture', '-o', t1, '--', path.join(NATIVE_BUILD, 'fork-share'), work]);
  assert.equal(cap.status, 0, cap.stderr);
  // the workload (test/workloads/fork-share.c): 100 + 5 x 37 (child) interleaved with 5 x 53 (parent) + 11 (child after exec) + 19
  const sizes = { log: 580, data: 580, cloexec: 16, 'shared.txt': 30 };
  for (const [f, size] of Object.entries(sizes)) assert.equal(fs.statSync(path.join(work, f)).size, size, `traced ${f}`);
  const traced = (await readTrace(t1)).rows;
  const parent = traced.find((x) => x.path === path.join(work, 'log'))!.pid;
  const forks = traced.filter((x) => x.syscall === 'process_fork' && x.pid === parent);
  const CLONE_FILES = 0x400;
  assert.deepEqual(forks.map((x) => x.flags), [0, CLONE_FILES]);
  const [child, cloneChild] = forks.map((x) => Number(x.ret));
  const exits = traced.filter((x) => x.syscall === 'process_exit' && [parent, child, cloneChild].includes(x.pid));
  assert.deepEqual(exits.map((x) => [x.pid, x.ret]), [[child, 3n << 8n], [cloneChild, 5n << 8n], [parent, 0n]], 'exit rows carry the wait status');
  assert.equal(traced.filter((x) => x.syscall === 'process_exec' && x.pid === child).length, 1);
  const stats = ior(['stats', t1, '--json']);
  assert.equal(stats.status, 0, stats.stderr);
  // the workload's own exec (ior forked it) and its child's; 2 of 3 exits with a status other than 0
  assert.deepEqual(JSON.parse(stats.stdout).totals.lifecycle, { forks: 2, execs: 2, exits: 3, exits_nonzero: 2 });

  /** (pid role, offset, bytes) of each write to `file` under `root`, in time order */
  const layout = (rows: TraceEvent[], root: string, file: string, role: (x: TraceEvent) => string) =>
    rows.filter((x) => x.syscall === 'write' && x.path === path.join(root, file) && x.ret > 0n).sort((a, b) => (a.ts_ns < b.ts_ns ? -1 : 1)).map((x) => [role(x), Number(x.offset), Number(x.bytes)]);
  const tracedRole = (x: TraceEvent) => (x.pid === parent ? 'parent' : 'child');
  const tracedData = layout(traced, work, 'data', tracedRole);
  // one file position for both: every write starts where the one before it ended, whoever wrote it
  let end = 0;
  for (const [, offset, bytes] of tracedData as [string, number, number][]) {
    assert.equal(offset, end);
    end += bytes;
  }
  assert.ok(tracedData.some(([who], i) => i > 0 && who !== tracedData[i - 1]![0] && who === 'child'), 'parent and child writes interleave');

  const target = path.join(dir, 'target');
  const t2 = path.join(dir, 'replay.parquet');
  const report = captureReplay(t1, target, t2, { pathPrefixes: [work] }) as ReplayReport;
  assert.equal(report.events.failed, 0, JSON.stringify(report.failed));
  const mapped = path.join(target, work.slice(1));
  for (const [f, size] of Object.entries(sizes)) assert.equal(fs.statSync(path.join(mapped, f)).size, size, `replayed ${f}`);
  const replayRows = (await readTrace(t2)).rows.filter((x) => x.path?.startsWith(mapped + '/'));
  // the replay's calls are all one process's: tell parent from child by the traced event each replays, in order
  const order = layout(traced, work, 'data', tracedRole).map(([who]) => who);
  const replayedData = layout(replayRows, mapped, 'data', () => '');
  assert.deepEqual(replayedData.map(([, o, b], i) => [order[i], o, b]), tracedData, 'the same writes at the same offsets of data');
  assert.deepEqual(layout(replayRows, mapped, 'log', () => '').map(([, o, b]) => [o, b]), layout(traced, work, 'log', () => '').map(([, o, b]) => [o, b]), 'and of the O_APPEND log');
  // calls: the traced opens, no more; closes: the traced ones + exec's (the child's cloexec) + exit's (the child's log and data)
  const count = (rows: TraceEvent[], sc: string) => rows.filter((x) => x.syscall === sc).length;
  const tracedMine = traced.filter((x) => x.path?.startsWith(work + '/'));
  assert.equal(count(replayRows, 'openat'), count(tracedMine, 'openat'));
  assert.equal(count(replayRows, 'close'), count(tracedMine, 'close') + 3);
  assert.equal(count(replayRows, 'fcntl'), 3, 'the forked child gets its own fd on each of the 3 files its parent held');
  const bySyscall = Object.fromEntries(report.syscalls.map((x) => [x.syscall, [x.replayed, x.ops]]));
  // events with files to share or close, and the calls issued for them
  assert.deepEqual([bySyscall.process_fork, bySyscall.process_exec, bySyscall.process_exit], [[1, 3], [1, 1], [1, 2]]);
  assert.equal(report.events.replayed + report.events.skipped, report.events.total);

  // without the lifecycle rows (a trace of schema version <= 3), each process has files of its own: the parent writes over the child
  const old = writeFixtureTrace(path.join(dir, 'no-lifecycle.parquet'), traced.filter((x) => !x.syscall.startsWith('process_')));
  const target2 = path.join(dir, 'target2');
  const r = ior(['replay', old, '--target', target2, '--speed', 'max', '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.notEqual(fs.statSync(path.join(target2, work.slice(1), 'data')).size, sizes.data);
  fs.rmSync(dir, { recursive: true });
});

test('threads racing for fd numbers: every write and close is named by its own thread\'s file, and the replay writes each file whole', async (t) => {
  if (!needBpf(t)) return;
  const dir = fs.realpathSync(tempDir('fd-race'));
  const work = path.join(dir, 'work');
  const iterations = 30000;
  const trace = path.join(dir, 'threads.parquet');
  // the race depends on the scheduler (a few dozen late closes per capture on 2 vCPUs): up to three captures to see it
  let lateCloses = 0;
  for (let attempt = 0; attempt < 3 && lateCloses === 0; attempt++) {
    fs.rmSync(work, { recursive: true, force: true });
    fs.mkdirSync(work);
    const cap = ior(['capture', '-o', trace, '--', path.join(NATIVE_BUILD, 'iowork-threads'), work, String(iterations)]);
    assert.equal(cap.status, 0, cap.stderr);
    const all = (await readTrace(trace)).rows;
    const rows = all.filter((r) => r.tid !== r.pid && r.path?.startsWith(work + '/'));
    // thread k opens only tk.dat and writes k + 10 bytes to it: the file a thread opened names its writes and closes
    const fileOf = new Map<number, string>();
    for (const r of rows) if (r.syscall === 'openat') fileOf.set(r.tid, r.path!);
    assert.equal(fileOf.size, 4);
    const misnamed = rows.filter((r) => r.path !== fileOf.get(r.tid));
    assert.deepEqual(misnamed.slice(0, 3), [], `${misnamed.length} events named by another thread's file`);
    const tally: Record<string, number> = {};
    for (const r of rows) tally[`${r.syscall} ${path.basename(r.path!)} ${r.bytes}`] = (tally[`${r.syscall} ${path.basename(r.path!)} ${r.bytes}`] ?? 0) + 1;
    const expected: Record<string, number> = {};
    for (let k = 0; k < 4; k++) Object.assign(expected, { [`openat t${k}.dat 0`]: iterations, [`write t${k}.dat ${k + 10}`]: iterations, [`close t${k}.dat 0`]: iterations });
    assert.deepEqual(tally, expected);
    // did the race happen: a close whose event came after another thread's open of its fd number had returned
    const lastOpen = new Map<number, { tid: number; returned: bigint }>();
    for (const r of all) {
      if (r.syscall === 'openat' && r.ret >= 0n) lastOpen.set(Number(r.ret), { tid: r.tid, returned: r.ts_ns + r.latency_ns });
      else if (r.syscall === 'close') {
        const o = lastOpen.get(r.fd);
        if (o && o.tid !== r.tid && r.ts_ns < o.returned) lateCloses++;
      }
    }
  }
  assert.ok(lateCloses > 0, 'in three captures no close reached the ring buffer after the open that reused its fd: the race was not exercised');

  const target = path.join(dir, 'target');
  const r = ior(['replay', trace, '--target', target, '--speed', 'max', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as ReplayReport;
  assert.equal(report.events.failed, 0, JSON.stringify(report.failed));
  assert.equal(report.added.pre_capture_opens, 0, 'no fd of the trace is taken for one opened before the capture');
  for (let k = 0; k < 4; k++) assert.equal(fs.statSync(path.join(target, work.slice(1), `t${k}.dat`)).size, iterations * (k + 10), `t${k}.dat`);
  t.diagnostic(`closes whose event came after the open that reused their fd: ${lateCloses}`);
  fs.rmSync(dir, { recursive: true });
});

test('pace: a paced workload replays at 1x in its duration and at 2x in half, lag p99 under 1 ms or at the host\'s own timer floor', async (t) => {
  if (!needBpf(t)) return;
  const dir = fs.realpathSync(tempDir('replay-pace'));
  const work = path.join(dir, 'work');
  fs.mkdirSync(work);
  const trace = path.join(dir, 'paced.parquet');
  // ~2.5 s in one process (bash builtins only, no fork): an append every 50 ms, a read of the file every 250 ms;
  // the pause is a `read -t` on a FIFO nobody writes (bench/replay.ts has a fork-heavy paced workload)
  const script = `cd ${work}; mkfifo pause; exec 3<>pause; for ((i = 0; i < 50; i++)); do echo "line $i" >> log; ((i % 5 == 0)) && read -r first < log; read -t 0.05 -u 3; done; exit 0`;
  const cap = ior(['capture', '-o', trace, '--', 'bash', '-c', script]);
  assert.equal(cap.status, 0, cap.stderr);
  const target = path.join(dir, 'target');
  const run = (speed: string) => {
    const r = ior(['replay', trace, '--target', target, '--speed', speed, '--json']);
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as ReplayReport;
  };
  const plan = JSON.parse(ior(['replay', trace, '--target', target, '--dry-run', '--json']).stdout);
  const span = plan.spanNs / 1e9;
  assert.ok(span > 2.2 && span < 6, `traced span ${span} s`);
  // A shared host can stall any thread for milliseconds whatever it does. So each 1x replay is paired
  // with a baseline run just before it: a bare C loop waiting for deadlines as the executor does
  // (test/workloads/sleep-jitter.c). A run passes when its lag p99 is under 1 ms, or within 0.5 ms of
  // the baseline's p99 (the executor adds no lateness of its own); best of five pairs.
  const jitter = () => hostTimerLateness(['50', '50000']);
  const pairs: { lag: number; floor: number }[] = [];
  const passes = (p: { lag: number; floor: number }) => p.lag < Math.max(1, p.floor + 0.5);
  for (let i = 0; i < 5 && !pairs.some(passes); i++) {
    const floor = jitter();
    const one = run('1x');
    assert.equal(one.events.failed, 0, JSON.stringify(one.failed));
    assert.ok(Math.abs(one.duration.intended_s - span) < 1e-6, 'intended at 1x is the traced span');
    assert.ok(Math.abs(one.duration.achieved_s / span - 1) < 0.02, `1x: ${one.duration.achieved_s} s for a ${span} s trace`);
    pairs.push({ lag: one.lag_ms!.p99, floor });
  }
  const shown = pairs.map((p) => `${p.lag.toFixed(2)} (host ${p.floor.toFixed(2)})`).join(', ');
  t.diagnostic(`lag p99 at 1x, ms: ${shown}`);
  assert.ok(pairs.some(passes), `lag p99 at 1x over 1 ms and over the host's own timer lateness + 0.5 ms: ${shown}`);
  const two = run('2x');
  assert.ok(Math.abs(two.duration.achieved_s / (span / 2) - 1) < 0.02, `2x: ${two.duration.achieved_s} s for ${span / 2} s`);
  fs.rmSync(dir, { recursive: true });
});

test('256 paced threads on a tmpfs: lag p99 under 2.5 ms at 1x and 5 ms at 2x, or within 1.25 / 2.5 ms of the program\'s own wake-up lateness (4-6 and 8-13 ms before the threads touched their stack, buffer and paths ahead and their timers coalesced)', (t) => {
  if (!needBpf(t)) return;
  const dir = diskDir('replay-256');
  // a tmpfs: the calls' latency is the CPU's, not a disk's, so the lag is the executor's
  const mnt = path.join(dir, 'tmpfs');
  fs.mkdirSync(mnt);
  const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256m', 'ior-test', mnt], { encoding: 'utf8' });
  assert.equal(mount.status, 0, `mount -t tmpfs: ${mount.stderr}`);
  try {
    const paced = path.join(NATIVE_BUILD, 'paced-threads');
    // the floor: the program itself, run natively, how late its threads wake for their periods
    fs.mkdirSync(path.join(mnt, 'native'));
    const nat = spawnSync(paced, [path.join(mnt, 'native'), '256', '20', '50', 'lateness'], { encoding: 'utf8' });
    const m = /lateness p99 ([\d.]+)/.exec(nat.stderr);
    assert.ok(nat.status === 0 && m, nat.stderr);
    const floor = Number(m![1]) / 1e3;
    const work = path.join(mnt, 'work');
    fs.mkdirSync(work);
    const trace = path.join(dir, 'p256.parquet');
    const cap = ior(['capture', '-o', trace, '--', paced, work, '256', '20', '50']);
    assert.equal(cap.status, 0, cap.stderr);
    const target = path.join(mnt, 'target');
    const shown: string[] = [];
    for (const [speed, bound] of [['1x', 2.5], ['2x', 5]] as const) {
      const lags: number[] = [];
      for (let i = 0; i < 3 && !lags.some((l) => l < Math.max(bound, floor + bound / 2)); i++) {
        const r = ior(['replay', trace, '--target', target, '--speed', speed, '--json']);
        assert.equal(r.status, 0, r.stderr);
        const report = JSON.parse(r.stdout) as ReplayReport;
        assert.equal(report.events.failed, 0, JSON.stringify(report.failed));
        assert.equal(report.syscalls.find((s) => s.syscall === 'fdatasync')!.replayed, 256 * 20);
        assert.ok(report.workers >= 256, `${report.workers} executor threads at once`);
        assert.ok(report.concurrency.on_schedule !== null && report.concurrency.replayed.max >= 1);
        lags.push(report.lag_ms!.p99);
      }
      shown.push(`${speed}: ${lags.join(', ')}`);
      assert.ok(lags.some((l) => l < Math.max(bound, floor + bound / 2)), `lag p99 at ${speed} (ms): ${lags.join(', ')}; the program's own lateness p99 ${floor} ms`);
    }
    t.diagnostic(`lag p99, ms: ${shown.join('; ')}; the program's own lateness p99 ${floor} ms`);
  } finally {
    spawnSync('umount', [mnt]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('on a file system whose fdatasync always takes 5 ms (test/workloads/delayfs, FUSE), 64 paced threads replay with the traced calls in flight: mean and max within 5%', async (t) => {
  if (!needBpf(t)) return;
  // The level of calls in flight is the call rate times the latency (Little's law): on a disk, whose
  // latency differs from run to run, a replay cannot match the trace's level whatever it does. On
  // delayfs the latency is the same in the trace and the replay: the difference left is the replay's.
  const dir = diskDir('replay-delayfs');
  const back = path.join(dir, 'back'), mnt = path.join(dir, 'mnt');
  fs.mkdirSync(back);
  fs.mkdirSync(mnt);
  // (max_threads: a thread per call in flight; libfuse's default of 10 would queue the fdatasyncs)
  const fsd = spawn(path.join(NATIVE_BUILD, 'delayfs'), [back, mnt, '5', '-f', '-o', 'max_threads=1024'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let fsErr = '';
  fsd.stderr.on('data', (d) => (fsErr += d));
  const mounted = () => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === mnt);
  try {
    for (let i = 0; i < 100 && !mounted(); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(mounted(), `delayfs did not mount: ${fsErr}`);
    const work = path.join(mnt, 'work');
    fs.mkdirSync(work);
    const trace = path.join(dir, 'delayfs.parquet');
    // 64 threads, each a 4 KiB pwrite + fdatasync every 25 ms for 2 s: ~13 fdatasyncs in flight
    // (2 s: the 64 opens at the start, all at once through the daemon, weigh less in the mean)
    const cap = ior(['capture', '-o', trace, '--', path.join(NATIVE_BUILD, 'paced-threads'), work, '64', '80', '25']);
    assert.equal(cap.status, 0, cap.stderr);
    const within = (a: number, b: number) => Math.abs(a - b) <= 0.05 * b;
    const seen: string[] = [];
    let ok = false;
    // (the max is one instant's, the start's: 64 opens at once through the FUSE daemon, whose own CPU
    // time varies; up to 5 replays for one within 5%. The mean was within 1-3% in every run seen.)
    for (let i = 0; i < 5 && !ok; i++) {
      // (--root: the files at the depth they had; under target/<the whole path> each create looked up
      // four more components through the daemon, which has no entry cache: opens p50 7.5-8.3 ms against
      // 3.9 ms traced, 4.0-5.5 ms with --root)
      const r = ior(['replay', trace, '--root', work, '--target', path.join(mnt, 'target'), '--json']);
      assert.equal(r.status, 0, r.stderr);
      const report = JSON.parse(r.stdout) as ReplayReport;
      assert.equal(report.events.failed, 0, JSON.stringify(report.failed));
      // the fdatasyncs took delayfs's 5 ms (not queued behind each other) in the trace and the replay
      const sync = report.syscalls.find((s) => s.syscall === 'fdatasync')!;
      assert.ok(sync.traced_p50_us! >= 5000 && sync.traced_p50_us! < 6000 && sync.replayed_p50_us! >= 5000 && sync.replayed_p50_us! < 6000, `fdatasync p50: traced ${sync.traced_p50_us} us, replayed ${sync.replayed_p50_us} us`);
      const c = report.concurrency;
      assert.ok(c.traced.mean > 5 && c.traced.max >= 20, `the trace overlapped its fdatasyncs: ${JSON.stringify(c.traced)}`);
      seen.push(`replayed ${JSON.stringify(c.replayed)}`);
      assert.ok(within(c.replayed.mean, c.traced.mean), `calls in flight, mean: traced ${c.traced.mean}, replayed ${c.replayed.mean}`);
      ok = within(c.replayed.max, c.traced.max);
      if (i === 0) seen.unshift(`traced ${JSON.stringify(c.traced)}`);
    }
    t.diagnostic(`calls in flight: ${seen.join('; ')}`);
    assert.ok(ok, `calls in flight, traced vs replayed (mean and max within 5%): ${seen.join('; ')}`);
  } finally {
    spawnSync('umount', [mnt]);
    fsd.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('64 paced threads (pwrite + fdatasync on ext4): an executor thread each, every thread at once (lag p99 of the calls free to start under 5 ms: 715 ms with 16 workers), calls in flight in the report', async (t) => {
  if (!needBpf(t)) return;
  const dir = diskDir('replay-threads');
  const work = path.join(dir, 'work');
  fs.mkdirSync(work);
  const trace = path.join(dir, 'threads.parquet');
  // 64 threads, each a 4 KiB pwrite + fdatasync every 25 ms for 1 s, their phases spread over the period
  const cap = ior(['capture', '-o', trace, '--', path.join(NATIVE_BUILD, 'paced-threads'), work, '64', '40', '25']);
  assert.equal(cap.status, 0, cap.stderr);
  const target = path.join(dir, 'target');
  const ops = path.join(dir, 'ops.parquet');
  const run = (speed: string) => {
    const r = ior(['replay', trace, '--target', target, '--speed', speed, '--json', '--ops-out', ops]);
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as ReplayReport;
  };
  // A call due while its thread's previous call is still running in the replay (an fdatasync slower
  // than traced: the disk's doing, not the executor's) starts late whatever the executor does: the
  // executor's lag is that of the calls free to start when due (the report's lag_ms.free, checked
  // against the ops file with DuckDB)
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  const executorLag = async () => {
    const [row] = await (await con.run(`WITH o AS (SELECT due_ns, ts_ns, lag(ts_ns + latency_ns) OVER (PARTITION BY tid ORDER BY due_ns, replay_of) AS prev_end FROM read_parquet('${ops}'))
      SELECT quantile_cont(ts_ns - due_ns, 0.99) FILTER (WHERE prev_end IS NULL OR prev_end <= due_ns) AS p99,
             count(*) FILTER (WHERE prev_end > due_ns) AS held FROM o`)).getRowObjects();
    return { p99: Number(row!.p99) / 1e6, held: Number(row!.held) };
  };
  // the same waits in C: 64 threads, 40 deadlines 25 ms apart, spread over the period
  const jitter = () => hostTimerLateness(['40', '25000', '64']);
  const pairs: { lag: number; floor: number; all: number; held: number }[] = [];
  let report: ReplayReport | null = null;
  // Alone on this 2-CPU VM the p99 is 0.5-0.9 ms (the same waits in C: 0.13); after the rest of the
  // suite, 1-3.6 ms (a Node worker per lane costs CPU: docs/replay.md). The bound catches a pool that
  // serialises the lanes, which costs hundreds of ms.
  const bounded = (p: { lag: number; floor: number }) => p.lag < Math.max(5, p.floor + 1);
  for (let i = 0; i < 3 && !pairs.some(bounded); i++) {
    // what earlier tests (or runs) left dirty is written back first: the disk's backlog is not the executor's lag
    spawnSync('sync');
    const floor = jitter();
    report = run('1x');
    const { p99, held } = await executorLag();
    assert.equal(report.lag_ms!.held, held, 'held calls: the report and the ops file agree');
    // (the report keeps a log histogram: its quantiles are within one bucket, ~9%)
    assert.ok(Math.abs(report.lag_ms!.free!.p99 - p99) <= 0.2 * p99 + 0.01, `free p99: report ${report.lag_ms!.free!.p99} ms, ops file ${p99} ms`);
    pairs.push({ lag: report.lag_ms!.free!.p99, floor, all: report.lag_ms!.p99, held });
  }
  // calls in flight, time-weighted mean = time in calls / span, from the ops file: as replayed (the
  // executor's count) and had each call started when due (the report's on_schedule)
  const [lv] = await (await con.run(`SELECT sum(latency_ns) / (max(ts_ns + latency_ns) - min(ts_ns)) AS replayed,
      sum(latency_ns) / (max(due_ns + latency_ns) - min(due_ns)) AS on_schedule FROM read_parquet('${ops}')`)).getRowObjects();
  con.closeSync();
  const r = report!;
  const near = (a: number, b: number) => Math.abs(a - b) <= 0.03 * b + 0.01;
  assert.ok(near(r.concurrency.replayed.mean, Number(lv!.replayed)), `replayed in flight: report ${r.concurrency.replayed.mean}, ops file ${lv!.replayed}`);
  assert.ok(r.concurrency.on_schedule && near(r.concurrency.on_schedule.mean, Number(lv!.on_schedule)), `on schedule: report ${JSON.stringify(r.concurrency.on_schedule)}, ops file ${lv!.on_schedule}`);
  // the executor's part in the difference from the traced level: the calls started late bunch up
  // (measured 0-2% here; the rest of the difference is the disk's fdatasync latency then and now)
  assert.ok(Math.abs(r.concurrency.replayed.mean - r.concurrency.on_schedule!.mean) <= 0.1 * r.concurrency.on_schedule!.mean + 0.01, `in flight replayed ${r.concurrency.replayed.mean}, on schedule ${r.concurrency.on_schedule!.mean}`);
  assert.equal(r.events.failed, 0, JSON.stringify(r.failed));
  assert.equal(r.syscalls.find((s) => s.syscall === 'fdatasync')!.replayed, 64 * 40);
  // the 64 writers and the main thread were alive at once: a worker each (the cap of 16 made 715 ms of lag)
  assert.ok(r.workers >= 64 && r.workers <= r.lanes, `${r.workers} executor threads at once for ${r.lanes} traced threads`);
  const shown = pairs.map((p) => `${p.lag.toFixed(2)} (host ${p.floor.toFixed(2)}; all calls ${p.all.toFixed(2)}, ${p.held} held by their previous call)`).join(', ');
  t.diagnostic(`lag p99 at 1x, ms: ${shown}; in flight traced ${JSON.stringify(r.concurrency.traced)}, replayed ${JSON.stringify(r.concurrency.replayed)}, on schedule ${JSON.stringify(r.concurrency.on_schedule)}`);
  assert.ok(pairs.some(bounded), `lag p99 at 1x over 5 ms and over the host's own timer lateness + 1 ms: ${shown}`);
  // calls overlapped in the trace and in the replay (how much depends on the disk's fdatasync latency then and now)
  assert.ok(r.concurrency.traced.max >= 2 && r.concurrency.traced.mean > 0, JSON.stringify(r.concurrency.traced));
  assert.ok(r.concurrency.replayed.max >= 2 && r.concurrency.replayed.mean > 0, JSON.stringify(r.concurrency.replayed));
  assert.ok(r.concurrency.replayed.p99 <= r.concurrency.replayed.max && r.concurrency.replayed.mean <= r.concurrency.replayed.max);
  fs.rmSync(dir, { recursive: true });
});

test('byte ranges: threads writing disjoint pages of one file replay concurrently; overlapping writes keep their traced order; fsync after the writes before it', async (t) => {
  if (!needBpf(t)) return;
  const dir = fs.realpathSync(tempDir('replay-ranges'));
  const O_RDWR = 0o2, O_CREAT = 0o100;
  const PAGE = 8192, LANES = 8, PAGES = 200;
  const file = '/db/data.db';
  const rows: TraceEvent[] = [];
  let ts = 1_000_000_000n;
  const add = (tid: number, fields: Partial<TraceEvent> & { syscall: string }) => rows.push(event({ pid: 100, tid, ts_ns: (ts += 1000n), latency_ns: 500n, file_type: 'regular', ...fields }));
  add(100, { syscall: 'mkdir', path: '/db', mode: 0o755, file_type: null });
  for (let l = 0; l < LANES; l++) add(101 + l, { syscall: 'openat', path: file, flags: O_RDWR | O_CREAT, mode: 0o644, ret: BigInt(10 + l), fd: 10 + l });
  // every thread its own pages, interleaved in time as a database's connections write
  for (let i = 0; i < PAGES; i++)
    for (let l = 0; l < LANES; l++) {
      const offset = BigInt((l * PAGES + i) * PAGE);
      // each 7.5 us, one starting every 1 us: 8 in flight at most, as traced
      add(101 + l, { syscall: 'pwrite64', fd: 10 + l, path: file, offset, count: BigInt(PAGE), ret: BigInt(PAGE), bytes: BigInt(PAGE), latency_ns: 7500n });
    }
  // two threads on the same page past the others: 8 KiB and 4 KiB writes alternating, then an fsync
  const shared = BigInt(LANES * PAGES * PAGE);
  const pattern: number[] = [];
  for (let i = 0; i < 6; i++) {
    const size = i % 2 ? 4096 : PAGE;
    pattern.push(size);
    add(i % 2 ? 102 : 101, { syscall: 'pwrite64', fd: i % 2 ? 11 : 10, path: file, offset: shared, count: BigInt(size), ret: BigInt(size), bytes: BigInt(size) });
  }
  add(103, { syscall: 'fsync', fd: 12, path: file });
  for (let l = 0; l < LANES; l++) add(101 + l, { syscall: 'close', fd: 10 + l, path: file });
  const trace = writeFixtureTrace(path.join(dir, 'ranges.parquet'), rows);

  const target = path.join(dir, 'target');
  const replayTrace = path.join(dir, 'replay.parquet');
  const report = captureReplay(trace, target, replayTrace) as ReplayReport;
  assert.equal(report.events.failed, 0, JSON.stringify(report.failed));
  // ordered by path, every write waited for the one before it in another thread: one call in flight at most
  assert.ok(report.concurrency.replayed.max >= 2, `disjoint pages written concurrently: ${JSON.stringify(report.concurrency.replayed)}`);
  // and measured on the file itself
  const onFile = report.concurrency.files[0]!;
  assert.equal(onFile.path, file.slice(1));
  assert.equal(onFile.traced.max, LANES);
  assert.ok(onFile.traced.mean > 6, `traced mean ${onFile.traced.mean}`);
  assert.ok(onFile.replayed.max >= 2, `replayed on the file: ${JSON.stringify(onFile.replayed)}`);
  const mapped = path.join(target, file.slice(1));
  const writes = (await readTrace(replayTrace)).rows.filter((x) => x.path === mapped && x.syscall === 'pwrite64');
  assert.equal(writes.length, LANES * PAGES + 6);
  const onShared = writes.filter((x) => x.offset === shared).sort((a, b) => (a.ts_ns < b.ts_ns ? -1 : 1));
  assert.deepEqual(onShared.map((x) => Number(x.bytes)), pattern, 'the overlapping writes in their traced order');
  const fsync = (await readTrace(replayTrace)).rows.find((x) => x.path === mapped && x.syscall === 'fsync')!;
  assert.ok(writes.every((w) => w.ts_ns + w.latency_ns <= fsync.ts_ns), 'the fsync after every write before it');
  assert.equal(fs.statSync(mapped).size, Number(shared) + PAGE);
  fs.rmSync(dir, { recursive: true });
});

test('O_DIRECT: a call that met EINVAL for a misaligned buffer or size meets it again in the replay, the aligned ones succeed', async (t) => {
  if (!needBpf(t)) return;
  const dir = diskDir('direct-einval');
  const direct = path.join(dir, 'direct.dat');
  const plain = path.join(dir, 'setfl.dat');
  // m is page aligned (an anonymous mapping); m[1:...] is one byte off; 100 bytes is no multiple of the block size
  const script = [
    'import os, mmap, fcntl, sys',
    'm = memoryview(mmap.mmap(-1, 3 * 4096))',
    'def einval(call, *args):',
    '    try: call(*args)',
    '    except OSError as e: assert e.errno == 22, e',
    '    else: raise SystemExit("no EINVAL")',
    'fd = os.open(sys.argv[1], os.O_CREAT | os.O_WRONLY | os.O_DIRECT, 0o644)',
    'assert os.pwrite(fd, m[:8192], 0) == 8192',
    'einval(os.pwrite, fd, m[1:4097], 8192)',
    'einval(os.pwrite, fd, m[:100], 8192)',
    'assert os.write(fd, m[:4096]) == 4096',
    'os.close(fd)',
    'fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECT)',
    'assert os.preadv(fd, [m[:4096]], 4096) == 4096',
    'einval(os.preadv, fd, [m[1:4097]], 0)',
    'os.close(fd)',
    // O_DIRECT set after the open, by fcntl
    'fd = os.open(sys.argv[2], os.O_CREAT | os.O_WRONLY, 0o644)',
    'fcntl.fcntl(fd, fcntl.F_SETFL, os.O_DIRECT)',
    'einval(os.write, fd, m[1:4097])',
    'assert os.write(fd, m[:4096]) == 4096',
    'os.close(fd)',
  ].join('\n');
  const trace = path.join(dir, 't.parquet');
  const cap = ior(['capture', '-o', trace, '--', 'python3', '-c', script, direct, plain]);
  assert.equal(cap.status, 0, cap.stderr);
  const io = (rows: TraceEvent[], files: string[]) => rows.filter((r) => files.includes(r.path!) && (READS.has(r.syscall) || WRITES.has(r.syscall))).map((r) => `${r.syscall} ${r.ret}`);
  const traced = io((await readTrace(trace)).rows, [direct, plain]);
  assert.deepEqual(traced, ['pwrite64 8192', 'pwrite64 -22', 'pwrite64 -22', 'write 4096', 'preadv2 4096', 'preadv2 -22', 'write -22', 'write 4096']);

  const target = path.join(dir, 'target');
  const replayTrace = path.join(dir, 'replay.parquet');
  const report = captureReplay(trace, target, replayTrace) as ReplayReport;
  // (python's start-up probes paths that differ under the target: those stats may fail, no read or write may)
  const io_failures = report.failed.filter((f) => READS.has(f.syscall) || WRITES.has(f.syscall));
  assert.deepEqual(io_failures, [], JSON.stringify(report.failed));
  const mapped = [direct, plain].map((f) => path.join(target, f.slice(1)));
  assert.deepEqual(io((await readTrace(replayTrace)).rows, mapped), traced, 'the same calls with the same results, EINVAL included');
  assert.equal(fs.statSync(mapped[0]!).size, 8192);
  assert.equal(fs.statSync(mapped[1]!).size, 4096);
  fs.rmSync(dir, { recursive: true });
});

test('O_DIRECT: dd oflag=direct then iflag=direct replays with no failure and every byte, O_DIRECT kept in the replay\'s opens', async (t) => {
  if (!needBpf(t)) return;
  // ext4 (the root disk here), not tmpfs: O_DIRECT needs aligned buffers there
  const dir = fs.realpathSync(fs.mkdtempSync('/var/tmp/ior-direct-'));
  const target = path.join(dir, 'target');
  const data = path.join(dir, 'direct.dat');
  const t1 = path.join(dir, 'dd.parquet');
  const cap = ior(['capture', '-o', t1, '--', 'sh', '-c', `dd if=/dev/zero of=${data} bs=4k count=200 oflag=direct status=none && dd if=${data} of=/dev/null bs=4k iflag=direct status=none`]);
  assert.equal(cap.status, 0, cap.stderr);
  const traced = (await readTrace(t1)).rows.filter((r) => r.path === data);
  const O_DIRECT = 0o40000;
  assert.equal(traced.filter((r) => r.syscall === 'openat' && (r.flags! & O_DIRECT) !== 0).length, 2, 'both dd open the file with O_DIRECT');
  const tracedBytes = (names: Set<string>) => traced.filter((r) => names.has(r.syscall)).reduce((n, r) => n + Number(r.bytes), 0);
  assert.equal(tracedBytes(WRITES), 200 * 4096);
  assert.equal(tracedBytes(READS), 200 * 4096);

  // the replay, captured: same bytes, every open of the file with O_DIRECT (flags as traced)
  const t2 = path.join(dir, 'replay.parquet');
  const r = ior(['capture', '-o', t2, '--path-prefix', target, '--', process.execPath, IOR_BIN, 'replay', t1, '--target', target, '--speed', 'max', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as ReplayReport;
  assert.equal(report.events.failed, 0, JSON.stringify(report.failed));
  // reads: dd's own libraries and locale files too, replayed under the target as well
  assert.equal(report.bytes.read.replayed, report.bytes.read.traced);
  assert.deepEqual(report.bytes.written, { traced: 200 * 4096, replayed: 200 * 4096 });
  const mapped = path.join(target, data.slice(1));
  const replayed = (await readTrace(t2)).rows.filter((x) => x.path === mapped);
  const opens = replayed.filter((x) => x.syscall === 'openat' || x.syscall === 'openat2'); // chrooted executor threads, or the openat2 walk
  assert.equal(opens.length, 2);
  assert.ok(opens.every((x) => (x.flags! & O_DIRECT) !== 0 && x.ret >= 0n), `opens of the replay: ${opens.map((x) => `${x.flags} ${x.ret}`).join(', ')}`);
  const sum = (names: Set<string>) => replayed.filter((x) => names.has(x.syscall) && x.ret >= 0n).reduce((n, x) => n + Number(x.bytes), 0);
  assert.equal(sum(WRITES), 200 * 4096);
  assert.equal(sum(READS), 200 * 4096);
  assert.equal(fs.statSync(mapped).size, 200 * 4096);
  fs.rmSync(dir, { recursive: true });
});
