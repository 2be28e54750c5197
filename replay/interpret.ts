/**
 * Interpreter: turns traced events, in trace order, into replay steps. It
 * keeps the traced processes' fd tables in the capture's fd model
 * (trace/fd-model.ts; (pid, fd) -> slot, a file the executor holds),
 * decides for each event whether it is replayed (and as which native op)
 * or skipped (and why), and maps every path under the target. Both passes
 * run it (the plan/init pass and the run pass), so they agree on every
 * decision.
 *
 * A forked child shares its parent's open files as the kernel has it: the
 * process_fork row (schema version 4) dups each file the parent holds into
 * a slot of the child's, so both move one file position and keep one
 * O_APPEND; exec closes the close-on-exec ones, exit what the process
 * still held. Traces without those rows (version <= 3) give each process
 * its own slots, opened on first use.
 */
import path from 'node:path';
import { asyncOpNamed, CLONE_FILES, CLONE_FS, PROCESS_EXEC, PROCESS_EXIT, PROCESS_FORK } from '../schema/index.js';
import { FdModel } from '../trace/fd-model.js';
import { KIND, OP_MISALIGNED, type OpKind } from './ops.js';

/** Columns the replay reads from a trace. */
export const REPLAY_COLUMNS = ['ts_ns', 'latency_ns', 'pid', 'tid', 'syscall', 'fd', 'fd2', 'path', 'path2', 'flags', 'mode', 'offset', 'count', 'ret', 'bytes', 'file_type', 'async_ring', 'async_depth'] as const;

/** One traced event, numbers as doubles (ts relative to the trace's first event). */
export interface Ev {
  /** the row's seq (its index in the trace) */
  seq: number;
  ts: number;
  latency: number;
  pid: number;
  tid: number;
  syscall: string;
  fd: number;
  fd2: number;
  path: string | null;
  path2: string | null;
  flags: number | null;
  mode: number | null;
  offset: number | null;
  count: number | null;
  ret: number;
  bytes: number;
  fileType: string | null;
  /** async operations: the ring (aio context or io_uring) and its depth at submission */
  ring: number | null;
  depth: number | null;
}

export const O_NOFOLLOW = 0o400000, O_PATH = 0o10000000;
export const O_RDWR = 0o2, O_CREAT = 0o100, O_EXCL = 0o200, O_TRUNC = 0o1000, O_DIRECT = 0o40000, O_DIRECTORY = 0o200000, O_CLOEXEC = 0o2000000;
export const AT_SYMLINK_NOFOLLOW = 0x100, AT_REMOVEDIR = 0x200, AT_EACCESS = 0x200, AT_EMPTY_PATH = 0x1000;
/** the *at calls whose AT_EMPTY_PATH form acts on the fd itself, and what they replay as */
const AT_FD_FORMS: Record<string, OpKind> = { newfstatat: 'statat', statx: 'statx', faccessat2: 'access', fchmodat2: 'chmod', fchownat: 'chown' };
const AT_SYMLINK_FOLLOW = 0x400;
const F_DUPFD = 0, F_GETFD = 1, F_SETFD = 2, F_GETFL = 3, F_SETFL = 4, F_DUPFD_CLOEXEC = 1030;
const FD_CLOEXEC = 1;
const CLOSE_RANGE_UNSHARE = 2, CLOSE_RANGE_CLOEXEC = 4;
/** close_range's "to the end" */
const MAX_FD = 2 ** 31 - 1;
const EBADF = 9, EINVAL = 22;

export type SkipReason =
  | 'not a file or directory (pipe, socket, device)'
  | 'pseudo file system (/proc, /sys, /dev)'
  | 'path unknown (relative to an unknown directory)'
  | 'fd unknown (no path recorded)'
  | 'fd opened before the capture, only closed'
  | 'memory mapping'
  | 'asynchronous I/O submission'
  | 'async operation not replayed (only reads, writes and syncs are)'
  | 'fcntl command not replayable'
  | 'target root itself'
  | 'outside --root'
  | 'sendfile/copy_file_range with a non-file end'
  | 'unknown syscall';

