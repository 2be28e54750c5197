/**
 * PathResolver: turns what a syscall names (an fd, a path relative to a
 * dirfd or the cwd) into an absolute path, by following the opens, dups,
 * closes and chdirs the trace itself shows, per process (threads share),
 * and the process lifecycle the kernel reports beside the events: a forked
 * child starts with a copy of its parent's fd table and cwd, exec drops the
 * close-on-exec fds, exit forgets the process (memory stays bounded by the
 * processes alive).
 * What the trace cannot tell (fds opened and cwds set before the capture
 * began) is read once from /proc/PID/fd/N and /proc/PID/cwd while the
 * process lives, then cached; what /proc cannot tell either is counted in
 * `unresolved`.
 *
 * Events arrive in the order their syscalls returned, which is not always
 * the order they took effect: close() frees its fd number before it
 * returns, so another thread's open can get that number and reach the ring
 * buffer first. Each fd therefore remembers when the call that installed it
 * returned (`openedAt`), and what it named before (`superseded`, until its
 * late close arrives): an event that entered before its file was replaced
 * is about that file. Times are CLOCK_BOOTTIME ns as numbers (exact for 104 days of
 * uptime, a few ns coarser after, far below the gap between a close and an
 * open that reuses its fd).
 */
import fs from 'node:fs';
import path from 'node:path';

export const AT_FDCWD = -100;
/** O_CLOEXEC in open flags and in /proc/PID/fdinfo/N "flags:" (octal) */
export const O_CLOEXEC = 0o2000000;

/** A table of open fds; shared by processes created with CLONE_FILES. */
interface FdTable {
  paths: Map<number, string | null>; // null: open, but not a path (pipe, socket, anon inode)
  cloexec: Set<number>; // fds that exec closes
  openedAt: Map<number, number>; // when the open or dup that installed the fd returned; absent: before the capture
  superseded: Map<number, Superseded>; // what an fd named before an open took its number ahead of the close's event
}

/** An fd's file whose close has not been seen when an open took its number at `until`. */
interface Superseded {
  path: string | null;
  until: number;
}

function newTable(): FdTable {
  return { paths: new Map(), cloexec: new Set(), openedAt: new Map(), superseded: new Map() };
}

function copyTable(fds: FdTable): FdTable {
  return { paths: new Map(fds.paths), cloexec: new Set(fds.cloexec), openedAt: new Map(fds.openedAt), superseded: new Map(fds.superseded) };
}

/** The cwd; shared by processes created with CLONE_FS. */
interface Cwd {
  path: string | null | undefined; // undefined: not looked up yet
}

interface ProcessFiles {
  cwd: Cwd;
  fds: FdTable;
}

export class PathResolver {
  private readonly processes = new Map<number, ProcessFiles>();
  /** fds or cwds that neither the trace nor /proc could name */
  unresolved = 0;

  constructor(private readonly procRoot = '/proc') {}

  private process(pid: number): ProcessFiles {
    let p = this.processes.get(pid);
    if (!p) this.processes.set(pid, (p = { cwd: { path: undefined }, fds: newTable() }));
    return p;
  }

  /** Processes whose files are remembered now (bounded by the processes alive). */
  get size(): number {
    return this.processes.size;
  }

  /**
   * Read the open fds and cwd of running processes from /proc once, right
   * after attach: this is how fds opened before the capture began get their
   * paths even when their process exits before its events are decoded.
   * `pids` limits it to those processes (all when null).
   */
  snapshot(pids: readonly number[] | null, excludePids: readonly number[] = []): number {
    let seeded = 0;
    const list = pids ?? readdirOrEmpty(this.procRoot).filter((n) => /^\d+$/.test(n)).map(Number);
    for (const pid of list) {
      if (excludePids.includes(pid)) continue;
      const proc = this.process(pid);
      const cwd = this.readProcLink(`${pid}/cwd`);
      if (cwd !== undefined) proc.cwd.path = cwd;
      for (const name of readdirOrEmpty(`${this.procRoot}/${pid}/fd`)) {
        const fd = Number(name);
        if (proc.fds.paths.has(fd)) continue;
        if (this.lookUp(pid, proc.fds, fd) !== undefined) seeded++;
      }
    }
    return seeded;
  }

  /**
   * What a process starts with when ior started it: its cwd and the fds it
   * inherited, as readlink targets (the loader reads them before the fork).
   */
  seed(pid: number, cwd: string | null, fds: Readonly<Record<string, string>>): void {
    const proc = this.process(pid);
    proc.cwd.path = cwd;
    for (const [fd, target] of Object.entries(fds)) proc.fds.paths.set(Number(fd), target.startsWith('/') ? stripDeleted(target) : null);
  }

