/**
 * EventDecoder: EVENTS frames (struct ior_event records, bpf/ior.h) into
 * EventBatch rows, resolving fds and relative paths on the way (PathResolver)
 * and keeping the fd table in step with the opens, dups, closes, chdirs and
 * renames it decodes, and with the process lifecycle records (fork, exec,
 * exit) that come in the same stream (rows too: process_*). One pass, no
 * per-event objects.
 */
import { AIO_OPS, allocateBatch, CLONE_FILES, CLONE_FS, FILE_TYPES, PROCESS_EXEC, PROCESS_EXIT, PROCESS_FORK, sliceBatch, unknownAsyncOp, URING_OPS, type AsyncEnd, type EventBatch, type HelloFrame, type SyscallEntry } from '../schema/index.js';
import { IorError } from '../common/errors.js';
import { AsyncTracker, type CompletedOp, type Ring } from './async.js';
import { O_CLOEXEC, PathResolver } from './fd-table.js';

/** Byte offsets of struct ior_event (bpf/ior.h); docs/wire-format.md has the table. */
const EV = {
  ts_ns: 0, latency_ns: 8, ret: 16, offset: 24, count: 32, pid: 40, tid: 44, fd: 48, fd2: 52, dirfd: 56, dirfd2: 60,
  flags: 64, mode: 68, syscall: 72, file_type: 74, event_flags: 75, path_len: 76, path2_len: 78, comm: 80, size: 104,
} as const;
const COMM_LEN = 16;
const EF_PATH_FAULT = 0x02;
const EF_HAS_POS = 0x08;
const EF_FIXED_FILE = 0x10;
/** struct ior_async after the struct ior_event of an async record: ring, key, user_data */
const ASYNC = { ring: 0, key: 8, user_data: 16, size: 24 } as const;
/** enum ior_reaper, by value */
const REAPERS: Record<number, AsyncEnd> = { 1: 'io_getevents', 2: 'io_pgetevents', 3: 'cqe' };
const AT_EMPTY_PATH = 0x1000;
const F_DUPFD = 0;
const F_DUPFD_CLOEXEC = 1030;
const F_SETFD = 2;
const FD_CLOEXEC = 1;
const CLOSE_RANGE_UNSHARE = 2;
const CLOSE_RANGE_CLOEXEC = 4;
const FORK_SHARED_FILES = 0x1;
const FORK_SHARED_FS = 0x2;
const EBADF = 9;
const RENAME_EXCHANGE = 2;
/** creat(path, mode) is open(path, O_CREAT|O_WRONLY|O_TRUNC, mode): record the flags it implies */
const CREAT_FLAGS = 0o1101;

/** What a syscall does to the fd table or cwd once it succeeded. */
type Effect = 'open' | 'close' | 'close_range' | 'dup' | 'fcntl' | 'chdir' | 'fchdir' | 'rename' | null;

const EFFECTS: Record<string, Effect> = {
  open: 'open', openat: 'open', openat2: 'open', creat: 'open',
  close: 'close', close_range: 'close_range',
  dup: 'dup', dup2: 'dup', dup3: 'dup', fcntl: 'fcntl',
  chdir: 'chdir', fchdir: 'fchdir',
  rename: 'rename', renameat: 'rename', renameat2: 'rename',
};

/** Calls whose successful return value is a byte count of data moved. */
const TRANSFERS = new Set(['read', 'pread64', 'readv', 'preadv', 'preadv2', 'write', 'pwrite64', 'writev', 'pwritev', 'pwritev2', 'copy_file_range', 'sendfile64', 'getdents64']);

/** enum ior_file_type: the fd argument was not open (or the row has none); a regular file */
const FT_NONE = 0;
const FT_REGULAR = 1;

