/*
 * uring.c - see uring.h. The ring's head and tail words are shared with the
 * kernel: read what the kernel writes with acquire, publish ours with
 * release (as liburing does).
 */
#define _GNU_SOURCE
#include "uring.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static int sys_setup(unsigned entries, struct io_uring_params *p)
{
	return (int)syscall(__NR_io_uring_setup, entries, p);
}

static int sys_enter(int fd, unsigned to_submit, unsigned min_complete, unsigned flags)
{
	return (int)syscall(__NR_io_uring_enter, fd, to_submit, min_complete, flags, NULL, 0);
}

int uring_init(struct uring *u, unsigned entries)
{
	struct io_uring_params p;

	memset(u, 0, sizeof(*u));
	memset(&p, 0, sizeof(p));
	u->fd = sys_setup(entries, &p);
	if (u->fd < 0)
		return -errno;
	u->entries = p.sq_entries;
	u->sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	u->cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	u->sqes_len = p.sq_entries * sizeof(struct io_uring_sqe);
	u->sq_map = mmap(NULL, u->sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, u->fd, IORING_OFF_SQ_RING);
	u->cq_map = mmap(NULL, u->cq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, u->fd, IORING_OFF_CQ_RING);
	u->sqes = mmap(NULL, u->sqes_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, u->fd, IORING_OFF_SQES);
	if (u->sq_map == MAP_FAILED || u->cq_map == MAP_FAILED || u->sqes == MAP_FAILED) {
		int err = errno;
		uring_exit(u);
		return -err;
	}
	char *sq = u->sq_map, *cq = u->cq_map;
	u->sq_head = (unsigned *)(sq + p.sq_off.head);
	u->sq_tail = (unsigned *)(sq + p.sq_off.tail);
	u->sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
	u->sq_array = (unsigned *)(sq + p.sq_off.array);
	u->cq_head = (unsigned *)(cq + p.cq_off.head);
	u->cq_tail = (unsigned *)(cq + p.cq_off.tail);
	u->cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
	u->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	u->sqe_tail = *u->sq_tail;
	return 0;
}

void uring_exit(struct uring *u)
{
	if (u->sq_map && u->sq_map != MAP_FAILED)
		munmap(u->sq_map, u->sq_len);
	if (u->cq_map && u->cq_map != MAP_FAILED)
		munmap(u->cq_map, u->cq_len);
	if (u->sqes && u->sqes != MAP_FAILED)
		munmap(u->sqes, u->sqes_len);
	if (u->fd > 0)
		close(u->fd);
	memset(u, 0, sizeof(*u));
	u->fd = -1;
}

struct io_uring_sqe *uring_sqe(struct uring *u)
{
	unsigned i = u->sqe_tail++ & *u->sq_mask;
	struct io_uring_sqe *sqe = &u->sqes[i];

	memset(sqe, 0, sizeof(*sqe));
	u->sq_array[i] = i;
	return sqe;
}

int uring_submit(struct uring *u)
{
	unsigned n = u->sqe_tail - *u->sq_tail;
	int r;

	if (!n)
		return 0;
	__atomic_store_n(u->sq_tail, u->sqe_tail, __ATOMIC_RELEASE);
	do
		r = sys_enter(u->fd, n, 0, 0);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

struct io_uring_cqe *uring_cqe(struct uring *u, int wait)
{
	for (;;) {
		unsigned head = *u->cq_head;
		if (head != __atomic_load_n(u->cq_tail, __ATOMIC_ACQUIRE))
			return &u->cqes[head & *u->cq_mask];
		if (!wait)
			return NULL;
		if (sys_enter(u->fd, 0, 1, IORING_ENTER_GETEVENTS) < 0 && errno != EINTR)
			return NULL;
	}
}

void uring_seen(struct uring *u)
{
	__atomic_store_n(u->cq_head, *u->cq_head + 1, __ATOMIC_RELEASE);
}
