/*
 * ior replay executor (Node-API addon, C).
 *
 * Runs ranges of encoded replay ops (replay/ops.ts writes them) on each
 * lane's own thread (lanes.c): waits for each op's cross-lane dependencies
 * and its due time, issues the real syscall, and records result, issue
 * time and latency. The planner submits ops by the range and polls per-lane
 * counters for results: the JS/native boundary is crossed per batch, not
 * per syscall, and no JavaScript runs on the executor threads.
 *
 * State shared by all executor threads lives in process globals (the .node
 * is loaded once per process): the target root fd, the fd slot table
 * (traced (pid, fd) -> replay fd), per-lane completion counters, flags.
 *
 * Containment: every path is relative to the target root, and confined by
 * the kernel: each executor thread chrooted into the target, or the
 * openat2(RESOLVE_IN_ROOT) walk where chroot is not allowed (confine.c).
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "confine.h"
#include "replay.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

/* Op kinds: keep in step with replay/ops.ts (OpKind). */
enum {
	K_WAIT, K_OPEN, K_OPEN_PRE, K_CLOSE, K_READ, K_PREAD, K_READV, K_PREADV, K_PREADV2,
	K_WRITE, K_PWRITE, K_WRITEV, K_PWRITEV, K_PWRITEV2, K_LSEEK, K_FSYNC, K_FDATASYNC,
	K_SYNC_FILE_RANGE, K_SYNCFS, K_FTRUNCATE, K_FALLOCATE, K_FADVISE, K_READAHEAD,
	K_FSTAT, K_STATAT, K_STATX, K_ACCESS, K_UNLINK, K_RENAME, K_MKDIR, K_LINK, K_SYMLINK,
	K_READLINK, K_GETDENTS, K_CHMOD, K_FCHMOD, K_CHOWN, K_FCHOWN, K_UTIMENS, K_UTIMENS_FD,
	K_TRUNCATE, K_DUP, K_FCNTL, K_CHDIR, K_FCHDIR, K_COPY_FILE_RANGE, K_SENDFILE, K_SYNC,
	/* async ops: async.c, on the lane's ring; W_MODE holds the traced depth */
	K_AREAD, K_AWRITE, K_AFSYNC, K_AFDATASYNC,
	K_COUNT
};

/* Op record layout: OP_WORDS int32 words, the last 6 overlaid by 3 doubles. */
enum { W_KIND, W_SLOT, W_SLOT2, W_PATH, W_PATH2, W_FLAGS, W_MODE, W_DEP1L, W_DEP1I, W_DEP2L, W_DEP2I, W_RING_DEPTH, OP_WORDS_INT };
#define OP_WORDS 18 /* 12 int32 + 3 doubles (offset, count, due) */
#define F_OFFSET 6  /* double index within the op (word 12) */
#define F_COUNT 7
#define F_DUE 8
#define RESULT_DOUBLES 3 /* ret, issue time (ns since start), latency ns */
#define SEGMENT_OPS_MAX 2048 /* replay/ops.ts SEGMENT_OPS */
/* the last stretch before an op is due is spun, not slept: wake-ups can be ~100 us late on a VM */
#define SPIN_NS 200000
/* timer slack of the threads' sleeps when many wake in the same millisecond (wait_until) */
#define CROWD_SLACK_NS 50000UL
/* a sleeping lane looks at the stop flag this often */
#define STOP_CHECK_NS 50000000LL
/* a thread blocked on another lane this long gives itself up when lanes wait for a thread */
#define YIELD_AFTER_NS 20000000LL

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield");
#endif
}

/*
 * Lanes and fd slots grow as the run meets them (grow(), from the main
 * thread, before it submits an op that uses them): the per-lane arrays are
 * reserved for LANES_MAX up front (pages never touched cost nothing), the
 * slots come in chunks, so no array moves under an executor thread.
 */
#define SLOT_CHUNK_BITS 16
#define SLOT_CHUNK (1 << SLOT_CHUNK_BITS)
#define SLOT_CHUNKS (1 << 15) /* 2^31 slots */
static _Atomic int32_t *g_lane_done;  /* per lane: ops done (what other lanes' dependencies wait for) */
static _Atomic int32_t *g_lane_final; /* per lane: ops whose results are written (an async op's comes at its completion) */
static atomic_int *g_lane_waiters;    /* per lane: threads asleep until it does more (only those lanes' progress wakes anyone) */
static atomic_int g_nlanes;
static _Atomic int32_t *g_slot_chunks[SLOT_CHUNKS]; /* fd of each slot, -1 if none */
static atomic_int g_nslots;
static atomic_int g_stop;
static atomic_llong g_cpu_ns; /* CPU time the executor threads spent in run() */
/* executor threads started, and those the kernel did not give nice -10 (no CAP_SYS_NICE) or the short slice (before 6.12) */
enum { SCHED_THREADS, SCHED_NOT_RENICED, SCHED_NO_SLICE, SCHED_COUNTS };
static atomic_int g_sched[SCHED_COUNTS];
static int g_spinners;          /* executor threads that may spin before a due time at once: CPUs - 1, at least 1 */
static int g_crowd;             /* threads waking in the same millisecond from which sleeps get CROWD_SLACK_NS: 4 per CPU */
static double g_inv_speed;      /* 0: --speed max */
static int64_t g_t0;            /* CLOCK_MONOTONIC ns at setup: times passed to JS are relative to it */
static int64_t g_start;         /* replay clock start, relative to g_t0 */
static int g_zero_fd = -1;      /* /dev/zero, opened before the threads are confined (kernel_touch) */


/* ---- per-thread state: I/O buffer ---- */

static __thread char *t_buf;
static __thread size_t t_buflen;
static __thread int t_ready;
static __thread unsigned long t_slack; /* the thread's timer slack now, ns */
#define EXECUTOR_NICE (-10)
/* the scheduler's slice of a paced replay's threads: the least it takes */
#define EXECUTOR_SLICE_NS 100000
/* sched_setattr's argument, its first version (SCHED_ATTR_SIZE_VER0; <linux/sched/types.h> clashes with <sched.h>) */
struct sched_attr_v0 {
	uint32_t size, sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime, sched_deadline, sched_period;
};
/* stack touched when a thread starts: run_range's and issue's frames (~14 KiB: PATH_MAX buffers) and below */
#define STACK_TOUCH_BYTES (32 * 1024)