/** io_uring requests that name paths (bpf/async.bpf.h), and what each does to the fd tables once it succeeded */
const URING_PATH_OPS: Record<string, 'open' | 'close' | 'rename' | null> = {
  uring_openat: 'open', uring_openat2: 'open', uring_close: 'close', uring_renameat: 'rename', uring_statx: null, uring_unlinkat: null, uring_mkdirat: null,
};
/** File types with no path (pipe 3, socket 4, anonymous inode 8), one bit each: never looked up in /proc, never unresolved. */
const PATHLESS_FILE_TYPES = (1 << 3) | (1 << 4) | (1 << 8);

interface SyscallInfo {
  name: string;
  effect: Effect;
  transfers: boolean;
  hasFd: boolean;
  hasFd2: boolean;
  hasPath: boolean;
  hasPath2: boolean;
  returnsFd: boolean; // open family: the fd column is the returned fd
  hasFlags: boolean;
  hasMode: boolean;
  hasCount: boolean;
  hasOffset: boolean;
  isCreat: boolean;
}

function infoOf(e: SyscallEntry): SyscallInfo {
  return {
    name: e.name,
    effect: EFFECTS[e.name] ?? null,
    transfers: TRANSFERS.has(e.name),
    hasFd: e.fd >= 0,
    hasFd2: e.fd2 >= 0,
    hasPath: e.path >= 0,
    hasPath2: e.path2 >= 0,
    returnsFd: e.pos === 2 && e.fd < 0,
    hasFlags: e.flags >= 0 || e.name === 'openat2' || e.name === 'creat',
    hasMode: e.mode >= 0 || e.name === 'openat2',
    hasCount: e.count >= 0,
    hasOffset: e.offset >= 0 || e.kind === 'vma', // munmap/msync: the file offset addr maps
    isCreat: e.name === 'creat',
  };
}

export interface DecodeCounters {
  /** events left out by the path-prefix filter (not a loss) */
  filteredOut: number;
}

export class EventDecoder {
  private readonly syscalls: SyscallInfo[];
  private readonly batch: EventBatch;
  private readonly words: Record<'seq' | 'ts_ns' | 'latency_ns' | 'ret' | 'bytes', Int32Array>;
  private readonly comm = new CommCache();
  private readonly offsets = new BigIntCache();
  private readonly counts = new BigIntCache();
  private rows = 0;
  /** a number, not a bigint: one less BigInt per event (2^53 events is out of reach) */
  private seq = 0;
  private readonly records: HelloFrame['records'];
  readonly counters: DecodeCounters = { filteredOut: 0 };
  /** async operations in flight, by ring */
  readonly async = new AsyncTracker(
    (op) => this.asyncRow(op),
    (op, ring) => this.asyncEffect(op, ring),
  );
  /** each io_uring ring's registered files, by index */
  private readonly fixedFiles = new Map<Ring, Map<number, { fd: number; path: string | null; fileType: number }>>();

  constructor(
    hello: HelloFrame,
    readonly resolver: PathResolver,
    private readonly pathPrefixes: readonly string[],
    /** gets each batch of rows; valid only during the call (the decoder reuses it) */
    private readonly onBatch: (batch: EventBatch) => void,
    /**
     * Rows per batch. Each row sets 18 columns, each its own array: with 4096
     * rows they stay in the CPU's cache (~0.5 MB) between rows; with 64k rows
     * (~9 MB) decoding ran about 1.8x slower, from cache misses alone.
     */
    private readonly batchRows = 4096,
  ) {
    if (hello.event_size !== EV.size) {
      throw new IorError(`the loader's events are ${hello.event_size} bytes, this ior expects ${EV.size}: loader and ior are from different builds; rebuild`, 2);
    }
    if (hello.async_size !== ASYNC.size) {
      throw new IorError(`the loader's async records are ${hello.async_size} bytes, this ior expects ${ASYNC.size}: loader and ior are from different builds; rebuild`, 2);
    }
    this.syscalls = [];
    for (const e of hello.syscalls) this.syscalls[e.id] = infoOf(e);
    this.records = hello.records;
    const batch = (this.batch = allocateBatch(this.batchRows));
    const words = (col: BigInt64Array) => new Int32Array(col.buffer, col.byteOffset, col.length * 2);
    this.words = { seq: words(batch.seq), ts_ns: words(batch.ts_ns), latency_ns: words(batch.latency_ns), ret: words(batch.ret), bytes: words(batch.bytes) };
  }

