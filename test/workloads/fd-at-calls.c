/*
 * fd-at-calls DIR: the *at calls in their AT_EMPTY_PATH form, which act on
 * the fd itself (glibc's fstat is one), for the replay's fidelity test
 * (test/replay-capture.test.ts): a replay must issue them on its own fd,
 * not as a walk of the fd's path.
 *
 * In DIR: creates `file`, then, ROUNDS times on its fd: fstat(),
 * statx(fd, "", AT_EMPTY_PATH), faccessat2(fd, "", R_OK, AT_EMPTY_PATH),
 * fchownat(fd, "", -1, -1, AT_EMPTY_PATH) (owner kept) and
 * fchmodat2(fd, "", 0640, AT_EMPTY_PATH) (Linux 6.6+; its failure on an
 * older kernel is traced as such); then makes `link` -> `file`, opens the
 * link itself (O_PATH | O_NOFOLLOW) and ROUNDS times readlinkat(lfd, "")
 * (readlinkat has no flags: an empty path is its fd form). Prints each
 * call's result on stdout.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_faccessat2
#define SYS_faccessat2 439
#endif
#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

enum { ROUNDS = 3 };

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fd-at-calls DIR\n");
		return 2;
	}
	if (chdir(argv[1]) != 0) {
		perror(argv[1]);
		return 1;
	}
	int fd = open("file", O_CREAT | O_RDWR | O_TRUNC, 0600);
	if (fd < 0 || write(fd, "fd-at-calls\n", 12) != 12) {
		perror("file");
		return 1;
	}
	for (int i = 0; i < ROUNDS; i++) {
		struct stat st;
		struct statx stx;
		long r[5];
		r[0] = fstat(fd, &st);
		r[1] = statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx);
		r[2] = syscall(SYS_faccessat2, fd, "", R_OK, AT_EMPTY_PATH);
		r[3] = fchownat(fd, "", (uid_t)-1, (gid_t)-1, AT_EMPTY_PATH);
		r[4] = syscall(SYS_fchmodat2, fd, "", 0640, AT_EMPTY_PATH);
		printf("fstat %ld statx %ld faccessat2 %ld fchownat %ld fchmodat2 %ld\n", r[0], r[1], r[2], r[3], r[4]);
	}
	if (symlink("file", "link") != 0) {
		perror("link");
		return 1;
	}
	int lfd = open("link", O_PATH | O_NOFOLLOW);
	if (lfd < 0) {
		perror("link");
		return 1;
	}
	for (int i = 0; i < ROUNDS; i++) {
		char target[64];
		printf("readlinkat %ld\n", (long)readlinkat(lfd, "", target, sizeof(target)));
	}
	return (close(lfd) | close(fd)) != 0;
}
