/**
 * The encoded form of replay ops, shared with the native executor
 * (native/replay/replay.c): op kinds, the record layout, and Segment, a
 * fixed-capacity block of one lane's ops in SharedArrayBuffers that the
 * lane's executor thread runs in place and writes results into. A lane's
 * first segment is small and each next one twice the last, up to
 * SEGMENT_OPS: 256 lanes of 42 ops each had 90 MB of segments made and
 * zeroed before (0.3 s of the main thread), whose collection then took the
 * CPUs from the executor threads in the replay's first milliseconds.
 */

/** Native op kinds; the order is the C enum's. */
export const OP_KINDS = [
  'wait', 'open', 'open_pre', 'close', 'read', 'pread', 'readv', 'preadv', 'preadv2',
  'write', 'pwrite', 'writev', 'pwritev', 'pwritev2', 'lseek', 'fsync', 'fdatasync',
  'sync_file_range', 'syncfs', 'ftruncate', 'fallocate', 'fadvise', 'readahead',
  'fstat', 'statat', 'statx', 'access', 'unlink', 'rename', 'mkdir', 'link', 'symlink',
  'readlink', 'getdents', 'chmod', 'fchmod', 'chown', 'fchown', 'utimens', 'utimens_fd',
  'truncate', 'dup', 'fcntl', 'chdir', 'fchdir', 'copy_file_range', 'sendfile', 'sync',
  // async operations, on the lane's io_uring (native/replay/async.c); mode holds the traced depth
  'aread', 'awrite', 'afsync', 'afdatasync',
] as const;
export type OpKind = (typeof OP_KINDS)[number];
export const KIND: Record<OpKind, number> = Object.fromEntries(OP_KINDS.map((k, i) => [k, i])) as Record<OpKind, number>;

/**
 * A bit of a read's or write's flags word (native/replay/replay.h): the traced
 * call met EINVAL on an O_DIRECT fd, so the executor issues it from a buffer
 * one byte off alignment, to meet EINVAL again.
 */
export const OP_MISALIGNED = 1 << 30;

/** int32 words per op (the last 6 hold 3 doubles: offset, count, due). */
export const OP_WORDS = 18;
export const W = { kind: 0, slot: 1, slot2: 2, path: 3, path2: 4, flags: 5, mode: 6, dep1Lane: 7, dep1Index: 8, dep2Lane: 9, dep2Index: 10, ringDepth: 11 } as const;
export const F = { offset: 6, count: 7, due: 8 } as const;
/** doubles per result: ret, issue time (ns after the replay clock started), latency ns */
export const RESULT_DOUBLES = 3;
/** Ops per segment at most; a task runs a range of one segment. */
export const SEGMENT_OPS = 2048;
/** Ops in a lane's first segment. */
export const FIRST_SEGMENT_OPS = 64;
/** a segment's room for the strings of its ops (each distinct one once), per op it holds; one whose op needs more gets more */
const STRING_BYTES_PER_OP = 32;

/** One op as the planner hands it to a segment. */
/** What a segment stores of an op (a Step of replay/interpret.ts is one: no object is made per op). */
export interface OpFields {
  kind: number;
  slot: number;
  slot2: number;
  rel: string | null;
  rel2: string | null;
  flags: number;
  mode: number;
  offset: number;
  count: number;
  /** a ring's request issued as its syscall: its traced depth (the ring is drained to one less first); else 0 */
  ringDepth: number;
}

/** Syscall names, interned: segments hold their index (no object per op for the collector to trace). */
export const SYSCALL_NAMES: string[] = [];
const syscallIds = new Map<string, number>();

function syscallId(name: string): number {
  let id = syscallIds.get(name);
  if (id === undefined) {
    syscallIds.set(name, (id = SYSCALL_NAMES.length));
    SYSCALL_NAMES.push(name);
  }
  return id;
}

export interface TracedInfo {
  /** the traced event's seq, process and thread (for --ops-out) */
  seq: number;
  pid: number;
  tid: number;
  syscall: string;
  ret: number;
  latency: number;
  /** 1 read, 2 write, 0 neither (for byte totals) */
  direction: number;
  /** the number the run gave the file (Runner.fileOf: its calls in flight may be measured), -1 for none */
  file: number;
  /** the event's first op (an event gives several for close_range, process_fork, ...): counts the event */
  first: boolean;
}

const encoder = new TextEncoder();

/** The op's path string (strings hold them NUL-terminated), null if none. */
export function segmentString(seg: Segment, at: number): string | null {
  if (at < 0) return null;
  let end = at;
  while (seg.strings[end] !== 0) end++;
  return decoder.decode(seg.strings.slice(at, end));
}
const decoder = new TextDecoder();