  /** Events decoded so far (after the path filter). */
  get events(): bigint {
    return BigInt(this.seq);
  }

  /** Decode one EVENTS frame payload. */
  decode(payload: Buffer): void {
    const dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    let off = 0;
    const records = this.records;
    while (off + EV.size <= payload.length) {
      const id = dv.getUint16(off + EV.syscall, true);
      if (id >= records.aio_submit && id <= records.uring_file && this.syscalls[id] === undefined) {
        const pathLen = dv.getUint16(off + EV.path_len, true);
        const path2Len = dv.getUint16(off + EV.path2_len, true);
        this.asyncRecord(id, payload, dv, off, pathLen, path2Len);
        off += (EV.size + ASYNC.size + pathLen + path2Len + 7) & ~7;
        continue;
      }
      const pathLen = dv.getUint16(off + EV.path_len, true);
      const path2Len = dv.getUint16(off + EV.path2_len, true);
      this.decodeOne(payload, dv, off, pathLen, path2Len);
      off += (EV.size + pathLen + path2Len + 7) & ~7;
    }
  }

  private decodeOne(buf: Buffer, dv: DataView, off: number, pathLen: number, path2Len: number): void {
    const id = dv.getUint16(off + EV.syscall, true);
    const sc = this.syscalls[id];
    const pid = dv.getInt32(off + EV.pid, true);
    if (sc === undefined) return this.lifecycle(id, buf, dv, off, pid);
    const retLo = dv.getInt32(off + EV.ret, true);
    const retHi = dv.getInt32(off + EV.ret + 4, true);
    const retNum = retHi * 4294967296 + (retLo >>> 0);
    const fdArg = dv.getInt32(off + EV.fd, true);
    const fd2Arg = dv.getInt32(off + EV.fd2, true);
    const dirfd = dv.getInt32(off + EV.dirfd, true);
    const flags = dv.getInt32(off + EV.flags, true);
    const fileType = buf[off + EV.file_type]!;
    const eventFlags = buf[off + EV.event_flags]!;
    const resolver = this.resolver;
    // the kernel saw a file with a name behind the fd argument (for dup: the new fd)
    const named = ((PATHLESS_FILE_TYPES >> fileType) & 1) === 0;
    // when the call entered, as a number (fd-table.ts: fds reused by another thread meanwhile)
    const at = dv.getUint32(off + EV.ts_ns + 4, true) * 4294967296 + dv.getUint32(off + EV.ts_ns, true);

    let fd = sc.hasFd ? fdArg : -1;
    let path: string | null = null;
    let path2: string | null = null;
    const textAt = off + EV.size;
    if (sc.hasPath) {
      if (pathLen > 0) path = resolver.resolve(pid, dirfd, buf.toString('utf8', textAt, textAt + pathLen), at);
      else if ((eventFlags & EF_PATH_FAULT) === 0 && dirfd >= 0 && (flags & AT_EMPTY_PATH || sc.name === 'utimensat' || sc.name === 'readlinkat')) {
        // fstatat(fd, "", AT_EMPTY_PATH), utimensat(fd, NULL, ...), readlinkat(fd, "") (a symlink opened
        // O_PATH | O_NOFOLLOW; it has no flags: an empty path is its fd form): the call is on dirfd itself
        fd = dirfd;
        path = resolver.fdPath(pid, dirfd, true, at);
      }
    } else if (sc.hasFd && fileType !== FT_NONE) {
      path = sc.effect === 'close' ? resolver.closingPath(pid, fdArg, named, at) : resolver.fdPath(pid, fdArg, named, at);
    }
    if (sc.hasPath2) {
      const raw = buf.toString('utf8', textAt + pathLen, textAt + pathLen + path2Len);
      const dirfd2 = dv.getInt32(off + EV.dirfd2, true);
      path2 = dirfd2 === -1 ? raw : resolver.resolve(pid, dirfd2, raw, at); // -1: a symlink target, kept as written
    } else if (sc.hasFd2 && sc.name !== 'close_range' && !sc.effect) {
      path2 = resolver.fdPath(pid, fd2Arg, true, at); // sendfile64/copy_file_range: the out file
    }
    if (sc.returnsFd) fd = retNum >= 0 ? retNum : -1;

    if (retNum >= 0 || (sc.effect === 'close' && retNum !== -EBADF)) this.applyEffect(sc, dv, off, pid, fdArg, fd2Arg, retNum, at, path, path2, named);

    if (this.pathPrefixes.length > 0 && !this.keep(path, path2)) {
      this.counters.filteredOut++;
      return;
    }

    const b = this.batch;
    const i = this.rows;
    const w = this.words;
    const i2 = 2 * i;
    // int64 columns are copied as 32-bit halves: no BigInt per value on the hot path
    const seq = this.seq++;
    w.seq[i2] = seq | 0;
    w.seq[i2 + 1] = Math.floor(seq / 4294967296);
    w.ts_ns[i2] = dv.getInt32(off + EV.ts_ns, true);
    w.ts_ns[i2 + 1] = dv.getInt32(off + EV.ts_ns + 4, true);
    w.latency_ns[i2] = dv.getInt32(off + EV.latency_ns, true);
    w.latency_ns[i2 + 1] = dv.getInt32(off + EV.latency_ns + 4, true);
    w.ret[i2] = retLo;
    w.ret[i2 + 1] = retHi;
    const transferred = sc.transfers && retNum > 0; // else 0: the batch is reused, every column of the row is set
    w.bytes[i2] = transferred ? retLo : 0;
    w.bytes[i2 + 1] = transferred ? retHi : 0;
    b.pid[i] = pid;
    b.tid[i] = dv.getInt32(off + EV.tid, true);
    b.comm[i] = this.comm.at(dv, buf, off + EV.comm);
    b.syscall[i] = sc.name;
    b.fd[i] = fd;
    b.fd2[i] = sc.hasFd2 ? fd2Arg : -1;
    b.path[i] = path;
    b.path2[i] = path2;
    b.flags[i] = sc.isCreat ? CREAT_FLAGS : sc.hasFlags ? flags : null;
    b.mode[i] = sc.hasMode ? dv.getInt32(off + EV.mode, true) : null;
    b.offset[i] = sc.hasOffset || eventFlags & EF_HAS_POS ? this.offsets.at(dv, off + EV.offset) : null;
    b.count[i] = sc.hasCount ? this.counts.at(dv, off + EV.count) : null;
    b.file_type[i] = fileType === 0 ? null : (FILE_TYPES[fileType] ?? 'other');
    b.async_ring[i] = null;
    b.async_data[i] = null;
    b.async_depth[i] = null;
    b.async_end[i] = null;
    if (++this.rows === this.batchRows) this.flush();
  }

