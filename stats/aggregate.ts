/**
 * computeStats: one streaming pass over a trace, a row group at a time,
 * reading only the columns it needs. Memory is bounded by the number of
 * distinct syscalls, files, processes and threads, never by the number of
 * events: latencies go into log-bucketed histograms, the rate into a
 * fixed number of time bins. The loop over a batch allocates nothing per
 * row (map lookups return existing accumulators).
 *
 * With `threads` > 1 (ior stats --threads N) the trace is read in
 * parallel: its row groups are cut into contiguous parts; this thread
 * aggregates the first part and worker threads (stats/worker.ts) the
 * others, each into an Aggregation, and the parts merge in row order into
 * exactly the figures one pass gives. One thread is the default: on the
 * 2-vCPU development VM two threads cost 1.5x the CPU and were no faster
 * (docs/benchmarks.md); machines with free cores may gain.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { workerPath } from '../common/assets.js';
import { IorError } from '../common/errors.js';
import { eventsLost, PROCESS_EXEC, PROCESS_EXIT, PROCESS_FORK, type CodedBatch, type Footer } from '../schema/index.js';
import { TraceReader } from '../trace/index.js';
import { Transfer, transferOf } from './classify.js';
import { LogHistogram } from './histogram.js';
import { RateTimeline } from './timeline.js';
import type { ProgressCallback } from './progress.js';
import { DEFAULT_STATS_OPTIONS, type StatsOptions } from './options.js';
import type { AsyncRow, BreakdownRow, ErrorRow, FileRow, ProcessRow, SizeBucket, SlowCall, StatsReport } from './report.js';

/** The trace columns computeStats reads (the others are never decoded). */
export const STATS_COLUMNS = ['seq', 'ts_ns', 'latency_ns', 'pid', 'tid', 'comm', 'syscall', 'path', 'path2', 'ret', 'bytes', 'file_type', 'async_depth', 'async_end'] as const;

/** Queue depths counted one by one up to this; deeper ones count here. */
const DEPTH_MAX = 1024;

/** One async operation kind (aio_pread, uring_write, ...): its count and the queue depth each was submitted at. */
class AsyncTotals {
  ops = 0;
  bytes = 0;
  /** completion never seen before the capture ended */
  unreaped = 0;
  depthSum = 0;
  /** ops by depth at submission, 1..DEPTH_MAX */
  readonly depths = new Float64Array(DEPTH_MAX + 1);
}

const TWO_32 = 2 ** 32;
// the first name of a number wins: EAGAIN rather than its alias EWOULDBLOCK
const ERRNO_NAMES = new Map(Object.entries(os.constants.errno).reverse().map(([name, n]) => [n, name]));

/** log2 size classes: 0 -> [0, 0], k -> [2^(k-1), 2^k - 1] */
const SIZE_CLASSES = 65;

function sizeClass(bytes: number): number {
  if (bytes < 1) return 0;
  return bytes < 2 ** 32 ? 32 - Math.clz32(bytes) : 64 - Math.clz32(Math.floor(bytes / 2 ** 32));
}

interface SyscallState {
  transfer: Transfer;
  /** a process lifecycle row (schema/lifecycle.ts): which counter of Aggregation.lifecycle it adds to */
  lifecycle: 'forks' | 'execs' | 'exits' | null;
  errnos: Map<number, number>;
  /** the breakdown group when --by syscall (saves a lookup per row) */
  group: Group;
}

class Group {
  calls = 0;
  errors = 0;
  bytes = 0;
  time = 0;
  comm = '';
  readonly latency = new LogHistogram();
}

class FileTotals {
  calls = 0;
  read = 0;
  write = 0;
  time = 0;
}

class ProcessTotals {
  calls = 0;
  errors = 0;
  read = 0;
  write = 0;
  time = 0;
  comm = '';
}