/** How each traced syscall is issued: natively as itself, natively as another call, or emulated. */
export const ISSUED_AS: Record<string, string> = {
  open: 'openat2 (RESOLVE_IN_ROOT)', openat: 'openat2 (RESOLVE_IN_ROOT)', openat2: 'openat2 (RESOLVE_IN_ROOT)', creat: 'openat2 (RESOLVE_IN_ROOT), O_CREAT|O_WRONLY|O_TRUNC',
  close: 'close', close_range: 'emulated: close of each replayed fd in the range',
  read: 'read', pread64: 'pread64', readv: 'readv (one iovec)', preadv: 'preadv (one iovec)', preadv2: 'preadv2 (one iovec)',
  write: 'write', pwrite64: 'pwrite64', writev: 'writev (one iovec)', pwritev: 'pwritev (one iovec)', pwritev2: 'pwritev2 (one iovec)',
  lseek: 'lseek', fsync: 'fsync', fdatasync: 'fdatasync', sync_file_range: 'sync_file_range', syncfs: 'syncfs',
  sync: 'emulated: syncfs of the target file system', truncate: 'truncate (via the confined parent directory)', ftruncate: 'ftruncate',
  fallocate: 'fallocate', fadvise64: 'fadvise64', readahead: 'readahead',
  newstat: 'newfstatat', newlstat: 'newfstatat (AT_SYMLINK_NOFOLLOW)', newfstat: 'newfstat', newfstatat: 'newfstatat', statx: 'statx',
  access: 'faccessat2', faccessat: 'faccessat2', faccessat2: 'faccessat2',
  unlink: 'unlinkat', unlinkat: 'unlinkat', rmdir: 'unlinkat (AT_REMOVEDIR)', rename: 'renameat2', renameat: 'renameat2', renameat2: 'renameat2',
  mkdir: 'mkdirat', mkdirat: 'mkdirat', link: 'linkat', linkat: 'linkat', symlink: 'symlinkat', symlinkat: 'symlinkat',
  readlink: 'readlinkat', readlinkat: 'readlinkat', getdents64: 'getdents64',
  chmod: 'fchmodat', fchmod: 'fchmod', fchmodat: 'fchmodat', fchmodat2: 'fchmodat2',
  chown: 'fchownat', lchown: 'fchownat (AT_SYMLINK_NOFOLLOW)', fchown: 'fchown', fchownat: 'fchownat',
  utimensat: 'utimensat (times: now)', futimesat: 'utimensat (times: now)', utime: 'utimensat (times: now)', utimes: 'utimensat (times: now)',
  dup: 'emulated: fcntl(F_DUPFD_CLOEXEC)', dup2: 'dup3 onto the fd the replay holds for the traced number (else fcntl(F_DUPFD_CLOEXEC))', dup3: 'dup3 onto the fd the replay holds for the traced number (else fcntl(F_DUPFD_CLOEXEC))',
  fcntl: 'fcntl (F_GETFD/F_SETFD/F_GETFL/F_SETFL); F_DUPFD emulated with F_DUPFD_CLOEXEC',
  chdir: 'emulated: O_PATH|O_DIRECTORY openat2 + close (the replay keeps its own cwd)', fchdir: 'emulated: newfstat, checked to be a directory',
  copy_file_range: 'copy_file_range', sendfile64: 'sendfile64',
  // async operations: on an io_uring per traced ring, at the traced depth (libaio's through io_uring too)
  aio_pread: 'io_uring READ (libaio through io_uring)', aio_preadv: 'io_uring READ, one buffer (libaio through io_uring)',
  aio_pwrite: 'io_uring WRITE (libaio through io_uring)', aio_pwritev: 'io_uring WRITE, one buffer (libaio through io_uring)',
  aio_fsync: 'io_uring FSYNC (libaio through io_uring)', aio_fdsync: 'io_uring FSYNC DATASYNC (libaio through io_uring)',
  uring_read: 'io_uring READ', uring_readv: 'io_uring READ (one buffer)', uring_read_fixed: 'io_uring READ (unregistered buffer)',
  uring_write: 'io_uring WRITE', uring_writev: 'io_uring WRITE (one buffer)', uring_write_fixed: 'io_uring WRITE (unregistered buffer)',
  uring_fsync: 'io_uring FSYNC',
  // io_uring requests that name paths: synchronously, as their syscalls, in their ring's order
  uring_openat: 'openat2 (RESOLVE_IN_ROOT), in the ring\'s order', uring_openat2: 'openat2 (RESOLVE_IN_ROOT), in the ring\'s order',
  uring_close: 'close, in the ring\'s order', uring_statx: 'statx, in the ring\'s order', uring_unlinkat: 'unlinkat, in the ring\'s order',
  uring_mkdirat: 'mkdirat, in the ring\'s order', uring_renameat: 'renameat2, in the ring\'s order',
  // process lifecycle: what the kernel does to the fds, with the replay's files
  [PROCESS_FORK]: 'emulated: fcntl(F_DUPFD_CLOEXEC) of each file the parent holds, for the child (none with CLONE_FILES)',
  [PROCESS_EXEC]: 'emulated: close of each close-on-exec file', [PROCESS_EXIT]: 'emulated: close of each file the process still held',
};

