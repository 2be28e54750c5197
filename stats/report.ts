/**
 * StatsReport: everything `ior stats` says about a trace, as plain data.
 * `--json` prints it as is; the human output renders the same object, so
 * both always carry the same figures. Times are ns, sizes bytes, offsets
 * ns from the trace's start (footer start_ts_ns).
 */
import type { LossCounters } from '../schema/index.js';
import type { RateColumns } from './timeline.js';

export const BREAKDOWN_DIMENSIONS = ['syscall', 'file', 'process', 'dir'] as const;
export type BreakdownDimension = (typeof BREAKDOWN_DIMENSIONS)[number];

export interface BreakdownRow {
  /** syscall name, path, directory or pid; null: events without a path */
  key: string | number | null;
  /** --by process: the process's task name (last seen) */
  comm?: string;
  calls: number;
  errors: number;
  /** sum of the bytes column (what the calls returned as transferred) */
  bytes: number;
  time_ns: number;
  p50_ns: number | null;
  p95_ns: number | null;
  p99_ns: number | null;
  max_ns: number | null;
}

/** read_bytes: read from the file (path); write_bytes: written to it (path, or path2 of a copy). */
export interface FileRow {
  path: string;
  /** calls that name the file as path or path2 (a copy or rename counts for both files) */
  calls: number;
  read_bytes: number;
  write_bytes: number;
  time_ns: number;
}

export interface ProcessRow {
  pid: number;
  comm: string;
  calls: number;
  errors: number;
  read_bytes: number;
  write_bytes: number;
  time_ns: number;
}

export interface ErrorRow {
  syscall: string;
  errno: number;
  /** ENOENT, EACCES, ...; null if this Node does not know the number */
  name: string | null;
  count: number;
}

export interface SlowCall {
  seq: number;
  offset_ns: number;
  pid: number;
  tid: number;
  comm: string;
  syscall: string;
  path: string | null;
  /** what the fd was (pipe, socket, ...): says what a call without a path waited on */
  file_type: string | null;
  latency_ns: number;
  ret: number;
}

/** Calls whose transfer size (bytes) is in [min, max]. */
export interface SizeBucket {
  min: number;
  max: number;
  calls: number;
}

export interface StatsReport {
  file: string;
  trace: {
    ior_version: string;
    schema_version: number;
    /** the BPF programs that captured it (null in older traces) */
    programs: { hooks: string; build: string; load_ms: number; attach_ms: number } | null;
    hostname: string;
    kernel_release: string;
    arch: string;
    cpus: number;
    argv: string[];
    command: string[] | null;
    capture_filters: { pids: number[]; comm: string | null; path_prefix: string[]; syscalls: string[] | null; follow: boolean };
    start_wall: string;
    end_wall: string;
    duration_ns: number;
    stop_reason: string;
    command_exit: { code: number | null; signal: string | null } | null;
    /** the loader ended without END: its exit (the events it held are lost, their number unknown) */
    loader_died: { code: number | null; signal: string | null } | null;
  };
  /** what this report was restricted to (ior stats options) */
  filters: { pids: number[]; comm: string | null; path_prefix: string[]; since_ns: number | null; until_ns: number | null };
  totals: {
    events: number;
    /** events in the file, before the filters above */
    trace_events: number;
    /** entry of the first event and exit of the last one; null when no events */
    first_offset_ns: number | null;
    last_offset_ns: number | null;
    processes: number;
    threads: number;
    /** process lifecycle rows (schema version 4): forks, execs, exits, and exits with a status other than 0 */
    lifecycle: { forks: number; execs: number; exits: number; exits_nonzero: number };
    /** distinct paths (path and path2 columns) */
    files: number;
    read_bytes: number;
    read_calls: number;
    write_bytes: number;
    write_calls: number;
    errors: number;
    /** sum of all latencies */
    time_ns: number;
  };
  losses: LossCounters & { events_lost: number; filtered_out: number };
  breakdown: { by: BreakdownDimension; rows: BreakdownRow[]; omitted: number };
  top_files_by_bytes: FileRow[];
  top_files_by_time: FileRow[];
  top_processes: ProcessRow[];
  errors: ErrorRow[];
  slowest: SlowCall[];
  rate: RateColumns;
  sizes: { read: SizeBucket[]; write: SizeBucket[] };
  /** async operations (libaio, io_uring: schema version 2) by kind, with the queue depth each was submitted at; [] without */
  async: AsyncRow[];
}

export interface AsyncRow {
  syscall: string;
  ops: number;
  bytes: number;
  /** completion not seen before the capture ended */
  unreaped: number;
  /** operations in flight on the ring at submission, itself included */
  depth: { mean: number; p50: number; p99: number; max: number; histogram: [depth: number, ops: number][] };
}