/** The `size` largest latencies seen, as a min-heap on latency. */
class SlowestCalls {
  readonly heap: SlowCall[] = [];
  constructor(private readonly size: number) {}

  /** Latency a call must exceed to get in. */
  get threshold(): number {
    return this.heap.length < this.size ? -Infinity : this.heap[0]!.latency_ns;
  }

  offer(call: SlowCall): void {
    const heap = this.heap;
    if (heap.length < this.size) {
      heap.push(call);
      let i = heap.length - 1;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (heap[parent]!.latency_ns <= heap[i]!.latency_ns) break;
        [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
        i = parent;
      }
      return;
    }
    heap[0] = call;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let smallest = i;
      if (l < heap.length && heap[l]!.latency_ns < heap[smallest]!.latency_ns) smallest = l;
      if (r < heap.length && heap[r]!.latency_ns < heap[smallest]!.latency_ns) smallest = r;
      if (smallest === i) break;
      [heap[smallest], heap[i]] = [heap[i]!, heap[smallest]!];
      i = smallest;
    }
  }

  sorted(): SlowCall[] {
    return [...this.heap].sort((a, b) => b.latency_ns - a.latency_ns || a.seq - b.seq);
  }
}

/**
 * An int64 column as 32-bit words, read as numbers without a BigInt per
 * row (reading a BigInt64Array element allocates one): value i is
 * high[2i+1] * 2^32 + low[2i], exact below 2^53 (little-endian, as every
 * platform ior runs on). The low words come from a Uint32Array: `x >>> 0`
 * on an Int32Array word made the JIT assume small integers and throw the
 * optimized loop away at the first word past 2^31.
 */
function int64Words(column: BigInt64Array): { low: Uint32Array; high: Int32Array } {
  return { low: new Uint32Array(column.buffer, column.byteOffset, column.length * 2), high: new Int32Array(column.buffer, column.byteOffset, column.length * 2) };
}

/** A lookup table for the entries of a dictionary, empty. */
function perEntry<T>(size: number): (T | undefined)[] {
  return new Array<T | undefined>(size).fill(undefined);
}

const LIFECYCLE_COUNTERS: Record<string, SyscallState['lifecycle']> = { [PROCESS_FORK]: 'forks', [PROCESS_EXEC]: 'execs', [PROCESS_EXIT]: 'exits' };

function parentDir(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? '/' : path.slice(0, slash);
}

function mapGet<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) map.set(key, (value = make()));
  return value;
}

/** What every part of a read shares: the filters, the time origin, the breakdown. */
export interface AggregationScope {
  options: StatsOptions;
  /** ts_ns of offset 0: the footer's start, else the earliest event */
  origin: bigint;
  /** where the rate timeline's bins start (offset ns) */
  timelineOriginNs: number;
}

/**
 * The accumulators of one part of a trace (plain data and a few classes, so
 * a worker can post it: structured clone keeps the fields, revive() puts the
 * prototypes back). merge() adds a later part.
 */
export class Aggregation {
  readonly syscalls = new Map<string, SyscallState>();
  readonly groups = new Map<string | number | null, Group>();
  readonly files = new Map<string, FileTotals>();
  readonly processes = new Map<number, ProcessTotals>();
  readonly threads = new Set<number>();
  readonly async = new Map<string, AsyncTotals>();
  /** process lifecycle rows; exits_nonzero: exits with a wait status other than 0 (an exit code or a signal) */
  readonly lifecycle = { forks: 0, execs: 0, exits: 0, exits_nonzero: 0 };
  readonly readSizes = new Float64Array(SIZE_CLASSES);
  readonly writeSizes = new Float64Array(SIZE_CLASSES);
  readonly slowest: SlowestCalls;
  readonly timeline: RateTimeline;
  events = 0;
  errors = 0;
  readBytes = 0;
  readCalls = 0;
  writeBytes = 0;
  writeCalls = 0;
  totalTime = 0;
  firstOffset = Infinity;
  lastOffset = -Infinity;