/**
 * Where the executor threads are chrooted into the target (the default as
 * root), these are issued as themselves: relative to the target's fd, no
 * openat2 walk and no helper syscalls; the rest as in ISSUED_AS.
 */
export const ISSUED_AS_CHROOT: Record<string, string> = {
  open: 'openat', openat: 'openat', openat2: 'openat', creat: 'openat, O_CREAT|O_WRONLY|O_TRUNC',
  truncate: 'truncate', chdir: 'chdir', fchdir: 'fchdir',
  uring_openat: 'openat, in the ring\'s order', uring_openat2: 'openat, in the ring\'s order',
};

/** Async operations the replay issues, by name: reads, writes and syncs. */
const ASYNC_KINDS: Record<string, OpKind> = {
  aio_pread: 'aread', aio_preadv: 'aread', uring_read: 'aread', uring_readv: 'aread', uring_read_fixed: 'aread',
  aio_pwrite: 'awrite', aio_pwritev: 'awrite', uring_write: 'awrite', uring_writev: 'awrite', uring_write_fixed: 'awrite',
  aio_fsync: 'afsync', aio_fdsync: 'afdatasync', uring_fsync: 'afsync',
};
const IORING_FSYNC_DATASYNC = 1;

/** What an op does to the traced namespace, for ordering across lanes and for init. */
export interface Step {
  kind: number;
  slot: number;
  slot2: number;
  /** path under the target ("" is the target itself) */
  rel: string | null;
  rel2: string | null;
  flags: number;
  mode: number;
  offset: number;
  count: number;
  /** a ring's request issued as its syscall: its traced depth; else 0 (replay/ops.ts) */
  ringDepth: number;
  /** 'open_pre' step needed first: the fd was opened before the capture */
  preOpen: { slot: number; rel: string; flags: number; offset: number } | null;
}

export interface SlotInfo {
  slot: number;
  open: boolean;
  /** the path the fd was opened on (mapped), for ordering */
  rel: string | null;
  directory: boolean;
  /** opened with O_DIRECT (or set so by fcntl F_SETFL) */
  direct: boolean;
  skip: SkipReason | null;
}

const PSEUDO_FS = /^\/(proc|sys|dev)(\/|$)/;
/** an fd to a symlink is one opened O_PATH | O_NOFOLLOW: readlinkat(fd, ""), fstat, fchownat(fd, "", AT_EMPTY_PATH) act on the link */
const REPLAYABLE_TYPES = new Set(['regular', 'directory', 'symlink']);
const PATH_SYSCALLS_FOLLOW: Record<string, OpKind> = { newstat: 'statat', newlstat: 'statat', newfstatat: 'statat', statx: 'statx', access: 'access', faccessat: 'access', faccessat2: 'access', chmod: 'chmod', fchmodat: 'chmod', fchmodat2: 'chmod', chown: 'chown', lchown: 'chown', fchownat: 'chown', utimensat: 'utimens', futimesat: 'utimens', utime: 'utimens', utimes: 'utimens', truncate: 'truncate', readlink: 'readlink', readlinkat: 'readlink', chdir: 'chdir' };
const FD_SIMPLE: Record<string, OpKind> = {
  read: 'read', pread64: 'pread', readv: 'readv', preadv: 'preadv', preadv2: 'preadv2',
  write: 'write', pwrite64: 'pwrite', writev: 'writev', pwritev: 'pwritev', pwritev2: 'pwritev2',
  lseek: 'lseek', fsync: 'fsync', fdatasync: 'fdatasync', sync_file_range: 'sync_file_range', syncfs: 'syncfs',
  ftruncate: 'ftruncate', fallocate: 'fallocate', fadvise64: 'fadvise', readahead: 'readahead', newfstat: 'fstat',
  getdents64: 'getdents', fchmod: 'fchmod', fchown: 'fchown', fchdir: 'fchdir',
};
export const READ_KINDS = new Set([KIND.read, KIND.pread, KIND.readv, KIND.preadv, KIND.preadv2, KIND.aread]);
export const WRITE_KINDS = new Set([KIND.write, KIND.pwrite, KIND.writev, KIND.pwritev, KIND.pwritev2, KIND.awrite]);

/**
 * A traced absolute path as a path relative to the target, or the reason it
 * cannot be replayed. `..` cannot climb above the target: it is folded
 * lexically here and the kernel confines symlinks (RESOLVE_IN_ROOT).
 * `root` (--root, relative like the result, '' for /): the traced directory
 * the target stands for; paths under it lose it, the others are skipped.
 */
