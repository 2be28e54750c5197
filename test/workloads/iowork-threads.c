/*
 * iowork-threads DIR N: a workload where threads of one process race for fd
 * numbers (test/capture.test.ts). Each of 4 threads loops N times over
 * openat(DIR/tK.dat) / write(K + 10 bytes) / close, all on one fd table:
 * an fd one thread closes is often the number another thread's open gets
 * back before the close has returned, so the closing thread's event can
 * reach the ring buffer after the opening thread's. The decoder must still
 * name every write and close by the file its own thread opened.
 * Raw syscall() so libc cannot change what the trace sees.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#define THREADS 4

static const char *dir;
static long iterations;
static pthread_barrier_t start;

static void *worker(void *arg)
{
	long k = (long)arg;
	char path[4096], buf[THREADS + 10] = { 0 };
	snprintf(path, sizeof(path), "%s/t%ld.dat", dir, k);
	pthread_barrier_wait(&start);
	for (long i = 0; i < iterations; i++) {
		int fd = syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd < 0) {
			perror(path);
			exit(1);
		}
		syscall(SYS_write, fd, buf, (size_t)(k + 10));
		syscall(SYS_close, fd);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: iowork-threads DIR ITERATIONS\n");
		return 2;
	}
	dir = argv[1];
	iterations = atol(argv[2]);
	pthread_t threads[THREADS];
	pthread_barrier_init(&start, NULL, THREADS);
	for (long k = 0; k < THREADS; k++) pthread_create(&threads[k], NULL, worker, (void *)k);
	for (long k = 0; k < THREADS; k++) pthread_join(threads[k], NULL);
	return 0;
}