static void thread_ready(void)
{
	if (t_ready)
		return;
	t_ready = 1;
	/* told apart from Node's own threads in top -H, perf and bpftrace */
	prctl(PR_SET_NAME, "ior-lane", 0, 0, 0);
	/* precise sleeps: the default 50 us timer slack would show as schedule lag */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	t_slack = 1;
	/* on a busy host the replay's threads get the CPU first when an op is due (best effort: needs CAP_SYS_NICE) */
	id_t tid = (id_t)syscall(SYS_gettid);
	atomic_fetch_add(&g_sched[SCHED_THREADS], 1);
	if (setpriority(PRIO_PROCESS, tid, EXECUTOR_NICE) != 0)
		atomic_fetch_add(&g_sched[SCHED_NOT_RENICED], 1);
	/* ... and at once, when paced: a higher weight alone does not preempt
	 * the thread on the CPU (EEVDF lets it run to the end of its slice),
	 * which held threads whose ops were due behind Node's for 1.5-2.5 ms.
	 * A short slice (Linux 6.12+; ignored before) makes a woken thread's
	 * deadline the earliest: the demo's lag p99 at 2x 1.35 -> 0.77 ms
	 * (docs/benchmarks.md). Not at --speed max, where nothing is due. */
	if (g_inv_speed > 0) {
		errno = 0;
		int nice = getpriority(PRIO_PROCESS, tid);
		struct sched_attr_v0 attr = { .size = sizeof(attr), .sched_policy = SCHED_OTHER, .sched_nice = errno ? 0 : nice, .sched_runtime = EXECUTOR_SLICE_NS };
		syscall(SYS_sched_setattr, 0, &attr, 0);
		/* read back: a kernel before 6.12 takes the call and ignores the slice */
		struct sched_attr_v0 now = { 0 };
		if (syscall(SYS_sched_getattr, 0, &now, sizeof(now), 0) != 0 || now.sched_runtime != EXECUTOR_SLICE_NS)
			atomic_fetch_add(&g_sched[SCHED_NO_SLICE], 1);
	}
}

/*
 * Memory the kernel reads or writes in an op (the stack: paths, struct
 * stat; the I/O buffer) is first touched by the kernel itself ahead of
 * the ops' due times: the stack when the thread starts, the buffer when it
 * is made (buffer_for). A page's first use costs a
 * fault, and on a guest with shadow page tables (this machine's PVM) a
 * first access *by the kernel* to a page costs ~6 us more even when user
 * code has touched it: 256 paced threads opening their files at once spent
 * both CPUs on those and started the opens up to 5 ms late. A read of
 * /dev/zero is the kernel writing the pages (no file system involved).
 */
static void kernel_touch(void *p, size_t n)
{
	if (g_zero_fd < 0 || read(g_zero_fd, p, n) != (ssize_t)n)
		for (size_t i = 0; i < n; i += 4096)
			((volatile char *)p)[i] = 0;
}

/* The stack the ops use, touched. noinline: the array must be this frame's, below the caller's. */
static __attribute__((noinline)) void prefault_stack(void)
{
	char pages[STACK_TOUCH_BYTES];
	kernel_touch(pages, sizeof(pages));
	__asm__ volatile("" : : "r"(pages) : "memory");
}

void executor_thread_begin(void)
{
	thread_ready();
	confine_thread();
	prefault_stack();
}

void executor_thread_end(void)
{
	free(t_buf);
	t_buf = NULL;
	t_buflen = 0;
}

/* The thread's I/O buffer, at least n bytes. Page aligned: O_DIRECT needs
 * the memory aligned to the file's DIO alignment (statx's
 * stx_dio_mem_align, the logical block size before 6.1), which is never
 * more than a page; so every traced O_DIRECT call gets a buffer the kernel
 * accepts, with no statx of our own, and offsets and sizes stay as traced
 * (a misaligned one fails as it did in the trace). */
char *io_buffer_new(size_t n, size_t *size)
{
	size_t want = n < 65536 ? 65536 : (n + IO_ALIGN - 1) & ~(size_t)(IO_ALIGN - 1);
	void *p;
	if (posix_memalign(&p, IO_ALIGN, want))
		return NULL;
	char *b = p;
	kernel_touch(b, want);
	/* content that does not compress to nothing */
	uint64_t x = 0x9e3779b97f4a7c15ULL ^ (uintptr_t)b;
	for (size_t i = 0; i + 8 <= want; i += 8) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		memcpy(b + i, &x, 8);
	}
	*size = want;
	return b;
}

/* This thread's buffer for synchronous ops, grown as needed */
static char *buffer(size_t n)
{
	if (n <= t_buflen)
		return t_buf;
	size_t size;
	char *b = io_buffer_new(n, &size);
	if (!b)
		return NULL;
	free(t_buf);
	t_buf = b;
	t_buflen = size;
	return b;
}

/* The buffer of a read or write: aligned, or skew bytes off (OP_MISALIGNED) */
static char *rw_buffer(size_t n, size_t skew)
{
	char *b = buffer(n + skew);
	return b ? b + skew : NULL;
}

/* a syscall wrapper result as the kernel returns it: negative errno on failure */
static inline long ret_of(long r)
{
	return r < 0 ? -errno : r;
}
#define RET(x) ret_of((long)(x))

static long c_statat(int d, const char *n, int f, const int32_t *op, const double *opf)
{
	struct stat st;
	(void)op; (void)opf;
	return RET(syscall(SYS_newfstatat, d, n, &st, f));
}

static long c_statx(int d, const char *n, int f, const int32_t *op, const double *opf)
{
	struct statx stx;
	(void)opf;
	return RET(syscall(SYS_statx, d, n, f, (unsigned)op[W_MODE], &stx));
}

static long c_access(int d, const char *n, int f, const int32_t *op, const double *opf)
{
	(void)opf;
	return RET(syscall(SYS_faccessat2, d, n, op[W_MODE], f));
}

static long c_chmod(int d, const char *n, int f, const int32_t *op, const double *opf)
{
	(void)opf;
	if (f == 0)
		return RET(syscall(SYS_fchmodat, d, n, op[W_MODE] & 07777));
	return RET(syscall(SYS_fchmodat2, d, n, op[W_MODE] & 07777, f));
}

static long c_chown(int d, const char *n, int f, const int32_t *op, const double *opf)
{
	return RET(syscall(SYS_fchownat, d, n, op[W_MODE], (int)opf[F_COUNT], f));
}

static long c_utimens(int d, const char *n, int f, const int32_t *op, const double *opf)
{
	(void)op; (void)opf;
	return RET(syscall(SYS_utimensat, d, n, NULL, f));
}

static size_t count_of(const double *opf)
{
	double c = opf[F_COUNT];
	return c > 0 ? (size_t)c : 0;
}

/* One read or write moves at most this much (a traced 1 GiB read(2) request would otherwise need a 1 GiB buffer). */
#define MAX_IO ((size_t)64 << 20)

static size_t io_count(const double *opf)
{
	size_t c = count_of(opf);
	return c > MAX_IO ? MAX_IO : c;
}

static long c_readlink(int d, const char *n, int f, const int32_t *op, const double *opf)
{
	(void)f; (void)op;
	size_t cnt = opf[F_COUNT] > 0 ? io_count(opf) : 4096;
	char *b = buffer(cnt);
	if (!b)
		return -ENOMEM;
	return RET(syscall(SYS_readlinkat, d, n, b, cnt));
}

