// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * attach.c - attach the loaded programs (the process lifecycle hooks, then
 * the raw sys_enter/sys_exit hooks or one tracepoint pair per syscall),
 * detach them at the end, and release the tracepoints' perf events after
 * END, the slow part, when nobody waits for it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "loader.h"
#include "ior.skel.h"

/* Attach prog to syscalls/<tp> through a perf event of our own (libbpf's
 * link would close both together). 0, or -errno. */
static int attach_tracepoint(struct bpf_program *prog, const char *tfs, const char *tp, struct tp_attach *a)
{
	char path[256], id[32];
	snprintf(path, sizeof(path), "%s/events/syscalls/%s/id", tfs, tp);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, id, sizeof(id) - 1);
	close(fd);
	if (n <= 0)
		return -EINVAL;
	id[n] = 0;
	struct perf_event_attr attr = {
		.type = PERF_TYPE_TRACEPOINT,
		.size = sizeof(attr),
		.config = strtoull(id, NULL, 10),
		.sample_period = 1,
		.wakeup_events = 1,
	};
	/* any task, one CPU: a tracepoint's BPF programs run on every CPU */
	int pfd = (int)syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (pfd < 0)
		return -errno;
	int lfd = bpf_link_create(bpf_program__fd(prog), pfd, BPF_PERF_EVENT, NULL);
	int err = lfd >= 0 ? 0 : lfd;
	if (err == -EINVAL || err == -EOPNOTSUPP)
		/* before Linux 5.15 (no perf event links): the program stays
		 * attached until the perf event is closed */
		err = ioctl(pfd, PERF_EVENT_IOC_SET_BPF, bpf_program__fd(prog)) ? -errno : 0;
	if (!err && ioctl(pfd, PERF_EVENT_IOC_ENABLE, 0))
		err = -errno;
	if (err) {
		if (lfd >= 0)
			close(lfd);
		close(pfd);
		return err;
	}
	a->perf_fd = pfd;
	a->link_fd = lfd >= 0 ? lfd : -1;
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* The process lifecycle first (no fork between the first syscall event and
 * following the child); a missing one costs precision, except the fork
 * hook with --follow. */
static void attach_lifecycle(struct loader *L)
{
	L->fork_link = bpf_program__attach(L->skel->progs.ior_fork);
	if (!L->fork_link && L->follow)
		fatal(L, "cannot attach sched_process_fork (needed to follow children): %s: %s", strerror(errno), last_libbpf_warnings(L));
	if (!L->fork_link)
		emit_log(L, "warn", "cannot attach sched_process_fork: %s; children's fds are looked up in /proc", strerror(errno));
	L->exec_link = bpf_program__attach(L->skel->progs.ior_exec);
	if (!L->exec_link)
		emit_log(L, "warn", "cannot attach sched_process_exec: %s; close-on-exec fds are not dropped at exec", strerror(errno));
	L->pexit_link = bpf_program__attach(L->task_exit);
	if (!L->pexit_link)
		emit_log(L, "warn", "cannot attach sched_process_exit: %s; exited processes are remembered until the end", strerror(errno));
}

/* The syscall hooks: exits before enters, so no entry is left without its
 * exit. A tracepoint that cannot be attached leaves its syscall out. */
static int attach_syscalls(struct loader *L)
{
	int nattached = 0;

	for (int i = 0; i < IOR_SC_COUNT; i++)
		L->tp_enter[i] = L->tp_exit[i] = (struct tp_attach){ -1, -1 };
	if (L->hooks == HOOKS_RAW) {
		L->raw_exit_link = bpf_program__attach(L->raw_exit);
		if (!L->raw_exit_link)
			fatal(L, "cannot attach the raw sys_exit hook: %s: %s", strerror(errno), last_libbpf_warnings(L));
		L->raw_enter_link = bpf_program__attach(L->raw_enter);
		if (!L->raw_enter_link)
			fatal(L, "cannot attach the raw sys_enter hook: %s: %s", strerror(errno), last_libbpf_warnings(L));
		for (int i = 0; i < IOR_SC_COUNT; i++)
			if (L->requested[i] && !L->skip_reason[i]) {
				L->attached[i] = true;
				nattached++;
			}
	}
	for (int pass = 0; pass < 2 && L->hooks == HOOKS_TRACEPOINTS; pass++) {
		for (int i = 0; i < IOR_SC_COUNT; i++) {
			if (!L->requested[i] || L->skip_reason[i])
				continue;
			struct bpf_program *p = prog_by_name(L, pass ? L->enter_prefix : L->exit_prefix, sc_table[i].name);
			char tp[96];
			snprintf(tp, sizeof(tp), "sys_%s_%s", pass ? "enter" : "exit", sc_table[i].name);
			int err = attach_tracepoint(p, L->tfs, tp, pass ? &L->tp_enter[i] : &L->tp_exit[i]);
			if (err) {
				char r[256];
				snprintf(r, sizeof(r), "cannot attach %s: %s", tp, strerror(-err));
				L->skip_reason[i] = strdup(r);
				emit_log(L, "warn", "%s; %s is not traced", r, sc_table[i].name);
				close_fd(&L->tp_exit[i].link_fd);
				close_fd(&L->tp_exit[i].perf_fd);
				continue;
			}
			if (pass) {
				L->attached[i] = true;
				nattached++;
			}
		}
	}
	return nattached;
}

/* io_uring's operations: completions first, so no submit goes without
 * its completion. Without them the io_uring_enter calls are still traced. */
