/*
 * async.c - the replay of async operations (libaio's and io_uring's,
 * schema version 2). The planner gives each traced ring a lane of its own
 * whose ops come in their traced submission order; here each lane has an
 * io_uring of the replay's, and an op is submitted once fewer ops are in
 * flight on it than the trace had when it was submitted (async_depth,
 * itself included), so the replay keeps the traced queue depth. libaio
 * operations go through io_uring too (the report says so). Where io_uring
 * is missing or disabled, ops are issued synchronously, one at a time,
 * and the report says that instead.
 *
 * A lane runs on one worker thread at a time, and run() drains its ring
 * before it returns, so a lane's state is never touched by two threads and
 * no result is written after its segment was handed back.
 */
#define _GNU_SOURCE
#include "replay.h"
#include "uring.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

/* the deepest queue replayed per ring (deeper traced depths are capped) */
#define ASYNC_ENTRIES 256

struct pending {
	double *res;     /* its result row: ret, issue time, latency */
	int64_t issued;  /* mono_ns() when it was queued */
};

struct lane_async {
	int state; /* 0 not set up, 1 io_uring, -1 synchronous */
	struct uring ring;
	int inflight;      /* queued, submitted, or completed and not taken yet */
	int queued[ASYNC_ENTRIES], nqueued; /* slots of the SQEs not handed to the kernel yet */
	struct pending slots[ASYNC_ENTRIES];
	int free_slots[ASYNC_ENTRIES], nfree;
	char *buf; /* one buffer for the lane's ops: reads land on each other, as the content does not matter */
	size_t buflen;
};

static struct lane_async **g_lanes; /* LANES_MAX reserved; made on a lane's first async op */
static atomic_int g_used;          /* lanes below this may have one */
static _Atomic(const char *) g_issued_as;
static _Atomic long long g_ops, g_depth_sum;
static char g_unavailable[128];

int async_setup(void)
{
	async_teardown();
	g_lanes = calloc(LANES_MAX, sizeof(*g_lanes));
	if (!g_lanes)
		return -ENOMEM;
	atomic_store(&g_issued_as, NULL);
	atomic_store(&g_ops, 0);
	atomic_store(&g_depth_sum, 0);
	return 0;
}

void async_teardown(void)
{
	for (int i = 0, n = atomic_load(&g_used); g_lanes && i < n; i++) {
		struct lane_async *a = g_lanes[i];
		if (!a)
			continue;
		if (a->state > 0)
			uring_exit(&a->ring);
		free(a->buf);
		free(a);
	}
	free(g_lanes);
	g_lanes = NULL;
	atomic_store(&g_used, 0);
}

const char *async_issued_as(void)
{
	return atomic_load(&g_issued_as);
}

static struct lane_async *lane_state(int lane)
{
	if (lane < 0 || lane >= LANES_MAX || !g_lanes)
		return NULL;
	struct lane_async *a = g_lanes[lane];
	if (a)
		return a;
	a = g_lanes[lane] = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	for (int used = atomic_load(&g_used); lane >= used && !atomic_compare_exchange_weak(&g_used, &used, lane + 1);)
		;
	/* IOR_NO_URING=1: as where io_uring is disabled (tests, diagnosis) */
	const char *no = getenv("IOR_NO_URING");
	int err = no && !strcmp(no, "1") ? -ENOSYS : uring_init(&a->ring, ASYNC_ENTRIES);
	if (err) {
		a->state = -1;
		snprintf(g_unavailable, sizeof(g_unavailable), "synchronous (io_uring unavailable: %s)",
			 no && !strcmp(no, "1") ? "IOR_NO_URING=1" : strerror(-err));
		atomic_store(&g_issued_as, g_unavailable);
	} else {
		a->state = 1;
		const char *none = NULL;
		atomic_compare_exchange_strong(&g_issued_as, &none, "io_uring");
	}
	for (int i = 0; i < ASYNC_ENTRIES; i++)
		a->free_slots[i] = ASYNC_ENTRIES - 1 - i;
	a->nfree = ASYNC_ENTRIES;
	return a;
}

/* One completion, waiting for it if `wait`: 1 if one was taken. */
static int reap(struct lane_async *a, int wait)
{
	struct io_uring_cqe *cqe = uring_cqe(&a->ring, wait);
	if (!cqe)
		return 0;
	int slot = (int)cqe->user_data;
	struct pending *p = &a->slots[slot];
	int64_t now = mono_ns();
	p->res[0] = cqe->res;
	p->res[2] = (double)(now - p->issued);
	inflight_change(-1, now);
	uring_seen(&a->ring);
	a->inflight--;
	a->free_slots[a->nfree++] = slot;
	return 1;
}

void async_depths(double *ops, double *depth_sum)
{
	*ops = (double)atomic_load(&g_ops);
	*depth_sum = (double)atomic_load(&g_depth_sum);
}