export function mapPath(p: string | null, root = ''): string | { skip: SkipReason } {
  if (p === null || !p.startsWith('/')) return { skip: 'path unknown (relative to an unknown directory)' };
  if (p.includes('\0')) return { skip: 'path unknown (relative to an unknown directory)' };
  const n = path.posix.normalize(p);
  if (PSEUDO_FS.test(n)) return { skip: 'pseudo file system (/proc, /sys, /dev)' };
  return underRoot(relativeOf(n), root) ?? { skip: 'outside --root' };
}

/** An absolute path, normalized, without its leading and trailing slashes ('' for /). */
export function relativeOf(abs: string): string {
  return path.posix.normalize(abs).replace(/^\/+/, '').replace(/\/+$/, '');
}

/** A relative path as seen from `root` (relative; '' for /, which holds every path), or null if it is not under it. */
export function underRoot(rel: string, root: string): string | null {
  if (root === '') return rel;
  if (rel === root) return '';
  return rel.startsWith(root + '/') ? rel.slice(root.length + 1) : null;
}

/**
 * A symlink's target as written, for the replay under --root: an absolute
 * one into the root points into the target's top as it pointed into the
 * root (the kernel resolves it inside the target); any other stays as written.
 */
export function mapLinkText(text: string, root: string): string {
  if (root === '' || !text.startsWith('/')) return text;
  const rel = mapPath(text, root);
  return typeof rel === 'string' ? `/${rel}` : text;
}

/** Why a close of an fd the trace never showed opening (before the capture, or by an untraced call such as socket or pipe) is skipped. */
function onlyClosed(e: Ev): SkipReason {
  return e.fileType !== null && !REPLAYABLE_TYPES.has(e.fileType) ? 'not a file or directory (pipe, socket, device)' : 'fd opened before the capture, only closed';
}

export class Interpreter {
  /** `root`: the traced directory the target stands for (--root; mapPath) */
  constructor(private readonly root = '') {}

  /** the traced processes' fds, as slots */
  private readonly fds = new FdModel<SlotInfo>();
  private readonly lanes = new Map<number, number>();
  slotCount = 0;

  /** Replay lane of a traced thread: lanes are numbered in order of first appearance. */
  lane(tid: number): number {
    let l = this.lanes.get(tid);
    if (l === undefined) this.lanes.set(tid, (l = this.lanes.size));
    return l;
  }

  /** The lane of an event: its thread's, or, for an async operation, its ring's (the ring keeps its own order and depth). */
  laneOf(e: Ev): number {
    return this.lane(e.ring !== null ? -e.ring : e.tid);
  }

  get laneCount(): number {
    return this.lanes.size;
  }

  private newSlot(): SlotInfo {
    return { slot: this.slotCount++, open: false, rel: null, directory: false, direct: false, skip: null };
  }

  /** The slot of (pid, fd) now, made on first sight (an fd from before the capture). */
  private slotOf(pid: number, fd: number): SlotInfo {
    let s = this.fds.current(pid, fd);
    if (!s) this.fds.install(pid, fd, (s = this.newSlot()), false, -Infinity, true);
    return s;
  }

  /** A new slot for the fd an open or dup returned: the one there before, if any, waits for its late close. */
  private freshSlot(e: Ev, cloexec: boolean): SlotInfo {
    const s = this.newSlot();
    this.fds.install(e.pid, e.ret, s, cloexec, e.ts + e.latency);
    return s;
  }

  /** The slot (pid, fd) named when a call entered at `ts`. */
  private known(pid: number, fd: number, ts = Infinity): SlotInfo | undefined {
    return this.fds.get(pid, fd, ts);
  }

  /**
   * The child's copy of a parent's slot at fork (or of a shared table at
   * exec): a new slot, dup'ed from it by a step (a new fd on the same open
   * file, as the kernel's fork makes); skipped fds stay skipped.
   */
  private inherit(s: SlotInfo, steps: Step[]): SlotInfo {
    if (!s.open) return { ...s };
    const n = { ...s, slot: this.slotCount++ };
    steps.push(this.step('dup', { slot: s.slot, slot2: n.slot, rel: s.rel }));
    return n;
  }

  /** Close steps for the slots a process dropped (exec, exit, close_range). */
  private closes(dropped: SlotInfo[]): Step[] {
    return dropped.filter((s) => s.open).map((s) => this.step('close', { slot: s.slot }));
  }