static inline _Atomic int32_t *slot_at(int slot)
{
	if (slot < 0 || slot >= atomic_load_explicit(&g_nslots, memory_order_acquire))
		return NULL;
	return &g_slot_chunks[slot >> SLOT_CHUNK_BITS][slot & (SLOT_CHUNK - 1)];
}

static inline int slot_fd(int slot)
{
	_Atomic int32_t *s = slot_at(slot);
	return s ? atomic_load_explicit(s, memory_order_acquire) : -1;
}

static void slot_set(int slot, int fd)
{
	_Atomic int32_t *s = slot_at(slot);
	if (!s) {
		/* an open that failed in the trace succeeded here: nothing will use the fd */
		if (fd >= 0) {
			close(fd);
			atomic_fetch_add(&g_helpers[H_STRAY_CLOSE], 1);
		}
		return;
	}
	int old = atomic_exchange(s, fd);
	if (old >= 0 && old != fd) {
		close(old); /* dup2/dup3 onto an open fd closes it, as the kernel would */
		atomic_fetch_add(&g_helpers[H_DUP_CLOSE], 1);
	}
}

/* A chrooted thread's name for rel, for the calls that have no *at form: "/rel". 0 if it does not fit. */
static int from_root(char *buf, size_t size, const char *rel)
{
	return (size_t)snprintf(buf, size, "/%s", rel) < size;
}

/* s copied into buf (PATH_MAX bytes), or s itself if it does not fit */
static inline const char *on_stack(char *buf, const char *s)
{
	size_t n = strnlen(s, PATH_MAX);
	if (n == PATH_MAX)
		return s;
	memcpy(buf, s, n + 1);
	return buf;
}