  /**
   * An async submit or completion record (bpf/async.bpf.h): a submission
   * is named (opcode, fd's path) now, while its fd is open; the row is
   * written when its completion comes (AsyncTracker).
   */
  private asyncRecord(id: number, buf: Buffer, dv: DataView, off: number, pathLen: number, path2Len: number): void {
    const records = this.records;
    const aio = id === records.aio_submit || id === records.aio_reap;
    const pid = dv.getInt32(off + EV.pid, true);
    const ext = off + EV.size;
    // aio contexts and iocbs are user addresses: per process; io_uring rings and requests are kernel addresses
    const ring = this.async.ring(aio, pid, addressAt(dv, ext + ASYNC.ring));
    const key = addressAt(dv, ext + ASYNC.key);
    const ts = dv.getBigInt64(off + EV.ts_ns, true);
    const fileType = buf[off + EV.file_type]!;
    const named = ((PATHLESS_FILE_TYPES >> fileType) & 1) === 0;
    if (id === records.uring_file) {
      // a registered file: its path now, for the fixed-file requests that name its index
      const fd = dv.getInt32(off + EV.fd, true);
      const path = fd >= 0 && fileType !== FT_NONE ? this.resolver.fdPath(pid, fd, named, Number(ts)) : null;
      let files = this.fixedFiles.get(ring);
      if (!files) this.fixedFiles.set(ring, (files = new Map()));
      files.set(key, { fd, path, fileType });
      return;
    }
    if (id === records.aio_reap || id === records.uring_complete) {
      this.async.completed(ring, key, ts, dv.getBigInt64(off + EV.ret, true), REAPERS[dv.getInt32(off + EV.flags, true)] ?? 'none', aio);
      return;
    }
    const opcode = dv.getUint32(off + EV.mode, true);
    const op = (aio ? AIO_OPS[opcode] : URING_OPS[opcode]) ?? unknownAsyncOp(aio ? 'aio' : 'uring', opcode);
    const fixed = (buf[off + EV.event_flags]! & EF_FIXED_FILE) !== 0;
    const pathOp = URING_PATH_OPS[op.name];
    const at = Number(ts);
    let fd: number, path: string | null, path2: string | null = null, type = fileType, mode: number | null = null;
    let offset = dv.getBigInt64(off + EV.offset, true);
    let count = dv.getBigInt64(off + EV.count, true);
    const fileSlot = pathOp === undefined ? 0 : dv.getInt32(off + EV.fd2, true);
    if (pathOp !== undefined) {
      // openat, statx, unlinkat, mkdirat, renameat: the paths the request named, resolved as the syscalls' are; close: its fd
      const textAt = ext + ASYNC.size;
      fd = pathOp === 'close' && fileSlot === 0 ? dv.getInt32(off + EV.fd, true) : -1;
      path = fd >= 0 ? this.resolver.fdPath(pid, fd, named, at) : pathLen > 0 ? this.resolver.resolve(pid, dv.getInt32(off + EV.dirfd, true), buf.toString('utf8', textAt, textAt + pathLen), at) : null;
      if (path2Len > 0) path2 = this.resolver.resolve(pid, dv.getInt32(off + EV.dirfd2, true), buf.toString('utf8', textAt + pathLen, textAt + pathLen + path2Len), at);
      if (pathOp === 'close' && fileSlot !== 0) path = this.fixedFiles.get(ring)?.get(fileSlot - 1)?.path ?? null;
      // the kernel record's count carries the mode (openat, mkdirat) or mask (statx): the opcode has the mode field
      if (count !== -1n) mode = Number(count);
      count = -1n;
    } else {
      // a registered file (IOSQE_FIXED_FILE) is an index into the ring's table: the row names the fd registered there
      const registered = op.takesFd && fixed ? this.fixedFiles.get(ring)?.get(dv.getInt32(off + EV.fd, true)) : undefined;
      fd = !op.takesFd ? -1 : fixed ? (registered?.fd ?? -1) : dv.getInt32(off + EV.fd, true);
      path = registered ? registered.path : fd >= 0 && fileType !== FT_NONE ? this.resolver.fdPath(pid, fd, named, at) : null;
      if (registered) type = registered.fileType;
    }
    const sub = {
      ts, pid, tid: dv.getInt32(off + EV.tid, true), comm: this.comm.at(dv, buf, off + EV.comm), op, fd, path, path2, fileType: type,
      flags: dv.getInt32(off + EV.flags, true), mode, fileSlot, offset: offset === -1n ? null : offset, count: count === -1n ? null : count,
      data: dv.getBigInt64(ext + ASYNC.user_data, true),
    };
    if (this.pathPrefixes.length > 0 && !this.keep(path, path2)) {
      this.counters.filteredOut++;
      return;
    }
    this.async.submitted(sub, ring, key);
  }