static void attach_uring(struct loader *L)
{
	if (!L->uring_tp)
		return;
	L->uring_complete_link = bpf_program__attach(L->uring_complete);
	if (L->uring_complete_link)
		L->uring_submit_link = bpf_program__attach(L->uring_submit);
	if (!L->uring_submit_link) {
		emit_log(L, "warn", "cannot attach the io_uring tracepoints: %s; io_uring operations are not captured", strerror(errno));
		bpf_link__destroy(L->uring_complete_link);
		L->uring_complete_link = NULL;
		L->uring_tp = NULL;
	}
}

void attach_programs(struct loader *L)
{
	attach_lifecycle(L);
	attach_uring(L);
	long long attach_t0 = now_ns(CLOCK_MONOTONIC);
	if (!attach_syscalls(L))
		fatal(L, "could not attach any syscall tracepoint");
	L->attach_ms = (now_ns(CLOCK_MONOTONIC) - attach_t0) / 1e6;
}

/* Close many fds from several threads: each close of a tracepoint's BPF
 * link or perf event waits for RCU grace periods, and the waits overlap
 * (150 links: ~4.7 s one by one, ~0.3-0.4 s from 16 threads; the perf
 * events, released under a kernel-wide mutex, overlap less: ~5 s instead
 * of the 9-13 s libbpf's one-by-one destroy took). */
#define CLOSE_THREADS 16
struct closing {
	int **fds;
	int n, next;
	pthread_mutex_t lock;
};

static void *close_worker(void *arg)
{
	struct closing *job = arg;
	for (;;) {
		pthread_mutex_lock(&job->lock);
		int i = job->next++;
		pthread_mutex_unlock(&job->lock);
		if (i >= job->n)
			return NULL;
		close_fd(job->fds[i]);
	}
}

static void close_all(int **fds, int n)
{
	struct closing job = { .fds = fds, .n = n, .next = 0, .lock = PTHREAD_MUTEX_INITIALIZER };
	pthread_t th[CLOSE_THREADS];
	int nth = 0;

	for (; nth < CLOSE_THREADS && nth < n - 1; nth++)
		if (pthread_create(&th[nth], NULL, close_worker, &job))
			break;
	close_worker(&job);
	for (int i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
}

/* The fd whose close stops a tracepoint's program (which 0: its BPF link,
 * or its perf event where the kernel had no links) or releases the perf
 * event (which 1). */
static int *tracepoint_fd(struct tp_attach *a, int which)
{
	return which || a->link_fd < 0 ? &a->perf_fd : &a->link_fd;
}

/* which: 0 the BPF links, 1 the perf events; enters before exits */
static void close_tracepoints(struct loader *L, int which)
{
	int *fds[2 * IOR_SC_COUNT], n = 0;

	for (int i = 0; i < IOR_SC_COUNT; i++)
		if (L->tp_enter[i].link_fd >= 0 || L->tp_enter[i].perf_fd >= 0)
			fds[n++] = tracepoint_fd(&L->tp_enter[i], which);
	close_all(fds, n);
	n = 0;
	for (int i = 0; i < IOR_SC_COUNT; i++)
		if (L->tp_exit[i].link_fd >= 0 || L->tp_exit[i].perf_fd >= 0)
			fds[n++] = tracepoint_fd(&L->tp_exit[i], which);
	close_all(fds, n);
}

/* Stop every program: enters first, so no new in-flight entries, then the
 * exits that pair them, then the lifecycle hooks. */
void detach_programs(struct loader *L)
{
	long long t0 = now_ns(CLOCK_MONOTONIC);

	bpf_link__destroy(L->raw_enter_link);
	bpf_link__destroy(L->raw_exit_link);
	L->raw_enter_link = L->raw_exit_link = NULL;
	if (L->hooks == HOOKS_TRACEPOINTS) {
		/* the programs stop themselves; release_tracepoints() closes the
		 * links and perf events after END (bpf/ior.bpf.c, tp_stop_level) */
		__atomic_store_n(&L->skel->bss->tp_stop_level, 1, __ATOMIC_SEQ_CST);
		__atomic_store_n(&L->skel->bss->tp_stop_level, 2, __ATOMIC_SEQ_CST);
	}
	bpf_link__destroy(L->uring_submit_link);
	bpf_link__destroy(L->uring_complete_link);
	L->uring_submit_link = L->uring_complete_link = NULL;
	bpf_link__destroy(L->fork_link);
	bpf_link__destroy(L->exec_link);
	bpf_link__destroy(L->pexit_link);
	L->fork_link = L->exec_link = L->pexit_link = NULL;
	L->detach_ms = (now_ns(CLOCK_MONOTONIC) - t0) / 1e6;
}

/* The per-syscall links and perf events (--hooks tracepoints), after END:
 * seconds of RCU grace periods (one per perf event, under a global mutex),
 * so first our stdio goes to /dev/null: nobody reading our output or
 * waiting on a pipe we hold (a shell's $(ior capture ...)) waits for it. */
void release_tracepoints(struct loader *L)
{
	if (L->hooks != HOOKS_TRACEPOINTS)
		return;
	if (L->debug)
		fprintf(stderr, "ior-loader: releasing the perf events, stdio closed\n");
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int i = 0; null >= 0 && i <= 2; i++)
		dup2(null, i);
	close_fd(&null);
	close_tracepoints(L, 0);
	close_tracepoints(L, 1);
}
