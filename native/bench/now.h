// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* now_ns: the clock reading the benchmark loops time themselves with
 * (CLOCK_MONOTONIC for elapsed, CLOCK_PROCESS_CPUTIME_ID for their own CPU). */
#ifndef IOR_BENCH_NOW_H
#define IOR_BENCH_NOW_H
#include <time.h>

static inline long long now_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
#endif
