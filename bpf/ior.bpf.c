// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ior.bpf.c - the kernel side of ior.
 *
 * One sys_enter_<name> and one sys_exit_<name> tracepoint program per row
 * of syscalls.def. Every program is a one-line call of a generic
 * __always_inline body with constant arguments (syscall id, argument
 * roles), so the compiler folds each copy down to what that syscall needs
 * and never touches ctx->args[i] for i >= nargs (the kernel refuses to
 * attach a program that reads past its tracepoint's arguments).
 *
 *   enter: filter by process, remember {time, raw arguments, file type and
 *          position of the fd argument} in the thread's inflight slot.
 *   exit:  take the slot back, build one struct ior_event (+ path
 *          strings) and copy it to the `events` ring buffer without a
 *          wakeup; the loader polls on a timer, and a wakeup is forced
 *          only when the ring is filling up (wakeup_bytes).
 *
 * The hot path counts helper calls: with the kernel's return-thunk and
 * retpoline mitigations each costs 25-80 ns here (docs/capture.md has the
 * measurements). So the btf build reads the task's ids and comm with
 * plain BTF loads, keeps the inflight slot in task-local storage (found
 * through a per-task cache, not hashed) and caches the process filter's
 * verdict in it.
 *
 * Losses never go unnoticed: every drop increments a per-CPU counter
 * (enum ior_counter) that the loader reports.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "ior.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define AT_FDCWD (-100)
#define AT_EMPTY_PATH 0x1000
#define MAP_ANONYMOUS 0x20
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define S_IFLNK 0120000
#define S_IFREG 0100000
#define S_IFBLK 0060000
#define S_IFDIR 0040000
#define S_IFCHR 0020000
#define S_IFIFO 0010000
#define ANON_INODE_FS_MAGIC 0x09041934
#define PID_FS_MAGIC 0x50494446
#define PAGE_SHIFT 12
#define EBUSY 16
#define IORING_ENTER_REGISTERED_RING (1U << 4)

/* The tracepoint contexts (tracefs format of syscalls/sys_{enter,exit}_*).
 * Declared here rather than taken from vmlinux.h: vmlinux.h types are CO-RE
 * relocatable, which turns ctx->args[i] into "ctx + relocated offset"
 * arithmetic, and the verifier only accepts ctx loads at constant offsets. */
struct ior_enter_ctx {
	__u64 common;        /* struct trace_entry */
	long nr;             /* __syscall_nr */
	unsigned long args[6];
};

struct ior_exit_ctx {
	__u64 common;
	long nr;
	long ret;
};

/* ---- settings, written by the loader into .rodata before load ---------- */
const volatile __u32 filter_flags = 0;            /* IOR_FILTER_* */
const volatile char filter_comm[IOR_COMM_LEN] = {};
const volatile __u32 exclude_tgids[IOR_MAX_EXCLUDE] = {}; /* 0 = unused slot */
const volatile __u64 wakeup_bytes = 0;            /* force a wakeup past this much unread data (0: never) */

/* Written by the loader while running (--hooks tracepoints only): 1 stops
 * the enter programs, 2 the exit programs too. Closing the per-syscall
 * perf events waits for RCU grace periods one event at a time (seconds
 * for the table); this stops the capture at once, and the loader
 * releases the perf events after its END frame. */
volatile __u32 tp_stop_level = 0;

/* ---- maps ---------------------------------------------------------------- */

/* What sys_enter remembers for sys_exit: one slot per thread, reused call
 * after call (ts 0: nothing in flight). */
struct inflight {
	__u64 ts;            /* CLOCK_BOOTTIME at entry; 0 once the exit took it */
	__u64 args[6];       /* raw tracepoint arguments (only the first nargs are set) */
	__s64 pos;           /* file position of the fd argument (pos rows), or VMA file offset */
	__u32 file_type;     /* enum ior_file_type of the fd argument / VMA */
	__u16 sc;            /* enum ior_syscall_id, checked at exit */
	__u16 event_flags;   /* IOR_EF_* decided at entry */
	__u32 verdict;       /* task storage only: enum verdict of pid_traced() */
	__u64 uring_ring;    /* task storage only: the io_uring ring this thread last submitted to, known to traced_rings */
};

/* pid_traced() for a thread, cached in its slot: a thread's tgid never
 * changes, and traced_pids gains a tgid before any of its threads runs
 * traced (the loader's before attaching, a child at fork). */
enum verdict { VERDICT_UNKNOWN = 0, VERDICT_TRACED = 1, VERDICT_SKIPPED = 2 };

/* The slots: task-local storage in the btf build (task storage is Linux
 * 5.12, the btf build needs 6.2), freed with the task; else a hash keyed
 * by thread id, whose entries ior_exit_core deletes. The loader creates
 * only the one its build uses. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct inflight);
} task_inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);                   /* thread id */
	__type(value, struct inflight);
} inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 << 20);        /* resized by the loader (--ring-mb) */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IOR_COUNTER_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* tgids to trace with IOR_FILTER_PIDS (value unused). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u8);
} traced_pids SEC(".maps");

