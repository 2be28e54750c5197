/*
 * uring-paths DIR: file-system calls made through io_uring requests, one at
 * a time, on a raw ring (no liburing), for test/async.test.ts:
 *
 *   MKDIRAT  DIR/sub                      OPENAT  DIR/sub/a.dat (create)
 *   WRITE    4096 bytes at 0              CLOSE
 *   STATX    DIR/sub/a.dat                RENAMEAT DIR/sub/a.dat -> DIR/sub/b.dat
 *   OPENAT2  sub/b.dat relative to an fd of DIR (opened by openat(2))
 *   READ     4096 bytes at 0              CLOSE
 *   UNLINKAT DIR/sub/b.dat                UNLINKAT DIR/sub (AT_REMOVEDIR)
 *
 * Exits 0 when every request returned what it should, else prints which one
 * did not and exits 1.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/io_uring.h>
#include <linux/openat2.h>
#include <linux/stat.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static int ring_fd;
static unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
static struct io_uring_sqe *sqes;
static struct io_uring_cqe *cqes;

static void ring_setup(void)
{
	struct io_uring_params p;
	memset(&p, 0, sizeof(p));
	ring_fd = (int)syscall(__NR_io_uring_setup, 4, &p);
	if (ring_fd < 0) {
		perror("io_uring_setup");
		exit(1);
	}
	size_t sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	size_t cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	char *sq = mmap(NULL, sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring_fd, IORING_OFF_SQ_RING);
	char *cq = mmap(NULL, cq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring_fd, IORING_OFF_CQ_RING);
	sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring_fd, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	sq_tail = (unsigned *)(sq + p.sq_off.tail);
	sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
	sq_array = (unsigned *)(sq + p.sq_off.array);
	cq_head = (unsigned *)(cq + p.cq_off.head);
	cq_tail = (unsigned *)(cq + p.cq_off.tail);
	cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
	cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
}

/* A zeroed SQE at the tail */
static struct io_uring_sqe *sqe_get(void)
{
	unsigned i = *sq_tail & *sq_mask;
	memset(&sqes[i], 0, sizeof(sqes[i]));
	sq_array[i] = i;
	return &sqes[i];
}

/* Submit the SQE at the tail, wait for its CQE, return its result */
static int run(const char *what, int want_ok)
{
	__atomic_store_n(sq_tail, *sq_tail + 1, __ATOMIC_RELEASE);
	if (syscall(__NR_io_uring_enter, ring_fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0) {
		perror("io_uring_enter");
		exit(1);
	}
	unsigned head = *cq_head;
	if (head == __atomic_load_n(cq_tail, __ATOMIC_ACQUIRE)) {
		fprintf(stderr, "uring-paths: %s: no completion\n", what);
		exit(1);
	}
	int res = cqes[head & *cq_mask].res;
	__atomic_store_n(cq_head, head + 1, __ATOMIC_RELEASE);
	if (want_ok && res < 0) {
		fprintf(stderr, "uring-paths: %s: %s\n", what, strerror(-res));
		exit(1);
	}
	return res;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: uring-paths DIR\n");
		return 2;
	}
	char sub[4096], a[4200], b[4200];
	snprintf(sub, sizeof(sub), "%s/sub", argv[1]);
	snprintf(a, sizeof(a), "%s/a.dat", sub);
	snprintf(b, sizeof(b), "%s/b.dat", sub);
	static char buf[4096];
	memset(buf, 'u', sizeof(buf));
	struct statx stx;
	struct io_uring_sqe *s;
	ring_setup();

	s = sqe_get();
	s->opcode = IORING_OP_MKDIRAT, s->fd = AT_FDCWD, s->addr = (uintptr_t)sub, s->len = 0755;
	run("mkdirat", 1);
	s = sqe_get();
	s->opcode = IORING_OP_OPENAT, s->fd = AT_FDCWD, s->addr = (uintptr_t)a, s->open_flags = O_CREAT | O_WRONLY | O_TRUNC, s->len = 0644;
	int fd = run("openat", 1);
	s = sqe_get();
	s->opcode = IORING_OP_WRITE, s->fd = fd, s->addr = (uintptr_t)buf, s->len = sizeof(buf), s->off = 0;
	if (run("write", 1) != (int)sizeof(buf))
		return fprintf(stderr, "uring-paths: short write\n"), 1;
	s = sqe_get();
	s->opcode = IORING_OP_CLOSE, s->fd = fd;
	run("close", 1);
	s = sqe_get();
	s->opcode = IORING_OP_STATX, s->fd = AT_FDCWD, s->addr = (uintptr_t)a, s->len = STATX_SIZE, s->off = (uintptr_t)&stx;
	run("statx", 1);
	if (stx.stx_size != sizeof(buf))
		return fprintf(stderr, "uring-paths: statx size %llu\n", (unsigned long long)stx.stx_size), 1;
	s = sqe_get();
	s->opcode = IORING_OP_RENAMEAT, s->fd = AT_FDCWD, s->addr = (uintptr_t)a, s->len = AT_FDCWD, s->addr2 = (uintptr_t)b;
	run("renameat", 1);

	int dir = open(argv[1], O_RDONLY | O_DIRECTORY);
	struct open_how how = { .flags = O_RDONLY };
	s = sqe_get();
	s->opcode = IORING_OP_OPENAT2, s->fd = dir, s->addr = (uintptr_t) "sub/b.dat", s->len = sizeof(how), s->off = (uintptr_t)&how;
	fd = run("openat2", 1);
	close(dir);
	s = sqe_get();
	s->opcode = IORING_OP_READ, s->fd = fd, s->addr = (uintptr_t)buf, s->len = sizeof(buf), s->off = 0;
	if (run("read", 1) != (int)sizeof(buf))
		return fprintf(stderr, "uring-paths: short read\n"), 1;
	s = sqe_get();
	s->opcode = IORING_OP_CLOSE, s->fd = fd;
	run("close", 1);

	s = sqe_get();
	s->opcode = IORING_OP_UNLINKAT, s->fd = AT_FDCWD, s->addr = (uintptr_t)b;
	run("unlinkat", 1);
	s = sqe_get();
	s->opcode = IORING_OP_UNLINKAT, s->fd = AT_FDCWD, s->addr = (uintptr_t)sub, s->unlink_flags = AT_REMOVEDIR;
	run("unlinkat dir", 1);
	return 0;
}