  /**
   * The steps of one event (usually one; close_range may give several, a
   * skipped event none) or the reason it is skipped.
   */
  interpret(e: Ev): Step[] | SkipReason {
    const sc = e.syscall;
    switch (sc) {
      case 'open': case 'openat': case 'openat2': case 'creat':
        return this.open(e);
      case 'close':
        return this.close(e);
      case 'close_range': {
        if (e.ret < 0) return [];
        const flags = e.flags ?? 0, last = e.fd2 < 0 ? MAX_FD : e.fd2;
        const steps: Step[] = [];
        if (flags & CLOSE_RANGE_UNSHARE) this.fds.unshared(e.pid, (s) => this.inherit(s, steps));
        if (flags & CLOSE_RANGE_CLOEXEC) this.fds.setCloexec(e.pid, e.fd, last, true);
        else steps.push(...this.closes(this.fds.closeRange(e.pid, e.fd, last, e.ts)));
        return steps;
      }
      case PROCESS_FORK: {
        const steps: Step[] = [];
        const flags = e.flags ?? 0;
        this.fds.forked(e.pid, e.ret, (flags & CLONE_FILES) !== 0, (flags & CLONE_FS) !== 0, (s) => this.inherit(s, steps));
        return steps;
      }
      case PROCESS_EXEC: {
        const steps: Step[] = [];
        const dropped = this.fds.execed(e.pid, (s) => this.inherit(s, steps));
        return [...steps, ...this.closes(dropped)];
      }
      case PROCESS_EXIT:
        return this.closes(this.fds.exited(e.pid));
      case 'dup': case 'dup2': case 'dup3':
        return this.dup(e);
      case 'fcntl': {
        const cmd = e.flags ?? -1;
        if (cmd === F_DUPFD || cmd === F_DUPFD_CLOEXEC) return this.dup(e);
        if (cmd !== F_GETFD && cmd !== F_SETFD && cmd !== F_GETFL && cmd !== F_SETFL) return 'fcntl command not replayable';
        const steps = this.onFd(e, 'fcntl', { flags: cmd, count: e.count ?? 0 });
        if (cmd === F_SETFL && e.ret >= 0 && typeof steps !== 'string') this.slotOf(e.pid, e.fd).direct = ((e.count ?? 0) & O_DIRECT) !== 0;
        if (cmd === F_SETFD && e.ret >= 0) this.fds.setCloexec(e.pid, e.fd, e.fd, ((e.count ?? 0) & FD_CLOEXEC) !== 0);
        return steps;
      }
      case 'mmap': case 'munmap': case 'msync':
        return 'memory mapping';
      case 'io_submit': case 'io_uring_enter':
        return 'asynchronous I/O submission';
    }
    if (e.ring !== null && asyncOpNamed(sc)) return this.asyncOp(e);
    switch (sc) {
      case 'sync':
        return [this.step('sync', {})];
      case 'copy_file_range': case 'sendfile64':
        return this.copy(e);
      case 'newfstatat': case 'statx': case 'faccessat2': case 'fchmodat2': case 'fchownat':
        if (e.fd >= 0 && ((e.flags ?? 0) & AT_EMPTY_PATH)) {
          // fstatat(fd, "", AT_EMPTY_PATH) and the like: on the fd, as traced (the capture names the fd's
          // file; none for a pipe or socket: skipped by its file type)
          const kind = AT_FD_FORMS[sc]!;
          const flags = (e.flags ?? 0) & (AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | (kind === 'access' ? AT_EACCESS : 0));
          if (kind === 'chown') return this.onFd(e, kind, { flags, mode: e.mode ?? -1, count: e.count ?? -1 });
          return this.onFd(e, kind, { flags, mode: kind === 'statx' ? (e.mode ?? 0x7ff) : (e.mode ?? 0) });
        }
        break;
      case 'utimensat':
        if (e.fd >= 0) return this.onFd(e, 'utimens_fd', {});
        break;
      case 'readlinkat':
        // readlinkat(fd, ""): the symlink the fd holds (O_PATH | O_NOFOLLOW), read through the replay's fd;
        // AT_EMPTY_PATH marks the fd form for the executor (readlinkat itself has no flags)
        if (e.fd >= 0) return this.onFd(e, 'readlink', { flags: AT_EMPTY_PATH, count: e.count ?? 0 });
        break;
    }
    const simple = FD_SIMPLE[sc];
    if (simple) return this.fdOp(e, simple);
    const follow = PATH_SYSCALLS_FOLLOW[sc];
    if (follow) return this.pathOp(e, follow);
    switch (sc) {
      case 'unlink': case 'unlinkat': case 'rmdir':
        return this.pathOp(e, 'unlink', sc === 'rmdir' ? AT_REMOVEDIR : (e.flags ?? 0) & AT_REMOVEDIR);
      case 'mkdir': case 'mkdirat':
        return this.pathOp(e, 'mkdir');
      case 'rename': case 'renameat': case 'renameat2':
        return this.twoPaths(e, 'rename', sc === 'renameat2' ? e.flags ?? 0 : 0);
      case 'link': case 'linkat':
        return this.twoPaths(e, 'link', sc === 'linkat' ? (e.flags ?? 0) & AT_SYMLINK_FOLLOW : 0);
      case 'symlink': case 'symlinkat': {
        const rel = mapPath(e.path, this.root);
        if (typeof rel !== 'string') return rel.skip;
        if (rel === '') return 'target root itself';
        // the link's target string is kept as written: the kernel resolves it inside the target
        return [{ ...this.step('symlink', { rel }), rel2: mapLinkText(e.path2 ?? '', this.root) }];
      }
    }
    return 'unknown syscall';
  }