  /** An async operation, completed (or not, at the end), as a row. */
  private asyncRow(op: CompletedOp): void {
    const b = this.batch;
    const i = this.rows;
    const sub = op.sub;
    b.seq[i] = BigInt(this.seq++);
    b.ts_ns[i] = sub.ts;
    b.latency_ns[i] = op.latency;
    b.ret[i] = op.ret;
    b.bytes[i] = sub.op.transfer && op.ret > 0n ? op.ret : 0n;
    b.pid[i] = sub.pid;
    b.tid[i] = sub.tid;
    b.comm[i] = sub.comm;
    b.syscall[i] = sub.op.name;
    // an openat's fd is the one it returned, as a syscall row's
    b.fd[i] = URING_PATH_OPS[sub.op.name] === 'open' ? (sub.fileSlot === 0 && op.ret >= 0n ? Number(op.ret) : -1) : sub.fd;
    b.fd2[i] = -1;
    b.path[i] = sub.path;
    b.path2[i] = sub.path2;
    b.flags[i] = sub.flags;
    b.mode[i] = sub.mode;
    b.offset[i] = sub.offset;
    b.count[i] = sub.count;
    b.file_type[i] = sub.fileType === 0 ? null : (FILE_TYPES[sub.fileType] ?? 'other');
    b.async_ring[i] = op.ringId;
    b.async_data[i] = sub.data;
    b.async_depth[i] = op.depth;
    b.async_end[i] = op.end;
    if (++this.rows === this.batchRows) this.flush();
  }

