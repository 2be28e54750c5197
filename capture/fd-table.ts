/**
 * PathResolver: turns what a syscall names (an fd, a path relative to a
 * dirfd or the cwd) into an absolute path, by following the opens, dups,
 * closes and chdirs the trace itself shows, per process (threads share).
 * What the trace cannot tell (fds opened and cwds set before the capture
 * began) is read once from /proc/PID/fd/N and /proc/PID/cwd while the
 * process lives, then cached; what /proc cannot tell either is counted in
 * `unresolved`.
 */
import fs from 'node:fs';
import path from 'node:path';

export const AT_FDCWD = -100;

interface ProcessFiles {
  cwd: string | null | undefined; // undefined: not looked up yet
  fds: Map<number, string | null>; // null: open, but not a path (pipe, socket, anon inode)
}

export class PathResolver {
  private readonly processes = new Map<number, ProcessFiles>();
  /** fds or cwds that neither the trace nor /proc could name */
  unresolved = 0;

  constructor(private readonly procRoot = '/proc') {}

  private process(pid: number): ProcessFiles {
    let p = this.processes.get(pid);
    if (!p) this.processes.set(pid, (p = { cwd: undefined, fds: new Map() }));
    return p;
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
      if (cwd !== undefined) proc.cwd = cwd;
      for (const name of readdirOrEmpty(`${this.procRoot}/${pid}/fd`)) {
        const fd = Number(name);
        const target = this.readProcLink(`${pid}/fd/${fd}`);
        if (target === undefined || proc.fds.has(fd)) continue;
        proc.fds.set(fd, target.startsWith('/') ? target : null);
        seeded++;
      }
    }
    return seeded;
  }

  /** The path open on (pid, fd), or null for a non-file fd or one nobody can name. */
  fdPath(pid: number, fd: number): string | null {
    const proc = this.process(pid);
    const known = proc.fds.get(fd);
    if (known !== undefined) return known;
    const target = this.readProcLink(`${pid}/fd/${fd}`);
    const resolved = target !== undefined && target.startsWith('/') ? target : null;
    if (target === undefined) this.unresolved++;
    else proc.fds.set(fd, resolved); // cache non-paths too: a pipe stays a pipe until closed
    return resolved;
  }

  cwd(pid: number): string | null {
    const proc = this.process(pid);
    if (proc.cwd === undefined) {
      const target = this.readProcLink(`${pid}/cwd`);
      if (target === undefined) this.unresolved++;
      proc.cwd = target ?? null;
    }
    return proc.cwd;
  }

  /**
   * Absolute form of `raw` as the kernel would start resolving it: absolute
   * paths as given, relative ones against the dirfd's path or the cwd.
   * Lexically normalized ('.' and '..' folded, no trailing slash); symlinks
   * are not followed (the trace records names, not inodes). A relative path
   * whose base is unknown stays relative.
   */
  resolve(pid: number, dirfd: number, raw: string): string {
    if (raw.startsWith('/')) return normalize(raw);
    const base = dirfd === AT_FDCWD ? this.cwd(pid) : this.fdPath(pid, dirfd);
    if (base === null) return raw;
    return raw === '' ? base : normalize(`${base}/${raw}`);
  }

  opened(pid: number, fd: number, absolutePath: string | null): void {
    this.process(pid).fds.set(fd, absolutePath);
  }

  closed(pid: number, fd: number): void {
    this.process(pid).fds.delete(fd);
  }

  closedRange(pid: number, first: number, last: number): void {
    const fds = this.process(pid).fds;
    for (const fd of fds.keys()) if (fd >= first && fd <= last) fds.delete(fd);
  }

  duplicated(pid: number, from: number, to: number): void {
    this.opened(pid, to, this.fdPath(pid, from));
  }

  changedDirectory(pid: number, absolutePath: string | null): void {
    this.process(pid).cwd = absolutePath;
  }

  /** After rename(from, to): fds and cwds naming `from` or a path under it now name `to`. */
  renamed(from: string, to: string): void {
    const under = `${from}/`;
    const move = (p: string | null | undefined) => (p === from ? to : p?.startsWith(under) ? to + p.slice(from.length) : p);
    for (const proc of this.processes.values()) {
      proc.cwd = move(proc.cwd);
      for (const [fd, p] of proc.fds) proc.fds.set(fd, move(p) ?? null);
    }
  }

  /** The process exited or exec'd something else: forget its table. */
  forget(pid: number): void {
    this.processes.delete(pid);
  }

  /** readlink under /proc; undefined when the process or fd is gone. */
  private readProcLink(rel: string): string | undefined {
    try {
      const target = fs.readlinkSync(`${this.procRoot}/${rel}`);
      return target.endsWith(' (deleted)') ? target.slice(0, -' (deleted)'.length) : target;
    } catch {
      return undefined;
    }
  }
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
