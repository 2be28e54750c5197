/**
 * Replay of hand-made and stored traces into temp directories: the files on
 * disk, the order of operations, the report's counts, and that nothing
 * outside the target changed, whatever `..`, symlinks or hard links the
 * trace holds.
 */
import { test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { event, smallFs, tempDir, writeFixtureTrace } from './helpers/fixture.js';
import { exitOf, ior, IOR_BIN, iorSpawn } from './helpers/cli.js';
import { assertOneLineError, badTraces } from './helpers/bad-input.js';
import { REPO_ROOT } from '../common/assets.js';
import { needRoot } from './helpers/bpf.js';
import { INIT_KEY, INIT_STATE_VERSION, SCHEMA_VERSION, type TraceEvent } from '../schema/index.js';
import type { ReplayReport } from '../replay/index.js';
import { InFlightSweep } from '../replay/concurrency.js';
import { Orderer } from '../replay/order.js';
import { KIND } from '../replay/ops.js';
import type { Step } from '../replay/interpret.js';

const O_WRONLY = 0o1, O_RDWR = 0o2, O_CREAT = 0o100, O_TRUNC = 0o1000, O_DIRECTORY = 0o200000;
const ENOENT = 2n;

/** Events numbered in order, 1 ms apart unless `ts_ns` is given. */
function trace(dir: string, name: string, rows: (Partial<TraceEvent> & { syscall: string })[]): string {
  return writeFixtureTrace(path.join(dir, `${name}.parquet`), rows.map((r, i) => event({ ts_ns: 1_000_000_000n + BigInt(i) * 1_000_000n, ...r }, i)));
}

function replay(args: string[]): { report: ReplayReport; stderr: string } {
  const r = ior(['replay', ...args, '--json']);
  assert.equal(r.status, 0, `ior replay ${args.join(' ')}: ${r.stderr}`);
  return { report: JSON.parse(r.stdout) as ReplayReport, stderr: r.stderr };
}

/** Everything under `dir` (type, mode, size, links, mtime, content hash): equal snapshots mean nothing changed. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (p: string) => {
    const st = fs.lstatSync(p);
    const hash = st.isFile() ? crypto.createHash('sha1').update(fs.readFileSync(p)).digest('hex') : st.isSymbolicLink() ? fs.readlinkSync(p) : '';
    out[p] = `${st.mode} ${st.size} ${st.nlink} ${st.mtimeMs} ${hash}`;
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) walk(path.join(p, e));
  };
  walk(dir);
  return out;
}

/** /etc files a hostile trace aims at, as they are now. */
function etcSnapshot(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of ['/etc/passwd', '/etc/hostname', '/etc/hosts']) {
    const st = fs.statSync(f);
    out[f] = `${st.mode} ${st.size} ${st.nlink} ${st.mtimeMs} ${crypto.createHash('sha1').update(fs.readFileSync(f)).digest('hex')}`;
  }
  out['/etc entries'] = fs.readdirSync('/etc').sort().join(',');
  return out;
}

/** Both ways of confining paths: every hostile trace runs in each. */
const CONFINES = ['chroot', 'openat2'] as const;

