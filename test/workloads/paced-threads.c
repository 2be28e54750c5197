/*
 * paced-threads DIR THREADS ROUNDS PERIOD_MS: a paced many-threaded writer
 * (test/replay-capture.test.ts). Each thread opens DIR/tK.dat, then ROUNDS
 * times writes 4 KiB at the next offset and fdatasyncs it, on a fixed
 * period (absolute clock; thread K starts K * PERIOD / THREADS into it, so
 * the calls are spread), and closes. What a database's many connections
 * committing look like to the file system: the replay must keep every
 * thread running at once. Raw syscall() so libc cannot change what the
 * trace sees.
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
	if (argc != 5) {
		fprintf(stderr, "usage: %s DIR THREADS ROUNDS PERIOD_MS\n", argv[0]);
		return 2;
	}
	dir = argv[1];
	threads = atol(argv[2]);
	rounds = atol(argv[3]);
	period_ns = atol(argv[4]) * 1000000L;
	if (threads < 1 || threads > 4096 || rounds < 1 || period_ns < 1)
		return 2;
	pthread_t *t = calloc((size_t)threads, sizeof(*t));
	pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	add_ns(&t0, 50000000); /* every thread is up before the first period */
	for (long k = 0; k < threads; k++)
		if (pthread_create(&t[k], NULL, worker, (void *)k) != 0)
			return 1;
	pthread_barrier_wait(&start);
	for (long k = 0; k < threads; k++)
		pthread_join(t[k], NULL);
	return 0;
}
