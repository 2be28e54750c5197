/*
 * sleep-jitter N PERIOD_US [THREADS]: the host's own timer lateness, the
 * baseline of the replay pace tests (test/replay-capture.test.ts). Each of
 * THREADS threads (default 1) waits N times for deadlines PERIOD_US apart
 * (thread k's shifted by k * PERIOD_US / THREADS, as paced threads are)
 * exactly as the replay executor waits for an op's due time
 * (native/replay/replay.c: clock_nanosleep to 200 us before, then spin; one
 * thread at a time may spin on 2 CPUs, the others sleep to the deadline)
 * and prints the p99 and the max of how late they woke, in microseconds:
 * "p99 12.3 max 45.6". On a shared host a thread can stall for milliseconds
 * whatever it does; the tests hold the replay to this floor, not to zero.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define SPIN_NS 200000 /* as the executor's */

static long n, threads;
static int64_t period, t0;
static int64_t *late;
static atomic_int spinning;
static int spinners;

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

static void *waiter(void *arg)
{
	long k = (long)arg;
	for (long i = 0; i < n; i++) {
		int64_t due = t0 + (i + 1) * period + k * period / threads, now;
		int spin = atomic_fetch_add(&spinning, 1) < spinners;
		if (!spin)
			atomic_fetch_sub(&spinning, 1);
		int64_t wake = spin ? due - SPIN_NS : due;
		struct timespec ts = { wake / 1000000000LL, wake % 1000000000LL };
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		while ((now = mono_ns()) < due)
			;
		if (spin)
			atomic_fetch_sub(&spinning, 1);
		late[k * n + i] = now - due;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: sleep-jitter N PERIOD_US [THREADS]\n");
		return 2;
	}
	n = atol(argv[1]);
	period = atol(argv[2]) * 1000LL;
	threads = argc == 4 ? atol(argv[3]) : 1;
	if (n <= 0 || period <= 0 || threads <= 0 || threads > 4096) {
		fprintf(stderr, "sleep-jitter: N, PERIOD_US and THREADS must be positive\n");
		return 2;
	}
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	spinners = ncpu > 2 ? (int)ncpu - 1 : 1;
	late = calloc((size_t)(n * threads), sizeof(*late));
	pthread_t *t = calloc((size_t)threads, sizeof(*t));
	if (!late || !t)
		return 1;
	t0 = mono_ns() + 20000000; /* every thread is up before the first deadline */
	for (long k = 0; k < threads; k++)
		if (pthread_create(&t[k], NULL, waiter, (void *)k) != 0)
			return 1;
	for (long k = 0; k < threads; k++)
		pthread_join(t[k], NULL);
	long total = n * threads;
	qsort(late, (size_t)total, sizeof(*late), by_value);
	long p99 = (long)((double)(total - 1) * 0.99 + 0.5);
	printf("p99 %.1f max %.1f\n", (double)late[p99] / 1e3, (double)late[total - 1] / 1e3);
	free(late);
	free(t);
	return 0;
}