/* Issue one op; returns the syscall result (negative errno on failure). */
static long issue(const int32_t *op, const double *opf, const char *strings)
{
	int kind = op[W_KIND];
	/* the paths the kernel is given from the thread's own stack, whose
	 * pages it has touched (kernel_touch), not from the segment's, which it
	 * has not (fd calls, close to fstat and the async ones, carry theirs
	 * for the planner only) */
	char path_buf[PATH_MAX], path2_buf[PATH_MAX];
	int flags = op[W_FLAGS] & ~OP_MISALIGNED;
	/* fstatat(fd, "", AT_EMPTY_PATH) (glibc's fstat) and the like: on the fd, as traced */
	int on_fd = (flags & AT_EMPTY_PATH) && (kind == K_STATAT || kind == K_STATX || kind == K_ACCESS || kind == K_CHMOD || kind == K_CHOWN || kind == K_READLINK);
	int fd_only = (kind >= K_CLOSE && kind <= K_FSTAT) || kind >= K_AREAD || on_fd;
	const char *path = op[W_PATH] < 0 ? NULL : fd_only ? strings + op[W_PATH] : on_stack(path_buf, strings + op[W_PATH]);
	const char *path2 = op[W_PATH2] < 0 ? NULL : fd_only ? strings + op[W_PATH2] : on_stack(path2_buf, strings + op[W_PATH2]);
	int fd = slot_fd(op[W_SLOT]);
	size_t skew = op[W_FLAGS] & OP_MISALIGNED ? 1 : 0;
	off_t off = (off_t)opf[F_OFFSET];
	size_t cnt = count_of(opf);
	size_t io = io_count(opf);
	char *b;
	struct iovec iov;
	long r;
	const char *leaf, *leaf2;
	int dir, dir2;

	switch (kind) {
	case K_WAIT:
		return 0;

	case K_OPEN:
		r = open_confined(path, flags, op[W_MODE]);
		if (r >= 0)
			slot_set(op[W_SLOT], (int)r);
		return r;
	case K_OPEN_PRE:
		r = open_confined(path, flags, 0);
		if (r >= 0) {
			if (opf[F_OFFSET] > 0) {
				lseek((int)r, off, SEEK_SET);
				atomic_fetch_add(&g_helpers[H_PRE_SEEK], 1);
			}
			slot_set(op[W_SLOT], (int)r);
		}
		return r;
	case K_CLOSE:
		if (!slot_at(op[W_SLOT]))
			return -EBADF;
		r = atomic_exchange(slot_at(op[W_SLOT]), -1);
		if (r < 0)
			return -EBADF;
		return RET(close((int)r));
	case K_READ:
		if (!(b = rw_buffer(io, skew))) return -ENOMEM;
		return RET(read(fd, b, io));
	case K_PREAD:
		if (!(b = rw_buffer(io, skew))) return -ENOMEM;
		return RET(pread(fd, b, io, off));
	case K_READV:
	case K_PREADV:
	case K_PREADV2:
		if (!(b = rw_buffer(io, skew))) return -ENOMEM;
		iov.iov_base = b; iov.iov_len = io;
		if (kind == K_READV) return RET(readv(fd, &iov, 1));
		if (kind == K_PREADV) return RET(preadv(fd, &iov, 1, off));
		return RET(preadv2(fd, &iov, 1, opf[F_OFFSET] < 0 ? -1 : off, flags));
	case K_WRITE:
		if (!(b = rw_buffer(io, skew))) return -ENOMEM;
		return RET(write(fd, b, io));
	case K_PWRITE:
		if (!(b = rw_buffer(io, skew))) return -ENOMEM;
		return RET(pwrite(fd, b, io, off));
	case K_WRITEV:
	case K_PWRITEV:
	case K_PWRITEV2:
		if (!(b = rw_buffer(io, skew))) return -ENOMEM;
		iov.iov_base = b; iov.iov_len = io;
		if (kind == K_WRITEV) return RET(writev(fd, &iov, 1));
		if (kind == K_PWRITEV) return RET(pwritev(fd, &iov, 1, off));
		return RET(pwritev2(fd, &iov, 1, opf[F_OFFSET] < 0 ? -1 : off, flags));
	case K_LSEEK:
		return RET(lseek(fd, off, flags));
	case K_FSYNC:
		return RET(fsync(fd));
	case K_FDATASYNC:
		return RET(fdatasync(fd));
	case K_SYNC_FILE_RANGE:
		return RET(sync_file_range(fd, off, (off_t)cnt, (unsigned)flags));
	case K_SYNCFS:
		return RET(syncfs(op[W_SLOT] < 0 ? g_root : fd));
	case K_SYNC:
		return RET(syncfs(g_root));
	case K_FTRUNCATE:
		return RET(ftruncate(fd, (off_t)cnt));
	case K_FALLOCATE:
		return RET(fallocate(fd, op[W_MODE], off, (off_t)cnt));
	case K_FADVISE:
		return -posix_fadvise(fd, off, (off_t)cnt, flags);
	case K_READAHEAD:
		return RET(readahead(fd, off, cnt));
	case K_FSTAT: {
		struct stat st;
		return RET(syscall(SYS_fstat, fd, &st));
	}
	case K_STATAT:
		if (!path || on_fd)
			return c_statat(fd, "", flags | AT_EMPTY_PATH, op, opf);
		return follow_call(path, flags, c_statat, op, opf);
	case K_STATX:
		if (!path || on_fd)
			return c_statx(fd, "", flags | AT_EMPTY_PATH, op, opf);
		return follow_call(path, flags, c_statx, op, opf);
	case K_ACCESS:
		if (on_fd)
			return c_access(fd, "", flags, op, opf);
		return follow_call(path, flags, c_access, op, opf);
	case K_UNLINK:
		if ((dir = parent_of(path, &leaf)) < 0) return dir;
		/* a directory (or a symlink to one) may go: every thread's parent cache must look again */
		atomic_fetch_add_explicit(&g_dirgen, 1, memory_order_release);
		return RET(unlinkat(dir, leaf, flags));
	case K_RENAME:
		if ((dir = parent_of(path, &leaf)) < 0) return dir;
		if ((dir2 = parent_of(path2, &leaf2)) < 0) return dir2;
		/* a directory may move: every thread's parent cache must look again */
		atomic_fetch_add_explicit(&g_dirgen, 1, memory_order_release);
		return RET(syscall(SYS_renameat2, dir, leaf, dir2, leaf2, flags));
	case K_MKDIR:
		if ((dir = parent_of(path, &leaf)) < 0) return dir;
		return RET(mkdirat(dir, leaf, op[W_MODE] & 07777));
	case K_LINK:
		atomic_store(&g_symlinks, 1); /* a hard link to a symlink is a symlink */
		if ((dir2 = parent_of(path2, &leaf2)) < 0) return dir2;
		if ((flags & AT_SYMLINK_FOLLOW) && !confined_by_chroot()) {
			int src = opath_follow(path);
			if (src < 0) return src;
			r = RET(linkat(src, "", dir2, leaf2, AT_EMPTY_PATH));
			opath_close(src);
			return r;
		}
		if ((dir = parent_of(path, &leaf)) < 0) return dir;
		return RET(linkat(dir, leaf, dir2, leaf2, flags & AT_SYMLINK_FOLLOW));
	case K_SYMLINK:
		/* set before the link exists, so no thread takes the fast path past it */
		atomic_store(&g_symlinks, 1);
		if ((dir = parent_of(path, &leaf)) < 0) return dir;
		return RET(symlinkat(path2, dir, leaf));
	case K_READLINK:
		if (on_fd)
			return c_readlink(fd, "", 0, op, opf);
		if ((dir = parent_of(path, &leaf)) < 0) return dir;
		return c_readlink(dir, leaf, 0, op, opf);
	case K_GETDENTS:
		if (!(b = buffer(io ? io : 32768))) return -ENOMEM;
		return RET(syscall(SYS_getdents64, fd, b, io ? io : 32768));
	case K_CHMOD:
		if (on_fd)
			return c_chmod(fd, "", flags, op, opf);
		return follow_call(path, flags, c_chmod, op, opf);
	case K_FCHMOD:
		return RET(fchmod(fd, op[W_MODE] & 07777));
	case K_CHOWN:
		if (on_fd)
			return c_chown(fd, "", flags, op, opf);
		return follow_call(path, flags, c_chown, op, opf);
	case K_FCHOWN:
		return RET(fchown(fd, op[W_MODE], (int)opf[F_COUNT]));
	case K_UTIMENS:
		return follow_call(path, flags, c_utimens, op, opf);
	case K_UTIMENS_FD:
		return RET(syscall(SYS_utimensat, fd, NULL, NULL, 0));
	case K_TRUNCATE:
		if (confined_by_chroot()) {
			/* truncate(2) has no *at form: the path from the thread's root, the target */
			char p[2 + PATH_MAX];
			if (!from_root(p, sizeof(p), path)) return -ENAMETOOLONG;
			return RET(truncate(p, (off_t)cnt));
		} else if (!atomic_load(&g_symlinks)) {
			/* truncate(2) has no *at form: name the file through the confined parent */
			char p[64 + PATH_MAX];
			if ((dir = parent_of(path, &leaf)) < 0) return dir;
			if ((size_t)snprintf(p, sizeof(p), "/proc/self/fd/%d/%s", dir, leaf) >= sizeof(p)) return -ENAMETOOLONG;
			return RET(truncate(p, (off_t)cnt));
		} else {
			int wfd = open_confined(path, O_WRONLY, 0);
			atomic_fetch_add(&g_helpers[H_PATH_OPEN], 1);
			if (wfd < 0) return wfd;
			r = RET(ftruncate(wfd, (off_t)cnt));
			opath_close(wfd);
			return r;
		}
	case K_DUP: {
		/* dup2/dup3 onto a number the replay holds open: dup3 onto its fd,
		 * which the kernel closes as it did in the trace; else a new number */
		int target = slot_fd(op[W_SLOT2]);
		if (target >= 0 && target == fd)
			return fd; /* dup2(a, a) */
		r = target >= 0 && fd >= 0 ? RET(dup3(fd, target, O_CLOEXEC)) : RET(fcntl(fd, F_DUPFD_CLOEXEC, 0));
		if (r >= 0)
			slot_set(op[W_SLOT2], (int)r);
		return r;
	}
	case K_FCNTL:
		return RET(fcntl(fd, flags, (long)opf[F_COUNT]));
	case K_CHDIR:
		if (confined_by_chroot()) {
			/* the thread's own cwd (no op depends on it: every path is relative to the target's fd) */
			char p[2 + PATH_MAX];
			if (!from_root(p, sizeof(p), path)) return -ENAMETOOLONG;
			return RET(chdir(p));
		}
		/* the replay never changes its own cwd: check the directory instead */
		r = open_confined(path, O_PATH | O_DIRECTORY, 0);
		if (r >= 0)
			close((int)r);
		return r < 0 ? r : 0;
	case K_FCHDIR: {
		if (confined_by_chroot())
			return RET(fchdir(fd));
		struct stat st;
		r = RET(syscall(SYS_fstat, fd, &st));
		return r < 0 ? r : S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
	}
	case K_COPY_FILE_RANGE: {
		loff_t o = off;
		return RET(copy_file_range(fd, opf[F_OFFSET] >= 0 ? &o : NULL, slot_fd(op[W_SLOT2]), NULL, cnt, 0));
	}
	case K_SENDFILE: {
		off_t o = off;
		return RET(sendfile(slot_fd(op[W_SLOT2]), fd, opf[F_OFFSET] >= 0 ? &o : NULL, cnt));
	}
	}
	return -ENOSYS;
}

/* ---- N-API plumbing ---- */

#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, NULL, #call " failed"); return NULL; } } while (0)

static void *typed_data(napi_env env, napi_value v, size_t *length)
{
	napi_typedarray_type type;
	size_t len;
	void *data;
	napi_value ab;
	size_t off;
	if (napi_get_typedarray_info(env, v, &type, &len, &data, &ab, &off) != napi_ok)
		return NULL;
	if (length)
		*length = len;
	return data;
}