  /**
   * What a completed io_uring openat, close or renameat does to the fd
   * tables, as its syscall would: a new fd (or direct descriptor, in the
   * ring's registered files), one closed, paths renamed.
   */
  private asyncEffect(op: CompletedOp, ring: Ring): void {
    const sub = op.sub;
    const effect = URING_PATH_OPS[sub.op.name];
    if (!effect || op.ret < 0n) return;
    const done = Number(sub.ts + op.latency);
    if (effect === 'open') {
      if (sub.fileSlot === 0) return this.resolver.opened(sub.pid, Number(op.ret), sub.path, (sub.flags & O_CLOEXEC) !== 0, done);
      const slot = sub.fileSlot === -1 ? Number(op.ret) : sub.fileSlot - 1;
      let files = this.fixedFiles.get(ring);
      if (!files) this.fixedFiles.set(ring, (files = new Map()));
      files.set(slot, { fd: -1, path: sub.path, fileType: FT_REGULAR });
    } else if (effect === 'close') {
      if (sub.fileSlot === 0) this.resolver.closed(sub.pid, sub.fd, Number(sub.ts));
      else this.fixedFiles.get(ring)?.delete(sub.fileSlot - 1);
    } else if (effect === 'rename' && sub.path !== null && sub.path2 !== null && (sub.flags & RENAME_EXCHANGE) === 0) {
      this.resolver.renamed(sub.path, sub.path2);
    }
  }

  /** The capture ended: operations still in flight become rows too (async_end 'none'). */
  finish(): void {
    this.async.finish();
    this.flush();
  }

