// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * getppid-loop ITERATIONS
 *
 * A syscall ior does not trace, at full rate: what a capture costs the
 * rest of the host. Raw sys_enter/sys_exit hooks run their program on
 * every syscall of every task (and return at once for this one);
 * per-syscall tracepoints leave it alone. Prints one JSON line: the
 * iterations and the elapsed nanoseconds.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include "now.h"


int main(int argc, char **argv)
{
	if (argc != 2 || atoll(argv[1]) <= 0) {
		fprintf(stderr, "usage: getppid-loop ITERATIONS\n");
		return 2;
	}
	long long iters = atoll(argv[1]);
	long long t0 = now_ns(CLOCK_MONOTONIC), c0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	for (long long i = 0; i < iters; i++)
		syscall(SYS_getppid);
	long long el = now_ns(CLOCK_MONOTONIC) - t0;
	/* CPU time: on a shared machine it does not count the time spent
	 * waiting for a CPU, so traced/untraced ratios of it stay stable */
	long long cpu = now_ns(CLOCK_PROCESS_CPUTIME_ID) - c0;
	printf("{\"iterations\":%lld,\"elapsed_ns\":%lld,\"cpu_ns\":%lld,\"ns_per_syscall\":%.1f}\n", iters, el, cpu, (double)el / (double)iters);
	return 0;
}