static int32_t arg_i32(napi_env env, napi_value v)
{
	int32_t x = 0;
	napi_get_value_int32(env, v, &x);
	return x;
}

static double arg_f64(napi_env env, napi_value v)
{
	double x = 0;
	napi_get_value_double(env, v, &x);
	return x;
}

static char *arg_str(napi_env env, napi_value v)
{
	size_t n = 0;
	if (napi_get_value_string_utf8(env, v, NULL, 0, &n) != napi_ok)
		return NULL;
	char *s = malloc(n + 1);
	napi_get_value_string_utf8(env, v, s, n + 1, &n);
	return s;
}

static napi_value num(napi_env env, double x)
{
	napi_value v;
	napi_create_double(env, x, &v);
	return v;
}

/* Forget every slot (their fds are closed by teardown). */
static void slots_free(void)
{
	int n = atomic_exchange(&g_nslots, 0);
	for (int c = 0; c < SLOT_CHUNKS && c << SLOT_CHUNK_BITS < n; c++) {
		free((void *)g_slot_chunks[c]);
		g_slot_chunks[c] = NULL;
	}
}

/* setup(rootPath, speed (0 = max), symlinksPossible, confine, maxThreads): no lanes or slots yet (grow) */
static napi_value js_setup(napi_env env, napi_callback_info info)
{
	size_t argc = 5;
	napi_value argv[5];
	CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	char *root = arg_str(env, argv[0]);
	int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	free(root);
	if (fd < 0) {
		napi_throw_error(env, NULL, strerror(errno));
		return NULL;
	}
	if (g_zero_fd < 0)
		g_zero_fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	char why[200];
	if (confine_setup(fd, (enum confine_want)arg_i32(env, argv[3]), why, sizeof(why)) < 0) {
		napi_throw_error(env, "ECHROOT", why);
		return NULL;
	}
	double speed = arg_f64(env, argv[1]);
	g_inv_speed = speed > 0 ? 1.0 / speed : 0;
	bool sym = false;
	napi_get_value_bool(env, argv[2], &sym);
	atomic_store(&g_symlinks, sym ? 1 : 0);
	free((void *)g_lane_done);
	free((void *)g_lane_final);
	free((void *)g_lane_waiters);
	slots_free();
	atomic_store(&g_nlanes, 0);
	g_lane_done = calloc(LANES_MAX, sizeof(*g_lane_done));
	g_lane_final = calloc(LANES_MAX, sizeof(*g_lane_final));
	g_lane_waiters = calloc(LANES_MAX, sizeof(*g_lane_waiters));
	if (!g_lane_done || !g_lane_final || !g_lane_waiters) {
		napi_throw_error(env, NULL, strerror(ENOMEM));
		return NULL;
	}
	for (int i = 0; i < H_COUNT; i++)
		g_helpers[i] = 0;
	g_cpu_ns = 0;
	for (int i = 0; i < SCHED_COUNTS; i++)
		g_sched[i] = 0;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int max_threads = arg_i32(env, argv[4]);
	inflight_reset();
	if (lanes_setup(max_threads) < 0 || async_setup() < 0) {
		napi_throw_error(env, NULL, strerror(ENOMEM));
		return NULL;
	}
	g_spinners = ncpu > 2 ? (int)ncpu - 1 : 1;
	g_crowd = 4 * (ncpu > 0 ? (int)ncpu : 1);
	atomic_store(&g_stop, 0);
	g_t0 = mono_ns();
	g_start = 0;
	/* many files open at once: use the hard limit */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	return NULL;
}

/* grow(lanes, slots): the run now has this many lanes and fd slots (never fewer than before) */
static napi_value js_grow(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2];
	CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	int lanes = arg_i32(env, argv[0]), slots = arg_i32(env, argv[1]);
	if (lanes < 0 || lanes > LANES_MAX || slots < 0) {
		napi_throw_error(env, "ELIMIT", "more traced threads or open files than the replay can hold");
		return NULL;
	}
	if (lanes > atomic_load(&g_nlanes)) {
		lanes_grow(lanes);
		inflight_writers(lanes);
		atomic_store_explicit(&g_nlanes, lanes, memory_order_release);
	}
	int have = atomic_load(&g_nslots);
	for (int c = have >> SLOT_CHUNK_BITS; slots > have && c << SLOT_CHUNK_BITS < slots; c++) {
		if (g_slot_chunks[c])
			continue;
		_Atomic int32_t *chunk = malloc(SLOT_CHUNK * sizeof(*chunk));
		if (!chunk) {
			napi_throw_error(env, NULL, strerror(ENOMEM));
			return NULL;
		}
		for (int i = 0; i < SLOT_CHUNK; i++)
			atomic_init(&chunk[i], -1);
		g_slot_chunks[c] = chunk;
	}
	if (slots > have)
		atomic_store_explicit(&g_nslots, slots, memory_order_release);
	return NULL;
}

/* threads(): [executor threads alive now, the most alive at once] */
static napi_value js_threads(napi_env env, napi_callback_info info)
{
	(void)info;
	napi_value arr;
	napi_create_array_with_length(env, 2, &arr);
	napi_set_element(env, arr, 0, num(env, lanes_live()));
	napi_set_element(env, arr, 1, num(env, lanes_peak()));
	return arr;
}

/* scheduling(): [the threads' nice, their slice in ns (0: the default, at --speed max),
 * executor threads started, not reniced, without the slice] */
static napi_value js_scheduling(napi_env env, napi_callback_info info)
{
	(void)info;
	napi_value arr;
	napi_create_array_with_length(env, 2 + SCHED_COUNTS, &arr);
	napi_set_element(env, arr, 0, num(env, EXECUTOR_NICE));
	napi_set_element(env, arr, 1, num(env, g_inv_speed > 0 ? EXECUTOR_SLICE_NS : 0));
	for (int i = 0; i < SCHED_COUNTS; i++)
		napi_set_element(env, arr, (uint32_t)(2 + i), num(env, atomic_load(&g_sched[i])));
	return arr;
}

/* confinement(): [mode ("chroot" or "openat2 (why)"), executor threads that could not chroot] */
static napi_value js_confinement(napi_env env, napi_callback_info info)
{
	(void)info;
	napi_value arr, mode;
	napi_create_array_with_length(env, 2, &arr);
	napi_create_string_utf8(env, confine_mode(), NAPI_AUTO_LENGTH, &mode);
	napi_set_element(env, arr, 0, mode);
	napi_set_element(env, arr, 1, num(env, confine_thread_failures()));
	return arr;
}

/* now(): ns since setup (CLOCK_MONOTONIC) */
static napi_value js_now(napi_env env, napi_callback_info info)
{
	(void)info;
	return num(env, (double)(mono_ns() - g_t0));
}