  /**
   * A fork, exec or exit record: the fd tables follow the processes, and the
   * record becomes a process_* row (schema/lifecycle.ts). Rows of no path:
   * kept whatever the path filter (a reader needs them to follow the fds).
   */
  private lifecycle(id: number, buf: Buffer, dv: DataView, off: number, pid: number): void {
    const records = this.records;
    const ret = dv.getInt32(off + EV.ret, true);
    if (id === records.fork) {
      const shared = dv.getInt32(off + EV.flags, true);
      const filesShared = (shared & FORK_SHARED_FILES) !== 0, fsShared = (shared & FORK_SHARED_FS) !== 0;
      this.resolver.forked(pid, ret, filesShared, fsShared);
      this.lifecycleRow(PROCESS_FORK, buf, dv, off, pid, ret, (filesShared ? CLONE_FILES : 0) | (fsShared ? CLONE_FS : 0), null);
    } else if (id === records.exec) {
      this.resolver.execed(pid);
      this.lifecycleRow(PROCESS_EXEC, buf, dv, off, pid, 0, null, BigInt(dv.getInt32(off + EV.fd, true)));
    } else if (id === records.exit) {
      this.resolver.exited(pid);
      this.lifecycleRow(PROCESS_EXIT, buf, dv, off, pid, ret, null, null);
    } else {
      throw new IorError(`the loader sent syscall id ${id}, not in its own table: loader and ior are from different builds; rebuild`, 2);
    }
  }

  private lifecycleRow(name: string, buf: Buffer, dv: DataView, off: number, pid: number, ret: number, flags: number | null, count: bigint | null): void {
    const b = this.batch;
    const i = this.rows;
    b.seq[i] = BigInt(this.seq++);
    b.ts_ns[i] = dv.getBigInt64(off + EV.ts_ns, true);
    b.latency_ns[i] = 0n;
    b.ret[i] = BigInt(ret);
    b.bytes[i] = 0n;
    b.pid[i] = pid;
    b.tid[i] = dv.getInt32(off + EV.tid, true);
    b.comm[i] = this.comm.at(dv, buf, off + EV.comm);
    b.syscall[i] = name;
    b.fd[i] = -1;
    b.fd2[i] = -1;
    b.path[i] = null;
    b.path2[i] = null;
    b.flags[i] = flags;
    b.mode[i] = null;
    b.offset[i] = null;
    b.count[i] = count;
    b.file_type[i] = null;
    b.async_ring[i] = null;
    b.async_data[i] = null;
    b.async_depth[i] = null;
    b.async_end[i] = null;
    if (++this.rows === this.batchRows) this.flush();
  }

  /** What a successful call (or a close that freed its fd) changes in the fd tables; `at`: when it entered. */
  private applyEffect(sc: SyscallInfo, dv: DataView, off: number, pid: number, fdArg: number, fd2Arg: number, ret: number, at: number, path: string | null, path2: string | null, named: boolean): void {
    const resolver = this.resolver;
    const flags = dv.getInt32(off + EV.flags, true);
    const returned = at + dv.getUint32(off + EV.latency_ns + 4, true) * 4294967296 + dv.getUint32(off + EV.latency_ns, true);
    switch (sc.effect) {
      case 'open':
        resolver.opened(pid, ret, path, (flags & O_CLOEXEC) !== 0, returned);
        break;
      case 'close':
        resolver.closed(pid, fdArg, at);
        break;
      case 'close_range':
        if (flags & CLOSE_RANGE_UNSHARE) resolver.unsharedFiles(pid);
        if (flags & CLOSE_RANGE_CLOEXEC) resolver.setCloexec(pid, fdArg, fd2Arg >>> 0, true);
        else resolver.closedRange(pid, fdArg, fd2Arg >>> 0, at);
        break;
      case 'dup':
        // dup and dup2 clear close-on-exec on the new fd; dup3 takes O_CLOEXEC
        resolver.duplicated(pid, fdArg, ret, sc.hasFlags && (flags & O_CLOEXEC) !== 0, named, at, returned, sc.name !== 'dup');
        break;
      case 'fcntl':
        if (flags === F_DUPFD || flags === F_DUPFD_CLOEXEC) resolver.duplicated(pid, fdArg, ret, flags === F_DUPFD_CLOEXEC, named, at, returned, false);
        else if (flags === F_SETFD) resolver.setCloexec(pid, fdArg, fdArg, (dv.getInt32(off + EV.count, true) & FD_CLOEXEC) !== 0);
        break;
      case 'chdir':
        resolver.changedDirectory(pid, path);
        break;
      case 'fchdir':
        resolver.changedDirectory(pid, resolver.fdPath(pid, fdArg, true, at));
        break;
      case 'rename':
        if (path !== null && path2 !== null && (flags & RENAME_EXCHANGE) === 0) resolver.renamed(path, path2);
        break;
      case null:
        break;
    }
  }