  constructor(scope: AggregationScope) {
    this.slowest = new SlowestCalls(scope.options.top);
    this.timeline = new RateTimeline(scope.timelineOriginNs);
  }

  /** An Aggregation that went through structured clone (postMessage), with its prototypes back. */
  static revive(data: Aggregation): Aggregation {
    Object.setPrototypeOf(data, Aggregation.prototype);
    Object.setPrototypeOf(data.slowest, SlowestCalls.prototype);
    Object.setPrototypeOf(data.timeline, RateTimeline.prototype);
    for (const g of data.groups.values()) Object.setPrototypeOf(g.latency, LogHistogram.prototype);
    for (const sc of data.syscalls.values()) Object.setPrototypeOf(sc.group.latency, LogHistogram.prototype);
    for (const a of data.async.values()) Object.setPrototypeOf(a, AsyncTotals.prototype);
    return data;
  }

  /** Add `later`, the aggregation of the rows that follow this one's (its last-seen names win). */
  merge(later: Aggregation): void {
    const mergeGroup = (into: Group, from: Group) => {
      into.calls += from.calls;
      into.errors += from.errors;
      into.bytes += from.bytes;
      into.time += from.time;
      if (from.calls > 0) into.comm = from.comm;
      into.latency.merge(from.latency);
    };
    for (const [name, sc] of later.syscalls) {
      const mine = this.syscalls.get(name);
      if (mine === undefined) this.syscalls.set(name, sc);
      else for (const [errno, n] of sc.errnos) mine.errnos.set(errno, (mine.errnos.get(errno) ?? 0) + n);
    }
    // --by syscall: a syscall's group is also its SyscallState's, so merging here merges both
    for (const [key, g] of later.groups) {
      const mine = this.groups.get(key);
      if (mine === undefined) this.groups.set(key, g);
      else mergeGroup(mine, g);
    }
    for (const [path, f] of later.files) {
      const mine = this.files.get(path);
      if (mine === undefined) this.files.set(path, f);
      else {
        mine.calls += f.calls;
        mine.read += f.read;
        mine.write += f.write;
        mine.time += f.time;
      }
    }
    for (const [pid, p] of later.processes) {
      const mine = this.processes.get(pid);
      if (mine === undefined) this.processes.set(pid, p);
      else {
        mine.calls += p.calls;
        mine.errors += p.errors;
        mine.read += p.read;
        mine.write += p.write;
        mine.time += p.time;
        mine.comm = p.comm;
      }
    }
    for (const t of later.threads) this.threads.add(t);
    for (const [name, a] of later.async) {
      const mine = this.async.get(name);
      if (mine === undefined) this.async.set(name, a);
      else {
        mine.ops += a.ops;
        mine.bytes += a.bytes;
        mine.unreaped += a.unreaped;
        mine.depthSum += a.depthSum;
        a.depths.forEach((n, d) => (mine.depths[d] += n));
      }
    }
    later.readSizes.forEach((n, k) => (this.readSizes[k] += n));
    later.writeSizes.forEach((n, k) => (this.writeSizes[k] += n));
    for (const call of later.slowest.heap) if (call.latency_ns > this.slowest.threshold) this.slowest.offer(call);
    this.timeline.merge(later.timeline);
    for (const k of ['forks', 'execs', 'exits', 'exits_nonzero'] as const) this.lifecycle[k] += later.lifecycle[k];
    this.events += later.events;
    this.errors += later.errors;
    this.readBytes += later.readBytes;
    this.readCalls += later.readCalls;
    this.writeBytes += later.writeBytes;
    this.writeCalls += later.writeCalls;
    this.totalTime += later.totalTime;
    this.firstOffset = Math.min(this.firstOffset, later.firstOffset);
    this.lastOffset = Math.max(this.lastOffset, later.lastOffset);
  }
}