export class Segment {
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly strings: Uint8Array;
  readonly results: Float64Array;
  /** per op: the traced syscall (index in SYSCALL_NAMES, -1 for ops ior adds), result, latency, direction */
  readonly tracedSyscall: Int32Array;
  readonly tracedRet: Float64Array;
  readonly tracedLatency: Float64Array;
  readonly tracedDirection: Uint8Array;
  readonly tracedSeq: Float64Array;
  readonly tracedPid: Int32Array;
  readonly tracedTid: Int32Array;
  readonly tracedFile: Int32Array;
  readonly tracedFirst: Uint8Array;
  length = 0;
  private stringEnd = 0;
  /** where each string is in `strings`: ops on the same path share it (most ops of a segment do) */
  private readonly stringAt = new Map<string, number>();

  /** `base`: the lane-wide index of this segment's first op; `op`: the first op, whose strings must fit; room for `capacity` ops */
  constructor(public lane: number, public base: number, op: OpFields, readonly capacity: number) {
    const ops = new SharedArrayBuffer(capacity * OP_WORDS * 4);
    this.i32 = new Int32Array(ops);
    this.f64 = new Float64Array(ops);
    this.strings = new Uint8Array(new SharedArrayBuffer(Math.max(capacity * STRING_BYTES_PER_OP, stringBytes(op))));
    this.results = new Float64Array(new SharedArrayBuffer(capacity * RESULT_DOUBLES * 8));
    this.tracedSyscall = new Int32Array(capacity);
    this.tracedRet = new Float64Array(capacity);
    this.tracedLatency = new Float64Array(capacity);
    this.tracedDirection = new Uint8Array(capacity);
    this.tracedSeq = new Float64Array(capacity);
    this.tracedPid = new Int32Array(capacity);
    this.tracedTid = new Int32Array(capacity);
    this.tracedFile = new Int32Array(capacity);
    this.tracedFirst = new Uint8Array(capacity);
  }

  /**
   * This segment as a new one, once the executor is done with it and every
   * result is tallied (allocating segments anew cost a tenth of a --speed
   * max replay's main thread, and its memory).
   */
  reuse(lane: number, base: number): this {
    this.lane = lane;
    this.base = base;
    this.length = 0;
    this.stringEnd = 0;
    this.stringAt.clear();
    return this;
  }

  get full(): boolean {
    return this.length === this.capacity;
  }

  /** Room for one more op with these strings? */
  fits(op: OpFields): boolean {
    return this.length < this.capacity && this.stringEnd + stringBytes(op) <= this.strings.length;
  }

  /**
   * Append an op: `due` in ns after the first replayed event (unscaled), the
   * lane ops it waits for (two at most), and the traced event (copied: it
   * may be reused; null for ops ior adds: waits, pre-capture opens).
   */
  push(op: OpFields, due: number, deps: readonly (readonly [lane: number, count: number])[], traced: TracedInfo | null): void {
    const i = this.length++;
    const w = i * OP_WORDS;
    const i32 = this.i32;
    i32[w + W.kind] = op.kind;
    i32[w + W.slot] = op.slot;
    i32[w + W.slot2] = op.slot2;
    i32[w + W.path] = this.string(op.rel);
    i32[w + W.path2] = this.string(op.rel2);
    i32[w + W.flags] = op.flags;
    i32[w + W.mode] = op.mode;
    const d1 = deps[0], d2 = deps[1];
    i32[w + W.dep1Lane] = d1 ? d1[0] : -1;
    i32[w + W.dep1Index] = d1 ? d1[1] : 0;
    i32[w + W.dep2Lane] = d2 ? d2[0] : -1;
    i32[w + W.dep2Index] = d2 ? d2[1] : 0;
    i32[w + W.ringDepth] = op.ringDepth;
    const f = (i * OP_WORDS) / 2;
    this.f64[f + F.offset] = op.offset;
    this.f64[f + F.count] = op.count;
    this.f64[f + F.due] = due;
    // the op's result slot written here first: a page the executor thread
    // faulted in at the op's due time made 256 threads' first calls late
    this.results[i * RESULT_DOUBLES] = 0;
    const t = traced;
    this.tracedSyscall[i] = t ? syscallId(t.syscall) : -1;
    if (t) {
      this.tracedRet[i] = t.ret;
      this.tracedLatency[i] = t.latency;
      this.tracedDirection[i] = t.direction;
      this.tracedSeq[i] = t.seq;
      this.tracedPid[i] = t.pid;
      this.tracedTid[i] = t.tid;
      this.tracedFile[i] = t.file;
      this.tracedFirst[i] = t.first ? 1 : 0;
    }
  }

  private string(s: string | null): number {
    if (s === null) return -1;
    const known = this.stringAt.get(s);
    if (known !== undefined) return known;
    const at = this.stringEnd;
    const { written } = encoder.encodeInto(s, this.strings.subarray(at, this.strings.length - 1));
    this.strings[at + written] = 0;
    this.stringEnd = at + written + 1;
    this.stringAt.set(s, at);
    return at;
  }
}

/** The most bytes an op's strings take (UTF-8 of UTF-16, NUL-terminated). */
function stringBytes(op: OpFields): number {
  return 3 * ((op.rel?.length ?? 0) + (op.rel2?.length ?? 0)) + 2;
}
