/*
 * uring.h - the smallest io_uring the replay needs, on raw syscalls (no
 * liburing: the addon is linked into the single binary and must run on
 * every kernel of the fleet, falling back where io_uring is missing or
 * disabled). One ring per replay lane; one thread at a time uses it.
 */
#ifndef IOR_URING_H
#define IOR_URING_H

#include <linux/io_uring.h>
#include <stddef.h>
#include <stdint.h>

struct uring {
	int fd;
	unsigned entries;
	unsigned sqe_tail; /* SQEs taken up to here; the kernel sees them from uring_submit on */
	unsigned *sq_head, *sq_tail, *sq_mask, *sq_array;
	struct io_uring_sqe *sqes;
	unsigned *cq_head, *cq_tail, *cq_mask;
	struct io_uring_cqe *cqes;
	void *sq_map, *cq_map;
	size_t sq_len, cq_len, sqes_len;
};

/* 0, or -errno (ENOSYS, EPERM where io_uring is disabled, ...) */
int uring_init(struct uring *u, unsigned entries);
void uring_exit(struct uring *u);
/* The next SQE, zeroed; the caller keeps fewer than `entries` in flight. */
struct io_uring_sqe *uring_sqe(struct uring *u);
/* Hand the SQEs taken since the last call to the kernel, in one
 * io_uring_enter: how many it took, or -errno. */
int uring_submit(struct uring *u);
/* The oldest CQE, waiting for one if `wait`; NULL if none (or an error).
 * uring_seen() gives its slot back. */
struct io_uring_cqe *uring_cqe(struct uring *u, int wait);
void uring_seen(struct uring *u);

#endif