/* start(atNs): the replay clock starts at this time (ns since setup) */
static napi_value js_start(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	g_start = (int64_t)arg_f64(env, argv[0]);
	return NULL;
}

static napi_value js_stop(napi_env env, napi_callback_info info)
{
	(void)env; (void)info;
	atomic_store(&g_stop, 1);
	return NULL;
}

static napi_value js_lane_done(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	int lane = arg_i32(env, argv[0]);
	return num(env, lane >= 0 && lane < atomic_load_explicit(&g_nlanes, memory_order_acquire) ? atomic_load(&g_lane_done[lane]) : 0);
}

/* laneFinal(lane): the lane's ops whose results are written (the planner tallies up to it) */
static napi_value js_lane_final(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	int lane = arg_i32(env, argv[0]);
	return num(env, lane >= 0 && lane < atomic_load_explicit(&g_nlanes, memory_order_acquire) ? atomic_load_explicit(&g_lane_final[lane], memory_order_acquire) : 0);
}

/* cpuNs(): CPU time the executor threads spent running ops (sleeps and waits do not count) */
static napi_value js_cpu_ns(napi_env env, napi_callback_info info)
{
	(void)info;
	return num(env, (double)atomic_load(&g_cpu_ns));
}

static napi_value js_helpers(napi_env env, napi_callback_info info)
{
	(void)info;
	napi_value arr;
	napi_create_array_with_length(env, H_COUNT, &arr);
	for (int i = 0; i < H_COUNT; i++)
		napi_set_element(env, arr, (uint32_t)i, num(env, (double)atomic_load(&g_helpers[i])));
	return arr;
}

/* stopThreads(): the lanes' threads leave once their current op is done; returns when they have */
static napi_value js_stop_threads(napi_env env, napi_callback_info info)
{
	(void)env; (void)info;
	lanes_teardown();
	return NULL;
}

/* teardown(): stop the lanes' threads, close every replay fd still open and every cached directory */
static napi_value js_teardown(napi_env env, napi_callback_info info)
{
	(void)env; (void)info;
	/* (a run that ended by an error may leave threads sleeping until a call far ahead: they leave now) */
	atomic_store(&g_stop, 1);
	lanes_teardown();
	confine_teardown();
	async_teardown();
	if (g_zero_fd >= 0)
		close(g_zero_fd);
	g_zero_fd = -1;
	for (int i = 0, n = atomic_load(&g_nslots); i < n; i++) {
		int fd = atomic_exchange(slot_at(i), -1);
		if (fd >= 0)
			close(fd);
	}
	return NULL;
}

/* asyncDepths(): [ops, sum of the depth each was submitted at] */
static napi_value js_async_depths(napi_env env, napi_callback_info info)
{
	(void)info;
	double ops, sum;
	napi_value arr;
	async_depths(&ops, &sum);
	napi_create_array_with_length(env, 2, &arr);
	napi_set_element(env, arr, 0, num(env, ops));
	napi_set_element(env, arr, 1, num(env, sum));
	return arr;
}

/* inflight(): [time-weighted mean, p99, max] of the calls in flight across executor threads */
static napi_value js_inflight(napi_env env, napi_callback_info info)
{
	(void)info;
	double mean, p99, max;
	napi_value arr;
	inflight_stats(&mean, &p99, &max);
	napi_create_array_with_length(env, 3, &arr);
	napi_set_element(env, arr, 0, num(env, mean));
	napi_set_element(env, arr, 1, num(env, p99));
	napi_set_element(env, arr, 2, num(env, max));
	return arr;
}

/* asyncIssuedAs(): how async ops were issued ("io_uring", "synchronous (...)"), null: none were */
static napi_value js_async_issued_as(napi_env env, napi_callback_info info)
{
	(void)info;
	napi_value v;
	const char *s = async_issued_as();
	if (!s)
		napi_get_null(env, &v);
	else
		napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
	return v;
}

/* Op i+1 of the range joins op i's io_uring_enter: an async op due now,
 * free of waits, one deeper (the trace queued them together). */
static int batched_with_next(const int32_t *ops, const double *opsf, int32_t i, int32_t to, int64_t now)
{
	if (i + 1 >= to)
		return 0;
	const int32_t *op = ops + (size_t)i * OP_WORDS, *next = op + OP_WORDS;
	const double *nextf = opsf + (size_t)(i + 1) * (OP_WORDS / 2);
	return next[W_KIND] >= K_AREAD && next[W_MODE] == op[W_MODE] + 1 && next[W_DEP1L] < 0 && next[W_DEP2L] < 0 &&
	       g_t0 + g_start + (int64_t)(nextf[F_DUE] * g_inv_speed) <= now;
}

/*
 * Sleep until `due`: to just before it, then spin (a thread that is
 * already running is not late to wake up) - but only while fewer threads
 * spin than there are CPUs less one (at least one): hundreds of lanes
 * spinning would take the CPUs from the ones whose calls are due (seen:
 * 236 ms of lag at the median with 256 paced threads on 2 CPUs, 0.1 ms with
 * one spinner). The others sleep to the due time itself.
 */