  /** A step of `kind`: the fields given, defaults for the rest (built field by field: one object shape, no spread per event). */
  private step(kind: OpKind, f: Partial<Step>): Step {
    return { kind: KIND[kind], slot: f.slot ?? -1, slot2: f.slot2 ?? -1, rel: f.rel ?? null, rel2: f.rel2 ?? null, flags: f.flags ?? 0, mode: f.mode ?? 0, offset: f.offset ?? -1, count: f.count ?? 0, ringDepth: f.ringDepth ?? 0, preOpen: f.preOpen ?? null };
  }

  private open(e: Ev): Step[] | SkipReason {
    const rel = mapPath(e.path, this.root);
    let flags = e.flags ?? 0;
    const cloexec = (flags & O_CLOEXEC) !== 0;
    if (typeof rel !== 'string') {
      // later calls on the fd it returned are skipped for the same reason
      if (e.ret >= 0) this.freshSlot(e, cloexec).skip = rel.skip;
      return rel.skip;
    }
    if (e.ret >= 0) {
      const s = this.freshSlot(e, cloexec);
      s.rel = rel;
      s.directory = e.fileType === 'directory';
      if (e.fileType !== null && !REPLAYABLE_TYPES.has(e.fileType)) {
        s.open = false;
        s.skip = 'not a file or directory (pipe, socket, device)';
        return s.skip;
      }
      s.open = true;
      s.skip = null;
      s.direct = (flags & O_DIRECT) !== 0;
      flags &= ~O_CLOEXEC;
      return [this.step('open', { slot: s.slot, rel, flags, mode: e.mode ?? 0 })];
    }
    // a failed open is replayed too: the same failure is a match
    return [this.step('open', { slot: -1, rel, flags: flags & ~O_CLOEXEC, mode: e.mode ?? 0 })];
  }

  private close(e: Ev): Step[] | SkipReason {
    const c = this.fds.closing(e.pid, e.fd, e.ts);
    // entered before the fd's current slot was opened: it closed a file the trace never named
    if (c === 'earlier') return onlyClosed(e);
    const s = c?.value;
    // (a close frees its fd whatever it returns but EBADF, as the capture's table has it)
    if (s !== undefined && e.ret !== -EBADF) this.fds.close(e.pid, e.fd, e.ts);
    if (s?.skip) return s.skip;
    if (!s?.open) {
      if (e.ret === -EBADF) return [this.step('close', { slot: (s ?? this.slotOf(e.pid, e.fd)).slot })];
      return c?.superseded ? 'fd opened before the capture, only closed' : onlyClosed(e);
    }
    return [this.step('close', { slot: s.slot })];
  }

  /** The slot an fd op uses, opening a pre-capture fd on first use; or why it is skipped. */
  private use(e: Ev): { slot: SlotInfo; preOpen: Step['preOpen'] } | SkipReason {
    const s = this.known(e.pid, e.fd, e.ts);
    if (s?.skip) return s.skip;
    if (s?.open || e.fd < 0 || e.ret === -EBADF) return { slot: s ?? this.slotOf(e.pid, e.fd < 0 ? 2 ** 21 - 1 : e.fd), preOpen: null };
    // not opened in the trace (before the capture, inherited, or by a call ior does not trace): open on first use
    if (e.fileType !== null && !REPLAYABLE_TYPES.has(e.fileType)) {
      const n = this.slotOf(e.pid, e.fd);
      n.skip = 'not a file or directory (pipe, socket, device)';
      return n.skip;
    }
    const rel = mapPath(e.path, this.root);
    if (typeof rel !== 'string') {
      const n = this.slotOf(e.pid, e.fd);
      n.skip = e.path === null ? 'fd unknown (no path recorded)' : rel.skip;
      return n.skip;
    }
    // opened before the capture began: open it now, positioned where the trace says it was
    const n = this.slotOf(e.pid, e.fd);
    n.open = true;
    n.rel = rel;
    n.directory = e.fileType === 'directory' || e.syscall === 'getdents64' || e.syscall === 'fchdir';
    // an fd readlinkat(fd, "") reads is a symlink's, opened O_PATH | O_NOFOLLOW (the capture has no file type for it)
    const symlink = e.fileType === 'symlink' || e.syscall === 'readlinkat';
    const flags = n.directory ? O_DIRECTORY : symlink ? O_PATH | O_NOFOLLOW : O_RDWR;
    const positional = e.syscall === 'read' || e.syscall === 'write' || e.syscall === 'readv' || e.syscall === 'writev';
    return { slot: n, preOpen: { slot: n.slot, rel, flags, offset: positional && e.offset !== null ? e.offset : 0 } };
  }