function setup(name: string) {
  const dir = fs.realpathSync(tempDir(`replay-${name}`));
  const target = path.join(dir, 'target');
  const outside = path.join(dir, 'outside');
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'victim.txt'), 'keep me\n');
  return { dir, target, outside, done: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

test('a small workload: files, sizes, renames and removals on disk, report counts', () => {
  const { dir, target, done } = setup('basic');
  const file = trace(dir, 'basic', [
    { syscall: 'mkdir', path: '/srv/app/data', mode: 0o755 },
    { syscall: 'openat', path: '/srv/app/data/log', flags: O_CREAT | O_WRONLY | O_TRUNC, mode: 0o644, ret: 3n, fd: 3, file_type: 'regular' },
    { syscall: 'write', fd: 3, path: '/srv/app/data/log', offset: 0n, count: 5000n, ret: 5000n, bytes: 5000n, file_type: 'regular' },
    { syscall: 'pwrite64', fd: 3, path: '/srv/app/data/log', offset: 10000n, count: 100n, ret: 100n, bytes: 100n, file_type: 'regular' },
    { syscall: 'fsync', fd: 3, path: '/srv/app/data/log', file_type: 'regular' },
    { syscall: 'close', fd: 3, path: '/srv/app/data/log', file_type: 'regular' },
    // an existing input file the trace reads 70000 bytes of
    { syscall: 'openat', path: '/srv/app/input.bin', flags: 0, ret: 4n, fd: 4, file_type: 'regular' },
    { syscall: 'read', fd: 4, path: '/srv/app/input.bin', offset: 0n, count: 65536n, ret: 65536n, bytes: 65536n, file_type: 'regular' },
    { syscall: 'pread64', fd: 4, path: '/srv/app/input.bin', offset: 65536n, count: 65536n, ret: 4464n, bytes: 4464n, file_type: 'regular' },
    { syscall: 'close', fd: 4, path: '/srv/app/input.bin', file_type: 'regular' },
    { syscall: 'renameat2', path: '/srv/app/data/log', path2: '/srv/app/data/log.1', flags: 0 },
    { syscall: 'openat', path: '/srv/app/missing', flags: 0, ret: -ENOENT, fd: -1 },
    { syscall: 'newfstatat', path: '/srv/app/data/log.1', flags: 0 },
    { syscall: 'unlinkat', path: '/srv/app/old.tmp', flags: 0 },
    // skipped: a pipe, /proc, a memory mapping
    { syscall: 'write', fd: 1, path: null, count: 10n, ret: 10n, bytes: 10n, file_type: 'pipe' },
    { syscall: 'openat', path: '/proc/self/status', flags: 0, ret: 5n, fd: 5, file_type: 'regular' },
    { syscall: 'read', fd: 5, path: '/proc/self/status', offset: 0n, count: 4096n, ret: 1000n, bytes: 1000n, file_type: 'regular' },
    { syscall: 'mmap', fd: 4, path: '/srv/app/input.bin', count: 4096n, ret: 0x7f0000000000n, file_type: 'regular' },
  ]);
  const { report } = replay([file, '--target', target, '--speed', 'max']);
  const root = path.join(target, 'srv/app');
  assert.equal(fs.statSync(path.join(root, 'data/log.1')).size, 10100);
  assert.ok(!fs.existsSync(path.join(root, 'data/log')), 'renamed away');
  assert.ok(!fs.existsSync(path.join(root, 'old.tmp')), 'unlinked');
  assert.ok(!fs.existsSync(path.join(root, 'missing')), 'an ENOENT in the trace stays one');
  assert.equal(fs.statSync(path.join(root, 'input.bin')).size, 70000, 'init made the input as large as the trace read');
  assert.ok(!fs.existsSync(path.join(target, 'proc')), '/proc is not replayed');
  assert.equal(report.events.total, 18);
  assert.equal(report.events.replayed, 14);
  assert.equal(report.events.skipped, 4);
  assert.equal(report.events.failed, 0, JSON.stringify(report.failed));
  assert.equal(report.events.matched_failures, 1, 'the ENOENT open failed as traced');
  assert.deepEqual(report.skipped, { 'not a file or directory (pipe, socket, device)': 1, 'pseudo file system (/proc, /sys, /dev)': 2, 'memory mapping': 1 });
  assert.deepEqual(report.bytes, { read: { traced: 70000, replayed: 70000 }, written: { traced: 5100, replayed: 5100 } });
  const by = Object.fromEntries(report.syscalls.map((s) => [s.syscall, s]));
  assert.equal(by.openat!.replayed, 3);
  assert.equal(by.openat!.skipped, 1);
  assert.equal(by.openat!.issued_as, 'openat', 'chrooted executor threads (root): the traced call itself');
  assert.equal(by.mmap!.issued_as, 'skipped');
  assert.equal(report.outcome, 'completed');
  assert.equal(report.lag_ms, null, 'no schedule at --speed max');

  // a second run re-creates the initial state first (idempotent init)
  const again = replay([file, '--target', target, '--speed', 'max']).report;
  assert.equal(again.events.failed, 0, JSON.stringify(again.failed));
  assert.equal(fs.statSync(path.join(root, 'data/log.1')).size, 10100);
  done();
});

for (const confine of CONFINES) {
test(`\`..\` in traced paths cannot climb out of the target (--confine ${confine})`, () => {
  const { dir, target, outside, done } = setup('dotdot');
  const before = snapshot(outside);
  const etc = etcSnapshot();
  const rel = path.relative('/', outside);
  const escape = `/a/../../../../../../../../${rel}/victim.txt`;
  const file = trace(dir, 'dotdot', [
    { syscall: 'openat', path: escape, flags: O_WRONLY | O_TRUNC, ret: 3n, fd: 3, file_type: 'regular' },
    { syscall: 'write', fd: 3, path: escape, offset: 0n, count: 6n, ret: 6n, bytes: 6n, file_type: 'regular' },
    { syscall: 'close', fd: 3, path: escape, file_type: 'regular' },
    { syscall: 'openat', path: '/../../etc/ior-dotdot-test', flags: O_CREAT | O_WRONLY, mode: 0o644, ret: 4n, fd: 4, file_type: 'regular' },
    { syscall: 'close', fd: 4, path: '/../../etc/ior-dotdot-test', file_type: 'regular' },
    { syscall: 'unlinkat', path: `/../../${rel}/victim.txt`, flags: 0 },
  ]);
  const { report } = replay([file, '--target', target, '--speed', 'max', '--confine', confine]);
  assert.deepEqual(snapshot(outside), before, 'nothing outside the target changed');
  assert.deepEqual(etcSnapshot(), etc);
  assert.match(report.confinement.mode, new RegExp(`^${confine}`));
  // the paths landed inside the target, `..` folded at its root
  assert.ok(fs.existsSync(path.join(target, 'etc/ior-dotdot-test')));
  assert.ok(!fs.existsSync(path.join(target, rel, 'victim.txt')), 'the mapped victim was written, then unlinked, inside the target');
  assert.equal(report.events.replayed, 6);
  done();
});

test(`symlinks to /etc and out of the target (absolute, relative, created by the trace) stay inside (--confine ${confine})`, () => {
  const { dir, target, outside, done } = setup('symlink');
  const before = snapshot(outside);
  const etc = etcSnapshot();
  const victim = path.join(outside, 'victim.txt');
  const up = '../'.repeat(20);
  const rows: (Partial<TraceEvent> & { syscall: string })[] = [
    { syscall: 'mkdir', path: '/d', mode: 0o755 },
    { syscall: 'symlinkat', path: '/d/etc', path2: '/etc' },
    { syscall: 'symlinkat', path: '/d/out-abs', path2: outside },
    { syscall: 'symlinkat', path: '/d/out-rel', path2: `${up}${outside.slice(1)}` },
    { syscall: 'symlinkat', path: '/d/victim-link', path2: victim },
    { syscall: 'symlinkat', path: '/d/passwd-link', path2: '/etc/passwd' },
  ];
  // metadata calls that follow a final symlink
  for (const p of ['/d/victim-link', '/d/passwd-link', '/d/etc/hostname']) {
    rows.push(
      { syscall: 'truncate', path: p, count: 0n },
      { syscall: 'fchmodat', path: p, mode: 0o777 },
      { syscall: 'fchownat', path: p, mode: 12345, count: 12345n, flags: 0 },
      { syscall: 'utimensat', path: p, flags: 0 },
      { syscall: 'newfstatat', path: p, flags: 0 },
      { syscall: 'faccessat2', path: p, mode: 2, flags: 0 },
    );
  }
  let fd = 3;
  // writes, truncates, chmods, unlinks, renames and links through every link
  for (const [i, link] of ['/d/out-abs', '/d/out-rel'].entries()) {
    const p = `${link}/victim.txt`;
    // the first pass finds victim.txt (init makes it), the second creates it again after the first moved it away
    rows.push(
      { syscall: 'openat', path: p, flags: O_RDWR | O_TRUNC | (i ? O_CREAT : 0), mode: 0o644, ret: BigInt(fd), fd, file_type: 'regular' },
      { syscall: 'write', fd, path: p, offset: 0n, count: 4n, ret: 4n, bytes: 4n, file_type: 'regular' },
      { syscall: 'close', fd, path: p, file_type: 'regular' },
      { syscall: 'openat', path: `${link}/new-file-${i}`, flags: O_CREAT | O_WRONLY, mode: 0o644, ret: BigInt(fd + 1), fd: fd + 1, file_type: 'regular' },
      { syscall: 'close', fd: fd + 1, path: `${link}/new-file-${i}`, file_type: 'regular' },
      { syscall: 'mkdir', path: `${link}/new-dir-${i}`, mode: 0o755 },
      { syscall: 'renameat2', path: p, path2: `${link}/moved-${i}.txt`, flags: 0 },
      { syscall: 'linkat', path: `${link}/moved-${i}.txt`, path2: `/d/hardlink-${i}`, flags: 0 },
      { syscall: 'unlinkat', path: `${link}/moved-${i}.txt`, flags: 0 },
    );
    fd += 2;
  }
  rows.push(
    { syscall: 'openat', path: '/d/etc/passwd', flags: O_WRONLY | O_TRUNC, ret: 9n, fd: 9, file_type: 'regular' },
    { syscall: 'write', fd: 9, path: '/d/etc/passwd', offset: 0n, count: 5n, ret: 5n, bytes: 5n, file_type: 'regular' },
    { syscall: 'close', fd: 9, path: '/d/etc/passwd', file_type: 'regular' },
    { syscall: 'linkat', path: '/etc/passwd', path2: '/d/passwd-hardlink', flags: 0 },
    { syscall: 'linkat', path: '/d/passwd-link', path2: '/d/passwd-follow', flags: 0x400 },
    { syscall: 'unlinkat', path: '/d/etc/hostname', flags: 0 },
  );
  const file = trace(dir, 'symlink', rows);
  const { report } = replay([file, '--target', target, '--speed', 'max', '--confine', confine]);
  assert.deepEqual(snapshot(outside), before, 'nothing outside the target changed');
  assert.deepEqual(etcSnapshot(), etc, '/etc unchanged');
  for (const f of ['/etc/passwd', '/etc/hostname']) assert.equal(fs.statSync(f).nlink, 1);
  // the links exist inside the target as the trace made them, resolved inside it
  assert.equal(fs.readlinkSync(path.join(target, 'd/etc')), '/etc');
  assert.equal(fs.readFileSync(path.join(target, 'etc/passwd')).length, 5, 'the write through /d/etc landed on the target\'s etc/passwd');
  const mappedOutside = path.join(target, outside.slice(1));
  assert.deepEqual(fs.readdirSync(mappedOutside).sort(), ['new-dir-0', 'new-dir-1', 'new-file-0', 'new-file-1'], 'creations through both links land at the mapped path');
  assert.equal(fs.statSync(path.join(target, 'd/hardlink-1')).size, 4);
  assert.equal(report.events.replayed, rows.length);
  assert.equal(report.events.failed, 0, JSON.stringify(report.failed));
  done();
});

test(`a symlink to / made by the trace, /proc magic links, and renames and removals of the target root stay inside (--confine ${confine})`, () => {
  const { dir, target, outside, done } = setup('root-link');
  const before = snapshot(outside);
  const etc = etcSnapshot();
  const victim = path.join(outside, 'victim.txt');
  const viaRoot = `/d/root${victim}`;
  const AT_REMOVEDIR = 0x200;
  const rows: (Partial<TraceEvent> & { syscall: string })[] = [
    { syscall: 'mkdir', path: '/d', mode: 0o755 },
    // a link to the host's / made during the replay, then every kind of call through it
    { syscall: 'symlinkat', path: '/d/root', path2: '/' },
    { syscall: 'openat', path: viaRoot, flags: O_RDWR | O_TRUNC, ret: 3n, fd: 3, file_type: 'regular' },
    { syscall: 'write', fd: 3, path: viaRoot, offset: 0n, count: 5n, ret: 5n, bytes: 5n, file_type: 'regular' },
    { syscall: 'close', fd: 3, path: viaRoot, file_type: 'regular' },
    { syscall: 'truncate', path: viaRoot, count: 1n },
    { syscall: 'fchmodat', path: viaRoot, mode: 0o777 },
    { syscall: 'fchownat', path: viaRoot, mode: 12345, count: 12345n, flags: 0 },
    { syscall: 'utimensat', path: viaRoot, flags: 0 },
    { syscall: 'renameat2', path: viaRoot, path2: `/d/root${outside}/renamed.txt`, flags: 0 },
    { syscall: 'renameat2', path: `/d/root${outside}/renamed.txt`, path2: viaRoot, flags: 0 },
    { syscall: 'openat', path: '/d/root/etc/passwd', flags: O_WRONLY | O_TRUNC, ret: 4n, fd: 4, file_type: 'regular' },
    { syscall: 'close', fd: 4, path: '/d/root/etc/passwd', file_type: 'regular' },
    { syscall: 'unlinkat', path: viaRoot, flags: 0 },
    { syscall: 'mkdir', path: '/d/root/etc/ior-root-link-test', mode: 0o755 },
    // /proc magic links, reached through links the trace makes (the paths themselves are skipped as /proc)
    { syscall: 'symlinkat', path: '/d/self-root', path2: '/proc/self/root' },
    { syscall: 'symlinkat', path: '/d/self-cwd', path2: '/proc/self/cwd' },
    { syscall: 'openat', path: `/d/self-root${victim}`, flags: O_WRONLY | O_TRUNC, ret: 5n, fd: 5, file_type: 'regular' },
    { syscall: 'close', fd: 5, path: `/d/self-root${victim}`, file_type: 'regular' },
    { syscall: 'unlinkat', path: `/d/self-cwd/etc/hostname`, flags: 0 },
    { syscall: 'truncate', path: '/d/self-root/etc/hosts', count: 0n },
    // the target root itself: renamed, removed, moved under itself
    { syscall: 'renameat2', path: '/', path2: '/moved-root', flags: 0 },
    { syscall: 'renameat2', path: '/d', path2: '/', flags: 0 },
    { syscall: 'unlinkat', path: '/', flags: AT_REMOVEDIR },
    { syscall: 'unlinkat', path: '/d/root/', flags: AT_REMOVEDIR },
  ];
  const file = trace(dir, 'root-link', rows);
  const { report } = replay([file, '--target', target, '--speed', 'max', '--confine', confine]);
  assert.deepEqual(snapshot(outside), before, 'nothing outside the target changed');
  assert.deepEqual(etcSnapshot(), etc, '/etc unchanged');
  assert.ok(!fs.existsSync('/etc/ior-root-link-test'));
  assert.ok(fs.statSync(target).isDirectory(), 'the target is still there');
  assert.equal(fs.readlinkSync(path.join(target, 'd/root')), '/');
  // what went through the link landed at the mapped paths inside the target
  assert.ok(fs.existsSync(path.join(target, 'etc/ior-root-link-test')));
  assert.equal(fs.readFileSync(path.join(target, 'etc/passwd')).length, 0, 'the truncating open through the link hit the target\'s etc/passwd');
  assert.ok(!fs.existsSync(path.join(target, victim.slice(1))), 'the mapped victim was written, moved back and forth, then unlinked');
  // every call was issued but those on the target root itself, which the planner refuses
  assert.deepEqual(report.skipped, { 'target root itself': 3 });
  assert.equal(report.events.replayed, rows.length - 3);
  done();
});
}

for (const confine of CONFINES) {
test(`--root: what the trace did under a directory replays at the same depth under the target, the rest is skipped; symlinks into the root follow it; \`..\` and links out stay inside (--confine ${confine})`, () => {
  const { dir, target, outside, done } = setup('root');
  const before = snapshot(outside);
  const etc = etcSnapshot();
  type Row = Partial<TraceEvent> & { syscall: string };
  // an open of `p` as fd, a write (or read) of n bytes at `offset`, a close
  const io = (p: string, fd: number, call: 'write' | 'pwrite64' | 'read', n: bigint, flags: number, offset = 0n): Row[] => [
    { syscall: 'openat', path: p, flags, mode: 0o644, ret: BigInt(fd), fd, file_type: 'regular' },
    { syscall: call, fd, path: p, offset, count: n, ret: n, bytes: n, file_type: 'regular' },
    { syscall: 'close', fd, path: p, file_type: 'regular' },
  ];
  const create = O_CREAT | O_WRONLY;
  const rows: Row[] = [
    ...io('/data/db/a', 3, 'write', 100n, create),
    { syscall: 'mkdir', path: '/data/db/sub', mode: 0o755 },
    ...io('/data/db/sub/b', 4, 'write', 50n, create),
    // a file the trace reads that was there before it: init makes it
    ...io('/data/db/pre', 5, 'read', 5000n, 0),
    // an absolute link into the root, written through
    { syscall: 'symlinkat', path: '/data/db/link', path2: '/data/db/a' },
    ...io('/data/db/link', 6, 'pwrite64', 7n, O_WRONLY, 100n),
    // a link out of the root, to /etc, written through: lands in the target's etc
    { syscall: 'symlinkat', path: '/data/db/esc', path2: '/etc' },
    ...io('/data/db/esc/hostname', 7, 'write', 3n, create | O_TRUNC),
    // outside the root: a sibling sharing its prefix, /etc, and `..` out of it
    ...io('/data/dbx/c', 8, 'write', 10n, create),
    ...io('/etc/passwd', 9, 'read', 200n, 0),
    { syscall: 'openat', path: '/data/db/../../etc/hostname', flags: O_WRONLY | O_TRUNC, ret: 10n, fd: 10, file_type: 'regular' },
    { syscall: 'unlinkat', path: `/data/db/../..${outside}/victim.txt`, flags: 0 },
  ];
  const events = rows.map((r, i) => event({ ts_ns: 1_000_000_000n + BigInt(i) * 1_000_000n, ...r }, i));
  const plain = writeFixtureTrace(path.join(dir, 'plain.parquet'), events);
  const check = (report: ReplayReport, t: string) => {
    assert.equal(report.root, '/data/db');
    assert.equal(report.events.failed, 0, JSON.stringify(report.failed));
    assert.equal(report.events.replayed, 18);
    assert.deepEqual(report.skipped, { 'outside --root': 8 });
    assert.deepEqual(fs.readdirSync(t).filter((f) => !f.startsWith('.')).sort(), ['a', 'esc', 'etc', 'link', 'pre', 'sub'], 'the root\'s entries at the top of the target, nothing of data/ or dbx/');
    assert.equal(fs.statSync(path.join(t, 'a')).size, 107, 'the write through the link landed on a');
    assert.equal(fs.readlinkSync(path.join(t, 'link')), '/a', 'an absolute link into the root points into the target\'s top');
    assert.equal(fs.readlinkSync(path.join(t, 'esc')), '/etc', 'a link out of the root stays as written (resolved inside the target)');
    assert.equal(fs.readFileSync(path.join(t, 'etc/hostname')).length, 3);
    assert.equal(fs.statSync(path.join(t, 'sub/b')).size, 50);
    assert.deepEqual(snapshot(outside), before, 'nothing outside the target changed');
    assert.deepEqual(etcSnapshot(), etc, '/etc unchanged');
  };
  const first = replay([plain, '--root', '/data/db/', '--target', target, '--speed', 'max', '--confine', confine]).report;
  assert.equal(first.init?.stateFrom, 'plan pass');
  check(first, target);
  assert.equal(fs.statSync(path.join(target, 'pre')).size, 5000, 'init made the file the trace read');
  const again = replay([plain, '--root', '/data/db', '--target', target, '--speed', 'max', '--confine', confine]).report;
  assert.equal(again.init?.stateFrom, 'target marker', 'prepared for this trace and root');
  check(again, target);
  // the same target without --root: its state is another one (the marker's is for /data/db)
  const whole = replay([plain, '--target', target, '--speed', 'max', '--confine', confine]).report;
  assert.equal(whole.init?.stateFrom, 'plan pass');
  assert.equal(whole.root, '/');
  assert.equal(fs.statSync(path.join(target, 'data/db/a')).size, 107);
  assert.equal(fs.statSync(path.join(target, 'data/dbx/c')).size, 10);

  // a state the capture stored for the whole trace: what is under the root, without it, if the trace made no symlinks
  const state = { dirs: ['data', 'data/db', 'etc'], files: [{ rel: 'data/db/pre', size: 6000 }, { rel: 'etc/passwd', size: 200 }], symlinks: [], absent: ['data/db/a', 'data/db/sub', 'data/dbx/c'], bytes: 6200 };
  const withState = (name: string, evs: TraceEvent[], init: object) => writeFixtureTrace(path.join(dir, `${name}.parquet`), evs, {}, undefined, [{ key: INIT_KEY, value: JSON.stringify({ version: INIT_STATE_VERSION, events: evs.length, init }) }]);
  // (this trace made two: a link out of the root, /data/db/esc -> /etc, puts etc/ in the target, which the state has outside the root)
  for (const [name, init] of [['links', { ...state, linksMade: 2 }], ['unknown', state]] as const) {
    const t = path.join(dir, `target-${name}`);
    const r = replay([withState(name, events, init), '--root', '/data/db', '--target', t, '--speed', 'max', '--confine', confine]);
    assert.equal(r.report.init?.stateFrom, 'plan pass', name);
    assert.equal(r.stderr, '', 'not a warning: the state is good, only not for --root');
    check(r.report, t);
  }
  const noLinks = events.slice(0, 10);
  const t2 = path.join(dir, 'target2');
  const fromTrace = replay([withState('nolinks', noLinks, { ...state, linksMade: 0 }), '--root', '/data/db', '--target', t2, '--speed', 'max', '--confine', confine]).report;
  assert.equal(fromTrace.init?.stateFrom, 'trace');
  assert.equal(fromTrace.init?.files, 1, 'data/db/pre only');
  assert.equal(fromTrace.init?.bytesWritten, 6000);
  assert.equal(fromTrace.events.failed, 0, JSON.stringify(fromTrace.failed));
  assert.deepEqual(fs.readdirSync(t2).filter((f) => !f.startsWith('.')).sort(), ['a', 'pre', 'sub']);
  assert.equal(fs.statSync(path.join(t2, 'pre')).size, 6000, 'the stored size');

  // a --root the trace never went under replays nothing: said in one line, exit 1 (the report still on stdout)
  const nowhere = ior(['replay', plain, '--root', '/nowhere', '--target', path.join(dir, 'target4'), '--json']);
  assert.equal(nowhere.status, 1);
  assert.equal((JSON.parse(nowhere.stdout) as ReplayReport).events.replayed, 0);
  assert.equal(nowhere.stderr, `ior: nothing the trace did was under --root /nowhere: ${events.length} events skipped\n`);
  // --root must be absolute: one line, exit 1, nothing made
  const t3 = path.join(dir, 'target3');
  const bad = ior(['replay', plain, '--root', 'data/db', '--target', t3]);
  assert.equal(bad.status, 1);
  assertOneLineError(bad, /--root "data\/db" is not an absolute path/);
  assert.ok(!fs.existsSync(t3));
  done();
});
}

test('scheduling: the report says what the executor threads got (nice -10; paced, the 100 us slice where the kernel has it) and what was refused (no CAP_SYS_NICE)', (t) => {
  if (!needRoot(t, 'nice -10 needs CAP_SYS_NICE; the test drops it with setpriv')) return;
  const { dir, target, done } = setup('scheduling');
  const file = trace(dir, 'two-threads', [
    { syscall: 'openat', path: '/w/a', flags: O_CREAT | O_WRONLY, mode: 0o644, ret: 3n, fd: 3, file_type: 'regular' },
    { syscall: 'write', fd: 3, path: '/w/a', offset: 0n, count: 10n, ret: 10n, bytes: 10n, file_type: 'regular' },
    { syscall: 'openat', path: '/w/b', flags: O_CREAT | O_WRONLY, mode: 0o644, ret: 4n, fd: 4, file_type: 'regular', pid: 100, tid: 101 },
    { syscall: 'close', fd: 3, path: '/w/a', file_type: 'regular' },
  ]);
  // Linux 6.12 gave SCHED_OTHER threads a slice of their own (sched_attr.sched_runtime)
  const [major, minor] = os.release().split('.').map(Number) as [number, number];
  const sliceKernel = major > 6 || (major === 6 && minor >= 12);
  const paced = replay([file, '--target', target]).report;
  assert.equal(paced.workers, 2);
  assert.deepEqual(paced.scheduling, { nice: -10, threads_not_reniced: 0, slice_us: 100, threads_without_slice: sliceKernel ? 0 : 2 });
  assert.deepEqual(replay([file, '--target', target, '--speed', 'max']).report.scheduling, { nice: -10, threads_not_reniced: 0, slice_us: null, threads_without_slice: 0 });
  const r = spawnSync('setpriv', ['--bounding-set', '-sys_nice', '--inh-caps', '-sys_nice', process.execPath, IOR_BIN, 'replay', file, '--target', target, '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as ReplayReport).scheduling.threads_not_reniced, 2, 'nice -10 refused to both threads without CAP_SYS_NICE');
  done();
});

test('fds opened before the capture are opened on first use at the traced position', () => {
  const { dir, target, done } = setup('precapture');
  const file = trace(dir, 'pre', [
    { syscall: 'read', fd: 7, path: '/var/db/table', offset: 4096n, count: 4096n, ret: 4096n, bytes: 4096n, file_type: 'regular' },
    { syscall: 'read', fd: 7, path: '/var/db/table', offset: 8192n, count: 4096n, ret: 4096n, bytes: 4096n, file_type: 'regular' },
    { syscall: 'write', fd: 8, path: '/var/db/wal', offset: 100n, count: 50n, ret: 50n, bytes: 50n, file_type: 'regular' },
    { syscall: 'lseek', fd: 7, path: '/var/db/table', offset: 0n, flags: 2, ret: 20000n, file_type: 'regular' },
    { syscall: 'getdents64', fd: 9, path: '/var/db', count: 32768n, ret: 120n, bytes: 120n, file_type: 'directory' },
    { syscall: 'write', fd: 1, path: null, count: 5n, ret: 5n, bytes: 5n, file_type: 'char' },
    { syscall: 'close', fd: 7, path: '/var/db/table', file_type: 'regular' },
    { syscall: 'close', fd: 10, path: '/var/db/other', file_type: 'regular' },
    // a symlink held O_PATH | O_NOFOLLOW from before the capture, read through its fd
    { syscall: 'readlinkat', fd: 11, path: '/var/db/current', count: 64n, ret: 5n },
    { syscall: 'newfstatat', fd: 11, path: '/var/db/current', flags: 0x1000, ret: 0n, file_type: 'symlink' },
  ]);
  const { report } = replay([file, '--target', target, '--speed', 'max']);
  assert.equal(report.events.failed, 0, JSON.stringify(report.failed));
  assert.equal(report.added.pre_capture_opens, 4, 'table, wal, the directory and the symlink');
  assert.ok(fs.lstatSync(path.join(target, 'var/db/current')).isSymbolicLink(), 'the init made the link the fd held');
  assert.equal(fs.statSync(path.join(target, 'var/db/table')).size, 20000, 'SEEK_END at 20000 sizes the file');
  assert.equal(fs.statSync(path.join(target, 'var/db/wal')).size, 150, 'the write went to the traced position 100');
  assert.deepEqual(report.bytes.read, { traced: 8192, replayed: 8192 });
  assert.deepEqual(report.skipped, { 'not a file or directory (pipe, socket, device)': 1, 'fd opened before the capture, only closed': 1 });
  done();
});

test('two threads racing on one file keep their traced order at --speed max', () => {
  const { dir, target, done } = setup('race');
  const rows: (Partial<TraceEvent> & { syscall: string })[] = [
    { syscall: 'openat', tid: 100, path: '/shared/file', flags: O_CREAT | O_RDWR, mode: 0o644, ret: 3n, fd: 3, file_type: 'regular' },
  ];
  // thread 100 appends a block, thread 101 reads it back through the same fd: each read needs the write before it
  for (let i = 0; i < 300; i++) {
    rows.push({ syscall: 'pwrite64', tid: 100, fd: 3, path: '/shared/file', offset: BigInt(i * 512), count: 512n, ret: 512n, bytes: 512n, file_type: 'regular' });
    rows.push({ syscall: 'pread64', tid: 101, fd: 3, path: '/shared/file', offset: BigInt(i * 512), count: 512n, ret: 512n, bytes: 512n, file_type: 'regular' });
  }
  // thread 102 unlinks it after all of that; thread 101 closes the fd last
  rows.push({ syscall: 'unlinkat', tid: 102, path: '/shared/file', flags: 0 });
  rows.push({ syscall: 'newfstatat', tid: 100, path: '/shared/file', flags: 0, ret: -ENOENT });
  rows.push({ syscall: 'close', tid: 101, fd: 3, path: '/shared/file', file_type: 'regular' });
  const file = trace(dir, 'race', rows);
  for (let round = 0; round < 3; round++) {
    const { report } = replay([file, '--target', target, '--speed', 'max', '--workers', '3']);
    assert.equal(report.events.failed, 0, JSON.stringify(report.failed));
    assert.equal(report.events.short_transfers, 0, 'every read found its block written');
    assert.deepEqual(report.bytes.read, { traced: 300 * 512, replayed: 300 * 512 });
    assert.equal(report.events.matched_failures, 1, 'the stat after the unlink fails as traced');
    assert.equal(report.lanes, 3);
  }
  assert.ok(!fs.existsSync(path.join(target, 'shared/file')));
  done();
});

test('the orderer: a second lane waits for the first lane\'s ops before its last one, and for that last one only where they conflict (it may have been running: 256 threads starting at a barrier)', () => {
  const step = (kind: number, rel: string, slot: number, flags = 0): Step => ({ kind, slot, slot2: -1, rel, rel2: null, flags, mode: 0o644, offset: -1, count: 0, ringDepth: 0, preOpen: null });
  const orderer = new Orderer();
  // lane 0 alone: an open, then a create (its last op before lane 1 appears)
  assert.deepEqual(orderer.depsOf(step(KIND.open, 'x', 3), 0), []);
  orderer.commit(1);
  assert.deepEqual(orderer.depsOf(step(KIND.open, 't0.dat', 4, O_WRONLY | O_CREAT | O_TRUNC), 0), []);
  orderer.commit(2);
  // lane 1's create of another file: after lane 0's first op, not its create (the trace had them at once)
  assert.deepEqual(orderer.depsOf(step(KIND.open, 't1.dat', 5, O_WRONLY | O_CREAT | O_TRUNC), 1), [[0, 1]]);
  orderer.commit(1);
  // a write of lane 0's new file by lane 2 waits for its create; a close of its fd by lane 3 too
  assert.deepEqual(orderer.depsOf(step(KIND.statat, 't0.dat', -1), 2), [[0, 2]]);
  orderer.commit(1);
  assert.deepEqual(orderer.depsOf(step(KIND.close, 't0.dat', 4), 3), [[0, 2]]);
  orderer.commit(1);
  // lane 0 on: recorded as any lane (lane 1's file)
  assert.deepEqual(orderer.depsOf(step(KIND.unlink, 't1.dat', -1), 0), [[1, 1]]);
});

test('copy_file_range writes its output: a truncate of the copy by another thread waits for the copy (order), and the copy ends at the traced size', () => {
  // the orderer itself: lane 1 copies a -> b; lane 2's ftruncate of b needs lane 1's copy done
  const step = (kind: number, rel: string, rel2: string | null = null, slot = -1): Step => ({ kind, slot, slot2: -1, rel, rel2, flags: 0, mode: 0, offset: -1, count: 60000, ringDepth: 0, preOpen: null });
  const orderer = new Orderer();
  orderer.depsOf(step(KIND.statat, 'x'), 0);
  orderer.commit(1);
  assert.deepEqual(orderer.depsOf(step(KIND.copy_file_range, 'a', 'b'), 1), []);
  orderer.commit(1);
  assert.deepEqual(orderer.depsOf(step(KIND.ftruncate, 'b'), 2), [[1, 1]], 'the truncate of the output waits for the copy');
  orderer.commit(1);
  assert.deepEqual(orderer.depsOf(step(KIND.pread, 'a'), 3), [], 'a read of the input does not wait for the copy (both read it)');

  // replayed: cp's copy_file_range then truncate -s 100 in another process, several rounds at --speed max
  const { dir, target, done } = setup('copy-truncate');
  const rows: (Partial<TraceEvent> & { syscall: string })[] = [
    { syscall: 'openat', pid: 100, tid: 100, path: '/w/src', flags: 0, ret: 3n, fd: 3, file_type: 'regular' },
    { syscall: 'openat', pid: 100, tid: 100, path: '/w/copy', flags: O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644, ret: 4n, fd: 4, file_type: 'regular' },
    { syscall: 'copy_file_range', pid: 100, tid: 100, fd: 3, fd2: 4, path: '/w/src', count: 60000n, ret: 60000n, bytes: 60000n, file_type: 'regular' },
    { syscall: 'close', pid: 100, tid: 100, fd: 3, path: '/w/src', file_type: 'regular' },
    { syscall: 'close', pid: 100, tid: 100, fd: 4, path: '/w/copy', file_type: 'regular' },
    { syscall: 'openat', pid: 101, tid: 101, path: '/w/copy', flags: O_WRONLY | O_CREAT, mode: 0o644, ret: 3n, fd: 3, file_type: 'regular' },
    { syscall: 'ftruncate', pid: 101, tid: 101, fd: 3, path: '/w/copy', count: 100n, file_type: 'regular' },
    { syscall: 'close', pid: 101, tid: 101, fd: 3, path: '/w/copy', file_type: 'regular' },
  ];
  const file = trace(dir, 'copy-truncate', rows);
  for (let round = 0; round < 5; round++) {
    const { report } = replay([file, '--target', target, '--speed', 'max']);
    assert.equal(report.events.failed, 0, JSON.stringify(report.failed));
    assert.equal(fs.statSync(path.join(target, 'w/copy')).size, 100, `round ${round}: the copy truncated after it was written`);
  }
  done();
});

test('--workers 2 on 6 threads that wait on each other: lanes share the threads, none waits for ever, the order holds', () => {
  const { dir, target, done } = setup('few-threads');
  const LANES = 6, ROUNDS = 50;
  const rows: (Partial<TraceEvent> & { syscall: string })[] = [];
  for (let k = 0; k < LANES; k++) rows.push({ syscall: 'openat', tid: 200 + k, path: '/ring/file', flags: O_CREAT | O_RDWR, mode: 0o644, ret: BigInt(10 + k), fd: 10 + k, file_type: 'regular' });
  // a relay: in each round thread k writes its block after reading the block thread k-1 wrote just before
  for (let i = 0; i < ROUNDS; i++)
    for (let k = 0; k < LANES; k++) {
      const block = BigInt((i * LANES + k) * 512);
      if (k > 0 || i > 0) rows.push({ syscall: 'pread64', tid: 200 + k, fd: 10 + k, path: '/ring/file', offset: block - 512n, count: 512n, ret: 512n, bytes: 512n, file_type: 'regular' });
      rows.push({ syscall: 'pwrite64', tid: 200 + k, fd: 10 + k, path: '/ring/file', offset: block, count: 512n, ret: 512n, bytes: 512n, file_type: 'regular' });
    }
  const file = trace(dir, 'few-threads', rows);
  const { report } = replay([file, '--target', target, '--speed', 'max', '--workers', '2']);
  assert.equal(report.lanes, LANES);
  assert.ok(report.workers <= 2, `${report.workers} threads at once`);
  assert.equal(report.events.failed, 0, JSON.stringify(report.failed));
  assert.equal(report.events.short_transfers, 0, 'every read found the block before it written');
  assert.equal(fs.statSync(path.join(target, 'ring/file')).size, ROUNDS * LANES * 512);
  done();
});

test('lifecycle rows: a CLONE_FILES child that execs gets its own copies (dup), the parent\'s close leaves them open, exit closes them; the same trace without the rows needs an open per process', () => {
  const { dir, target, done } = setup('shared-exec');
  const CLONE_FILES = 0x400, O_APPEND = 0o2000;
  const file = { path: '/d/log', file_type: 'regular' };
  const rows: (Partial<TraceEvent> & { syscall: string })[] = [
    { syscall: 'mkdir', pid: 10, tid: 10, path: '/d', mode: 0o755 },
    { syscall: 'openat', pid: 10, tid: 10, ...file, flags: O_CREAT | O_WRONLY | O_APPEND, mode: 0o644, ret: 3n, fd: 3 },
    { syscall: 'write', pid: 10, tid: 10, ...file, fd: 3, offset: 0n, count: 100n, ret: 100n, bytes: 100n },
    // a child sharing the fd table; it execs (the table becomes its own: fd 3 stays, a new reference), the parent closes its 3
    { syscall: 'process_fork', pid: 10, tid: 10, ret: 11n, flags: CLONE_FILES },
    { syscall: 'process_exec', pid: 11, tid: 11, count: 11n },
    { syscall: 'close', pid: 10, tid: 10, ...file, fd: 3 },
    // the child appends through its own 3 after the parent's close, and exits holding it
    { syscall: 'write', pid: 11, tid: 11, ...file, fd: 3, offset: 100n, count: 50n, ret: 50n, bytes: 50n },
    { syscall: 'process_exit', pid: 11, tid: 11 },
    { syscall: 'process_exit', pid: 10, tid: 10 },
  ];
  const { report } = replay([trace(dir, 'shared-exec', rows), '--target', target, '--speed', 'max']);
  assert.equal(report.events.failed, 0, JSON.stringify(report.failed));
  assert.equal(report.added.pre_capture_opens, 0, 'the child writes through the file its parent opened, not one of its own');
  assert.equal(fs.statSync(path.join(target, 'd/log')).size, 150);
  const by = Object.fromEntries(report.syscalls.map((x) => [x.syscall, [x.replayed, x.ops, x.skipped]]));
  // the fork shares (no call), the exec copies (one dup), the child's exit closes its copy, the parent's has nothing left
  assert.deepEqual([by.process_fork, by.process_exec, by.process_exit], [[0, 0, 1], [1, 1, 0], [1, 1, 1]]);

  // without the rows (a trace of schema version <= 3) the child's fd is opened on first use
  const old = replay([trace(dir, 'no-rows', rows.filter((x) => !x.syscall.startsWith('process_'))), '--target', path.join(dir, 'target2'), '--speed', 'max']).report;
  assert.equal(old.added.pre_capture_opens, 1);
  done();
});

test('a close whose event came after other threads reused its fd number twice closes its own file, not theirs', () => {
  const { dir, target, done } = setup('late-close');
  const at = (us: number) => 1_000_000_000n + BigInt(us) * 1000n;
  const file = { file_type: 'regular' };
  // in ring-buffer order: thread 100's close of fd 5 entered at 200 us but its event comes after
  // thread 101 opened, wrote and closed fd 5 (b) and thread 102 opened it again (c)
  const rows: (Partial<TraceEvent> & { syscall: string })[] = [
    { syscall: 'openat', tid: 100, ts_ns: at(100), latency_ns: 10_000n, path: '/d/a', flags: O_CREAT | O_WRONLY, mode: 0o644, ret: 5n, fd: 5, ...file },
    { syscall: 'write', tid: 100, ts_ns: at(150), fd: 5, path: '/d/a', count: 3n, ret: 3n, bytes: 3n, ...file },
    { syscall: 'openat', tid: 101, ts_ns: at(205), latency_ns: 10_000n, path: '/d/b', flags: O_CREAT | O_WRONLY, mode: 0o644, ret: 5n, fd: 5, ...file },
    { syscall: 'write', tid: 101, ts_ns: at(220), fd: 5, path: '/d/b', count: 10n, ret: 10n, bytes: 10n, ...file },
    { syscall: 'close', tid: 101, ts_ns: at(230), fd: 5, path: '/d/b', ...file },
    { syscall: 'openat', tid: 102, ts_ns: at(240), latency_ns: 10_000n, path: '/d/c', flags: O_CREAT | O_WRONLY, mode: 0o644, ret: 5n, fd: 5, ...file },
    { syscall: 'close', tid: 100, ts_ns: at(200), latency_ns: 100_000n, fd: 5, path: '/d/a', ...file },
    { syscall: 'write', tid: 102, ts_ns: at(260), fd: 5, path: '/d/c', count: 7n, ret: 7n, bytes: 7n, ...file },
    { syscall: 'close', tid: 102, ts_ns: at(270), fd: 5, path: '/d/c', ...file },
  ];
  const { report } = replay([trace(dir, 'late-close', rows), '--target', target, '--speed', 'max']);
  assert.equal(report.events.failed, 0, JSON.stringify(report.failed));
  assert.deepEqual({ replayed: report.events.replayed, skipped: report.skipped, pre: report.added.pre_capture_opens }, { replayed: rows.length, skipped: {}, pre: 0 });
  assert.deepEqual(['a', 'b', 'c'].map((f) => fs.statSync(path.join(target, 'd', f)).size), [3, 10, 7]);
  done();
});

test('rename chains across threads: a -> b -> c -> d, each step after the one before', () => {
  const { dir, target, done } = setup('rename');
  const file = trace(dir, 'rename', [
    { syscall: 'renameat2', tid: 100, path: '/r/a', path2: '/r/b', flags: 0 },
    { syscall: 'renameat2', tid: 101, path: '/r/b', path2: '/r/c', flags: 0 },
    { syscall: 'renameat2', tid: 102, path: '/r/c', path2: '/r/d', flags: 0 },
    { syscall: 'openat', tid: 103, path: '/r/d', flags: 0, ret: 3n, fd: 3, file_type: 'regular' },
    { syscall: 'read', tid: 103, fd: 3, path: '/r/d', offset: 0n, count: 9000n, ret: 9000n, bytes: 9000n, file_type: 'regular' },
    { syscall: 'close', tid: 103, fd: 3, path: '/r/d', file_type: 'regular' },
    // a directory renamed with a file in it, then the file used at its new path
    { syscall: 'renameat2', tid: 100, path: '/r/dir1', path2: '/r/dir2', flags: 0 },
    { syscall: 'openat', tid: 101, path: '/r/dir2/inner', flags: O_RDWR, ret: 4n, fd: 4, file_type: 'regular' },
    { syscall: 'pread64', tid: 101, fd: 4, path: '/r/dir2/inner', offset: 0n, count: 100n, ret: 100n, bytes: 100n, file_type: 'regular' },
    { syscall: 'close', tid: 101, fd: 4, path: '/r/dir2/inner', file_type: 'regular' },
    { syscall: 'openat', tid: 102, path: '/r/dir2', flags: O_DIRECTORY, ret: 5n, fd: 5, file_type: 'directory' },
    { syscall: 'close', tid: 102, fd: 5, path: '/r/dir2', file_type: 'directory' },
  ]);
  const dry = ior(['replay', file, '--target', target, '--dry-run', '--json']);
  assert.equal(dry.status, 0, dry.stderr);
  const plan = JSON.parse(dry.stdout);
  assert.deepEqual(plan.init.files, [{ rel: 'r/a', size: 9000 }, { rel: 'r/dir1/inner', size: 100 }], 'the chain starts at a; inner was under dir1');
  assert.deepEqual(plan.init.absent, ['r/b', 'r/c', 'r/d', 'r/dir2']);
  assert.ok(!fs.existsSync(target), '--dry-run touches nothing');
  for (let round = 0; round < 3; round++) {
    const { report } = replay([file, '--target', target, '--speed', 'max']);
    assert.equal(report.events.failed, 0, JSON.stringify(report.failed));
    assert.deepEqual(fs.readdirSync(path.join(target, 'r')).sort(), ['d', 'dir2']);
    assert.equal(fs.statSync(path.join(target, 'r/d')).size, 9000);
    assert.equal(fs.statSync(path.join(target, 'r/dir2/inner')).size, 100);
  }
  done();
});

test('target safety: system directories refused, non-empty needs --force, --init-only then --no-init', () => {
  const { dir, target, done } = setup('safety');
  const file = trace(dir, 'safety', [
    { syscall: 'openat', path: '/x/in', flags: 0, ret: 3n, fd: 3, file_type: 'regular' },
    { syscall: 'read', fd: 3, path: '/x/in', offset: 0n, count: 100n, ret: 100n, bytes: 100n, file_type: 'regular' },
    { syscall: 'close', fd: 3, path: '/x/in', file_type: 'regular' },
  ]);
  for (const bad of ['/', '/etc', '/usr/lib', '/tmp', '/proc/self']) {
    const r = ior(['replay', file, '--target', bad]);
    assert.equal(r.status, 1, `--target ${bad}`);
    assert.match(r.stderr, /^ior: --target .* system directory: give a directory of its own/);
    assert.equal(r.stderr.split('\n').length, 2, 'one line, no stack');
  }
  const bad = ior(['replay', file, '--target', target, '--speed', 'fast']);
  assert.match(bad.stderr, /^ior: --speed "fast" is not a speed: use 1x, 2x, 0.5x, 2 or max\n$/);
  const notTrace = ior(['replay', path.join(dir, 'nope.parquet'), '--target', target]);
  assert.match(notTrace.stderr, /^ior: cannot read .*nope.parquet: no such file\n$/);
  fs.mkdirSync(target);
  fs.writeFileSync(path.join(target, 'precious'), 'x');
  const refused = ior(['replay', file, '--target', target]);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /is not empty and was not prepared by ior.*--force/);
  assert.equal(fs.readFileSync(path.join(target, 'precious'), 'utf8'), 'x');
  const init = ior(['replay', file, '--target', target, '--force', '--init-only', '--json']);
  assert.equal(init.status, 0, init.stderr);
  assert.equal(JSON.parse(init.stdout).init.files, 1);
  assert.equal(fs.statSync(path.join(target, 'x/in')).size, 100);
  // prepared by ior now: no --force needed; --no-init leaves the state as it is
  fs.writeFileSync(path.join(target, 'x/in'), 'short');
  const { report } = replay([file, '--target', target, '--no-init', '--speed', 'max']);
  assert.equal(report.init, null);
  assert.equal(report.events.short_transfers, 1, 'the read found 5 bytes where the trace read 100');
  done();
});

test('a target prepared for the same trace is initialized again from its marker, without a plan pass; another trace, a changed one or a bad marker plan again; a hostile marker stays inside', () => {
  const { dir, target, outside, done } = setup('remembered');
  const rows: (Partial<TraceEvent> & { syscall: string })[] = [
    { syscall: 'openat', path: '/in/data', flags: 0, ret: 3n, fd: 3, file_type: 'regular' },
    { syscall: 'read', fd: 3, path: '/in/data', offset: 0n, count: 5000n, ret: 5000n, bytes: 5000n, file_type: 'regular' },
    { syscall: 'close', fd: 3, path: '/in/data', file_type: 'regular' },
    { syscall: 'unlink', path: '/in/data' },
    { syscall: 'openat', path: '/out/new', flags: O_CREAT | O_WRONLY, mode: 0o644, ret: 3n, fd: 3, file_type: 'regular' },
  ];
  const file = trace(dir, 'remembered', rows);
  const marker = path.join(target, '.ior-replay-target');
  const first = replay([file, '--target', target, '--speed', 'max']).report;
  assert.equal(first.init?.stateFrom, 'plan pass');
  assert.equal(first.events.failed, 0, JSON.stringify(first.failed));
  assert.equal(fs.existsSync(path.join(target, 'in/data')), false, 'the replay removed it');
  // again: the state from the marker puts the file back (and clears /out/new) before the first call
  const again = replay([file, '--target', target, '--speed', 'max']).report;
  assert.equal(again.init?.stateFrom, 'target marker');
  assert.equal(again.init?.files, 1);
  assert.equal(again.init?.removed, 1);
  assert.equal(again.events.failed, 0, JSON.stringify(again.failed));
  assert.equal(again.events.short_transfers, 0, 'the read found its 5000 bytes');
  const calls = (r: ReplayReport) => r.syscalls.map((x) => [x.syscall, x.replayed, x.failed]);
  assert.deepEqual(calls(again), calls(first), 'the same calls, with the same results');
  // the trace file changed (re-captured at the same path): a plan pass
  fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
  assert.equal(replay([file, '--target', target, '--speed', 'max']).report.init?.stateFrom, 'plan pass');
  // another trace into the same target: a plan pass
  const other = trace(dir, 'other', rows.slice(0, 3));
  assert.equal(replay([other, '--target', target, '--speed', 'max']).report.init?.stateFrom, 'plan pass');
  // a damaged marker: a plan pass, no error
  fs.writeFileSync(marker, '{not json');
  assert.equal(replay([other, '--target', target, '--speed', 'max']).report.init?.stateFrom, 'plan pass');
  // a marker that names this trace but was edited to point out of the target: made inside, or refused, never outside
  const edited = JSON.parse(fs.readFileSync(marker, 'utf8'));
  edited.init.files.push({ rel: '../outside/victim.txt', size: 4096 }, { rel: '../../outside/new.bin', size: 10 });
  edited.init.absent.push('../outside', '/../outside/victim.txt');
  edited.init.dirs.push('../outside/made');
  fs.writeFileSync(marker, JSON.stringify(edited));
  const before = snapshot(outside);
  const r = ior(['replay', other, '--target', target, '--speed', 'max', '--json']);
  assert.ok(r.status === 0 || r.status === 1, r.stderr);
  assert.deepEqual(snapshot(outside), before, 'nothing outside the target changed');
  done();
});

test('the initial state stored in the trace (INIT_KEY) is used without a plan pass; one of another version, for other events, or with paths out of the target is refused with a warning (a plan pass), never followed outside', () => {
  const { dir, target, outside, done } = setup('stored-init');
  const rows: (Partial<TraceEvent> & { syscall: string })[] = [
    { syscall: 'openat', path: '/in/data', flags: 0, ret: 3n, fd: 3, file_type: 'regular' },
    { syscall: 'read', fd: 3, path: '/in/data', offset: 0n, count: 5000n, ret: 5000n, bytes: 5000n, file_type: 'regular' },
    { syscall: 'close', fd: 3, path: '/in/data', file_type: 'regular' },
  ];
  const events = rows.map((r, i) => event({ ts_ns: 1_000_000_000n + BigInt(i) * 1_000_000n, ...r }, i));
  const withStored = (name: string, stored: unknown) => writeFixtureTrace(path.join(dir, `${name}.parquet`), events, {}, undefined, [{ key: INIT_KEY, value: typeof stored === 'string' ? stored : JSON.stringify(stored) }]);
  // a state unlike the plan's (in/data at 7000 bytes, an extra directory): what the trace holds is what init makes
  const state = { dirs: ['in', 'extra'], files: [{ rel: 'in/data', size: 7000 }], symlinks: [], absent: [], bytes: 7000 };
  const used = replay([withStored('good', { version: INIT_STATE_VERSION, events: 3, init: state }), '--target', target, '--init-only']);
  assert.equal(used.report.init?.stateFrom, 'trace', '--init-only prints what init did');
  assert.equal(fs.statSync(path.join(target, 'in/data')).size, 7000, 'the stored size, not the plan pass\'s 5000');
  assert.ok(fs.statSync(path.join(target, 'extra')).isDirectory());
  assert.equal(used.stderr, '');
  const bad: [string, unknown, RegExp][] = [
    ['version', { version: INIT_STATE_VERSION + 1, events: 3, init: state }, /version/],
    ['events', { version: INIT_STATE_VERSION, events: 4, init: state }, /for 4 events, the trace holds 3/],
    ['dotdot', { version: INIT_STATE_VERSION, events: 3, init: { ...state, files: [{ rel: '../outside/victim.txt', size: 9999 }] } }, /normalized path/],
    ['absolute', { version: INIT_STATE_VERSION, events: 3, init: { ...state, dirs: ['/outside/made'] } }, /normalized path/],
    ['absent', { version: INIT_STATE_VERSION, events: 3, init: { ...state, absent: ['in/../../outside'] } }, /normalized path/],
    ['notjson', '{not json', /not JSON/],
  ];
  const before = snapshot(outside);
  for (const [name, stored, why] of bad) {
    const t = fs.mkdtempSync(path.join(dir, `t-${name}-`));
    const r = replay([withStored(name, stored), '--target', t, '--speed', 'max']);
    assert.equal(r.report.init?.stateFrom, 'plan pass', name);
    assert.equal(fs.statSync(path.join(t, 'in/data')).size, 5000, `${name}: the plan pass's state`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^ior: warning: the initial state stored in .* is not usable \(.*\): working it out from the trace$/);
    assert.match(lines[0]!, why, name);
  }
  assert.deepEqual(snapshot(outside), before, 'nothing outside the target changed');
  done();
});

test('the stored capture of a real shell workload replays with every file in place', () => {
  const { target, done } = setup('stored');
  const file = path.join(REPO_ROOT, 'fixtures/replay/shell-workload.parquet');
  const { report } = replay([file, '--target', target, '--speed', 'max']);
  const work = path.join(target, 'tmp/ior-replay-fixture');
  // see fixtures/replay/workload.sh for what the traced commands did
  assert.deepEqual(fs.readdirSync(path.join(work, 'data')).sort(), ['copy.bin', 'f1.bin', 'f3.bin', 'list.txt', 'log.txt']);
  for (const f of ['f1.bin', 'f3.bin', 'copy.bin']) assert.equal(fs.statSync(path.join(work, 'data', f)).size, 30000, f);
  assert.equal(fs.statSync(path.join(work, 'data/log.txt')).size, 20 * 12);
  assert.equal(report.events.failed, 0, JSON.stringify(report.failed));
  assert.ok(report.events.replayed > 500, `replayed ${report.events.replayed}`);
  assert.ok(report.skipped['memory mapping']! > 0);
  done();
});

test('Ctrl-C stops the replay cleanly and still reports', async () => {
  const { dir, target, done } = setup('sigint');
  // ten appends one second apart: a 9 s replay at 1x
  const rows: (Partial<TraceEvent> & { syscall: string })[] = [{ syscall: 'openat', path: '/log', flags: O_CREAT | O_WRONLY, mode: 0o644, ret: 3n, fd: 3, file_type: 'regular', ts_ns: 1_000_000_000n }];
  for (let i = 0; i < 10; i++) rows.push({ syscall: 'write', fd: 3, path: '/log', offset: BigInt(i * 100), count: 100n, ret: 100n, bytes: 100n, file_type: 'regular', ts_ns: 1_000_000_000n + BigInt(i + 1) * 1_000_000_000n });
  const file = trace(dir, 'sigint', rows);
  const child = iorSpawn(['replay', file, '--target', target, '--json']);
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d));
  // wait until the first write is on disk (the clock runs), then interrupt
  const started = Date.now();
  while (!(fs.existsSync(path.join(target, 'log')) && fs.statSync(path.join(target, 'log')).size >= 100)) {
    assert.ok(Date.now() - started < 20000, 'the replay started');
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGINT');
  const exit = await exitOf(child);
  assert.equal(exit.code, 130);
  const report = JSON.parse(stdout) as ReplayReport;
  assert.equal(report.outcome, 'stopped');
  assert.ok(report.events.replayed >= 2 && report.events.replayed < 11, `replayed ${report.events.replayed}`);
  assert.ok(report.duration.wall_s < 5, `stopped after ${report.duration.wall_s} s`);
  assert.equal(fs.statSync(path.join(target, 'log')).size, (report.events.replayed - 1) * 100, 'the report counts what reached the disk');
  done();
});

test('a trace longer than the planning window streams through it (bounded memory) with the same order', () => {
  const { dir, target, done } = setup('window');
  const rows: (Partial<TraceEvent> & { syscall: string })[] = [
    { syscall: 'openat', tid: 100, path: '/w/file', flags: O_CREAT | O_RDWR, mode: 0o644, ret: 3n, fd: 3, file_type: 'regular' },
  ];
  for (let i = 0; i < 6000; i++) {
    rows.push({ syscall: 'pwrite64', tid: 100 + (i % 3), fd: 3, path: '/w/file', offset: BigInt(i * 64), count: 64n, ret: 64n, bytes: 64n, file_type: 'regular' });
    rows.push({ syscall: 'pread64', tid: 100 + ((i + 1) % 3), fd: 3, path: '/w/file', offset: BigInt(i * 64), count: 64n, ret: 64n, bytes: 64n, file_type: 'regular' });
  }
  rows.push({ syscall: 'close', tid: 100, fd: 3, path: '/w/file', file_type: 'regular' });
  // threads and files first met long after the clock started: the executor grows its lanes and fd slots
  for (let t = 0; t < 40; t++) {
    rows.push({ syscall: 'openat', tid: 300 + t, path: `/w/late-${t}`, flags: O_CREAT | O_WRONLY | O_TRUNC, mode: 0o644, ret: 5n, fd: 5, file_type: 'regular' });
    rows.push({ syscall: 'pwrite64', tid: 300 + t, fd: 5, path: `/w/late-${t}`, offset: 0n, count: BigInt(100 + t), ret: BigInt(100 + t), bytes: BigInt(100 + t), file_type: 'regular' });
    rows.push({ syscall: 'close', tid: 300 + t, fd: 5, path: `/w/late-${t}`, file_type: 'regular' });
  }
  const file = writeFixtureTrace(path.join(dir, 'window.parquet'), rows.map((r, i) => event({ ts_ns: 1_000_000_000n + BigInt(i) * 20_000n, ...r }, i)), {}, 1000);
  const r = ior(['replay', file, '--target', target, '--speed', 'max', '--json'], { env: { ...process.env, IOR_REPLAY_WINDOW: '1500' } });
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as ReplayReport;
  assert.equal(report.events.replayed, rows.length);
  assert.equal(report.events.failed, 0, JSON.stringify(report.failed));
  assert.equal(report.events.short_transfers, 0, 'every read after its write, across window refills');
  for (let t = 0; t < 40; t++) assert.equal(fs.statSync(path.join(target, `w/late-${t}`)).size, 100 + t);
  assert.equal(fs.statSync(path.join(target, 'w/file')).size, 6000 * 64);
  assert.equal(report.lanes, 43);
  // a prepared target: no plan pass, the run plans as it goes (lanes and fds met as it reads)
  for (let t = 0; t < 40; t++) fs.rmSync(path.join(target, `w/late-${t}`));
  const streamed = ior(['replay', file, '--target', target, '--no-init', '--speed', 'max', '--json'], { env: { ...process.env, IOR_REPLAY_WINDOW: '1500' } });
  assert.equal(streamed.status, 0, streamed.stderr);
  const sr = JSON.parse(streamed.stdout) as ReplayReport;
  assert.equal(sr.events.total, rows.length);
  assert.equal(sr.events.replayed, rows.length);
  assert.equal(sr.events.failed, 0, JSON.stringify(sr.failed));
  assert.equal(sr.events.short_transfers, 0);
  assert.equal(sr.lanes, 43);
  for (let t = 0; t < 40; t++) assert.equal(fs.statSync(path.join(target, `w/late-${t}`)).size, 100 + t);
  assert.deepEqual(sr.concurrency.traced, report.concurrency.traced, 'the traced concurrency swept as the run reads is the plan pass\'s');
  // and paced (12001 events over 0.24 s at 1x): windows refill while lanes sleep
  const paced = ior(['replay', file, '--target', target, '--json'], { env: { ...process.env, IOR_REPLAY_WINDOW: '1500' } });
  assert.equal(paced.status, 0, paced.stderr);
  const p = JSON.parse(paced.stdout) as ReplayReport;
  assert.equal(p.events.failed, 0);
  assert.equal(p.events.short_transfers, 0);
  assert.ok(p.duration.achieved_s >= p.duration.intended_s, 'nothing ran before it was due');
  // and it kept the pace: 0.24 s intended, not stretched by the window refills (generous for a shared host)
  assert.ok(p.duration.achieved_s <= p.duration.intended_s + 1.5, `achieved ${p.duration.achieved_s} s for ${p.duration.intended_s} s intended`);
  done();
});

test('calls in flight swept as they stream in equal a sweep of them all at once (in order of ends, calls up to 0.8 s long)', () => {
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const calls: [number, number][] = [];
  for (let i = 0, t = 0; i < 20_000; i++) {
    t += rand() * 2e5;
    const latency = rand() < 0.01 ? rand() * 8e8 : rand() * 5e5;
    calls.push([t, t + latency]);
  }
  calls.sort((a, b) => a[1] - b[1]);
  const sweep = new InFlightSweep();
  for (const [s, e] of calls) sweep.add(s, e);
  // the oracle: every start and end sorted at once, the level timed between them
  const points = calls.flatMap(([s, e]) => [[s, 1], [e, -1]] as [number, number][]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const timeAt = new Map<number, number>();
  let level = 0, max = 0;
  for (let i = 0; i < points.length; i++) {
    level += points[i]![1];
    max = Math.max(max, level);
    if (i + 1 < points.length) timeAt.set(level, (timeAt.get(level) ?? 0) + points[i + 1]![0] - points[i]![0]);
  }
  let total = 0, weighted = 0;
  for (const [l, t] of timeAt) {
    total += t;
    weighted += l * t;
  }
  const got = sweep.result();
  assert.equal(got.max, max);
  assert.ok(Math.abs(got.mean - weighted / total) < 1e-9, `${got.mean} vs ${weighted / total}`);
  assert.ok(max > 3, 'the calls overlap');
});

test('a trace with no events: one line and exit 1, with a plan pass and without one (--no-init)', () => {
  const { dir, target, done } = setup('empty');
  const file = writeFixtureTrace(path.join(dir, 'empty.parquet'), []);
  assertOneLineError(ior(['replay', file, '--target', target, '--json']), /holds no events: nothing to replay/);
  fs.mkdirSync(target, { recursive: true });
  const r = ior(['replay', file, '--target', target, '--no-init', '--speed', 'max', '--json']);
  assertOneLineError(r, /holds no events: nothing to replay/);
  assert.equal(r.status, 1);
  done();
});

test('replay of files that are not usable traces: one line, non-zero exit, nothing created under the target', () => {
  const dir = tempDir('replay-bad');
  const target = path.join(dir, 'target');
  try {
    for (const { file, error } of badTraces(dir)) {
      assertOneLineError(ior(['replay', file, '--target', target, '--speed', 'max']), error);
      assertOneLineError(ior(['replay', file, '--target', target, '--speed', 'max', '--json']), error);
      assert.equal(fs.existsSync(target), false, 'no target made for a file that is not a trace');
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a path of 10,000 components: planned without recursion, init fails with one short line, nothing outside the target', () => {
  const dir = tempDir('replay-deep');
  const target = path.join(dir, 'target');
  try {
    const deep = '/' + Array(10_000).fill('d').join('/') + '/f';
    const file = trace(dir, 'deep', [
      { syscall: 'openat', path: deep, flags: O_CREAT | O_WRONLY, mode: 0o644, ret: 3n, fd: 3, file_type: 'regular' },
      { syscall: 'write', path: deep, fd: 3, count: 5n, ret: 5n, bytes: 5n, file_type: 'regular' },
    ]);
    for (const json of [[], ['--json']]) {
      const r = ior(['replay', file, '--target', target, '--speed', 'max', ...json]);
      assertOneLineError(r, /^ior: init: cannot .* d\/d\/d.*\.\.\.\(19,\d{3} characters\)\.\.\..*d\/d\/f under the target: ENAMETOOLONG$/);
      assert.ok(r.stderr.length < 300, `a short line: ${r.stderr.length} characters`);
    }
    assert.deepEqual(fs.readdirSync(dir).sort(), ['deep.parquet', 'target']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a full target: an init that cannot write fails with one line and no marker; writes that meet ENOSPC exit 3 with one line, the report still on stdout', (t) => {
  if (!needRoot(t, 'mounts a 1 MiB tmpfs as the target')) return;
  const dir = fs.realpathSync(tempDir('replay-full'));
  const { mount: target, unmount } = smallFs(dir, 'target', '1m');
  try {
    const MiB = 1n << 20n;
    // init must create a 4 MiB file for the traced read
    const reads = trace(dir, 'reads', [
      { syscall: 'openat', path: '/data/in', flags: 0, ret: 3n, fd: 3, file_type: 'regular' },
      { syscall: 'read', path: '/data/in', fd: 3, count: 4n * MiB, ret: 4n * MiB, bytes: 4n * MiB, file_type: 'regular' },
    ]);
    for (const json of [[], ['--json']]) {
      const r = ior(['replay', reads, '--target', target, '--speed', 'max', ...json]);
      assertOneLineError(r, /^ior: init: cannot .*data\/in.*ENOSPC$/);
      assert.equal(r.status, 1);
      assert.ok(!fs.existsSync(path.join(target, '.ior-replay-target')), 'no marker after a failed init');
      fs.rmSync(path.join(target, 'data'), { recursive: true, force: true });
    }
    // the trace writes 4 MiB where 1 MiB fits: the later writes fail where the traced ones succeeded
    const writes = trace(dir, 'writes', [
      { syscall: 'openat', path: '/out', flags: O_CREAT | O_WRONLY | O_TRUNC, mode: 0o644, ret: 3n, fd: 3, file_type: 'regular' },
      ...Array.from({ length: 8 }, () => ({ syscall: 'write', path: '/out', fd: 3, count: MiB / 2n, ret: MiB / 2n, bytes: MiB / 2n, file_type: 'regular' as const })),
      { syscall: 'close', path: '/out', fd: 3, file_type: 'regular' },
    ]);
    for (const json of [false, true]) {
      const r = ior(['replay', writes, '--target', target, '--speed', 'max', '--force', ...(json ? ['--json'] : [])]);
      assert.equal(r.status, 3, r.stderr);
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, /^ior: [1-8] replayed calls failed where the trace succeeded \(write ENOSPC x[1-8]\)$/);
      if (json) {
        const report = JSON.parse(r.stdout) as ReplayReport;
        assert.deepEqual(report.failed.map((f) => [f.syscall, f.errno, f.traced]), [['write', 'ENOSPC', 'success']]);
        assert.ok(report.bytes.written.replayed < report.bytes.written.traced);
      } else assert.match(r.stdout, /failed/);
    }
  } finally {
    unmount();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a chmod or chown of / (the target root) is skipped: the target keeps its own mode', () => {
  const { dir, target, done } = setup('chmod-root');
  const file = trace(dir, 'chmod-root', [
    { syscall: 'chmod', path: '/', mode: 0o600 },
    { syscall: 'fchmodat', path: '/', mode: 0o000, flags: 0 },
    { syscall: 'chown', path: '/', mode: 65534, count: 65534n },
    { syscall: 'openat', path: '/', flags: O_DIRECTORY, ret: 3n, fd: 3, file_type: 'directory' },
    { syscall: 'fchmod', path: '/', fd: 3, mode: 0o600, file_type: 'directory' },
    { syscall: 'close', path: '/', fd: 3, file_type: 'directory' },
  ]);
  const { report } = replay([file, '--target', target, '--speed', 'max']);
  assert.equal((report.skipped as Record<string, number>)['target root itself'], 4, JSON.stringify(report.skipped));
  const st = fs.statSync(target);
  assert.equal(st.mode & 0o777, 0o755, 'the target keeps its mode');
  assert.equal(st.uid, process.getuid!());
  done();
});

test('--ops-out: one row per replayed call, joined to the trace by replay_of (DuckDB), read by ior stats and ior sql', async () => {
  const dir = fs.realpathSync(tempDir('replay-ops-out'));
  const trace = path.join(REPO_ROOT, 'fixtures', 'replay', 'shell-workload.parquet');
  const ops = path.join(dir, 'ops.parquet');
  const { report } = replay([trace, '--target', path.join(dir, 'target'), '--speed', '1x', '--ops-out', ops]);
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  const q = async (sql: string) => (await con.run(sql)).getRowObjects();
  // (copy_file_range and sendfile move their bytes in and out: the report counts them as read and as written)
  const [counts] = await q(`SELECT count(*) AS n, count(DISTINCT replay_of) AS distinct_of,
      sum(CASE WHEN syscall IN ('copy_file_range', 'sendfile64') THEN 2 * bytes ELSE bytes END)::BIGINT AS bytes FROM read_parquet('${ops}')`);
  assert.equal(Number(counts!.n), report.events.replayed, 'a row per replayed call');
  assert.equal(Number(counts!.distinct_of), report.events.replayed, 'each traced event once');
  assert.equal(Number(counts!.bytes), report.bytes.read.replayed + report.bytes.written.replayed);
  // the traced side of each row is the traced event's (at 1x, due at its traced time)
  const [join] = await q(`SELECT count(*) AS n,
      count(*) FILTER (WHERE o.syscall = t.syscall AND o.pid = t.pid AND o.tid = t.tid AND o.traced_ret = t.ret AND o.traced_latency_ns = t.latency_ns AND o.due_ns = t.ts_ns) AS same,
      count(*) FILTER (WHERE o.ts_ns < o.due_ns) AS early,
      max(o.ts_ns - o.due_ns) AS max_lag
    FROM read_parquet('${ops}') o JOIN read_parquet('${trace}') t ON o.replay_of = t.seq`);
  assert.equal(Number(join!.n), report.events.replayed);
  assert.equal(Number(join!.same), report.events.replayed, 'syscall, pid, tid, traced result and latency, due time');
  assert.equal(Number(join!.early), 0, 'none issued before it was due');
  assert.ok(Math.abs(Number(join!.max_lag) / 1e6 - report.lag_ms!.max) < 0.01, `max lag ${join!.max_lag} ns vs the report's ${report.lag_ms!.max} ms`);
  // results as the report counts them: failed = a different outcome than traced
  const [failed] = await q(`SELECT count(*) AS n FROM read_parquet('${ops}') WHERE (ret < 0 OR traced_ret < 0) AND ret <> traced_ret`);
  assert.equal(Number(failed!.n), report.events.failed);
  con.closeSync();
  // ior's own readers
  const stats = ior(['stats', ops, '--json']);
  assert.equal(stats.status, 0, stats.stderr);
  const summary = JSON.parse(stats.stdout) as { totals: { events: number }; trace: { schema_version: number; stop_reason: string } };
  assert.equal(summary.totals.events, report.events.replayed);
  assert.equal(summary.trace.schema_version, SCHEMA_VERSION);
  assert.equal(summary.trace.stop_reason, 'replay-completed');
  const sql = ior(['sql', ops, 'SELECT count(*) AS n FROM events WHERE replay_of IS NOT NULL AND due_ns IS NOT NULL', '--json']);
  assert.equal(sql.status, 0, sql.stderr);
  assert.match(sql.stdout, new RegExp(`${report.events.replayed}`));
  // nothing to record without a replay
  const dry = ior(['replay', trace, '--target', path.join(dir, 'target'), '--dry-run', '--ops-out', ops]);
  assert.equal(dry.status, 1);
  assert.equal(dry.stderr, 'ior: --ops-out records the calls a replay issues: --dry-run issues none\n');
  fs.rmSync(dir, { recursive: true });
});
