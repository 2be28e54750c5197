/**
 * Hand-made traces for tests: rows in, a real trace file out (written by the
 * same TraceWriter capture uses), with a footer whose fields can be overridden.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { batchFromRows, emptyLosses, FORMAT_NAME, SCHEMA_VERSION, type Footer, type TraceEvent } from '../../schema/index.js';
import { TraceWriter, type KeyValue } from '../../trace/index.js';

/** mulberry32: a small seeded generator, so generated traces are the same on every run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function fixtureFooter(events: number, overrides: Partial<Footer> = {}): Footer {
  return {
    format: FORMAT_NAME,
    schema_version: SCHEMA_VERSION,
    ior_version: '0.0.0-test',
    host: { hostname: 'fixture-host', kernel_release: '6.1.0-test', arch: 'x64', cpus: 2 },
    boot_to_wall_ns: '1700000000000000000',
    start_ts_ns: '1000000000',
    end_ts_ns: '2000000000',
    start_wall: '2023-11-14T22:13:21.000Z',
    end_wall: '2023-11-14T22:13:22.000Z',
    capture: {
      argv: ['ior', 'capture', '-o', 'fixture.parquet'],
      command: null,
      filters: { pids: [], comm: null, path_prefix: [], syscalls: null, follow: false },
      loader_version: 'test',
      libbpf_version: 'test',
      ring_bytes: 0,
      attached: [],
      skipped: [],
    },
    events,
    filtered_out: 0,
    losses: emptyLosses(),
    stop_reason: 'signal',
    command_exit: null,
    ...overrides,
  };
}

/** Defaults for every column; pass what the test cares about. */
export function event(fields: Partial<TraceEvent> & Pick<TraceEvent, 'syscall'>, seq = 0): TraceEvent {
  return {
    seq: BigInt(seq),
    ts_ns: 1_000_000_000n + BigInt(seq) * 1000n,
    latency_ns: 1000n,
    pid: 100,
    tid: 100,
    comm: 'fixture',
    fd: -1,
    fd2: -1,
    path: null,
    path2: null,
    flags: null,
    mode: null,
    offset: null,
    count: null,
    ret: 0n,
    bytes: 0n,
    file_type: null,
    async_ring: null,
    async_data: null,
    async_depth: null,
    async_end: null,
    replay_of: null,
    due_ns: null,
    traced_latency_ns: null,
    traced_ret: null,
    ...fields,
  };
}

/** Write rows (seq renumbered in order) as a trace at `path`; returns the path. */
export function writeFixtureTrace(path: string, rows: TraceEvent[], footer: Partial<Footer> = {}, rowGroupRows?: number, extra: KeyValue[] = []): string {
  const writer = TraceWriter.create(path, rowGroupRows);
  writer.append(batchFromRows(rows.map((r, i) => ({ ...r, seq: BigInt(i) }))));
  writer.finish(fixtureFooter(rows.length, footer), extra);
  return path;
}

/** A fresh directory under the OS temp dir; the test removes it. */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `ior-${prefix}-`));
}

/**
 * A temp directory on a disk file system (not tmpfs): where O_DIRECT and
 * async I/O behave as on a database's data directory.
 */
export function diskDir(prefix: string): string {
  const tmpfs = (dir: string) => spawnSync('stat', ['-f', '-c', '%T', dir], { encoding: 'utf8' }).stdout.trim() === 'tmpfs';
  const base = tmpfs(os.tmpdir()) ? '/var/tmp' : os.tmpdir();
  if (tmpfs(base)) throw new Error(`${base} is tmpfs too: the async I/O tests need a disk file system`);
  return fs.realpathSync(fs.mkdtempSync(path.join(base, `ior-${prefix}-`)));
}

/** Every row of a trace, in seq order, with its footer (small traces only). */
export async function readTrace(file: string): Promise<{ rows: TraceEvent[]; footer: Footer }> {
  const { TraceReader } = await import('../../trace/index.js');
  const { rowOf } = await import('../../schema/index.js');
  const reader = await TraceReader.open(file);
  const rows: TraceEvent[] = [];
  for await (const b of reader.batches()) for (let i = 0; i < b.length; i++) rows.push(rowOf(b as never, i));
  return { rows, footer: reader.footer };
}

/** A new directory `name` under `dir` with a tmpfs of `size` (e.g. '1m') mounted on it (needs root): a file system that fills. Unmount with the function returned. */
export function smallFs(dir: string, name: string, size: string): { mount: string; unmount: () => void } {
  const mount = path.join(dir, name);
  fs.mkdirSync(mount);
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mount], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mount -t tmpfs ${mount}: ${r.stderr}`);
  // (lazily if a file is still open: a read stream closes its fd a moment after its last data)
  return { mount, unmount: () => void (spawnSync('umount', [mount]).status === 0 || spawnSync('umount', ['-l', mount])) };
}
