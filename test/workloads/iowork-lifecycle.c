/*
 * iowork-lifecycle DIR: a deterministic workload for the process lifecycle
 * records (test/capture.test.ts): fds and the cwd inherited at fork, shared
 * with CLONE_FILES | CLONE_FS, and close-on-exec fds dropped at exec. Raw
 * syscall() for every traced step, so libc cannot change what the trace
 * sees. Each step is listed in the test with the row it must produce.
 *
 * Run as `ior capture -- iowork-lifecycle DIR`; DIR holds a.txt, b.txt,
 * c.txt (at least 100 bytes each). Stage 2 (`iowork-lifecycle --exec`) is
 * the same program after execve in the forked child.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static char buf[100];

static int after_exec(void)
{
	struct stat st;
	/* still open: 3 (a.txt), 6 (d.txt, opened by the child), 12 (dup2 of b.txt) */
	syscall(SYS_pread64, 3, buf, 10, 0);                              /* a.txt */
	syscall(SYS_pwrite64, 6, buf, 10, 10);                            /* d.txt */
	syscall(SYS_pread64, 12, buf, 10, 20);                            /* b.txt */
	/* closed by exec: 4 (O_CLOEXEC), 5 (F_SETFD), 10 (F_DUPFD_CLOEXEC), 11 (dup3 O_CLOEXEC) */
	syscall(SYS_newfstatat, 5, "", &st, AT_EMPTY_PATH);              /* EBADF, no path */
	int e = syscall(SYS_openat, AT_FDCWD, "e.txt", O_CREAT | O_WRONLY, 0644); /* gets 4 again */
	syscall(SYS_write, e, buf, 5);                                    /* e.txt */
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--exec"))
		return after_exec();
	if (argc != 2) {
		fprintf(stderr, "usage: iowork-lifecycle DIR\n");
		return 2;
	}
	syscall(SYS_chdir, argv[1]);
	int a = syscall(SYS_openat, AT_FDCWD, "a.txt", O_RDONLY, 0);             /* 3 */
	int b = syscall(SYS_openat, AT_FDCWD, "b.txt", O_RDONLY | O_CLOEXEC, 0); /* 4 */
	int c = syscall(SYS_openat, AT_FDCWD, "c.txt", O_RDONLY, 0);             /* 5 */
	syscall(SYS_fcntl, c, F_SETFD, FD_CLOEXEC);
	syscall(SYS_fcntl, a, F_DUPFD_CLOEXEC, 10);                               /* 10 */
	syscall(SYS_dup3, a, 11, O_CLOEXEC);                                      /* 11 */
	syscall(SYS_dup2, b, 12);                                                 /* 12, kept at exec */
	if (a != 3 || b != 4 || c != 5) {
		fprintf(stderr, "iowork-lifecycle: expected fds 3, 4, 5, got %d, %d, %d\n", a, b, c);
		return 1;
	}

	/* a child with a copy of the fd table and cwd, which then execs */
	pid_t pid = fork();
	if (pid == 0) {
		syscall(SYS_pread64, 3, buf, 10, 0);                              /* a.txt */
		syscall(SYS_pread64, 4, buf, 10, 0);                              /* b.txt */
		int d = syscall(SYS_openat, AT_FDCWD, "d.txt", O_CREAT | O_WRONLY, 0644); /* 6 */
		syscall(SYS_write, d, buf, 10);                                   /* d.txt */
		char *args[] = { "iowork-lifecycle", "--exec", NULL };
		syscall(SYS_execve, "/proc/self/exe", args, (char *[]){ NULL });
		_exit(127);
	}
	int status;
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return 1;
	/* the child's fds are its own: 6 is not open here */
	syscall(SYS_pread64, 10, buf, 10, 30);                                    /* a.txt (the F_DUPFD_CLOEXEC copy) */

	/* a child sharing the fd table and cwd (CLONE_FILES | CLONE_FS) */
	pid = syscall(SYS_clone, CLONE_FILES | CLONE_FS | SIGCHLD, 0, 0, 0, 0);
	if (pid == 0) {
		syscall(SYS_mkdirat, AT_FDCWD, "sub", 0755);
		syscall(SYS_chdir, "sub");
		syscall(SYS_openat, AT_FDCWD, "shared.txt", O_CREAT | O_WRONLY, 0644); /* 6, in both */
		syscall(SYS_exit, 0);
	}
	waitpid(pid, &status, 0);
	syscall(SYS_write, 6, buf, 7);                                            /* sub/shared.txt */
	syscall(SYS_close, 6);
	int f = syscall(SYS_openat, AT_FDCWD, "f.txt", O_CREAT | O_WRONLY, 0644); /* sub/f.txt (shared cwd) */
	syscall(SYS_close, f);
	return 0;
}