  /**
   * The path open on (pid, fd), or null for a non-file fd or one nobody can
   * name. `named` false: the kernel saw a pipe, socket or anonymous inode
   * behind the fd, which has no path: it is remembered as open without a
   * path, not looked up in /proc, and not counted unresolved. `at`: when
   * the call naming the fd entered (an fd another thread's open took since
   * then names what it named before).
   */
  fdPath(pid: number, fd: number, named = true, at = Infinity): string | null {
    const fds = this.process(pid).fds;
    const before = replacedAt(fds, fd, at);
    if (before !== undefined) return before.path;
    const known = fds.paths.get(fd);
    if (known !== undefined) return known;
    if (!named) {
      fds.paths.set(fd, null);
      return null;
    }
    const found = this.lookUp(pid, fds, fd);
    if (found === undefined) this.unresolved++;
    return found ?? null;
  }

  cwd(pid: number): string | null {
    const cwd = this.process(pid).cwd;
    if (cwd.path === undefined) {
      const target = this.readProcLink(`${pid}/cwd`);
      if (target === undefined) this.unresolved++;
      cwd.path = target ?? null;
    }
    return cwd.path;
  }

  /**
   * Absolute form of `raw` as the kernel would start resolving it: absolute
   * paths as given, relative ones against the dirfd's path or the cwd.
   * Lexically normalized ('.' and '..' folded, no trailing slash); symlinks
   * are not followed (the trace records names, not inodes). A relative path
   * whose base is unknown stays relative. `at` as for fdPath.
   */
  resolve(pid: number, dirfd: number, raw: string, at = Infinity): string {
    if (raw.startsWith('/')) return normalize(raw);
    const base = dirfd === AT_FDCWD ? this.cwd(pid) : this.fdPath(pid, dirfd, true, at);
    if (base === null) return raw;
    return raw === '' ? base : normalize(`${base}/${raw}`);
  }

  /**
   * An open (or dup) that returned `fd` at time `at`. `replaces`: the call
   * itself closed what the fd held (dup2, dup3), so no close will follow.
   */
  opened(pid: number, fd: number, absolutePath: string | null, cloexec: boolean, at: number, replaces = false): void {
    const fds = this.process(pid).fds;
    // still open: its close has not been seen yet; kept for that close (it entered before `at`)
    const before = fds.paths.get(fd);
    if (before !== undefined && !replaces) fds.superseded.set(fd, { path: before, until: at });
    fds.paths.set(fd, absolutePath);
    fds.openedAt.set(fd, at);
    setFlag(fds.cloexec, fd, cloexec);
  }

  /**
   * The path a close of `fd` that entered at `at` closed: the fd's current
   * file, or the one before when another thread's open took the number
   * since (null when that one was never known: a socket, say).
   */
  closingPath(pid: number, fd: number, named: boolean, at: number): string | null {
    const fds = this.process(pid).fds;
    const openedAt = fds.openedAt.get(fd);
    // entered before the current file was opened, and not the close of a file the trace named before it
    if (openedAt !== undefined && at < openedAt && replacedAt(fds, fd, at) === undefined) return null;
    return this.fdPath(pid, fd, named, at);
  }

  /** A close of `fd` that entered at time `at` (see closingPath). */
  closed(pid: number, fd: number, at: number): void {
    const fds = this.process(pid).fds;
    if (replacedAt(fds, fd, at) !== undefined) {
      fds.superseded.delete(fd);
      return;
    }
    const openedAt = fds.openedAt.get(fd);
    if (openedAt !== undefined && at < openedAt) return; // of a file before the fd's current one that the trace never named
    fds.paths.delete(fd);
    fds.cloexec.delete(fd);
    fds.openedAt.delete(fd);
  }

  closedRange(pid: number, first: number, last: number, at: number): void {
    const fds = this.process(pid).fds;
    for (const fd of fds.paths.keys()) if (fd >= first && fd <= last) this.closed(pid, fd, at);
  }

  /** fcntl(F_SETFD), close_range(CLOSE_RANGE_CLOEXEC): known fds in [first, last] get or lose close-on-exec. */
  setCloexec(pid: number, first: number, last: number, on: boolean): void {
    const fds = this.process(pid).fds;
    for (const fd of fds.paths.keys()) if (fd >= first && fd <= last) setFlag(fds.cloexec, fd, on);
  }

  /**
   * dup family entered at `entered`, returned at `returned`: `to` names what
   * `from` names (`named` as for fdPath; `replaces` as for opened).
   */
  duplicated(pid: number, from: number, to: number, cloexec: boolean, named: boolean, entered: number, returned: number, replaces: boolean): void {
    this.opened(pid, to, this.fdPath(pid, from, named, entered), cloexec, returned, replaces);
  }

