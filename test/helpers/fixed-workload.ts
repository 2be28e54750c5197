/**
 * test/workloads/iowork-fixed.c, the deterministic workload, and the exact
 * rows its capture must hold. Shared by the capture tests (this host) and
 * the kernel matrix (scripts/kernels/: the same capture on other kernels).
 */
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { Footer, TraceEvent } from '../../schema/index.js';

/** The builds of the BPF programs (native/probe.c, build_name), newest first. */
export const BUILDS = ['btf', 'core', 'core-novma'] as const;
export type Build = (typeof BUILDS)[number];

/** The environment that makes the loader pick `build` (it only ever steps down from what the kernel has). */
export function buildEnv(build: Build): Record<string, string> {
  return { IOR_NO_RDONLY_CAST: build === 'btf' ? '0' : '1', IOR_NO_FIND_VMA: build === 'core-novma' ? '1' : '0' };
}

/** The builds a kernel whose best build is `best` can run. */
export function buildsFrom(best: Build): Build[] {
  return BUILDS.slice(BUILDS.indexOf(best));
}

/** Bytes of DIR/pre.txt, the file the workload opens before the capture (it reads up to byte 500). */
export const PRE_BYTES = 10000;

const O_WRONLY = 0o1, O_RDWR = 0o2, O_CREAT = 0o100, O_TRUNC = 0o1000, O_DIRECTORY = 0o200000, AT_EMPTY_PATH = 0x1000;

/** The fields of a row the expectation states; the rest are checked by fixedCaptureProblems. */
export function pick(r: TraceEvent) {
  return { syscall: r.syscall, path: r.path, path2: r.path2, fd: r.fd, offset: r.offset, count: r.count, ret: r.ret, bytes: r.bytes, flags: r.flags, mode: r.mode, file_type: r.file_type };
}
export type PickedRow = ReturnType<typeof pick>;

export const row = (fields: Partial<PickedRow> & { syscall: string }): PickedRow => ({
  path: null, path2: null, fd: -1, offset: null, count: null, ret: 0n, bytes: 0n, flags: null, mode: null, file_type: null, ...fields,
});

/** The rows of the traced part of iowork-fixed DIR, in order (numbered as in the C file). */
export function expectedFixedRows(dir: string): PickedRow[] {
  const pre = path.join(dir, 'pre.txt');
  const P = 3; // pre.txt: the first fd the workload opened
  const A = 4, D = 4, B = 5; // rel.txt (closed at 7), then sub/ gets 4 again, in-sub.dat 5
  const rel = path.join(dir, 'rel.txt'), sub = path.join(dir, 'sub'), inSub = path.join(sub, 'in-sub.dat'), renamed = path.join(sub, 'renamed.txt');
  const regular = 'regular';
  return [
    row({ syscall: 'pread64', path: pre, fd: P, offset: 50n, count: 100n, ret: 100n, bytes: 100n, file_type: regular }),
    row({ syscall: 'chdir', path: dir }),
    row({ syscall: 'openat', path: rel, fd: A, ret: BigInt(A), flags: O_CREAT | O_WRONLY | O_TRUNC, mode: 0o644, file_type: regular }),
    row({ syscall: 'write', path: rel, fd: A, offset: 0n, count: 4096n, ret: 4096n, bytes: 4096n, file_type: regular }),
    row({ syscall: 'write', path: rel, fd: A, offset: 4096n, count: 4096n, ret: 4096n, bytes: 4096n, file_type: regular }),
    row({ syscall: 'write', path: rel, fd: A, offset: 8192n, count: 4096n, ret: 4096n, bytes: 4096n, file_type: regular }),
    row({ syscall: 'close', path: rel, fd: A, file_type: regular }),
    row({ syscall: 'mkdirat', path: sub, mode: 0o755 }),
    row({ syscall: 'openat', path: sub, fd: D, ret: BigInt(D), flags: O_DIRECTORY, mode: 0, file_type: 'directory' }),
    row({ syscall: 'openat', path: inSub, fd: B, ret: BigInt(B), flags: O_CREAT | O_RDWR, mode: 0o600, file_type: regular }),
    row({ syscall: 'pwrite64', path: inSub, fd: B, offset: 1000n, count: 512n, ret: 512n, bytes: 512n, file_type: regular }),
    row({ syscall: 'fsync', path: inSub, fd: B, file_type: regular }),
    row({ syscall: 'close', path: inSub, fd: B, file_type: regular }),
    row({ syscall: 'renameat2', path: rel, path2: renamed, flags: 0 }),
    row({ syscall: 'openat', path: path.join(dir, 'missing.txt'), fd: -1, ret: -2n, flags: 0, mode: 0 }),
    row({ syscall: 'newfstatat', path: renamed, flags: 0 }),
    row({ syscall: 'lseek', path: pre, fd: P, offset: 200n, ret: 200n, flags: 0, file_type: regular }),
    row({ syscall: 'read', path: pre, fd: P, offset: 200n, count: 300n, ret: 300n, bytes: 300n, file_type: regular }),
    row({ syscall: 'newfstatat', path: pre, fd: P, flags: AT_EMPTY_PATH, file_type: 'regular' }), // the call is on the fd: its type
    row({ syscall: 'unlinkat', path: renamed, flags: 0 }),
    row({ syscall: 'close', path: sub, fd: D, file_type: 'directory' }),
    row({ syscall: 'close', path: pre, fd: P, file_type: regular }),
    // the process ends (exit status 0): its lifecycle row (schema version 4)
    row({ syscall: 'process_exit' }),
  ];
}