/* Hand the queued SQEs to the kernel; those it refuses fail with its error. */
static void submit_queued(struct lane_async *a)
{
	if (!a->nqueued)
		return;
	int r = uring_submit(&a->ring);
	if (r < 0) {
		for (int i = 0; i < a->nqueued; i++) {
			struct pending *p = &a->slots[a->queued[i]];
			p->res[0] = r;
			p->res[2] = 0;
			inflight_change(-1, p->issued);
			a->free_slots[a->nfree++] = a->queued[i];
			a->inflight--;
		}
		/* the kernel did not take them: take them back */
		a->ring.sqe_tail -= (unsigned)a->nqueued;
		__atomic_store_n(a->ring.sq_tail, a->ring.sqe_tail, __ATOMIC_RELEASE);
	}
	a->nqueued = 0;
}

void async_drain(int lane, int keep)
{
	struct lane_async *a = lane >= 0 && lane < atomic_load(&g_used) ? g_lanes[lane] : NULL;
	if (!a || a->state <= 0)
		return;
	submit_queued(a);
	while (a->inflight > keep)
		if (!reap(a, 1))
			break;
}

static char *lane_buffer(struct lane_async *a, int lane, size_t n)
{
	if (n <= a->buflen && a->buf)
		return a->buf;
	/* in-flight ops point into the old one */
	async_drain(lane, 0);
	free(a->buf);
	a->buf = io_buffer_new(n, &a->buflen);
	if (!a->buf)
		a->buflen = 0;
	return a->buf;
}

/* The op done at once, where there is no ring. */
static long issue_sync(enum async_op op, int fd, char *buf, int64_t off, size_t count, int rw_flags)
{
	long r;
	struct iovec iov = { buf, count };
	switch (op) {
	case A_READ: r = preadv2(fd, &iov, 1, off, rw_flags); break;
	case A_WRITE: r = pwritev2(fd, &iov, 1, off, rw_flags); break;
	case A_FSYNC: r = fsync(fd); break;
	default: r = fdatasync(fd); break;
	}
	return r < 0 ? -errno : r;
}

void async_issue(int lane, enum async_op op, int fd, int64_t off, size_t count, int rw_flags, int depth, int flush,
		 double *res, int64_t issued, int64_t base)
{
	struct lane_async *a = lane_state(lane);
	size_t skew = rw_flags & OP_MISALIGNED ? 1 : 0;
	rw_flags &= ~OP_MISALIGNED;
	char *buf = a && (op == A_READ || op == A_WRITE) ? lane_buffer(a, lane, (count ? count : 1) + skew) : NULL;
	if (buf)
		buf += skew;

	res[1] = (double)(issued - base);
	if (!a || ((op == A_READ || op == A_WRITE) && !buf)) {
		res[0] = -ENOMEM;
		res[2] = 0;
		return;
	}
	if (a->state < 0) {
		inflight_change(1, issued);
		res[0] = (double)issue_sync(op, fd, buf, off, count, rw_flags);
		int64_t end = mono_ns();
		res[2] = (double)(end - issued);
		inflight_change(-1, end);
		atomic_fetch_add(&g_ops, 1);
		atomic_fetch_add(&g_depth_sum, 1);
		return;
	}
	/* room down to the traced depth */
	if (depth < 1)
		depth = 1;
	if (depth > ASYNC_ENTRIES)
		depth = ASYNC_ENTRIES;
	while (a->inflight >= depth) {
		submit_queued(a);
		if (!reap(a, 1))
			break;
	}
	struct io_uring_sqe *sqe = uring_sqe(&a->ring);
	int slot = a->free_slots[--a->nfree];
	sqe->fd = fd;
	sqe->off = (uint64_t)off;
	sqe->user_data = (uint64_t)slot;
	switch (op) {
	case A_READ:
	case A_WRITE:
		sqe->opcode = op == A_READ ? IORING_OP_READ : IORING_OP_WRITE;
		sqe->addr = (uint64_t)(uintptr_t)buf;
		sqe->len = (uint32_t)count;
		sqe->rw_flags = rw_flags;
		break;
	case A_FSYNC:
	case A_FDATASYNC:
		sqe->opcode = IORING_OP_FSYNC;
		sqe->off = 0;
		sqe->fsync_flags = op == A_FDATASYNC ? IORING_FSYNC_DATASYNC : 0;
		break;
	}
	a->slots[slot] = (struct pending){ res, mono_ns() };
	res[1] = (double)(a->slots[slot].issued - base);
	a->queued[a->nqueued++] = slot;
	a->inflight++;
	inflight_change(1, a->slots[slot].issued);
	atomic_fetch_add(&g_ops, 1);
	atomic_fetch_add(&g_depth_sum, a->inflight);
	if (flush || a->nqueued == ASYNC_ENTRIES)
		submit_queued(a);
}
