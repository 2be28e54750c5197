// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * command.c - the traced command (`ior-loader -- CMD ARGS...`): forked
 * before attaching, held on a pipe until the capture is announced, then
 * exec'd; the files it starts with; our signals; reaping children (we are
 * their subreaper, so the capture ends when the last one exits).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <bpf/bpf.h>

#include "loader.h"
#include "ior.skel.h"

/* ---- signals and children ------------------------------------------------ */

/* set by on_stop, read by stop_requested() (the drain loop, the wait on --start-fd) */
static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

/* Nothing to do but be there: a SIGCHLD with a handler interrupts the
 * drain loop's wait, so a command's exit is seen at once. */
static void on_chld(int sig)
{
	(void)sig;
}

/* signals: SIGTERM stops; SIGINT too, except in command mode (the
 * terminal sends it to the command as well) */
void install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_chld;
	sa.sa_flags = SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
}

/* A signal that ends the capture arrived? (a SIGINT in command mode is
 * forgotten: the command got it too, and its exit ends the capture) */
bool stop_requested(struct loader *L)
{
	if (L->cmd && stop_signal == SIGINT)
		stop_signal = 0;
	return stop_signal != 0;
}

/* reap every child; true when none is left (ECHILD) */
bool reap(struct loader *L)
{
	for (;;) {
		int st;
		pid_t p = waitpid(-1, &st, WNOHANG | __WALL);
		if (p > 0) {
			if (p == L->child_pid)
				L->child_status = st;
			continue;
		}
		if (p == 0)
			return false;
		if (errno == EINTR)
			continue;
		return errno == ECHILD;
	}
}

/* ---- the command --------------------------------------------------------- */

/* The command is forked from us just after this: it starts in our cwd with
 * our fds that are not close-on-exec. Reading them here, before the fork,
 * names them exactly (the command may chdir or exit before the decoder
 * could look in /proc). JSON: {"cwd": "...", "fds": {"0": "/dev/pts/1", ...}},
 * fd targets as readlink(/proc/self/fd/N) gives them. */
static void read_command_files(struct sb *b)
{
	char cwd[PATH_MAX], link[64], target[PATH_MAX];
	int dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	struct dirent *de;
	bool first = true;

	sb_init(b);
	sb_putc(b, '{');
	sb_kv_str(b, "cwd", getcwd(cwd, sizeof(cwd)) ? cwd : NULL);
	sb_key(b, "fds");
	sb_putc(b, '{');
	while (d && (de = readdir(d))) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);
		if (*end || end == de->d_name || fd == dfd)
			continue;
		int fl = fcntl((int)fd, F_GETFD);
		if (fl < 0 || (fl & FD_CLOEXEC))
			continue;
		snprintf(link, sizeof(link), "/proc/self/fd/%ld", fd);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = 0;
		if (!first)
			sb_putc(b, ',');
		first = false;
		sb_printf(b, "\"%ld\":", fd);
		sb_json_str(b, target);
	}
	sb_putc(b, '}');
	sb_putc(b, '}');
	if (d)
		closedir(d);
	else if (dfd >= 0)
		close(dfd);
}

/* The command's stderr is --cmd-stderr-fd (ior's own stderr), while ours
 * stays the pipe ior reads our messages from: put that fd on 2 for the
 * command to inherit and keep writing our messages to a private copy. */
static void swap_stderr(struct loader *L, int cmd_fd)
{
	int mine = fcntl(2, F_DUPFD_CLOEXEC, 10);
	FILE *f = mine >= 0 ? fdopen(mine, "w") : NULL;

	if (!f || dup2(cmd_fd, 2) < 0)
		fatal(L, "--cmd-stderr-fd %d: %s", cmd_fd, strerror(errno));
	if (cmd_fd != 2)
		close(cmd_fd);
	setvbuf(f, NULL, _IONBF, 0);
	fflush(stderr);
	stderr = f;
}

/* the command: default signals, wait for the go byte with poll (not a
 * traced syscall), exec. Our pipes and the output fd are close-on-exec:
 * no traced close() needed. */
static void __attribute__((noreturn)) run_command(struct loader *L)
{
	sigset_t none;
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	struct pollfd p = { .fd = L->go[0], .events = POLLIN };
	while (poll(&p, 1, -1) < 0 && errno == EINTR)
		;
	if (!(p.revents & POLLIN))
		_exit(126); /* the loader failed before starting us */
	execvp(L->cmd[0], L->cmd);
	int e = errno;
	if (write(L->exec_errno[1], &e, sizeof(e)) < 0) {
	}
	_exit(127);
}

/* command mode: fork now, release the child once it is traced */
void command_fork(struct loader *L)
{
	if (prctl(PR_SET_CHILD_SUBREAPER, 1))
		emit_log(L, "warn", "PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
	if (pipe2(L->go, O_CLOEXEC) || pipe2(L->exec_errno, O_CLOEXEC))
		fatal(L, "pipe: %s", strerror(errno));
	if (L->cmd_stderr_fd >= 0)
		swap_stderr(L, L->cmd_stderr_fd);
	read_command_files(&L->command_files);
	fflush(NULL);
	L->child_pid = fork();
	if (L->child_pid < 0)
		fatal(L, "fork: %s", strerror(errno));
	if (L->child_pid == 0)
		run_command(L);
	close(L->go[0]);
	close(L->exec_errno[1]);
	signal(SIGINT, SIG_IGN);
	__u8 one = 1;
	bpf_map_update_elem(bpf_map__fd(L->skel->maps.traced_pids), (__u32 *)&L->child_pid, &one, BPF_ANY);
}

/* After HELLO: let the command exec; END will say if it could not. */
void command_start(struct loader *L)
{
	/* ior has announced the capture (the byte comes after HELLO was
	 * handled): only then may the command write anything */
	if (L->start_fd >= 0) {
		char c;
		while (read(L->start_fd, &c, 1) < 0 && errno == EINTR && !stop_requested(L))
			;
		close(L->start_fd);
	}
	/* go */
	if (write(L->go[1], "g", 1) != 1)
		fatal(L, "cannot start the command: %s", strerror(errno));
	close(L->go[1]);
	int e = 0;
	ssize_t n;
	while ((n = read(L->exec_errno[0], &e, sizeof(e))) < 0 && errno == EINTR)
		;
	close(L->exec_errno[0]);
	if (n == (ssize_t)sizeof(e)) {
		snprintf(L->end_message, sizeof(L->end_message), "cannot run %s: %s", L->cmd[0], strerror(e));
		emit_log(L, "error", "%s", L->end_message);
	}
}
