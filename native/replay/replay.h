/*
 * replay.h - what the executor's files share: the clock, I/O buffers, the
 * lanes' threads (lanes.c) that run replay.c's ranges, and the async
 * executor (async.c) that ranges hand async ops to.
 */
#ifndef IOR_REPLAY_H
#define IOR_REPLAY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

static inline int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* I/O buffers are page-aligned: O_DIRECT needs the logical block size at
 * least, and a page satisfies every device */
#define IO_ALIGN 4096

/* A bit of a read's or write's flags word (replay/ops.ts OP_MISALIGNED), never
 * passed to the kernel: the traced call met EINVAL on an O_DIRECT fd, so it is
 * issued from a buffer one byte off alignment to meet EINVAL again. The trace
 * holds no buffer address; where the traced offset or size was the misaligned
 * part, the call fails the same way from any buffer. */
#define OP_MISALIGNED (1 << 30)

/* A buffer of at least n bytes (whole pages), aligned to IO_ALIGN and
 * filled with content that does not compress to nothing; NULL: no memory.
 * Its size into *size. Free with free(). */
char *io_buffer_new(size_t n, size_t *size);

/* Async ops (libaio's and io_uring's), one io_uring of the replay's per
 * lane: see async.c. */
enum async_op { A_READ, A_WRITE, A_FSYNC, A_FDATASYNC };
int async_setup(void);
void async_teardown(void);
/* Queue op on lane's ring once fewer than depth are outstanding there
 * (submitted and not yet taken back: the traced depth is what the program
 * kept outstanding), and hand the queue to the kernel if `flush` (else the
 * next op joins it: one io_uring_enter for a traced batch). Completions
 * are taken only when the depth needs room. Its result row res (ret,
 * issue time, latency) is written when it completes, at the latest by
 * async_drain. issued: mono_ns() now; base: mono_ns() at the replay
 * clock's start. rw_flags: a read's or write's RWF_* flags. */
void async_issue(int lane, enum async_op op, int fd, int64_t off, size_t count, int rw_flags, int depth, int flush,
		 double *res, int64_t issued, int64_t base);
/* Ops issued and the sum of the depth each was submitted at (the lane's
 * ops in flight, itself included), over all lanes */
void async_depths(double *ops, double *depth_sum);
/* Wait until at most keep ops of lane are in flight (0: all done). */
void async_drain(int lane, int keep);
/* How async ops were issued: "io_uring", "synchronous (io_uring unavailable: ...)", or NULL (none yet) */
const char *async_issued_as(void);

/* A range of one lane's encoded ops (replay/ops.ts Segment): ops [from, to)
 * of a segment whose op 0 is the lane's op `base` (dependencies count ops
 * per lane). The memory is the planner's SharedArrayBuffers, kept alive by
 * it until the ops' results are tallied. */
struct range {
	const int32_t *ops;
	const double *opsf;
	const char *strings;
	double *results;
	int32_t base, from, to;
};
/* Run a range on the calling executor thread (replay.c): each op when due
 * and its dependencies are done. 1: all ran, or the replay stops; 0: it
 * yielded its thread (blocked on a lane waiting for one), r->from the op
 * to go on with. */
int run_range(struct range *r, int lane);
/* An executor thread's start (timer slack, priority, its root in chroot
 * mode) and end (its buffers freed). */
void executor_thread_begin(void);
void executor_thread_end(void);

/* The state a trace expects, made under the target (init.c), 0 or -errno:
 * rel a directory (a file in the way removed); nothing at rel (directories
 * removed whole); rel a regular file opened for writing (created if
 * missing, anything else in the way removed: the fd, its size in *size); a
 * symlink to target. */
int init_dir(const char *rel);
int init_remove(const char *rel);
int init_file_open(const char *rel, off_t *size);
int init_symlink(const char *rel, const char *target);

/* Lanes a replay can have (traced threads and rings): per-lane arrays are
 * reserved for this many, and filled as the run meets them (lanes_grow). */
#define LANES_MAX (1 << 22)

/* One executor thread per lane (lanes.c), max_threads at once.
 * lanes_submit: 1 queued (the lane's thread started, or the lane waits for
 * one), -errno. lanes_waiting: lanes waiting for a thread; lanes_kick:
 * start threads for them while there is room. */
int lanes_setup(int max_threads);
void lanes_grow(int nlanes);
int lanes_submit(int lane, const struct range *r);
int lanes_waiting(void);
void lanes_kick(void);
int lanes_live(void);
int lanes_peak(void);
void lanes_teardown(void);

/* Calls in flight across the executor threads (inflight.c): +1 when one is
 * issued, -1 when it is done, with mono_ns() of the moment; the
 * time-weighted mean, p99 and the max of the level since the reset.
 * inflight_writers: executor threads that may change it (1: no locked
 * instructions; raised as lanes appear). */
void inflight_reset(void);
void inflight_writers(int writers);
void inflight_change(int delta, int64_t now);
void inflight_stats(double *mean, double *p99, double *max);

#endif
