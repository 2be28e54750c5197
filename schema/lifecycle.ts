/**
 * Process lifecycle as trace rows (schema version 4): a traced process's
 * fork, exec and exit, in the syscall column under these names (not
 * syscalls: the kernel's sched_process_* events, whichever call caused
 * them). They let a reader follow fd tables across processes as the kernel
 * does (trace/fd-model.ts): a child shares its parent's open files.
 *
 *   process_fork  pid/tid/comm: the parent; ret: the child's pid; flags:
 *                 CLONE_FILES and/or CLONE_FS when the child shares the
 *                 parent's fd table / cwd (0: it has copies)
 *   process_exec  pid/tid/comm: after the exec; count: the thread that
 *                 called execve (a thread other than the leader takes
 *                 the leader's id); ret 0
 *   process_exit  pid: the process, tid: its last thread; ret: the wait
 *                 status (exit code << 8, or the signal that killed it)
 * Every other column: -1 for fd and fd2, 0 for latency_ns and bytes, null.
 * New threads have no row (they share everything with their process).
 */
export const PROCESS_FORK = 'process_fork';
export const PROCESS_EXEC = 'process_exec';
export const PROCESS_EXIT = 'process_exit';
export const LIFECYCLE_ROWS: ReadonlySet<string> = new Set([PROCESS_FORK, PROCESS_EXEC, PROCESS_EXIT]);

/** clone(2) flags, in a process_fork row's flags column */
export const CLONE_FS = 0x200;
export const CLONE_FILES = 0x400;
