/*
 * iowork-fixed DIR: a deterministic workload for event-by-event capture
 * tests (test/capture.test.ts). Raw syscall() everywhere, so libc cannot
 * change which syscalls the trace sees.
 *
 * Before the capture: opens DIR/pre.txt (an fd opened before the capture
 * began), prints "ready", then blocks reading one byte from stdin. The test
 * starts `ior capture --pid`, waits until it is attached, writes a byte, and
 * the traced part below runs. Each step is listed in the test with the exact
 * row it must produce.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static char buf[4096];

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: iowork-fixed DIR\n");
		return 2;
	}
	char pre[4096];
	snprintf(pre, sizeof(pre), "%s/pre.txt", argv[1]);
	int pre_fd = syscall(SYS_openat, AT_FDCWD, pre, O_RDONLY, 0);
	if (pre_fd < 0 || syscall(SYS_chdir, "/") != 0) {
		perror("iowork-fixed: setup");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	char go;
	if (read(0, &go, 1) != 1)
		return 1;

	/* traced from here */
	memset(buf, 'x', sizeof(buf));
	syscall(SYS_pread64, pre_fd, buf, 100, 50);                                   /* 1 */
	syscall(SYS_chdir, argv[1]);                                                  /* 2 */
	int a = syscall(SYS_openat, AT_FDCWD, "rel.txt", O_CREAT | O_WRONLY | O_TRUNC, 0644); /* 3 */
	for (int i = 0; i < 3; i++)
		syscall(SYS_write, a, buf, sizeof(buf));                              /* 4-6 */
	syscall(SYS_close, a);                                                        /* 7 */
	syscall(SYS_mkdirat, AT_FDCWD, "sub", 0755);                                  /* 8 */
	int dfd = syscall(SYS_openat, AT_FDCWD, "sub", O_RDONLY | O_DIRECTORY, 0);    /* 9 */
	int b = syscall(SYS_openat, dfd, "in-sub.dat", O_CREAT | O_RDWR, 0600);       /* 10 */
	syscall(SYS_pwrite64, b, buf, 512, 1000);                                     /* 11 */
	syscall(SYS_fsync, b);                                                        /* 12 */
	syscall(SYS_close, b);                                                        /* 13 */
	syscall(SYS_renameat2, AT_FDCWD, "rel.txt", dfd, "renamed.txt", 0);           /* 14 */
	syscall(SYS_openat, AT_FDCWD, "missing.txt", O_RDONLY, 0);                    /* 15: ENOENT */
	struct stat st;
	syscall(SYS_newfstatat, AT_FDCWD, "sub/renamed.txt", &st, 0);                 /* 16 */
	syscall(SYS_lseek, pre_fd, 200, SEEK_SET);                                    /* 17 */
	syscall(SYS_read, pre_fd, buf, 300);                                          /* 18 */
	syscall(SYS_newfstatat, pre_fd, "", &st, AT_EMPTY_PATH);                      /* 19 */
	syscall(SYS_unlinkat, dfd, "renamed.txt", 0);                                 /* 20 */
	syscall(SYS_close, dfd);                                                      /* 21 */
	syscall(SYS_close, pre_fd);                                                   /* 22 */
	return 0;
}
