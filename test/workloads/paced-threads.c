/*
 * paced-threads DIR THREADS ROUNDS PERIOD_MS [lateness]: a paced many-threaded writer
 * (test/replay-capture.test.ts). Each thread opens DIR/tK.dat, then ROUNDS
 * times writes 4 KiB at the next offset and fdatasyncs it, on a fixed
 * period (absolute clock; thread K starts K * PERIOD / THREADS into it, so
 * the calls are spread), and closes. What a database's many connections
 * committing look like to the file system: the replay must keep every
 * thread running at once. Raw syscall() so libc cannot change what the
 * trace sees. With "lateness", prints how late the threads woke for their
 * periods (p99 and max, us: "lateness p99 812.0 max 2301.5") on stderr at
 * the end: the host's floor for this very workload, which the replay of
 * its trace is compared with (bench/replay.ts).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static const char *dir;
static long threads, rounds, period_ns;
static struct timespec t0;
static pthread_barrier_t start;
static long long *late_ns; /* threads x rounds: how late each wake-up was */

static long long mono_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int by_value(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x > y) - (x < y);
}

static void add_ns(struct timespec *t, long long ns)
{
	long long s = (long long)t->tv_nsec + ns;
	t->tv_sec += s / 1000000000LL;
	t->tv_nsec = s % 1000000000LL;
}

static void *worker(void *arg)
{
	long k = (long)arg;
	char path[4096], buf[4096];
	memset(buf, 'a' + (int)(k % 26), sizeof(buf));
	snprintf(path, sizeof(path), "%s/t%ld.dat", dir, k);
	pthread_barrier_wait(&start);
	int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		perror(path);
		exit(1);
	}
	struct timespec next = t0;
	add_ns(&next, k * period_ns / threads);
	for (long r = 0; r < rounds; r++) {
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		if (late_ns)
			late_ns[k * rounds + r] = mono_ns() - (next.tv_sec * 1000000000LL + next.tv_nsec);
		if (syscall(SYS_pwrite64, fd, buf, sizeof(buf), (long)(r * sizeof(buf))) != (long)sizeof(buf) || syscall(SYS_fdatasync, fd) != 0) {
			perror("pwrite64/fdatasync");
			exit(1);
		}
		add_ns(&next, period_ns);
	}
	syscall(SYS_close, fd);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 5 && !(argc == 6 && strcmp(argv[5], "lateness") == 0)) {
		fprintf(stderr, "usage: %s DIR THREADS ROUNDS PERIOD_MS [lateness]\n", argv[0]);
		return 2;
	}
	dir = argv[1];
	threads = atol(argv[2]);
	rounds = atol(argv[3]);
	period_ns = atol(argv[4]) * 1000000L;
	if (threads < 1 || threads > 4096 || rounds < 1 || period_ns < 1)
		return 2;
	pthread_t *t = calloc((size_t)threads, sizeof(*t));
	if (argc == 6 && !(late_ns = calloc((size_t)(threads * rounds), sizeof(*late_ns))))
		return 1;
	pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	add_ns(&t0, 50000000); /* every thread is up before the first period */
	for (long k = 0; k < threads; k++)
		if (pthread_create(&t[k], NULL, worker, (void *)k) != 0)
			return 1;
	pthread_barrier_wait(&start);
	for (long k = 0; k < threads; k++)
		pthread_join(t[k], NULL);
	if (late_ns) {
		long n = threads * rounds;
		qsort(late_ns, (size_t)n, sizeof(*late_ns), by_value);
		fprintf(stderr, "lateness p99 %.1f max %.1f\n", late_ns[(n * 99) / 100] / 1e3, late_ns[n - 1] / 1e3);
	}
	return 0;
}
