/**
 * FdModel: the traced processes' fd tables and cwds as the kernel keeps
 * them, built from what a trace shows: opens, dups and closes, and the
 * process lifecycle (process_fork, process_exec, process_exit rows). One
 * model for both ends of ior: the capture names fds with it (the value is
 * the path, capture/fd-table.ts), the replay maps them to the files it
 * holds (the value is an fd slot, replay/interpret.ts).
 *
 * Kernel semantics it follows:
 * - threads of a process share one table and one cwd;
 * - a forked child starts with a copy of its parent's table (each entry a
 *   new reference to the same open file description: `copy` makes it) and
 *   cwd, or the same ones with CLONE_FILES / CLONE_FS;
 * - exec gives the process a table of its own (if it was shared) and drops
 *   the close-on-exec fds; exit drops the table when its last user goes.
 *   Both return what they dropped, so the replay can close it in turn.
 *
 * Events arrive in the order their syscalls returned, which is not always
 * the order they took effect: close() frees its fd number before it
 * returns, so another thread's open can get that number and reach the ring
 * buffer first. Each fd therefore remembers when the call that installed it
 * returned (`openedAt`), and what it held before (`superseded`, until its
 * late close arrives): a call that entered before its file was replaced is
 * about that file. Times are ns as numbers, on any clock that orders the
 * trace's calls (exact for 104 days of CLOCK_BOOTTIME).
 */

interface Entry<V> {
  value: V;
  /** when the open or dup that installed it returned; -Infinity: before the trace began */
  openedAt: number;
  cloexec: boolean;
}

/** An fd's value whose close has not been seen when an open took its number at `until`. */
interface Superseded<V> {
  value: V;
  until: number;
}

/** A table of open fds; shared by the processes created with CLONE_FILES. */
interface Table<V> {
  fds: Map<number, Entry<V>>;
  superseded: Map<number, Superseded<V>>;
  /** processes using it */
  users: number;
}

/** The cwd (undefined: not known yet); shared by the processes created with CLONE_FS. */
interface Cwd {
  path: string | null | undefined;
}

interface Process<V> {
  table: Table<V>;
  cwd: Cwd;
}

/** What a close of an fd that entered at some time closes. */
export type Closing<V> =
  | { value: V; superseded: boolean }
  /** the file before the fd's current one, which the trace never named */
  | 'earlier'
  | undefined;

export class FdModel<V> {
  private readonly processes = new Map<number, Process<V>>();

  private process(pid: number): Process<V> {
    let p = this.processes.get(pid);
    if (!p) this.processes.set(pid, (p = { table: { fds: new Map(), superseded: new Map(), users: 1 }, cwd: { path: undefined } }));
    return p;
  }

  /** Processes known now (bounded by the processes alive). */
  get size(): number {
    return this.processes.size;
  }

  /**
   * What (pid, fd) names for a call that entered at `at`: the value an
   * open took the number from, if the call entered before that open
   * returned; else the current one.
   */
  get(pid: number, fd: number, at = Infinity): V | undefined {
    const t = this.process(pid).table;
    return replacedAt(t, fd, at)?.value ?? t.fds.get(fd)?.value;
  }

  /** The current entry of (pid, fd), whatever came before it. */
  current(pid: number, fd: number): V | undefined {
    return this.process(pid).table.fds.get(fd)?.value;
  }

  /**
   * An open or dup returned `fd` at `at` (-Infinity: an fd open before the
   * trace began, seen now). `replaces`: the call itself closed what the fd
   * held (dup2, dup3), so no close will follow; otherwise what it held,
   * still open for the trace, waits for its late close.
   */
  install(pid: number, fd: number, value: V, cloexec: boolean, at: number, replaces = false): void {
    const t = this.process(pid).table;
    const before = t.fds.get(fd);
    if (before !== undefined && !replaces) t.superseded.set(fd, { value: before.value, until: at });
    t.fds.set(fd, { value, openedAt: at, cloexec });
  }

  /** What a close of (pid, fd) that entered at `at` closes (see Closing). */
  closing(pid: number, fd: number, at: number): Closing<V> {
    const t = this.process(pid).table;
    const before = replacedAt(t, fd, at);
    if (before !== undefined) return { value: before.value, superseded: true };
    const e = t.fds.get(fd);
    if (e === undefined) return undefined;
    return at < e.openedAt ? 'earlier' : { value: e.value, superseded: false };
  }

  /** A close of (pid, fd) that entered at `at`: forget what it closed, and return it. */
  close(pid: number, fd: number, at: number): V | undefined {
    const t = this.process(pid).table;
    const c = this.closing(pid, fd, at);
    if (c === undefined || c === 'earlier') return undefined;
    if (c.superseded) t.superseded.delete(fd);
    else t.fds.delete(fd);
    return c.value;
  }