  private onFd(e: Ev, kind: OpKind, fields: Partial<Step>): Step[] | SkipReason {
    const u = this.use(e);
    if (typeof u === 'string') return u;
    if ((kind === 'fchmod' || kind === 'fchown' || kind === 'chmod' || kind === 'chown') && u.slot.rel === '') return 'target root itself';
    const step = this.step(kind, { slot: u.slot.slot, rel: u.slot.rel, preOpen: u.preOpen, ...fields });
    // an O_DIRECT read or write that met EINVAL (a misaligned buffer, offset or size) meets it again
    if (u.slot.direct && e.ret === -EINVAL && (READ_KINDS.has(step.kind) || WRITE_KINDS.has(step.kind))) step.flags |= OP_MISALIGNED;
    return [step];
  }

  private fdOp(e: Ev, kind: OpKind): Step[] | SkipReason {
    const count = e.count ?? 0;
    switch (kind) {
      case 'lseek':
        return this.onFd(e, kind, { offset: e.offset ?? 0, flags: e.flags ?? 0 });
      case 'fallocate':
        return this.onFd(e, kind, { offset: e.offset ?? 0, count, mode: e.mode ?? 0 });
      case 'fadvise': case 'sync_file_range':
        return this.onFd(e, kind, { offset: e.offset ?? 0, count, flags: e.flags ?? 0 });
      case 'readahead':
        return this.onFd(e, kind, { offset: e.offset ?? 0, count });
      case 'ftruncate':
        return this.onFd(e, kind, { count });
      case 'fchmod':
        return this.onFd(e, kind, { mode: e.mode ?? 0 });
      case 'fchown':
        return this.onFd(e, kind, { mode: e.mode ?? -1, count: e.count ?? -1 });
      case 'preadv2': case 'pwritev2':
        return this.onFd(e, kind, { offset: e.offset ?? -1, count, flags: e.flags ?? 0 });
      case 'syncfs':
        if (e.fd < 0) return [this.step('syncfs', {})];
        return this.onFd(e, kind, {});
      default:
        return this.onFd(e, kind, { offset: e.offset ?? 0, count });
    }
  }

  /**
   * An operation of an async ring: reads, writes and syncs asynchronously;
   * io_uring's path requests as their syscalls, in the ring's lane; the
   * others are not replayed yet.
   */
  private asyncOp(e: Ev): Step[] | SkipReason {
    const steps = this.uringPathOp(e);
    if (steps !== null) {
      if (typeof steps !== 'string') for (const s of steps) s.ringDepth = e.depth ?? 1;
      return steps;
    }
    let kind = ASYNC_KINDS[e.syscall];
    if (kind === undefined) return 'async operation not replayed (only reads, writes and syncs are)';
    if (e.syscall === 'uring_fsync' && (e.flags ?? 0) & IORING_FSYNC_DATASYNC) kind = 'afdatasync';
    // reads and writes keep their traced RWF_* flags (RWF_HIPRI, RWF_DSYNC, RWF_NOWAIT, ...)
    const rwFlags = kind === 'aread' || kind === 'awrite' ? (e.flags ?? 0) : 0;
    return this.onFd(e, kind, { offset: e.offset ?? 0, count: e.count ?? 0, mode: e.depth ?? 1, flags: rwFlags });
  }

  /** io_uring's requests that name paths, as their syscalls; null for the others */
  private uringPathOp(e: Ev): Step[] | SkipReason | null {
    switch (e.syscall) {
      case 'uring_openat': case 'uring_openat2':
        // a direct descriptor (into the ring's registered files) has no fd to replay on
        return e.ret >= 0 && e.fd < 0 ? 'async operation not replayed (only reads, writes and syncs are)' : this.open(e);
      case 'uring_close':
        return this.close(e);
      case 'uring_statx':
        return this.pathOp(e, 'statx', (e.flags ?? 0) & AT_SYMLINK_NOFOLLOW);
      case 'uring_unlinkat':
        return this.pathOp(e, 'unlink', (e.flags ?? 0) & AT_REMOVEDIR);
      case 'uring_mkdirat':
        return this.pathOp(e, 'mkdir');
      case 'uring_renameat':
        return this.twoPaths(e, 'rename', e.flags ?? 0);
    }
    return null;
  }