/**
 * Aggregate row groups [groups.start, groups.end) of `reader` into a new
 * Aggregation; `onRows` after each row group with the rows it had.
 * String columns come coded (a dictionary per row group and an index per
 * row): what depends only on a string (its syscall's state, its file's
 * totals, whether it passes a filter) is looked up once per distinct value
 * and row group, then found per row by index.
 */
export async function aggregatePart(reader: TraceReader, scope: AggregationScope, groups: { start: number; end: number }, onRows?: (rows: number) => void): Promise<Aggregation> {
  const { options, origin } = scope;
  const agg = new Aggregation(scope);
  const { syscalls, groups: breakdown, files, processes, threads, readSizes, writeSizes, slowest, timeline } = agg;
  const by = options.by;
  // the origin as 32-bit words: offsets are exact even when ts_ns is past 2^53 (104 days of uptime)
  const originHigh = Number(BigInt.asIntN(32, origin >> 32n));
  const originLow = Number(origin & 0xffffffffn);
  const since = options.sinceNs ?? -Infinity;
  const until = options.untilNs ?? Infinity;
  const pidFilter = options.pids.length ? new Set(options.pids) : null;
  const commFilter = options.comm;
  const prefixes = options.pathPrefixes.length ? options.pathPrefixes : null;
  const passesPrefix = (p: string) => prefixes!.some((prefix) => p.startsWith(prefix));
  const dirOf = new Map<string, string>();
  const newGroup = () => new Group();
  const syscallState = (name: string): SyscallState => {
    let sc = syscalls.get(name);
    if (sc === undefined) {
      sc = { transfer: transferOf(name), lifecycle: LIFECYCLE_COUNTERS[name] ?? null, errnos: new Map(), group: by === 'syscall' ? mapGet(breakdown, name, newGroup) : newGroup() };
      syscalls.set(name, sc);
    }
    return sc;
  };
  const fileTotals = (path: string) => mapGet(files, path, () => new FileTotals());
  const fileGroup = (path: string) => mapGet(breakdown, by === 'file' ? path : mapGet(dirOf, path, () => parentDir(path)), newGroup);
  let lastPid = NaN;
  let proc: ProcessTotals | undefined;
  let lastTid = NaN;

  // the loop over a batch is a function of its own: the JIT optimizes it as a whole, not by on-stack replacement of the loop inside the async function
  const addBatch = (batch: CodedBatch<(typeof STATS_COLUMNS)[number]>) => {
    const { seq, pid, tid } = batch;
    const { low: tsLow, high: tsHigh } = int64Words(batch.ts_ns);
    const { low: latencyLow, high: latencyHigh } = int64Words(batch.latency_ns);
    const { low: retLow, high: retHigh } = int64Words(batch.ret);
    const { low: movedLow, high: movedHigh } = int64Words(batch.bytes);
    const syscallCodes = batch.syscall.codes;
    const commCodes = batch.comm.codes;
    const pathCodes = batch.path.codes;
    const path2Codes = batch.path2.codes;
    const commNames = batch.comm.dictionary;
    const pathNames = batch.path.dictionary;
    const path2Names = batch.path2.dictionary;
    // per dictionary entry of this row group, filled on first use (filled with undefined, not holes: every batch's arrays then have one shape, which the JIT keeps to)
    const stateOf = perEntry<SyscallState>(batch.syscall.dictionary.length);
    const fileOf = perEntry<FileTotals>(pathNames.length);
    const file2Of = perEntry<FileTotals>(path2Names.length);
    const groupOf = perEntry<Group>(by === 'file' || by === 'dir' ? pathNames.length : 0);
    const commPasses = commFilter === null ? null : commNames.map((c) => c === commFilter);
    const pathPasses = prefixes === null ? null : pathNames.map(passesPrefix);
    const depthOf = batch.async_depth.values, depthDefs = batch.async_depth.defs;
    const endCodes = batch.async_end.codes;
    const endNone = batch.async_end.dictionary.indexOf('none');
    const asyncOf = perEntry<AsyncTotals>(batch.syscall.dictionary.length);
    const path2Passes = prefixes === null ? null : path2Names.map(passesPrefix);
    for (let i = 0; i < batch.length; i++) {
      // in this order the sum is a double from its first term: (low - originLow) was taken for a small integer, and the loop thrown away when it was not
      const offset = (tsHigh[2 * i + 1]! - originHigh) * TWO_32 + tsLow[2 * i]! - originLow;
      if (offset < since || offset >= until) continue;
      const p = pid[i]!;
      if (pidFilter !== null && !pidFilter.has(p)) continue;
      const commCode = commCodes[i]!;
      if (commPasses !== null && !commPasses[commCode]) continue;
      const file1 = pathCodes[i]!;
      const file2 = path2Codes[i]!;
      if (pathPasses !== null && !(file1 >= 0 && pathPasses[file1]) && !(file2 >= 0 && path2Passes![file2])) continue;

      const syscallCode = syscallCodes[i]!;
      const sc = stateOf[syscallCode] ?? (stateOf[syscallCode] = syscallState(batch.syscall.dictionary[syscallCode]!));
      const latency = latencyHigh[2 * i + 1]! * TWO_32 + latencyLow[2 * i]!;
      const result = retHigh[2 * i + 1]! * TWO_32 + retLow[2 * i]!;
      const moved = movedHigh[2 * i + 1]! * TWO_32 + movedLow[2 * i]!;
      const failed = result < 0;
      if (sc.lifecycle !== null) {
        agg.lifecycle[sc.lifecycle]++;
        if (sc.lifecycle === 'exits' && result !== 0) agg.lifecycle.exits_nonzero++;
      }
      const transfer = sc.transfer;
      const read = transfer === Transfer.Read || transfer === Transfer.Copy ? moved : 0;
      const written = transfer === Transfer.Write || transfer === Transfer.Copy ? moved : 0;
      const task = commNames[commCode]!;

      agg.events++;
      agg.totalTime += latency;
      if (offset < agg.firstOffset) agg.firstOffset = offset;
      if (offset + latency > agg.lastOffset) agg.lastOffset = offset + latency;
      const t = tid[i]!;
      if (t !== lastTid) {
        threads.add(t);
        lastTid = t;
      }
      if (failed) {
        agg.errors++;
        sc.errnos.set(-result, (sc.errnos.get(-result) ?? 0) + 1);
      }
      if (transfer === Transfer.Read || transfer === Transfer.Copy) {
        agg.readCalls++;
        agg.readBytes += read;
        if (!failed) readSizes[sizeClass(read)]!++;
      }
      if (transfer === Transfer.Write || transfer === Transfer.Copy) {
        agg.writeCalls++;
        agg.writeBytes += written;
        if (!failed) writeSizes[sizeClass(written)]!++;
      }

      const group =
        by === 'syscall' ? sc.group
        : by === 'process' ? mapGet(breakdown, p, newGroup)
        : file1 < 0 ? mapGet(breakdown, null, newGroup)
        : (groupOf[file1] ?? (groupOf[file1] = fileGroup(pathNames[file1]!)));
      group.calls++;
      group.time += latency;
      group.bytes += moved;
      group.comm = task;
      if (failed) group.errors++;
      group.latency.record(latency);

      // the second file (rename, link, copy) counts apart only when it is another file
      const sameFile = file2 >= 0 && file1 >= 0 && path2Names[file2] === pathNames[file1];
      const second = file2 >= 0 && !sameFile;
      if (file1 >= 0) {
        const f = fileOf[file1] ?? (fileOf[file1] = fileTotals(pathNames[file1]!));
        f.calls++;
        f.time += latency;
        f.read += read;
        if (transfer !== Transfer.Copy || sameFile) f.write += written;
      }
      if (second) {
        const f2 = file2Of[file2] ?? (file2Of[file2] = fileTotals(path2Names[file2]!));
        f2.calls++;
        f2.time += latency;
        if (transfer === Transfer.Copy) f2.write += written;
      }

      if (p !== lastPid) {
        proc = processes.get(p);
        if (proc === undefined) processes.set(p, (proc = new ProcessTotals()));
        lastPid = p;
      }
      proc!.calls++;
      proc!.time += latency;
      proc!.read += read;
      proc!.write += written;
      proc!.comm = task;
      if (failed) proc!.errors++;

      if (depthDefs[i]) {
        const depth = depthOf[i]!;
        const a = asyncOf[syscallCode] ?? (asyncOf[syscallCode] = mapGet(agg.async, batch.syscall.dictionary[syscallCode]!, () => new AsyncTotals()));
        a.ops++;
        a.bytes += moved;
        a.depthSum += depth;
        a.depths[Math.min(Math.max(depth, 1), DEPTH_MAX)]!++;
        if (endCodes[i] === endNone && endNone >= 0) a.unreaped++;
      }

      timeline.record(offset, read, written);
      if (latency > slowest.threshold) {
        const fileType = batch.file_type.codes[i]!;
        const path = file1 < 0 ? null : pathNames[file1]!;
        slowest.offer({ seq: Number(seq[i]), offset_ns: offset, pid: p, tid: t, comm: task, syscall: batch.syscall.dictionary[syscallCode]!, path, file_type: fileType < 0 ? null : batch.file_type.dictionary[fileType]!, latency_ns: latency, ret: result });
      }
    }
  };
  for await (const batch of reader.codedBatches(STATS_COLUMNS, groups)) {
    addBatch(batch);
    onRows?.(batch.length);
  }
  return agg;
}

