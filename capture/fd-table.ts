/**
 * PathResolver: turns what a syscall names (an fd, a path relative to a
 * dirfd or the cwd) into an absolute path, by following the opens, dups,
 * closes and chdirs the trace itself shows, per process, in the fd model
 * the replay uses too (trace/fd-model.ts: threads share, fork copies or
 * shares, exec drops the close-on-exec fds, exit forgets, fds reused by
 * another thread before a close's event are told apart by time).
 * What the trace cannot tell (fds opened and cwds set before the capture
 * began) is read once from /proc/PID/fd/N and /proc/PID/cwd while the
 * process lives, then cached; what /proc cannot tell either is counted in
 * `unresolved`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { FdModel } from '../trace/fd-model.js';

export const AT_FDCWD = -100;
/** O_CLOEXEC in open flags and in /proc/PID/fdinfo/N "flags:" (octal) */
export const O_CLOEXEC = 0o2000000;

/** A path's copy in a forked child: the same path. */
const samePath = (p: string | null) => p;

export class PathResolver {
  /** per process: fd -> path (null: open, but not a path: pipe, socket, anon inode) */
  private readonly model = new FdModel<string | null>();
  /** fds or cwds that neither the trace nor /proc could name */
  unresolved = 0;

  constructor(private readonly procRoot = '/proc') {}

  /** Processes whose files are remembered now (bounded by the processes alive). */
  get size(): number {
    return this.model.size;
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
      const cwd = this.readProcLink(`${pid}/cwd`);
      if (cwd !== undefined) this.model.setCwd(pid, cwd);
      for (const name of readdirOrEmpty(`${this.procRoot}/${pid}/fd`)) {
        const fd = Number(name);
        if (this.model.current(pid, fd) !== undefined) continue;
        if (this.lookUp(pid, fd) !== undefined) seeded++;
      }
    }
    return seeded;
  }

  /**
   * What a process starts with when ior started it: its cwd and the fds it
   * inherited, as readlink targets (the loader reads them before the fork).
   */
  seed(pid: number, cwd: string | null, fds: Readonly<Record<string, string>>): void {
    this.model.setCwd(pid, cwd);
    for (const [fd, target] of Object.entries(fds)) this.model.install(pid, Number(fd), target.startsWith('/') ? stripDeleted(target) : null, false, -Infinity, true);
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
    const known = this.model.get(pid, fd, at);
    if (known !== undefined) return known;
    if (!named) {
      this.model.install(pid, fd, null, false, -Infinity, true);
      return null;
    }
    const found = this.lookUp(pid, fd);
    if (found === undefined) this.unresolved++;
    return found ?? null;
  }

  cwd(pid: number): string | null {
    let cwd = this.model.cwd(pid);
    if (cwd === undefined) {
      const target = this.readProcLink(`${pid}/cwd`);
      if (target === undefined) this.unresolved++;
      this.model.setCwd(pid, (cwd = target ?? null));
    }
    return cwd;
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
    this.model.install(pid, fd, absolutePath, cloexec, at, replaces);
  }

  /**
   * The path a close of `fd` that entered at `at` closed: the fd's current
   * file, or the one before when another thread's open took the number
   * since (null when that one was never known: a socket, say).
   */
  closingPath(pid: number, fd: number, named: boolean, at: number): string | null {
    const c = this.model.closing(pid, fd, at);
    if (c === 'earlier') return null;
    return c !== undefined ? c.value : this.fdPath(pid, fd, named, at);
  }

  /** A close of `fd` that entered at time `at` (see closingPath). */
  closed(pid: number, fd: number, at: number): void {
    this.model.close(pid, fd, at);
  }

  closedRange(pid: number, first: number, last: number, at: number): void {
    this.model.closeRange(pid, first, last, at);
  }

  /** fcntl(F_SETFD), close_range(CLOSE_RANGE_CLOEXEC): known fds in [first, last] get or lose close-on-exec. */
  setCloexec(pid: number, first: number, last: number, on: boolean): void {
    this.model.setCloexec(pid, first, last, on);
  }

  /**
   * dup family entered at `entered`, returned at `returned`: `to` names what
   * `from` names (`named` as for fdPath; `replaces` as for opened).
   */
  duplicated(pid: number, from: number, to: number, cloexec: boolean, named: boolean, entered: number, returned: number, replaces: boolean): void {
    this.opened(pid, to, this.fdPath(pid, from, named, entered), cloexec, returned, replaces);
  }

  changedDirectory(pid: number, absolutePath: string | null): void {
    this.model.setCwd(pid, absolutePath);
  }

  /** After rename(from, to): fds and cwds naming `from` or a path under it now name `to`. */
  renamed(from: string, to: string): void {
    const under = `${from}/`;
    const move = <P extends string | null | undefined>(p: P): P => (p === from ? to : p?.startsWith(under) ? to + p.slice(from.length) : p) as P;
    // shared tables are visited once per sharer: moving twice is a no-op
    this.model.update(move);
    this.model.updateCwds(move);
  }

  /**
   * A new process: it starts with a copy of its parent's fd table and cwd,
   * or the same ones when created with CLONE_FILES / CLONE_FS. A parent the
   * trace knows nothing of leaves the child to be looked up in /proc.
   */
  forked(parent: number, child: number, sharedFiles: boolean, sharedFs: boolean): void {
    this.model.forked(parent, child, sharedFiles, sharedFs, samePath);
  }

  /** A successful exec: the close-on-exec fds are gone, and the table is no longer shared. */
  execed(pid: number): void {
    this.model.execed(pid, samePath);
  }

  /** close_range(CLOSE_RANGE_UNSHARE): the process gets its own copy of a shared table. */
  unsharedFiles(pid: number): void {
    this.model.unshared(pid, samePath);
  }

  /** The process exited: forget it (a reused pid starts afresh). */
  exited(pid: number): void {
    this.model.exited(pid);
  }

  /** Name (pid, fd) from /proc and remember it; undefined when the process or fd is gone. */
  private lookUp(pid: number, fd: number): string | null | undefined {
    const target = this.readProcLink(`${pid}/fd/${fd}`);
    if (target === undefined) return undefined;
    const resolved = target.startsWith('/') ? target : null;
    // cached, non-paths too: a pipe stays a pipe until closed
    this.model.install(pid, fd, resolved, this.isCloexec(pid, fd), -Infinity, true);
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