static void wait_until(int64_t due)
{
	static atomic_int spinning;
	/* threads asleep, by the ~1 ms (2^20 ns) of their wake time, modulo 64 */
	static atomic_int waking_in[64];
	int spin = atomic_fetch_add(&spinning, 1) < g_spinners;
	if (!spin)
		atomic_fetch_sub(&spinning, 1);
	int64_t wake = spin ? due - SPIN_NS : due;
	/* timer slack of 1 ns, but CROWD_SLACK_NS when many threads wake in
	 * the same millisecond, so that their timers expire in one interrupt:
	 * 256 threads waking each to its own interrupt 29 us apart (their
	 * traced opens) took the CPUs' time and started the last ones 2-5 ms
	 * late; with 50 us of slack the lag p99 was 0.8-0.9 ms (p50 0.09 ms).
	 * (Counted by the millisecond, not by threads asleep: the demo trace's
	 * processes sleep far apart, and 50 us of slack for all of them tripled
	 * its lag p99, 0.1 -> 0.3-0.5 ms.) */
	_Atomic int *slot = &waking_in[(wake >> 20) & 63];
	unsigned long slack = atomic_fetch_add(slot, 1) >= g_crowd ? CROWD_SLACK_NS : 1;
	if (slack != t_slack) {
		prctl(PR_SET_TIMERSLACK, slack, 0, 0, 0);
		t_slack = slack;
	}
	/* in steps of at most STOP_CHECK_NS: a stop is seen while a lane sleeps */
	for (int64_t now = mono_ns(); wake > now && !atomic_load_explicit(&g_stop, memory_order_relaxed); now = mono_ns()) {
		int64_t until = wake - now > STOP_CHECK_NS ? now + STOP_CHECK_NS : wake;
		struct timespec ts = { until / 1000000000LL, until % 1000000000LL };
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
	atomic_fetch_sub(slot, 1);
	if (spin) {
		while (mono_ns() < due && !atomic_load_explicit(&g_stop, memory_order_relaxed))
			cpu_relax();
		atomic_fetch_sub(&spinning, 1);
	}
}

/* Wait until `lane` has done `need` ops: 1; 0 the replay stops; -1 this thread should yield (see lanes.c) */
static int wait_dep(int lane, int32_t need)
{
	if (lane < 0 || lane >= atomic_load_explicit(&g_nlanes, memory_order_relaxed))
		return 1;
	_Atomic int32_t *c = &g_lane_done[lane];
	if (atomic_load_explicit(c, memory_order_acquire) >= need)
		return 1;
	for (int spin = 0; spin < 64; spin++) {
		sched_yield();
		if (atomic_load_explicit(c, memory_order_acquire) >= need)
			return 1;
	}
	/* the other lane's thread gets there when it gets there: sleep until it wakes us (or the replay
	 * stops); but give this thread up after a while if lanes wait for one (that lane may be one) */
	int64_t yield_at = mono_ns() + YIELD_AFTER_NS;
	/* counted (a locked instruction: a full barrier) before the progress
	 * is read again: lane_progress then sees this waiter and wakes it, or
	 * this (or FUTEX_WAIT's own check of the word) sees its progress; a
	 * store of lane_progress still in its CPU's store buffer when it reads
	 * the count can miss it for nanoseconds, which the futex timeout bounds */
	atomic_fetch_add(&g_lane_waiters[lane], 1);
	int ok = 0;
	for (;;) {
		int32_t v = atomic_load_explicit(c, memory_order_acquire);
		if (v >= need) { ok = 1; break; }
		if (atomic_load(&g_stop)) break;
		if (lanes_waiting() > 0 && mono_ns() >= yield_at) { ok = -1; break; }
		struct timespec ts = { 0, 500000 };
		syscall(SYS_futex, (int32_t *)c, FUTEX_WAIT_PRIVATE, v, &ts, NULL, 0);
	}
	atomic_fetch_sub(&g_lane_waiters[lane], 1);
	return ok;
}

/* The lane's progress: `done` ops ran (other lanes' dependencies wait for
 * it), and their results are written up to `done` unless an async op of
 * the range is still in flight (its result comes at its completion). */
static void lane_progress(int lane, int32_t done, int results_written)
{
	/* (no locked instruction per op: 3% of the single-lane issue rate; see wait_dep) */
	atomic_store_explicit(&g_lane_done[lane], done, memory_order_release);
	if (results_written)
		atomic_store_explicit(&g_lane_final[lane], done, memory_order_release);
	/* a wake only for a lane someone waits for: one for every lane's every op while anyone waited was 0.6 futex calls per op at --speed max */
	if (atomic_load_explicit(&g_lane_waiters[lane], memory_order_relaxed) > 0)
		syscall(SYS_futex, (int32_t *)&g_lane_done[lane], FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

/*
 * The I/O buffer the range's reads and writes need, made now, before its
 * first op is due, not in its first read or write: 256 paced threads
 * making theirs (64 KiB, faulted in, filled) at their first pwrite took
 * both CPUs for 60 ms. Lanes that move no data make none.
 */
static void buffer_for(const struct range *r)
{
	size_t need = 0;
	for (int32_t i = r->from; i < r->to; i++) {
		int kind = r->ops[(size_t)i * OP_WORDS + W_KIND];
		const double *opf = r->opsf + (size_t)i * (OP_WORDS / 2);
		size_t n = kind >= K_READ && kind <= K_PWRITEV2 ? io_count(opf) + 1 : kind == K_GETDENTS ? (io_count(opf) ? io_count(opf) : 32768) : 0;
		if (n > need)
			need = n;
	}
	if (need > t_buflen)
		buffer(need);
}

int run_range(struct range *r, int lane)
{
	const int32_t *ops = r->ops;
	const double *opsf = r->opsf;
	struct timespec cpu0, cpu1;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu0);
	buffer_for(r);
	int32_t i = r->from;
	int async_used = 0, yielded = 0;
	int64_t prev_end = 0; /* back-to-back ops: the last one's end is the next one's start (one clock read per op) */
	for (; i < r->to; i++) {
		const int32_t *op = ops + (size_t)i * OP_WORDS;
		const double *opf = opsf + (size_t)i * (OP_WORDS / 2);
		if (atomic_load_explicit(&g_stop, memory_order_relaxed))
			break;
		/* first the due time, then the other lanes' ops before it: those were due earlier, and
		 * are mostly done by then (hundreds of threads waiting on each other ahead of time
		 * would take the CPU from the ones whose calls are due) */
		int64_t now = prev_end ? prev_end : mono_ns();
		int64_t due = g_t0 + g_start + (int64_t)(opf[F_DUE] * g_inv_speed);
		int waited = 0, dep = 1;
		if (due > now) { /* at --speed max every op is due at the start */
			wait_until(due);
			if (atomic_load_explicit(&g_stop, memory_order_relaxed))
				break;
			waited = 1;
		}
		if (op[W_DEP1L] >= 0) {
			dep = wait_dep(op[W_DEP1L], op[W_DEP1I]);
			waited = 1;
		}
		if (dep == 1 && op[W_DEP2L] >= 0) {
			dep = wait_dep(op[W_DEP2L], op[W_DEP2I]);
			waited = 1;
		}
		if (dep != 1) {
			yielded = dep < 0;
			break;
		}
		if (waited)
			now = mono_ns();
		double *res = r->results + (size_t)i * RESULT_DOUBLES;
		if (op[W_KIND] >= K_AREAD) {
			/* its result comes when it completes (by async_drain below at the latest) */
			async_issue(lane, (enum async_op)(op[W_KIND] - K_AREAD), slot_fd(op[W_SLOT]), (int64_t)opf[F_OFFSET], io_count(opf),
				    op[W_FLAGS], op[W_MODE], !batched_with_next(ops, opsf, i, r->to, now), res, now, g_t0 + g_start);
			async_used = 1;
			prev_end = 0;
		} else {
			/* a ring's request issued as its syscall (io_uring's openat, close, ...):
			 * first the ring down to what was in flight beside it in the trace */
			if (op[W_RING_DEPTH] > 0)
				async_drain(lane, op[W_RING_DEPTH] - 1);
			int counted = op[W_KIND] != K_WAIT && op[W_KIND] != K_OPEN_PRE; /* traced calls only */
			if (counted)
				inflight_change(1, now);
			long ret = issue(op, opf, r->strings);
			int64_t end = mono_ns();
			if (counted)
				inflight_change(-1, end);
			res[0] = (double)ret;
			res[1] = (double)(now - g_t0 - g_start);
			res[2] = (double)(end - now);
			prev_end = end;
		}
		lane_progress(lane, r->base + i + 1, !async_used);
	}
	/* every async op of this range completes before the range is done */
	async_drain(lane, 0);
	lane_progress(lane, r->base + i, 1);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu1);
	atomic_fetch_add(&g_cpu_ns, (long long)(cpu1.tv_sec - cpu0.tv_sec) * 1000000000LL + (cpu1.tv_nsec - cpu0.tv_nsec));
	r->from = i;
	return !yielded;
}

/*
 * submit(ops Int32Array, opsF Float64Array, strings Uint8Array, results
 *        Float64Array, lane, laneBase, from, to): queue ops [from, to) of
 * one lane segment for the lane's thread (started now, or once one of the
 * --workers threads is free: kick()). laneBase is the lane-wide index of op
 * 0 of the segment. The arrays stay the caller's and must live until
 * laneFinal(lane) passes the range.
 */
static napi_value js_submit(napi_env env, napi_callback_info info)
{
	size_t argc = 8;
	napi_value argv[8];
	CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	struct range r = {
		.ops = typed_data(env, argv[0], NULL), .opsf = typed_data(env, argv[1], NULL), .strings = typed_data(env, argv[2], NULL),
		.results = typed_data(env, argv[3], NULL), .base = arg_i32(env, argv[5]), .from = arg_i32(env, argv[6]), .to = arg_i32(env, argv[7]),
	};
	int lane = arg_i32(env, argv[4]);
	if (!r.ops || !r.opsf || !r.strings || !r.results || lane < 0 || lane >= atomic_load(&g_nlanes) || r.from < 0 || r.to > SEGMENT_OPS_MAX || r.from > r.to) {
		napi_throw_error(env, NULL, "submit: bad arguments");
		return NULL;
	}
	int ret = lanes_submit(lane, &r);
	if (ret < 0)
		napi_throw_error(env, NULL, strerror(-ret));
	return NULL;
}

/* kick(): threads for the lanes waiting for one, while fewer than --workers run */
static napi_value js_kick(napi_env env, napi_callback_info info)
{
	(void)env; (void)info;
	lanes_kick();
	return NULL;
}

/* initDir(rel) -> 0 | -errno: rel is a directory afterwards (a file in the way is removed) */
static napi_value js_init_dir(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	char *rel = arg_str(env, argv[0]);
	int r = init_dir(rel);
	free(rel);
	return num(env, r);
}

/* initRemove(rel) -> 0 | -errno: nothing exists at rel afterwards (directories removed whole) */
static napi_value js_init_remove(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	char *rel = arg_str(env, argv[0]);
	int r = init_remove(rel);
	free(rel);
	return num(env, r);
}

/*
 * initFile(rel) -> [fd, size] | [-errno, 0]: rel is a regular file opened
 * for writing (created if missing, a directory or symlink in the way is
 * removed); the caller extends it and closes fd.
 */
static napi_value js_init_file(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	char *rel = arg_str(env, argv[0]);
	off_t size = 0;
	int fd = init_file_open(rel, &size);
	free(rel);
	napi_value out;
	napi_create_array_with_length(env, 2, &out);
	napi_set_element(env, out, 0, num(env, fd));
	napi_set_element(env, out, 1, num(env, (double)size));
	return out;
}

/* initSymlink(rel, target) -> 0 | -errno */
static napi_value js_init_symlink(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2];
	CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	char *rel = arg_str(env, argv[0]);
	char *target = arg_str(env, argv[1]);
	int r = init_symlink(rel, target);
	free(rel);
	free(target);
	return num(env, r);
}