  private keep(path: string | null, path2: string | null): boolean {
    for (const prefix of this.pathPrefixes) {
      if (path !== null && path.startsWith(prefix)) return true;
      if (path2 !== null && path2.startsWith(prefix)) return true;
    }
    return false;
  }

  /**
   * Hand the rows decoded so far to onBatch, then refill the same batch:
   * onBatch must copy what it keeps (TraceWriter.append does). Allocating a
   * fresh 64k-row batch each time, and collecting it, cost more than the
   * decoding (every row sets every column, so nothing needs clearing).
   */
  flush(): void {
    if (this.rows === 0) return;
    // a full batch goes as it is (allocateBatch leaves its length 0: set it); a partial one as a slice
    const rows = this.rows;
    this.rows = 0;
    this.onBatch(rows === this.batchRows ? Object.assign(this.batch, { length: rows }) : (sliceBatch(this.batch, 0, rows) as EventBatch));
  }
}

/**
 * A 64-bit address as a number that tells addresses apart: its low 53 bits
 * (user addresses are below 2^47; kernel addresses differ below that too).
 */
function addressAt(dv: DataView, at: number): number {
  return (dv.getUint32(at + 4, true) & 0x1fffff) * 4294967296 + dv.getUint32(at, true);
}

/**
 * A nullable int64 column's value as a bigint (the batch keeps those as
 * bigint | null). The same value often comes back (a loop's count, its
 * offsets): the last few are kept, compared by their 32-bit halves, and
 * reused instead of allocating a new BigInt.
 */
class BigIntCache {
  private static readonly SIZE = 8; // a power of two
  private readonly lo = new Int32Array(BigIntCache.SIZE);
  private readonly hi = new Int32Array(BigIntCache.SIZE);
  private readonly values: bigint[] = new Array<bigint>(BigIntCache.SIZE).fill(0n);
  private next = 0;

  at(dv: DataView, at: number): bigint {
    const lo = dv.getInt32(at, true);
    const hi = dv.getInt32(at + 4, true);
    for (let k = 0; k < BigIntCache.SIZE; k++) if (this.lo[k] === lo && this.hi[k] === hi) return this.values[k]!;
    const slot = this.next;
    this.next = (slot + 1) & (BigIntCache.SIZE - 1);
    this.lo[slot] = lo;
    this.hi[slot] = hi;
    return (this.values[slot] = dv.getBigInt64(at, true));
  }
}

/**
 * The kernel's comm (16 bytes, NUL-padded) as a string. Consecutive events
 * mostly come from the same task: compare the raw bytes with the last ones
 * and reuse the string instead of decoding it again.
 */
class CommCache {
  private readonly last = new Int32Array(4);
  private lastText = '';

  at(dv: DataView, buf: Buffer, at: number): string {
    const a = dv.getInt32(at, true), b = dv.getInt32(at + 4, true), c = dv.getInt32(at + 8, true), d = dv.getInt32(at + 12, true);
    const last = this.last;
    if (a === last[0] && b === last[1] && c === last[2] && d === last[3] && this.lastText !== '') return this.lastText;
    let end = at;
    while (end < at + COMM_LEN && buf[end] !== 0) end++;
    last[0] = a;
    last[1] = b;
    last[2] = c;
    last[3] = d;
    return (this.lastText = buf.toString('utf8', at, end));
  }
}