/** The size of DIR/sub/in-sub.dat after the workload (and after its replay): 512 bytes at offset 1000. */
export const IN_SUB_BYTES = 1512;

export interface FixedCheck {
  /** rows of the workload's process that equal the expected row at their place */
  matched: number;
  expected: number;
  /** every difference, one line each; empty when the capture is exact */
  problems: string[];
}

const show = (r: unknown) => JSON.stringify(r, (_, v) => (typeof v === 'bigint' ? `${v}n` : v));

/**
 * Checks a `--pid` capture of iowork-fixed DIR (stopped by a signal after
 * the workload exited): every row of process `pid` exactly as expected, in
 * order, on one thread named iowork-fixed, with plausible latencies and
 * increasing entry times inside the capture window; no ring buffer drops;
 * and, when given, the build and hooks the footer says were used.
 */
export function fixedCaptureProblems(rows: TraceEvent[], footer: Footer, pid: number, dir: string, want: { build?: Build; hooks?: string } = {}): FixedCheck {
  const problems: string[] = [];
  const mine = rows.filter((r) => r.pid === pid);
  const expected = expectedFixedRows(dir);
  let matched = 0;
  for (let i = 0; i < Math.max(mine.length, expected.length); i++) {
    const got = mine[i] ? pick(mine[i]!) : undefined;
    if (got && isDeepStrictEqual(got, expected[i])) matched++;
    else problems.push(`row ${i + 1}: got ${got ? show(got) : 'nothing'}, expected ${expected[i] ? show(expected[i]) : 'nothing'}`);
  }
  for (const r of mine) {
    if (r.tid !== pid) problems.push(`${r.syscall}: tid ${r.tid}, expected ${pid}`);
    if (r.comm !== 'iowork-fixed') problems.push(`${r.syscall}: comm ${r.comm}`);
    const lifecycle = r.syscall.startsWith('process_');
    if (lifecycle ? r.latency_ns !== 0n : !(r.latency_ns > 0n && r.latency_ns < 1_000_000_000n)) problems.push(`${r.syscall}: latency ${r.latency_ns} ns`);
  }
  for (let i = 1; i < mine.length; i++) if (mine[i]!.ts_ns <= mine[i - 1]!.ts_ns) problems.push(`row ${i + 1}: entry time does not increase`);
  if (mine.length && !(BigInt(footer.start_ts_ns) <= mine[0]!.ts_ns && mine.at(-1)!.ts_ns <= BigInt(footer.end_ts_ns))) problems.push('events outside the capture window');
  if (footer.events !== rows.length) problems.push(`footer.events ${footer.events}, rows ${rows.length}`);
  if (footer.stop_reason !== 'signal') problems.push(`stop_reason ${footer.stop_reason}`);
  if (footer.losses.unpaired_exits < 1) problems.push('the read(0) in flight at attach is not counted as an unpaired exit');
  if (footer.losses.ringbuf_drops !== 0) problems.push(`ringbuf_drops ${footer.losses.ringbuf_drops}`);
  if (!isDeepStrictEqual(footer.capture.filters.pids, [pid])) problems.push(`filters.pids ${show(footer.capture.filters.pids)}`);
  if (want.build && footer.capture.build !== want.build) problems.push(`build ${footer.capture.build}, expected ${want.build}`);
  if (want.hooks && footer.capture.hooks !== want.hooks) problems.push(`hooks ${footer.capture.hooks}, expected ${want.hooks}`);
  return { matched, expected: expected.length, problems };
}