static void scan_tree(int dir, int depth, double *symlinks, double *multi)
{
	if (depth > 256)
		return;
	int fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISLNK(st.st_mode))
			(*symlinks)++;
		else if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), e->d_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0) {
				scan_tree(sub, depth + 1, symlinks, multi);
				close(sub);
			}
		} else if (st.st_nlink > 1)
			(*multi)++;
	}
	closedir(d);
}

/* scan() -> [symlinks, multiply-linked files] under the root */
static napi_value js_scan(napi_env env, napi_callback_info info)
{
	(void)info;
	double symlinks = 0, multi = 0;
	if (g_root >= 0)
		scan_tree(g_root, 0, &symlinks, &multi);
	napi_value out;
	napi_create_array_with_length(env, 2, &out);
	napi_set_element(env, out, 0, num(env, symlinks));
	napi_set_element(env, out, 1, num(env, multi));
	return out;
}

NAPI_MODULE_INIT()
{
	napi_property_descriptor props[] = {
		{ "setup", NULL, js_setup, NULL, NULL, NULL, napi_default, NULL },
		{ "grow", NULL, js_grow, NULL, NULL, NULL, napi_default, NULL },
		{ "now", NULL, js_now, NULL, NULL, NULL, napi_default, NULL },
		{ "threads", NULL, js_threads, NULL, NULL, NULL, napi_default, NULL },
		{ "start", NULL, js_start, NULL, NULL, NULL, napi_default, NULL },
		{ "stop", NULL, js_stop, NULL, NULL, NULL, napi_default, NULL },
		{ "laneDone", NULL, js_lane_done, NULL, NULL, NULL, napi_default, NULL },
		{ "laneFinal", NULL, js_lane_final, NULL, NULL, NULL, napi_default, NULL },
		{ "helpers", NULL, js_helpers, NULL, NULL, NULL, napi_default, NULL },
		{ "cpuNs", NULL, js_cpu_ns, NULL, NULL, NULL, napi_default, NULL },
		{ "teardown", NULL, js_teardown, NULL, NULL, NULL, napi_default, NULL },
		{ "asyncIssuedAs", NULL, js_async_issued_as, NULL, NULL, NULL, napi_default, NULL },
		{ "confinement", NULL, js_confinement, NULL, NULL, NULL, napi_default, NULL },
		{ "scheduling", NULL, js_scheduling, NULL, NULL, NULL, napi_default, NULL },
		{ "inflight", NULL, js_inflight, NULL, NULL, NULL, napi_default, NULL },
		{ "asyncDepths", NULL, js_async_depths, NULL, NULL, NULL, napi_default, NULL },
		{ "submit", NULL, js_submit, NULL, NULL, NULL, napi_default, NULL },
		{ "stopThreads", NULL, js_stop_threads, NULL, NULL, NULL, napi_default, NULL },
		{ "kick", NULL, js_kick, NULL, NULL, NULL, napi_default, NULL },
		{ "initDir", NULL, js_init_dir, NULL, NULL, NULL, napi_default, NULL },
		{ "initRemove", NULL, js_init_remove, NULL, NULL, NULL, napi_default, NULL },
		{ "initFile", NULL, js_init_file, NULL, NULL, NULL, napi_default, NULL },
		{ "initSymlink", NULL, js_init_symlink, NULL, NULL, NULL, napi_default, NULL },
		{ "scan", NULL, js_scan, NULL, NULL, NULL, napi_default, NULL },
	};
	napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
	return exports;
}