  changedDirectory(pid: number, absolutePath: string | null): void {
    this.process(pid).cwd.path = absolutePath;
  }

  /** After rename(from, to): fds and cwds naming `from` or a path under it now name `to`. */
  renamed(from: string, to: string): void {
    const under = `${from}/`;
    const move = (p: string | null | undefined) => (p === from ? to : p?.startsWith(under) ? to + p.slice(from.length) : p);
    // shared tables are visited once per sharer: moving twice is a no-op
    for (const proc of this.processes.values()) {
      proc.cwd.path = move(proc.cwd.path);
      for (const [fd, p] of proc.fds.paths) proc.fds.paths.set(fd, move(p) ?? null);
      for (const before of proc.fds.superseded.values()) before.path = move(before.path) ?? null;
    }
  }

  /**
   * A new process: it starts with a copy of its parent's fd table and cwd,
   * or the same ones when created with CLONE_FILES / CLONE_FS. A parent the
   * trace knows nothing of leaves the child to be looked up in /proc.
   */
  forked(parent: number, child: number, sharedFiles: boolean, sharedFs: boolean): void {
    const p = this.processes.get(parent);
    if (!p) {
      this.processes.delete(child);
      return;
    }
    this.processes.set(child, {
      cwd: sharedFs ? p.cwd : { path: p.cwd.path },
      fds: sharedFiles ? p.fds : copyTable(p.fds),
    });
  }

  /** A successful exec: the close-on-exec fds are gone, and the table is no longer shared. */
  execed(pid: number): void {
    const proc = this.processes.get(pid);
    if (!proc) return;
    const fds = copyTable(proc.fds);
    for (const fd of fds.cloexec) {
      fds.paths.delete(fd);
      fds.openedAt.delete(fd);
      fds.superseded.delete(fd);
    }
    fds.cloexec.clear();
    proc.fds = fds;
  }

  /** close_range(CLOSE_RANGE_UNSHARE): the process gets its own copy of a shared table. */
  unsharedFiles(pid: number): void {
    const proc = this.process(pid);
    proc.fds = copyTable(proc.fds);
  }

  /** The process exited: forget it (a reused pid starts afresh). */
  exited(pid: number): void {
    this.processes.delete(pid);
  }

  /** Name (pid, fd) from /proc and remember it; undefined when the process or fd is gone. */
  private lookUp(pid: number, fds: FdTable, fd: number): string | null | undefined {
    const target = this.readProcLink(`${pid}/fd/${fd}`);
    if (target === undefined) return undefined;
    const resolved = target.startsWith('/') ? target : null;
    fds.paths.set(fd, resolved); // cache non-paths too: a pipe stays a pipe until closed
    setFlag(fds.cloexec, fd, this.isCloexec(pid, fd));
    return resolved;
  }

  /** The close-on-exec flag of a live fd, from /proc/PID/fdinfo/N. */
  private isCloexec(pid: number, fd: number): boolean {
    try {
      const info = fs.readFileSync(`${this.procRoot}/${pid}/fdinfo/${fd}`, 'latin1');
      const flags = /^flags:\s*([0-7]+)/m.exec(info);
      return flags !== null && (parseInt(flags[1]!, 8) & O_CLOEXEC) !== 0;
    } catch {
      return false;
    }
  }

  /** readlink under /proc; undefined when the process or fd is gone. */
  private readProcLink(rel: string): string | undefined {
    try {
      return stripDeleted(fs.readlinkSync(`${this.procRoot}/${rel}`));
    } catch {
      return undefined;
    }
  }
}

/** The file `fd` named for a call that entered at `at`, if another thread's open has taken the number since. */
function replacedAt(fds: FdTable, fd: number, at: number): Superseded | undefined {
  if (fds.superseded.size === 0) return undefined;
  const before = fds.superseded.get(fd);
  return before !== undefined && at < before.until ? before : undefined;
}

function setFlag(set: Set<number>, fd: number, on: boolean): void {
  if (on) set.add(fd);
  else set.delete(fd);
}

function stripDeleted(target: string): string {
  return target.endsWith(' (deleted)') ? target.slice(0, -' (deleted)'.length) : target;
}

function readdirOrEmpty(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** Paths that need no folding: no '//', no '/.' component start, no trailing '/'. */
const NEEDS_NORMALIZING = /\/\/|\/\.|\/$/;

function normalize(p: string): string {
  if (!NEEDS_NORMALIZING.test(p)) return p;
  const n = path.posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}
