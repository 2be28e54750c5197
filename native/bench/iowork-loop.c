// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * iowork-loop FILE ITERATIONS [BLOCK]
 *
 * The ior overhead benchmark: per iteration, on a page-cached file,
 *   openat + 4 x pread64 + pwrite64 + fstat + close
 * (glibc's fstat() issues newfstatat(fd, "", AT_EMPTY_PATH); we call the
 * syscalls directly so the count is exact whatever the libc). FILE is
 * created (BLOCK * 8 bytes, default block 4096) and read once before
 * timing so it is in the page cache.
 *
 * Prints one JSON line on stdout: the exact number of each syscall issued
 * in the timed loop, the total, and the elapsed nanoseconds; "setup" counts
 * the syscalls on FILE before the loop (raw syscalls too), so a capture's
 * rows for FILE must number setup + syscalls exactly.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include "now.h"


int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: iowork-loop FILE ITERATIONS [BLOCK]\n");
		return 2;
	}
	const char *path = argv[1];
	long long iters = atoll(argv[2]);
	size_t block = argc > 3 ? (size_t)atol(argv[3]) : 4096;
	if (iters < 0 || block == 0 || block > (1 << 20)) {
		fprintf(stderr, "iowork-loop: bad arguments\n");
		return 2;
	}
	char *buf = malloc(block);
	memset(buf, 'x', block);

	/* setup (not timed): the file, 8 blocks, in the page cache:
	 * openat + 8 pwrite64 + 8 pread64 + close */
	int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDWR | O_CREAT, 0644);
	if (fd < 0) {
		fprintf(stderr, "iowork-loop: %s: %s\n", path, strerror(errno));
		return 1;
	}
	for (int i = 0; i < 8; i++)
		if (syscall(SYS_pwrite64, fd, buf, block, (off_t)(i * block)) != (long)block) {
			fprintf(stderr, "iowork-loop: write: %s\n", strerror(errno));
			return 1;
		}
	for (int i = 0; i < 8; i++)
		if (syscall(SYS_pread64, fd, buf, block, (off_t)(i * block)) < 0)
			return 1;
	syscall(SYS_close, fd);

	long long n_open = 0, n_pread = 0, n_pwrite = 0, n_fstat = 0, n_close = 0, errors = 0;
	struct stat st;
	long long t0 = now_ns(CLOCK_MONOTONIC), c0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	for (long long it = 0; it < iters; it++) {
		fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDWR);
		n_open++;
		if (fd < 0) {
			errors++;
			continue;
		}
		for (int k = 0; k < 4; k++) {
			if (syscall(SYS_pread64, fd, buf, block, (off_t)(k * block)) < 0)
				errors++;
			n_pread++;
		}
		if (syscall(SYS_pwrite64, fd, buf, block, (off_t)(4 * block)) < 0)
			errors++;
		n_pwrite++;
		if (syscall(SYS_newfstatat, fd, "", &st, AT_EMPTY_PATH) < 0)
			errors++;
		n_fstat++;
		if (syscall(SYS_close, fd) < 0)
			errors++;
		n_close++;
	}
	long long el = now_ns(CLOCK_MONOTONIC) - t0;
	/* CPU time: on a shared machine it does not count the time spent
	 * waiting for a CPU, so traced/untraced ratios of it stay stable */
	long long cpu = now_ns(CLOCK_PROCESS_CPUTIME_ID) - c0;
	long long total = n_open + n_pread + n_pwrite + n_fstat + n_close;
	printf("{\"iterations\":%lld,\"syscalls\":{\"openat\":%lld,\"pread64\":%lld,\"pwrite64\":%lld,"
	       "\"newfstatat\":%lld,\"close\":%lld},\"total\":%lld,\"errors\":%lld,\"elapsed_ns\":%lld,\"cpu_ns\":%lld,"
	       "\"ns_per_syscall\":%.1f,\"pid\":%d,"
	       "\"setup\":{\"openat\":1,\"pwrite64\":8,\"pread64\":8,\"close\":1}}\n",
	       iters, n_open, n_pread, n_pwrite, n_fstat, n_close, total, errors, el, cpu,
	       total ? (double)el / (double)total : 0.0, getpid());
	return errors ? 1 : 0;
}