/** `onProgress`: called after each row group with the rows read so far and the trace's total. */
export async function computeStats(file: string, options: StatsOptions = DEFAULT_STATS_OPTIONS, onProgress?: ProgressCallback): Promise<StatsReport> {
  const reader = await TraceReader.open(file);
  const footer = reader.footer;
  const { by, top } = options;

  const footerStart = BigInt(footer.start_ts_ns);
  const range = reader.timestampRange();
  // a footer without a start (0) falls back to the earliest event
  const origin = footerStart > 0n ? footerStart : (range?.min ?? (await firstTimestamp(reader)));
  // the rate bins start at --since, else at the earliest event (row group statistics), else at the start
  const timelineOriginNs = options.sinceNs ?? (range !== null ? Number(range.min - origin) : 0);
  const scope: AggregationScope = { options, origin, timelineOriginNs };

  const groupCount = reader.rowGroupCount;
  const threads = Math.max(1, Math.min(groupCount, options.threads));
  const parts = Array.from({ length: threads }, (_, k) => ({ start: Math.floor((k * groupCount) / threads), end: Math.floor(((k + 1) * groupCount) / threads) }));
  let rowsRead = 0;
  const onRows = (rows: number) => {
    rowsRead += rows;
    onProgress?.(rowsRead, reader.rowCount);
  };
  const workers = parts.slice(1).map((groups) => aggregateInWorker(file, scope, groups, onRows));
  let agg: Aggregation;
  try {
    agg = await aggregatePart(reader, scope, parts[0] ?? { start: 0, end: 0 }, onRows);
    for (const later of await Promise.all(workers.map((w) => w.result))) agg.merge(later);
  } finally {
    for (const w of workers) w.stop();
  }
  const { syscalls, groups, files, processes, readSizes, writeSizes, slowest, timeline, events } = agg;

  const byTime = <T extends { time_ns: number }>(a: T, b: T) => b.time_ns - a.time_ns;
  const groupRows: BreakdownRow[] = [...groups]
    .filter(([, g]) => g.calls > 0)
    .map(([key, g]) => ({
      key,
      ...(by === 'process' ? { comm: g.comm } : {}),
      calls: g.calls,
      errors: g.errors,
      bytes: g.bytes,
      time_ns: g.time,
      p50_ns: g.latency.quantile(0.5),
      p95_ns: g.latency.quantile(0.95),
      p99_ns: g.latency.quantile(0.99),
      max_ns: g.latency.count ? g.latency.max : null,
    }))
    .sort((a, b) => byTime(a, b) || String(a.key).localeCompare(String(b.key)));
  const shownGroups = by === 'syscall' ? groupRows : groupRows.slice(0, top);

  const fileRows: FileRow[] = [...files].map(([p, f]) => ({ path: p, calls: f.calls, read_bytes: f.read, write_bytes: f.write, time_ns: f.time }));
  const byPath = (a: FileRow, b: FileRow) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  const topFilesByBytes = fileRows
    .filter((f) => f.read_bytes + f.write_bytes > 0)
    .sort((a, b) => b.read_bytes + b.write_bytes - (a.read_bytes + a.write_bytes) || byPath(a, b))
    .slice(0, top);
  const topFilesByTime = fileRows
    .filter((f) => f.calls > 0)
    .sort((a, b) => byTime(a, b) || byPath(a, b))
    .slice(0, top);
  const topProcesses: ProcessRow[] = [...processes]
    .map(([pid, p]) => ({ pid, comm: p.comm, calls: p.calls, errors: p.errors, read_bytes: p.read, write_bytes: p.write, time_ns: p.time }))
    .sort((a, b) => byTime(a, b) || a.pid - b.pid)
    .slice(0, top);
  const errorRows: ErrorRow[] = [...syscalls]
    .flatMap(([syscall, sc]) => [...sc.errnos].map(([errno, count]) => ({ syscall, errno, name: ERRNO_NAMES.get(errno) ?? null, count })))
    .sort((a, b) => b.count - a.count || a.syscall.localeCompare(b.syscall) || a.errno - b.errno)
    .slice(0, top);

  const sizeBuckets = (classes: Float64Array): SizeBucket[] => {
    const out: SizeBucket[] = [];
    // 0 B on its own line; from the smallest non-empty size class to the largest, gaps included
    if (classes[0]! > 0) out.push({ min: 0, max: 0, calls: classes[0]! });
    const used = [...classes.keys()].filter((k) => k > 0 && classes[k]! > 0);
    if (used.length === 0) return out;
    for (let k = used[0]!; k <= used[used.length - 1]!; k++) {
      out.push({ min: 2 ** (k - 1), max: 2 ** k - 1, calls: classes[k]! });
    }
    return out;
  };

  const depthAt = (depths: Float64Array, ops: number, q: number) => {
    let seen = 0;
    for (let d = 1; d < depths.length; d++) if ((seen += depths[d]!) >= q * ops) return d;
    return depths.length - 1;
  };
  const asyncRows: AsyncRow[] = [...agg.async]
    .map(([syscall, a]) => ({
      syscall,
      ops: a.ops,
      bytes: a.bytes,
      unreaped: a.unreaped,
      depth: {
        mean: Math.round((a.depthSum / a.ops) * 100) / 100,
        p50: depthAt(a.depths, a.ops, 0.5),
        p99: depthAt(a.depths, a.ops, 0.99),
        max: depthAt(a.depths, a.ops, 1),
        // the distribution, as [depth, ops] pairs of the depths seen
        histogram: [...a.depths.keys()].filter((d) => a.depths[d]! > 0).map((d) => [d, a.depths[d]!] as [number, number]),
      },
    }))
    .sort((a, b) => b.ops - a.ops || a.syscall.localeCompare(b.syscall));

  const losses = footer.losses;
  return {
    file,
    trace: {
      ior_version: footer.ior_version,
      schema_version: footer.schema_version,
      programs: programsOf(footer.capture),
      hostname: footer.host.hostname,
      kernel_release: footer.host.kernel_release,
      arch: footer.host.arch,
      cpus: footer.host.cpus,
      argv: footer.capture.argv,
      command: footer.capture.command,
      capture_filters: footer.capture.filters,
      start_wall: footer.start_wall,
      end_wall: footer.end_wall,
      duration_ns: Number(BigInt(footer.end_ts_ns) - BigInt(footer.start_ts_ns)),
      stop_reason: footer.stop_reason,
      command_exit: footer.command_exit,
      loader_died: footer.loader_died ?? null,
    },
    filters: { pids: options.pids, comm: options.comm, path_prefix: options.pathPrefixes, since_ns: options.sinceNs, until_ns: options.untilNs },
    totals: {
      events,
      trace_events: reader.rowCount,
      first_offset_ns: events ? agg.firstOffset : null,
      last_offset_ns: events ? agg.lastOffset : null,
      processes: processes.size,
      threads: agg.threads.size,
      lifecycle: { ...agg.lifecycle },
      files: files.size,
      read_bytes: agg.readBytes,
      read_calls: agg.readCalls,
      write_bytes: agg.writeBytes,
      write_calls: agg.writeCalls,
      errors: agg.errors,
      time_ns: agg.totalTime,
    },
    losses: { ...losses, events_lost: eventsLost(losses), filtered_out: footer.filtered_out },
    breakdown: { by, rows: shownGroups, omitted: groupRows.length - shownGroups.length },
    top_files_by_bytes: topFilesByBytes,
    top_files_by_time: topFilesByTime,
    top_processes: topProcesses,
    errors: errorRows,
    slowest: slowest.sorted(),
    rate: timeline.columns(options.chartColumns, events ? agg.lastOffset : 0),
    sizes: { read: sizeBuckets(readSizes), write: sizeBuckets(writeSizes) },
    async: asyncRows,
  };
}