/* Per-CPU room to build an event with its paths before copying it to the
 * ring (bpf_ringbuf_output takes a variable size, reserve does not). The
 * second path may start at IOR_PATH_MAX - 1 and is read with
 * IOR_PATH_MAX + 1 bytes (one more than kept, to detect truncation). An
 * io_uring record with paths has its struct ior_async in front of them. */
struct scratch {
	struct ior_event e;
	char paths[sizeof(struct ior_async) + 2 * IOR_PATH_MAX + 16];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

/* ---- small helpers ------------------------------------------------------- */

/* This CPU's copy of a counter (an array lookup the JIT inlines). */
static __always_inline __u64 *counter(__u32 which)
{
	return bpf_map_lookup_elem(&counters, &which);
}

static __always_inline void count(__u32 which)
{
	__u64 *c = counter(which);

	if (c)
		*c += 1; /* per-CPU: no atomics needed */
}

/* The process filter, in two parts. Branches on .rodata constants are
 * removed by the verifier, so whole-host tracing costs a few compares. */
static __always_inline bool pid_traced(__u32 tgid)
{
#pragma unroll
	for (int i = 0; i < IOR_MAX_EXCLUDE; i++) {
		__u32 x = exclude_tgids[i];

		if (x && x == tgid)
			return false;
	}
	return !(filter_flags & IOR_FILTER_PIDS) || bpf_map_lookup_elem(&traced_pids, &tgid);
}

/* comm changes at exec and with prctl(PR_SET_NAME): checked every time.
 * t: a task to read it from with BTF loads, or NULL for the current task
 * through the helper (the CO-RE build's syscall programs). */
static __always_inline bool comm_traced(struct task_struct *t)
{
	union {
		char c[IOR_COMM_LEN];
		__u64 w[2];
	} comm;

	if (!(filter_flags & IOR_FILTER_COMM))
		return true;
	if (t) {
		comm.w[0] = *(__u64 *)&t->comm[0];
		comm.w[1] = *(__u64 *)&t->comm[8];
	} else {
		bpf_get_current_comm(comm.c, sizeof(comm.c));
	}
#pragma unroll
	for (int i = 0; i < IOR_COMM_LEN; i++) {
		if (comm.c[i] != filter_comm[i])
			return false;
		if (!comm.c[i])
			break;
	}
	return true;
}

static __always_inline bool trace_this(struct task_struct *t, __u32 tgid)
{
	return pid_traced(tgid) && comm_traced(t);
}

/* The current thread, as the syscall programs see it. */
struct self {
	struct task_struct *task; /* btf build only, else NULL */
	__u32 tgid;
	__u32 tid;
};

static __always_inline void self_get(const bool btf, struct self *me)
{
	if (btf) {
		struct task_struct *t = bpf_get_current_task_btf();

		me->task = t;
		me->tgid = t->tgid;
		me->tid = t->pid;
	} else {
		__u64 id = bpf_get_current_pid_tgid();

		me->task = NULL;
		me->tgid = id >> 32;
		me->tid = (__u32)id;
	}
}

/* The current thread's inflight slot at sys_enter, created on first use;
 * NULL if the thread is not traced (or, counted, if no slot can be had). */
static __always_inline struct inflight *enter_slot(const bool btf, struct self *me)
{
	struct inflight *v;

	self_get(btf, me);
	if (btf) {
		v = bpf_task_storage_get(&task_inflight, me->task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (!v) {
			if (trace_this(me->task, me->tgid))
				count(IOR_LOSS_INFLIGHT_FULL);
			return NULL;
		}
		if (v->verdict == VERDICT_UNKNOWN)
			v->verdict = pid_traced(me->tgid) ? VERDICT_TRACED : VERDICT_SKIPPED;
		if (v->verdict != VERDICT_TRACED || !comm_traced(me->task))
			return NULL;
		return v;
	}
	if (!trace_this(NULL, me->tgid))
		return NULL;
	v = bpf_map_lookup_elem(&inflight, &me->tid);
	if (v)
		return v;
	struct inflight fresh = {};

	bpf_map_update_elem(&inflight, &me->tid, &fresh, BPF_NOEXIST);
	v = bpf_map_lookup_elem(&inflight, &me->tid);
	if (!v)
		count(IOR_LOSS_INFLIGHT_FULL);
	return v;
}

/* The current thread's slot at sys_exit (never created here). */
static __always_inline struct inflight *exit_slot(const bool btf, struct self *me)
{
	self_get(btf, me);
	if (btf)
		return bpf_task_storage_get(&task_inflight, me->task, 0, 0);
	return bpf_map_lookup_elem(&inflight, &me->tid);
}

/* Two ways to read the struct file behind an fd; the loader loads the
 * programs built for the one the kernel supports (a constant `btf` at every
 * call site):
 *   btf:  task->files->fdt->fd[fd] and the struct file with plain BTF
 *         loads from the current task (bpf_get_current_task_btf, 5.11)
 *         and the bpf_rdonly_cast kfunc (6.2, which the verifier turns
 *         into a move): no helper call at all;
 *   else: CO-RE probe reads from bpf_get_current_task (any BTF kernel,
 *         ior's floor 5.8): about ten probe reads (docs/capture.md has
 *         what that costs). */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

/* enum ior_file_type of an inode. Anonymous inodes (eventfd, epoll, ...)
 * and pidfds carry S_IFREG internally on recent kernels: tell them apart by
 * their super block. */
static __always_inline __u32 inode_type(const bool btf, struct inode *ino)
{
	__u32 m;

	if (!ino)
		return IOR_FT_NONE;
	m = (btf ? ino->i_mode : BPF_CORE_READ(ino, i_mode)) & S_IFMT;
	switch (m) {
	case S_IFREG: {
		unsigned long magic = btf ? ino->i_sb->s_magic : BPF_CORE_READ(ino, i_sb, s_magic);

		if (magic == ANON_INODE_FS_MAGIC || magic == PID_FS_MAGIC)
			return IOR_FT_OTHER;
		return IOR_FT_REGULAR;
	}
	case S_IFDIR: return IOR_FT_DIRECTORY;
	case S_IFIFO: return IOR_FT_PIPE;
	case S_IFSOCK: return IOR_FT_SOCKET;
	case S_IFCHR: return IOR_FT_CHAR;
	case S_IFBLK: return IOR_FT_BLOCK;
	case S_IFLNK: return IOR_FT_SYMLINK;
	default: return IOR_FT_OTHER;
	}
}

/* The struct file behind fd in the current task t (btf build; NULL in the
 * CO-RE build, where the pointer comes back as a plain number for CO-RE
 * reads), NULL if not open. */
static __always_inline struct file *fd_file(const bool btf, struct task_struct *t, int fd)
{
	struct fdtable *fdt;
	struct file **fda;
	struct file *f = NULL;

	if (fd < 0)
		return NULL;
	if (btf) {
		fdt = t->files->fdt;
		if (!fdt || (unsigned int)fd >= fdt->max_fds)
			return NULL;
		/* fdt->fd is a pointer to pointers, which the verifier keeps
		 * as a plain number: read slot fd through a cast to a struct
		 * whose first member is a struct file * (kiocb's has been
		 * since Linux 2.6), an exception-handled load, no helper */
		struct kiocb *slot = bpf_rdonly_cast((void *)((unsigned long)fdt->fd + (unsigned int)fd * sizeof(f)),
						     bpf_core_type_id_kernel(struct kiocb));

		return slot->ki_filp;
	}
	t = (struct task_struct *)bpf_get_current_task();
	fdt = BPF_CORE_READ(t, files, fdt);
	if (!fdt || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fda = BPF_CORE_READ(fdt, fd);
	/* variable index: a probe read */
	if (bpf_probe_read_kernel(&f, sizeof(f), &fda[fd]))
		return NULL;
	return f;
}

/* enum ior_file_type of the file behind fd in the current task t (btf
 * build; NULL in the CO-RE build), IOR_FT_NONE if not open; its position
 * into *pos unless pos is NULL. */
static __always_inline __u32 fd_type(const bool btf, struct task_struct *t, int fd, __s64 *pos)
{
	struct file *f = fd_file(btf, t, fd);

	if (!f)
		return IOR_FT_NONE;
	if (pos)
		*pos = btf ? f->f_pos : BPF_CORE_READ(f, f_pos);
	return inode_type(btf, btf ? f->f_inode : BPF_CORE_READ(f, f_inode));
}

/* bpf_find_vma callback: is the VMA file-backed? */
struct vma_ctx {
	__u64 addr;
	__s64 off;
	__u32 file_type;
};

static long vma_cb(struct task_struct *task, struct vm_area_struct *vma, struct vma_ctx *c)
{
	struct file *f = vma->vm_file;

	if (f) {
		c->file_type = inode_type(true, f->f_inode);
		c->off = ((__s64)vma->vm_pgoff << PAGE_SHIFT) + (__s64)(c->addr - vma->vm_start);
	}
	return 0;
}

/* ---- the generic sys_enter body ----------------------------------------- */

/* Syscall arguments and number from the user registers (raw sys_enter /
 * sys_exit hooks). tp_btf hands us a trusted pt_regs: plain loads. */
#if defined(__TARGET_ARCH_x86)
#define SYS_NR(r) ((r)->orig_ax)
#define SYS_ARG(r, i) ((i) == 0 ? (r)->di : (i) == 1 ? (r)->si : (i) == 2 ? (r)->dx : \
		       (i) == 3 ? (r)->r10 : (i) == 4 ? (r)->r8 : (r)->r9)
/* 64-bit syscalls only: ia32 tasks use other numbers (__USER_CS = 0x33) */
#define SYS_NATIVE(r) ((r)->cs == 0x33)
#elif defined(__TARGET_ARCH_arm64)
#define SYS_NR(r) ((r)->syscallno)
#define SYS_ARG(r, i) ((i) == 0 ? (r)->orig_x0 : (r)->regs[(i)])
#define SYS_NATIVE(r) (!((r)->pstate & 0x10)) /* not AArch32 (PSR_MODE32_BIT) */
#else
#error "ior.bpf.c: raw syscall hooks need SYS_NR/SYS_ARG for this architecture"
#endif

/* Argument i as saved at entry (only used under an (i) >= 0 test). */
#define ARG(i) (args[(i) < 0 ? 0 : (i)])

/* raw: arguments from regs (raw sys_enter hook), else from tpctx (a
 * syscalls/sys_enter_<name> tracepoint). find_vma: the munmap/msync rows
 * may call bpf_find_vma (Linux 5.17); a program built without it loads on
 * older kernels, where the loader does not trace those rows. Constants at
 * every call site. */
static __always_inline int do_enter(const bool raw, const bool find_vma, const bool btf,
				    struct ior_enter_ctx *tpctx, struct pt_regs *regs,
				    const __u16 sc, const int nargs, const int kind,
				    const int fd_arg, const int flags_arg, const int pos)
{
	struct self me;
	struct inflight *v = enter_slot(btf, &me);
	__u64 *args;

	if (!v)
		return 0;
	/* written in place: the slot's ts is 0 (or stale from a call whose
	 * exit never came) until the end, so an early return leaves nothing
	 * for the exit to pair with */
	if (v->ts)
		count(IOR_ENTER_ABANDONED);
	v->ts = 0;
	args = v->args;
#pragma unroll
	for (int i = 0; i < 6; i++)
		if (i < nargs) /* never past the tracepoint's own arguments */
			args[i] = raw ? SYS_ARG(regs, i) : tpctx->args[i];

	if (kind == IOR_K_MMAP) {
		/* file mappings only */
		if (fd_arg < 0 || (int)ARG(fd_arg) < 0)
			return 0;
		if (flags_arg >= 0 && (ARG(flags_arg) & MAP_ANONYMOUS))
			return 0;
	}
	v->pos = -1;
	v->file_type = IOR_FT_NONE;
	v->sc = sc;
	v->event_flags = 0;
	if (kind == IOR_K_VMA) {
		/* munmap/msync: only if addr (arg 0) lies in a file-backed VMA */
		if (!find_vma)
			return 0;
		struct vma_ctx c = { .addr = ARG(0), .off = -1, .file_type = IOR_FT_NONE };
		long err = bpf_find_vma(bpf_get_current_task_btf(), c.addr, vma_cb, &c, 0);

		/* -EBUSY (mmap lock contended): cannot tell, keep the call */
		if (err != -EBUSY && c.file_type == IOR_FT_NONE)
			return 0;
		v->file_type = c.file_type;
		v->pos = c.off;
	}
	if (fd_arg >= 0 && pos != 2 && sc != IOR_SC_io_uring_enter) {
		/* file type (and position) of the fd argument, at entry (the
		 * ring's of io_uring_enter is known at exit: a per-request
		 * cost saved) */
		v->file_type = fd_type(btf, me.task, (int)ARG(fd_arg), pos == 1 ? &v->pos : NULL);
	}

	v->ts = bpf_ktime_get_boot_ns();
	count(IOR_ENTERS_RECORDED);
	return 0;
}

/* ---- the generic sys_exit body ------------------------------------------ */

/* Read one path string into dst (room: IOR_PATH_MAX + 1 bytes), from user
 * memory or (io_uring's prepared requests) the kernel's. Returns its length
 * without the NUL, clamped to IOR_PATH_MAX - 1. */
static __always_inline __u32 read_str(char *dst, __u64 ptr, const bool user, __u8 *eflags)
{
	long n;

	if (!ptr)
		return 0; /* NULL path (utimensat(fd, NULL, ...)): no path, no fault */
	n = user ? bpf_probe_read_user_str(dst, IOR_PATH_MAX + 1, (const void *)ptr)
		 : bpf_probe_read_kernel_str(dst, IOR_PATH_MAX + 1, (const void *)ptr);
	if (n <= 0) {
		/* "" reads as 1 (its NUL) on most kernels but as 0 on some
		 * (6.12: found by the kernel matrix, fstatat(fd, "",
		 * AT_EMPTY_PATH)). One branch for both keeps the length's
		 * bounds plain for 5.10's verifier. */
		if (n < 0)
			*eflags |= IOR_EF_PATH_FAULT;
		return 0;
	}
	if (n > IOR_PATH_MAX) {
		*eflags |= IOR_EF_PATH_TRUNCATED;
		return IOR_PATH_MAX - 1;
	}
	return n - 1;
}

static __always_inline __u32 read_path(char *dst, __u64 uptr, __u8 *eflags)
{
	return read_str(dst, uptr, true, eflags);
}

#include "async.bpf.h"

#define ROLE_S32(r) ((r) >= 0 ? (__s32)ARG(r) : -1)

static __always_inline int do_exit(const bool btf, const __s64 ret, const __u16 sc,
				   const int kind, const int fd_arg, const int fd2_arg,
				   const int dirfd_arg, const int path_arg, const int dirfd2_arg,
				   const int path2_arg, const int count_arg, const int off_arg,
				   const int flags_arg, const int mode_arg, const int pos)
{
	__u64 now = bpf_ktime_get_boot_ns();
	const bool has_paths = path_arg >= 0 || path2_arg >= 0;
	struct self me;
	struct inflight *v = exit_slot(btf, &me);
	struct ior_event *e;
	struct scratch *s;
	__u32 zero = 0, size = sizeof(struct ior_event);
	__u64 flags, ts;

	if (!v || !v->ts) {
		/* entered before we attached, or filtered out at entry (by
		 * process, or as an anonymous mmap / non-file munmap, which the
		 * exit cannot tell apart: those are not counted) */
		if (kind != IOR_K_MMAP && kind != IOR_K_VMA &&
		    (btf && v ? v->verdict == VERDICT_TRACED && comm_traced(me.task) : trace_this(me.task, me.tgid)))
			count(IOR_UNPAIRED_EXIT);
		return 0;
	}
	ts = v->ts;
	v->ts = 0; /* consumed; the rest of the slot stays ours until this thread's next call */
	count(IOR_EXITS_PAIRED);
	if (v->sc != sc) {
		/* the number changed under us (ptrace, seccomp): drop the pair */
		count(IOR_UNPAIRED_EXIT);
		return 0;
	}

	/* The record is built in per-CPU scratch and copied to the ring with
	 * its exact size: one helper call (reserve + submit is two). */
	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return 0;
	e = &s->e;

	__u64 *args = v->args; /* for ARG() */

	e->ts_ns = ts;
	e->latency_ns = now - ts;
	e->ret = ret;
	e->pid = me.tgid;
	e->tid = me.tid;
	e->fd = ROLE_S32(fd_arg);
	e->fd2 = ROLE_S32(fd2_arg);
	e->dirfd = dirfd_arg == -2 ? AT_FDCWD : ROLE_S32(dirfd_arg);
	e->dirfd2 = dirfd2_arg == -2 ? AT_FDCWD : ROLE_S32(dirfd2_arg);
	e->flags = flags_arg >= 0 ? (__s32)ARG(flags_arg) : 0;
	e->mode = mode_arg >= 0 ? (__u32)ARG(mode_arg) : 0;
	e->syscall = sc;
	e->file_type = v->file_type;
	e->event_flags = v->event_flags;
	e->path_len = 0;
	e->path2_len = 0;
	e->cpu = bpf_get_smp_processor_id();
	e->_pad = 0;
	if (btf) {
		/* two loads instead of a helper call; comm is NUL-padded */
		*(__u64 *)&e->comm[0] = *(__u64 *)&me.task->comm[0];
		*(__u64 *)&e->comm[8] = *(__u64 *)&me.task->comm[8];
	} else {
		bpf_get_current_comm(e->comm, sizeof(e->comm));
	}

	/* count */
	e->count = count_arg >= 0 ? (__s64)ARG(count_arg) : -1;
	if (kind == IOR_K_IOV) {
		/* sum the iovec lengths: one bulk read of up to IOR_IOV_MAX
		 * entries into scratch (IOV rows have no paths) */
		__u64 n = ARG(count_arg);
		struct iovec *iov = (struct iovec *)s->paths;
		__s64 sum = 0;

		if (n > IOR_IOV_MAX) {
			n = IOR_IOV_MAX;
			e->event_flags |= IOR_EF_IOV_TRUNCATED;
		}
		if (n == 0) {
			e->count = 0;
		} else if (bpf_probe_read_user(iov, n * sizeof(struct iovec), (void *)ARG(1)) == 0) {
			for (int i = 0; i < IOR_IOV_MAX; i++) {
				if (i >= n)
					break;
				sum += iov[i].iov_len;
			}
			e->count = sum;
		} else {
			e->count = -1;
		}
	}

	/* offset */
	e->offset = -1;
	if (kind == IOR_K_OFFPTR) {
		/* loff_t __user *: the kernel advanced it by the bytes moved */
		__u64 up = ARG(off_arg);
		__s64 o;

		if (up) {
			if (bpf_probe_read_user(&o, sizeof(o), (void *)up) == 0)
				e->offset = o - (ret > 0 ? ret : 0);
		} else if (pos == 1 && v->pos >= 0) {
			e->offset = v->pos;
			e->event_flags |= IOR_EF_HAS_POS;
		}
	} else if (kind == IOR_K_VMA) {
		e->offset = v->pos; /* file offset that addr maps to */
	} else if (off_arg >= 0) {
		e->offset = (__s64)ARG(off_arg);
		if (pos == 1 && e->offset == -1 && v->pos >= 0) {
			/* preadv2/pwritev2 with offset -1: current position */
			e->offset = v->pos;
			e->event_flags |= IOR_EF_HAS_POS;
		}
	} else if (pos == 1 && v->pos >= 0) {
		e->offset = v->pos;
		e->event_flags |= IOR_EF_HAS_POS;
	}

	if (kind == IOR_K_OPEN_HOW) {
		struct open_how how;

		if (bpf_probe_read_user(&how, sizeof(how), (void *)ARG(2)) == 0) {
			e->flags = (__s32)how.flags;
			e->mode = (__u32)how.mode;
		}
	}

	if (sc == IOR_SC_io_uring_enter) {
		/* only an io_uring file gets past io_uring_enter's checks;
		 * with IORING_ENTER_REGISTERED_RING its fd is an index into
		 * the ring fds the thread registered, no fd at all */
		if (e->flags & IORING_ENTER_REGISTERED_RING)
			e->file_type = IOR_FT_NONE;
		else
			e->file_type = ret >= 0 ? IOR_FT_OTHER : fd_type(btf, me.task, e->fd, NULL);
	}

	if (pos == 2 && ret >= 0) {
		/* open/dup: the type of the file behind the new fd */
		e->file_type = fd_type(btf, me.task, (int)ret, NULL);
	}

	if (has_paths) {
		__u8 ef = 0;
		__u32 l1 = 0, l2 = 0;

		/* at exit the kernel has already faulted the strings in */
		if (path_arg >= 0)
			l1 = read_path(s->paths, ARG(path_arg), &ef);
		if (path2_arg >= 0) {
			l1 &= IOR_PATH_MAX - 1; /* for the verifier: l1 < IOR_PATH_MAX */
			l2 = read_path(s->paths + l1, ARG(path2_arg), &ef);
		}
		l1 &= IOR_PATH_MAX - 1;
		l2 &= IOR_PATH_MAX - 1;
		e->path_len = l1;
		e->path2_len = l2;
		/* fstatat(fd, "", AT_EMPTY_PATH), utimensat(fd, NULL, ...): the
		 * call is on dirfd itself: its file type */
		if (pos != 2 && dirfd_arg >= 0 && path_arg >= 0 && !l1 && !(ef & IOR_EF_PATH_FAULT) && e->file_type == IOR_FT_NONE &&
		    ((e->flags & AT_EMPTY_PATH) || sc == IOR_SC_utimensat))
			e->file_type = fd_type(btf, me.task, e->dirfd, NULL);
		e->event_flags |= ef;
		if (ef & IOR_EF_PATH_TRUNCATED)
			count(IOR_LOSS_PATH_TRUNCATED);
		if (ef & IOR_EF_PATH_FAULT)
			count(IOR_LOSS_PATH_FAULT);
		/* zero the padding so records are deterministic */
		*(__u64 *)(s->paths + ((l1 + l2) & (2 * IOR_PATH_MAX - 1))) = 0;
		size = (sizeof(struct ior_event) + l1 + l2 + 7) & ~7u;
	}

	/* the operations an io_submit started, an io_getevents reaped, the
	 * files an io_uring_register registered */
	async_syscall_exit(btf, kind, sc, args, ts, now, ret);

	/* No wakeup per event (a cross-CPU wakeup costs microseconds); the
	 * loader polls on a timer. Force one when the ring is filling up,
	 * looking every 32nd event of a CPU (at most ~40 KiB between looks). */
	__u64 *emitted = counter(IOR_EVENTS_EMITTED);

	flags = BPF_RB_NO_WAKEUP;
	if (wakeup_bytes && emitted && !(*emitted & 31) &&
	    bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > wakeup_bytes)
		flags = BPF_RB_FORCE_WAKEUP;

	if (size > sizeof(struct scratch))
		return 0;
	if (bpf_ringbuf_output(&events, e, size, flags)) {
		count(IOR_LOSS_RINGBUF);
		return 0;
	}
	if (emitted)
		*emitted += 1;
	return 0;
}

/* ---- hooks ----------------------------------------------------------------- */

/*
 * --hooks raw (and the fallback without tracefs): one raw sys_enter and
 * one raw sys_exit program (tp_btf), which
 * map the syscall number to a row of syscalls.def through nr_row (set by
 * the loader: 0 = not traced, else row + 1; the loader leaves out the
 * syscalls not requested) and switch to that row's folded copy of the
 * generic body. Cheaper per traced call than the per-syscall tracepoints
 * below (no perf buffer copy of the arguments) and attached or detached at
 * once, but run on every syscall of the host (docs/capture.md compares).
 */
const volatile __u8 nr_row[IOR_NR_MAX] = {};

static __always_inline int raw_enter(const bool find_vma, const bool btf, struct pt_regs *regs, long nr)
{
	__u32 row;

	if ((unsigned long)nr >= IOR_NR_MAX || !SYS_NATIVE(regs))
		return 0;
	row = nr_row[nr];
	switch (row) {
#define IOR_SC(name, nargs, kind, fd, fd2, dirfd, path, dirfd2, path2, count, offset, flags, mode, pos) \
	case IOR_SC_##name + 1:                                                                     \
		return do_enter(true, find_vma, btf, NULL, regs, IOR_SC_##name, nargs, kind, fd, flags, pos);
#include "syscalls.def"
#undef IOR_SC
	}
	return 0;
}

static __always_inline int raw_exit(const bool btf, struct pt_regs *regs, long ret)
{
	unsigned long nr = SYS_NR(regs);
	__u32 row;

	if (nr >= IOR_NR_MAX || !SYS_NATIVE(regs))
		return 0;
	row = nr_row[nr];
	switch (row) {
#define IOR_SC(name, nargs, kind, fd, fd2, dirfd, path, dirfd2, path2, count, offset, flags, mode, pos) \
	case IOR_SC_##name + 1:                                                                     \
		return do_exit(btf, ret, IOR_SC_##name, kind, fd, fd2, dirfd, path, dirfd2, path2,  \
			       count, offset, flags, mode, pos);
#include "syscalls.def"
#undef IOR_SC
	}
	return 0;
}

/* The loader loads one enter and one exit program: with bpf_rdonly_cast
 * (6.2), else with CO-RE reads and bpf_find_vma (5.17), else without it
 * (munmap/msync then left out of nr_row). */
SEC("tp_btf/sys_enter")
int BPF_PROG(ior_sys_enter, struct pt_regs *regs, long nr)
{
	return raw_enter(true, true, regs, nr);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(ior_sys_enter_core, struct pt_regs *regs, long nr)
{
	return raw_enter(true, false, regs, nr);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(ior_sys_enter_core_novma, struct pt_regs *regs, long nr)
{
	return raw_enter(false, false, regs, nr);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(ior_sys_exit, struct pt_regs *regs, long ret)
{
	return raw_exit(true, regs, ret);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(ior_sys_exit_core, struct pt_regs *regs, long ret)
{
	return raw_exit(false, regs, ret);
}

/*
 * Default (--hooks tracepoints): one syscalls/sys_enter_<name> and one
 * sys_exit_<name> program per row; the loader attaches only the rows
 * requested. Same bodies, built both ways (enter_/exit_ with
 * bpf_rdonly_cast, core_enter_/core_exit_ with CO-RE reads); the
 * munmap/msync rows use bpf_find_vma and are not loaded without it.
 */
#define IOR_TP(prefix, btf, name, nargs, kind, fd, fd2, dirfd, path, dirfd2, path2, count, offset, flags, mode, pos) \
	SEC("tp/syscalls/sys_enter_" #name)                                                         \
	int prefix##enter_##name(struct ior_enter_ctx *ctx)                                         \
	{                                                                                            \
		if (tp_stop_level)                                                                   \
			return 0;                                                                    \
		return do_enter(false, true, btf, ctx, NULL, IOR_SC_##name, nargs, kind, fd, flags, pos); \
	}                                                                                            \
	SEC("tp/syscalls/sys_exit_" #name)                                                          \
	int prefix##exit_##name(struct ior_exit_ctx *ctx)                                           \
	{                                                                                            \
		if (tp_stop_level >= 2)                                                              \
			return 0;                                                                    \
		return do_exit(btf, ctx->ret, IOR_SC_##name, kind, fd, fd2, dirfd, path, dirfd2, path2, \
			       count, offset, flags, mode, pos);                                    \
	}
#define IOR_SC(...) IOR_TP(, true, __VA_ARGS__) IOR_TP(core_, false, __VA_ARGS__)
#include "syscalls.def"
#undef IOR_SC
#undef IOR_TP

/* ---- process lifecycle ---------------------------------------------------- */

/* A lifecycle record (enum ior_record) into the ring: not a trace row, it
 * keeps the decoder's per-process fd tables right. Reserved in the context
 * of the event itself, so it sits in the ring before every record it
 * affects (a child cannot run before sched_process_fork returns). */
static __always_inline void lifecycle(__u16 type, __u32 tgid, __u32 tid, __s64 ret, __s32 fd, __s32 flags)
{
	struct ior_event *e = bpf_ringbuf_reserve(&events, sizeof(struct ior_event), 0);

	if (!e) {
		count(IOR_LOSS_RINGBUF);
		return;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_boot_ns();
	e->ret = ret;
	e->offset = -1;
	e->count = -1;
	e->pid = tgid;
	e->tid = tid;
	e->fd = fd;
	e->fd2 = -1;
	e->dirfd = -1;
	e->dirfd2 = -1;
	e->flags = flags;
	e->syscall = type;
	e->cpu = bpf_get_smp_processor_id();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	count(IOR_LIFECYCLE_EMITTED);
}

/* A new process (not a thread): follow it if its parent is followed, and
 * tell the decoder to give it a copy of the parent's fd table and cwd. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(ior_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid, ctgid = child->tgid;
	__s32 shared = 0;
	__u8 one = 1;

	if (ptgid == ctgid) /* a new thread */
		return 0;
	if ((filter_flags & IOR_FILTER_FOLLOW) && bpf_map_lookup_elem(&traced_pids, &ptgid))
		bpf_map_update_elem(&traced_pids, &ctgid, &one, BPF_ANY);
	/* the child runs with the parent's comm until it execs */
	if (!trace_this(child, ctgid))
		return 0;
	if (child->files == parent->files)
		shared |= IOR_FORK_SHARED_FILES;
	if (child->fs == parent->fs)
		shared |= IOR_FORK_SHARED_FS;
	lifecycle(IOR_REC_FORK, ptgid, parent->pid, ctgid, -1, shared);
	return 0;
}

/* After a successful execve: the close-on-exec fds are already closed. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(ior_exec, struct task_struct *p, pid_t old_pid)
{
	__u32 tgid = p->tgid;

	if (trace_this(p, tgid))
		lifecycle(IOR_REC_EXEC, tgid, p->pid, 0, old_pid, 0);
	return 0;
}

/*
 * Every exiting thread: a call it entered and will never leave is
 * forgotten (counted, not recorded), and its slot freed (task storage goes
 * with the task by itself). When the last thread of a process exits
 * (signal->live already dropped to 0 before this tracepoint), tell the
 * decoder to forget the process and stop following the tgid, so a reused
 * pid is not traced. One program per build, like the slots.
 */
static __always_inline int do_task_exit(const bool btf, struct task_struct *p)
{
	__u32 tgid = p->tgid, tid = p->pid;
	struct inflight *v = btf ? bpf_task_storage_get(&task_inflight, p, 0, 0)
				 : bpf_map_lookup_elem(&inflight, &tid);

	if (v) {
		if (v->ts)
			count(IOR_ENTER_ABANDONED);
		if (!btf)
			bpf_map_delete_elem(&inflight, &tid);
	}
	if (p->signal->live.counter != 0)
		return 0;
	if (trace_this(p, tgid))
		lifecycle(IOR_REC_EXIT, tgid, tid, p->exit_code, -1, 0);
	if (filter_flags & IOR_FILTER_PIDS)
		bpf_map_delete_elem(&traced_pids, &tgid);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(ior_exit, struct task_struct *p)
{
	return do_task_exit(true, p);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(ior_exit_core, struct task_struct *p)
{
	return do_task_exit(false, p);
}