  private dup(e: Ev): Step[] | SkipReason {
    const u = this.use(e);
    const cloexec = e.syscall === 'dup3' ? ((e.flags ?? 0) & O_CLOEXEC) !== 0 : e.syscall === 'fcntl' && e.flags === F_DUPFD_CLOEXEC;
    if (typeof u === 'string') {
      if (e.ret >= 0) this.dupTarget(e, cloexec).skip = u;
      return u;
    }
    let slot2 = -1;
    if (e.ret >= 0) {
      const t = this.dupTarget(e, cloexec);
      t.open = true;
      t.skip = null;
      t.rel = u.slot.rel;
      t.directory = u.slot.directory;
      t.direct = u.slot.direct;
      slot2 = t.slot;
    }
    return [this.step('dup', { slot: u.slot.slot, slot2, rel: u.slot.rel, preOpen: u.preOpen })];
  }

  /**
   * The slot a successful dup fills: dup2/dup3 replace what the target fd
   * held (the runtime dup3s onto the file it holds there, which closes it);
   * dup and F_DUPFD take a free number, as open does.
   */
  private dupTarget(e: Ev, cloexec: boolean): SlotInfo {
    if (e.syscall !== 'dup2' && e.syscall !== 'dup3') return this.freshSlot(e, cloexec);
    const t = this.slotOf(e.pid, e.ret);
    this.fds.install(e.pid, e.ret, t, cloexec, e.ts + e.latency, true);
    return t;
  }

  private copy(e: Ev): Step[] | SkipReason {
    // copy_file_range(fd_in, off_in, fd_out, ...): fd is the input; sendfile64(out, in, ...): fd is the input too (fd2 = out)
    const out = this.known(e.pid, e.fd2);
    if (!out || !out.open || out.skip) return 'sendfile/copy_file_range with a non-file end';
    const u = this.use(e);
    if (typeof u === 'string') return u;
    return [this.step(e.syscall === 'sendfile64' ? 'sendfile' : 'copy_file_range', { slot: u.slot.slot, slot2: out.slot, rel: u.slot.rel, rel2: out.rel, offset: e.offset ?? -1, count: e.count ?? 0, preOpen: u.preOpen })];
  }

  private pathOp(e: Ev, kind: OpKind, extraFlags = 0): Step[] | SkipReason {
    const rel = mapPath(e.path, this.root);
    if (typeof rel !== 'string') return rel.skip;
    // the target directory's own mode and owner are the replay's, not the trace's (a chmod of / would lock it out)
    if (rel === '' && (kind === 'unlink' || kind === 'mkdir' || kind === 'chmod' || kind === 'chown')) return 'target root itself';
    let flags = 0;
    const sc = e.syscall;
    if (sc === 'newlstat' || sc === 'lchown') flags = AT_SYMLINK_NOFOLLOW;
    else if (sc === 'newfstatat' || sc === 'statx' || sc === 'faccessat2' || sc === 'fchownat' || sc === 'utimensat' || sc === 'fchmodat2') flags = (e.flags ?? 0) & AT_SYMLINK_NOFOLLOW;
    flags |= extraFlags;
    const mode = kind === 'statx' ? (e.mode ?? 0x7ff) : kind === 'chown' ? (e.mode ?? -1) : (e.mode ?? 0);
    const count = kind === 'chown' ? (e.count ?? -1) : (e.count ?? 0);
    return [this.step(kind, { rel, flags, mode, count })];
  }

  private twoPaths(e: Ev, kind: OpKind, flags: number): Step[] | SkipReason {
    const rel = mapPath(e.path, this.root);
    if (typeof rel !== 'string') return rel.skip;
    const rel2 = mapPath(e.path2, this.root);
    if (typeof rel2 !== 'string') return rel2.skip;
    if (rel === '' || rel2 === '') return 'target root itself';
    if (kind === 'rename' && e.ret >= 0) this.renamed(rel, rel2);
    return [this.step(kind, { rel, rel2, flags })];
  }

  /** fds open on a renamed path (or under a renamed directory) now name the new path. */
  private renamed(from: string, to: string): void {
    const under = from + '/';
    this.fds.update((s) => {
      if (s.rel === from) s.rel = to;
      else if (s.rel?.startsWith(under)) s.rel = to + s.rel.slice(from.length);
      return s;
    });
  }
}