  /** close_range(first, last) entered at `at`: the values closed, in fd order. */
  closeRange(pid: number, first: number, last: number, at: number): V[] {
    const out: V[] = [];
    const fds = [...this.process(pid).table.fds.keys()].filter((fd) => fd >= first && fd <= last).sort((a, b) => a - b);
    for (const fd of fds) {
      const v = this.close(pid, fd, at);
      if (v !== undefined) out.push(v);
    }
    return out;
  }

  /** fcntl(F_SETFD), close_range(CLOSE_RANGE_CLOEXEC): known fds in [first, last] get or lose close-on-exec. */
  setCloexec(pid: number, first: number, last: number, on: boolean): void {
    for (const [fd, e] of this.process(pid).table.fds) if (fd >= first && fd <= last) e.cloexec = on;
  }

  /** Change every value (current and superseded) of every table: after a rename, say. Shared tables are visited once per sharer. */
  update(change: (v: V) => V): void {
    for (const p of this.processes.values()) {
      for (const e of p.table.fds.values()) e.value = change(e.value);
      for (const s of p.table.superseded.values()) s.value = change(s.value);
    }
  }

  cwd(pid: number): string | null | undefined {
    return this.process(pid).cwd.path;
  }

  setCwd(pid: number, path: string | null): void {
    this.process(pid).cwd.path = path;
  }

  /** Every process's cwd through `change` (after a rename). */
  updateCwds(change: (p: string | null | undefined) => string | null | undefined): void {
    for (const p of this.processes.values()) p.cwd.path = change(p.cwd.path);
  }

  /**
   * A new process. With CLONE_FILES it uses its parent's table; else a copy
   * in which `copy` makes each entry's value (a new reference to the same
   * open file; undefined leaves the fd out). Files whose close is pending
   * (superseded) were closed before the fork and are not inherited.
   * Returns false when the parent is unknown (the child starts empty).
   */
  forked(parent: number, child: number, sharedFiles: boolean, sharedFs: boolean, copy: (v: V, fd: number) => V | undefined): boolean {
    this.exited(child); // a pid reused without its exit seen
    const p = this.processes.get(parent);
    if (!p) return false;
    let table = p.table;
    if (sharedFiles) table.users++;
    else table = copyTable(table, copy, false);
    this.processes.set(child, { table, cwd: sharedFs ? p.cwd : { path: p.cwd.path } });
    return true;
  }

  /**
   * A successful exec: the process's table becomes its own (a copy, by
   * `copy`, if another process shared it) without the close-on-exec fds.
   * Returns the values dropped from a table no one else uses (the replay
   * closes them; in a shared table they stay open for the others).
   */
  execed(pid: number, copy: (v: V, fd: number) => V | undefined): V[] {
    const p = this.processes.get(pid);
    if (!p) return [];
    if (p.table.users > 1) {
      p.table.users--;
      p.table = copyTable(p.table, copy, true);
      return [];
    }
    const dropped: V[] = [];
    for (const [fd, e] of p.table.fds) {
      if (!e.cloexec) continue;
      dropped.push(e.value);
      p.table.fds.delete(fd);
      p.table.superseded.delete(fd);
    }
    return dropped;
  }

  /** close_range(CLOSE_RANGE_UNSHARE): the process gets its own copy of a shared table. */
  unshared(pid: number, copy: (v: V, fd: number) => V | undefined): void {
    const p = this.process(pid);
    if (p.table.users <= 1) return;
    p.table.users--;
    p.table = copyTable(p.table, copy, false);
  }

  /**
   * The process exited: forget it (a reused pid starts afresh). Returns the
   * values its table still held if it was the table's last user (the
   * kernel closes them), else none.
   */
  exited(pid: number): V[] {
    const p = this.processes.get(pid);
    if (!p) return [];
    this.processes.delete(pid);
    if (--p.table.users > 0) return [];
    return [...[...p.table.fds.values()].map((e) => e.value), ...[...p.table.superseded.values()].map((s) => s.value)];
  }
}

/** The value `fd` held for a call that entered at `at`, if another thread's open has taken the number since. */
function replacedAt<V>(t: Table<V>, fd: number, at: number): Superseded<V> | undefined {
  if (t.superseded.size === 0) return undefined;
  const before = t.superseded.get(fd);
  return before !== undefined && at < before.until ? before : undefined;
}

/** A table of one user with a `copy` of each entry; `exec`: without the close-on-exec ones. */
function copyTable<V>(t: Table<V>, copy: (v: V, fd: number) => V | undefined, exec: boolean): Table<V> {
  const fds = new Map<number, Entry<V>>();
  for (const [fd, e] of t.fds) {
    if (exec && e.cloexec) continue;
    const value = copy(e.value, fd);
    if (value !== undefined) fds.set(fd, { value, openedAt: e.openedAt, cloexec: exec ? false : e.cloexec });
  }
  return { fds, superseded: new Map(), users: 1 };
}
