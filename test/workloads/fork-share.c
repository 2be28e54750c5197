/*
 * fork-share DIR: a parent and its children writing through the same open
 * files, for the replay of shared open file descriptions
 * (test/replay-capture.test.ts). The kernel gives a forked child the
 * parent's open files themselves, not copies: one file position, one
 * O_APPEND. Writes of parent and child interleave in time, so their bytes
 * land one after the other only if the replay shares the files too.
 *
 * In DIR: log (O_APPEND), data (shared position), cloexec (O_CLOEXEC: gone
 * at the child's exec). The forked child writes, execs this program again
 * (`fork-share --exec`), writes once more through the inherited fds and
 * exits with status 3 holding them open (the kernel closes them). A
 * CLONE_FILES child opens shared.txt in the table it shares with the
 * parent and exits with status 5; the parent writes through that fd.
 * Write sizes differ per writer, so a layout tells who wrote where.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { LOG = 3, DATA = 4, CLOEXEC = 5, ROUNDS = 5 };
static char buf[128];

static void pause_ms(int ms)
{
	struct timespec ts = { 0, ms * 1000000L };
	nanosleep(&ts, NULL);
}

static void both(int n)
{
	write(LOG, buf, n);
	write(DATA, buf, n);
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--exec")) {
		/* the exec'd child: LOG and DATA inherited, CLOEXEC gone */
		both(11);
		if (write(CLOEXEC, buf, 1) != -1)
			return 1;
		return 3; /* exits holding LOG and DATA */
	}
	if (argc != 2 || chdir(argv[1]) != 0) {
		fprintf(stderr, "usage: fork-share DIR\n");
		return 2;
	}
	memset(buf, 'x', sizeof(buf));
	int log = open("log", O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	int data = open("data", O_RDWR | O_CREAT | O_TRUNC, 0644);
	int cx = open("cloexec", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (log != LOG || data != DATA || cx != CLOEXEC) {
		fprintf(stderr, "fork-share: expected fds 3, 4, 5, got %d, %d, %d\n", log, data, cx);
		return 1;
	}
	both(100);
	write(CLOEXEC, buf, 7);

	pid_t pid = fork();
	if (pid == 0) {
		for (int i = 0; i < ROUNDS; i++) {
			both(37);
			pause_ms(20);
		}
		write(CLOEXEC, buf, 9);
		char *args[] = { "fork-share", "--exec", NULL };
		execve("/proc/self/exe", args, (char *[]){ NULL });
		_exit(127);
	}
	pause_ms(10);
	for (int i = 0; i < ROUNDS; i++) {
		both(53);
		pause_ms(20);
	}
	int status;
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 3)
		return 1;
	both(19);

	/* a child sharing the fd table: its open is the parent's fd too */
	pid = syscall(SYS_clone, CLONE_FILES | SIGCHLD, 0, 0, 0, 0);
	if (pid == 0) {
		int s = open("shared.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644); /* 6 */
		write(s, buf, 13);
		syscall(SYS_exit, 5);
	}
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 5)
		return 1;
	write(6, buf, 17);
	close(6);
	close(LOG);
	close(DATA);
	close(CLOEXEC);
	return 0;
}
