/**
 * The per-event columns of a trace: the one list that capture writes, stats,
 * sql and replay read, and the Parquet schema derives from. Columns are only
 * ever appended (a reader of version N reads every file of version <= N).
 */

/** Physical kinds a column can have; each maps to one Parquet type. */
export type ColumnKind = 'int64' | 'uint64' | 'int32' | 'string';

export interface ColumnDef {
  readonly name: string;
  readonly kind: ColumnKind;
  /** nullable columns hold null where the syscall has no such argument */
  readonly nullable: boolean;
  /** written with DELTA_BINARY_PACKED: monotonic or slowly changing integers */
  readonly delta?: boolean;
  /** the schema version that added the column (absent: 1); a reader gives nulls for it in older traces */
  readonly since?: number;
  readonly description: string;
}

export const COLUMNS = [
  { name: 'seq', kind: 'uint64', nullable: false, delta: true, description: 'emission order, 0-based, gap-free within a trace' },
  { name: 'ts_ns', kind: 'int64', nullable: false, delta: true, description: 'syscall entry time, CLOCK_BOOTTIME ns; add footer boot_to_wall_ns for wall-clock time' },
  { name: 'latency_ns', kind: 'int64', nullable: false, description: 'exit - entry, ns' },
  { name: 'pid', kind: 'int32', nullable: false, description: 'process id (tgid)' },
  { name: 'tid', kind: 'int32', nullable: false, description: 'thread id' },
  { name: 'comm', kind: 'string', nullable: false, description: 'task name at exit (15 bytes at most, as the kernel keeps it)' },
  { name: 'syscall', kind: 'string', nullable: false, description: "the kernel's tracepoint name: openat, pread64, newfstatat, renameat2, ..." },
  { name: 'fd', kind: 'int32', nullable: false, description: 'fd argument, or the fd returned by open/creat/dup; -1 none' },
  { name: 'fd2', kind: 'int32', nullable: false, description: 'second fd: dup2/dup3 target, out fd of sendfile/copy_file_range, last fd of close_range; -1 none' },
  { name: 'path', kind: 'string', nullable: true, description: "absolute path: the path argument resolved against dirfd/cwd, or the fd's file" },
  { name: 'path2', kind: 'string', nullable: true, description: 'second path: rename/link new name, symlink target (as given), out file of sendfile/copy_file_range' },
  { name: 'flags', kind: 'int32', nullable: true, description: 'open flags, *at flags, lseek whence, fadvise advice, fcntl command' },
  { name: 'mode', kind: 'int32', nullable: true, description: 'creation/access mode, mmap prot, chown uid' },
  { name: 'offset', kind: 'int64', nullable: true, description: 'explicit offset argument, else the file position at entry' },
  { name: 'count', kind: 'int64', nullable: true, description: 'bytes requested (length for truncate/fallocate/mmap, gid for chown, arg for fcntl)' },
  { name: 'ret', kind: 'int64', nullable: false, description: 'raw return value, negative errno on error' },
  { name: 'bytes', kind: 'int64', nullable: false, description: 'bytes transferred (ret of a successful read/write-like call), else 0' },
  { name: 'file_type', kind: 'string', nullable: true, description: 'type of the fd\'s file: regular, directory, pipe, socket, char, block, symlink, other' },
  // version 2: async I/O operations (libaio, io_uring), one row each, named aio_* / uring_* in syscall
  { name: 'async_ring', kind: 'int32', nullable: true, since: 2, description: 'async operations: the aio context or io_uring ring they went through, numbered 1, 2, ... in the trace' },
  { name: 'async_data', kind: 'int64', nullable: true, since: 2, description: "async operations: the submitter's aio_data / SQE user_data (its 64 bits as a signed integer)" },
  { name: 'async_depth', kind: 'int32', nullable: true, since: 2, description: "async operations: operations in flight on the ring when this one was submitted, itself included" },
  { name: 'async_end', kind: 'string', nullable: true, since: 2, description: "async operations: how the completion was seen: io_getevents, io_pgetevents, cqe (io_uring), none (not before the capture ended: ret and latency_ns are 0)" },
  // version 3: the ops a replay issued (`ior replay --ops-out`), one row each; null in captures
  { name: 'replay_of', kind: 'int64', nullable: true, since: 3, description: "a replay's op: the seq of the traced event it replays (join with the trace on it)" },
  { name: 'due_ns', kind: 'int64', nullable: true, since: 3, description: "a replay's op: when it was due, on ts_ns's clock (the lag is ts_ns - due_ns; at 1x due_ns is the traced ts_ns)" },
  { name: 'traced_latency_ns', kind: 'int64', nullable: true, since: 3, description: "a replay's op: the traced call's latency_ns (latency_ns is the replay's)" },
  { name: 'traced_ret', kind: 'int64', nullable: true, since: 3, description: "a replay's op: the traced call's ret (ret is the replay's)" },
] as const satisfies readonly ColumnDef[];

export type ColumnName = (typeof COLUMNS)[number]['name'];

/** File types as written in the file_type column, indexed by enum ior_file_type. */
export const FILE_TYPES = [null, 'regular', 'directory', 'pipe', 'socket', 'char', 'block', 'symlink', 'other'] as const;
export type FileType = Exclude<(typeof FILE_TYPES)[number], null>;
