/*
 * sleep-jitter N PERIOD_US: the host's own timer lateness, the baseline of the
 * replay pace test (test/replay-capture.test.ts). It waits N times for
 * deadlines PERIOD_US apart exactly as the replay executor waits for an op's
 * due time (native/replay/replay.c: clock_nanosleep to 200 us before, then
 * spin) and prints the p99 and the max of how late it woke, in microseconds:
 * "p99 12.3 max 45.6". On a shared host a thread can stall for milliseconds
 * whatever it does; the test holds the replay to this floor, not to zero.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define SPIN_NS 200000 /* as the executor's */

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int by_value(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: sleep-jitter N PERIOD_US\n");
		return 2;
	}
	long n = atol(argv[1]);
	int64_t period = atol(argv[2]) * 1000LL;
	if (n <= 0 || period <= 0) {
		fprintf(stderr, "sleep-jitter: N and PERIOD_US must be positive\n");
		return 2;
	}
	int64_t *late = calloc((size_t)n, sizeof(*late));
	if (!late)
		return 1;
	int64_t t0 = mono_ns();
	for (long i = 0; i < n; i++) {
		int64_t due = t0 + (i + 1) * period, wake = due - SPIN_NS, now;
		struct timespec ts = { wake / 1000000000LL, wake % 1000000000LL };
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		while ((now = mono_ns()) < due)
			;
		late[i] = now - due;
	}
	qsort(late, (size_t)n, sizeof(*late), by_value);
	long p99 = (long)((double)(n - 1) * 0.99 + 0.5);
	printf("p99 %.1f max %.1f\n", (double)late[p99] / 1e3, (double)late[n - 1] / 1e3);
	free(late);
	return 0;
}