/** ts_ns of the trace's first row (a footer without a start, a writer without statistics). */
async function firstTimestamp(reader: TraceReader): Promise<bigint> {
  for await (const batch of reader.batches(['ts_ns'], { start: 0, end: Math.min(1, reader.rowGroupCount) })) if (batch.length > 0) return batch.ts_ns[0]!;
  return 0n;
}

interface WorkerPart {
  result: Promise<Aggregation>;
  stop: () => void;
}

/** Aggregate row groups `groups` of `file` in a worker thread (stats/worker.ts). */
function aggregateInWorker(file: string, scope: AggregationScope, groups: { start: number; end: number }, onRows: (rows: number) => void): WorkerPart {
  const worker = new Worker(workerPath('stats/worker.js'), { workerData: { file, scope, groups } satisfies StatsWorkerInput });
  const result = new Promise<Aggregation>((resolve, reject) => {
    worker.on('message', (message: StatsWorkerMessage) => {
      if ('rows' in message) onRows(message.rows);
      else if ('aggregation' in message) resolve(Aggregation.revive(message.aggregation));
      else reject(message.ior ? new IorError(message.error, message.exitCode) : new Error(message.error));
    });
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new Error(`stats worker exited (${code}) before its result`)));
  });
  return { result, stop: () => void worker.terminate() };
}

export interface StatsWorkerInput {
  file: string;
  scope: AggregationScope;
  groups: { start: number; end: number };
}

export type StatsWorkerMessage = { rows: number } | { aggregation: Aggregation } | { error: string; ior: boolean; exitCode: number };

/** hooks, build and timings of the capture's BPF programs, when the footer has them (traces since the kernel matrix). */
function programsOf(c: Footer['capture']): StatsReport['trace']['programs'] {
  return c.hooks && c.build && c.load_ms !== undefined && c.attach_ms !== undefined ? { hooks: c.hooks, build: c.build, load_ms: c.load_ms, attach_ms: c.attach_ms } : null;
}
