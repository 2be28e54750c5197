// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ior-loader - load the ior BPF program, drain its ring buffer, and stream
 * framed batches on a file descriptor (docs/wire-format.md).
 *
 *   ior-loader [options] [-- CMD ARGS...]   trace the host, or one command
 *   ior-loader --probe                        what this host supports (JSON)
 *   ior-loader --version
 *
 * A static executable (libbpf, libelf, zstd, zlib linked in); the BPF
 * object is embedded by `bpftool gen skeleton`.
 *
 * This file is main: the phases of a run in order, the drain loop, and
 * the one cleanup path. loader.h lists the other files; an error in any
 * phase is fatal() (frames.c), which ends the stream and exits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "loader.h"
#include "ior.skel.h"

/* The output: a private close-on-exec copy of --out-fd, so the command
 * never sees it, and the writer thread on it. 0, or the exit code. */
static int open_output(struct loader *L)
{
	L->stream_fd = fcntl(L->out_fd, F_DUPFD_CLOEXEC, 10);
	if (L->stream_fd < 0) {
		fprintf(stderr, "ior-loader: --out-fd %d is not open: %s\n", L->out_fd, strerror(errno));
		return 2;
	}
	if (L->out_fd > 2)
		close(L->out_fd);
	if (L->start_fd >= 0) {
		/* likewise: a private close-on-exec copy the command never sees */
		int start = fcntl(L->start_fd, F_DUPFD_CLOEXEC, 10);
		close(L->start_fd);
		L->start_fd = start;
	}
	signal(SIGPIPE, SIG_IGN);
	int err = out_start(L->stream_fd, QUEUE_MAX_BYTES);
	if (err) {
		fprintf(stderr, "ior-loader: cannot write to --out-fd %d: %s\n", L->out_fd, strerror(-err));
		return 2;
	}
	return 0;
}

/* Drain the ring into EVENTS batches, with a STATS frame every stats_ms,
 * until a stop signal, the command's end (no child left) or a broken
 * output: the reason END gives. */
static const char *drain_loop(struct loader *L)
{
	long long next_stats = L->stats_ms ? now_ns(CLOCK_MONOTONIC) + (long long)L->stats_ms * 1000000 : 0;
	for (;;) {
		if (stop_requested(L))
			return "signal";
		int timeout = (int)L->poll_ms;
		if (next_stats) {
			long long left = (next_stats - now_ns(CLOCK_MONOTONIC)) / 1000000;
			if (left < timeout)
				timeout = left < 0 ? 0 : (int)left;
		}
		ring_wait(L, timeout);
		ring_drain(L);
		ring_flush(L);
		if (next_stats && now_ns(CLOCK_MONOTONIC) >= next_stats) {
			send_stats(L);
			next_stats += (long long)L->stats_ms * 1000000;
			if (next_stats < now_ns(CLOCK_MONOTONIC))
				next_stats = now_ns(CLOCK_MONOTONIC) + (long long)L->stats_ms * 1000000;
		}
		if (L->cmd && reap(L))
			return "child-exited";
		struct out_stats st;
		out_get_stats(&st);
		if (st.broken) {
			snprintf(L->end_message, sizeof(L->end_message), "output fd failed: %s", strerror(st.error));
			fprintf(stderr, "ior-loader: %s\n", L->end_message);
			return "error";
		}
	}
}

/* The one cleanup path of a capture. Stop: detach, final drain, END, close
 * the stream; then the slow part (releasing the perf events) while nobody
 * waits for it. The exit code: 0, or 2 after an error. */
static int finish(struct loader *L, const char *reason)
{
	detach_programs(L);
	ring_drain(L);
	ring_flush(L);
	if (L->cmd && L->child_status == -1)
		reap(L);
	send_end(L, reason, L->end_message[0] ? L->end_message : NULL);
	out_finish();
	close(L->stream_fd);
	release_tracepoints(L);
	ior_bpf__destroy(L->skel);
	return strcmp(reason, "error") ? 0 : 2;
}

int main(int argc, char **argv)
{
	struct loader L = {
		/* the options' defaults (options.c), no command yet */
		.ring_mb = 64, .poll_ms = 10, .stats_ms = 1000, .out_fd = 3, .hooks = HOOKS_RAW,
		.cmd_stderr_fd = -1, .start_fd = -1, .child_pid = -1, .child_status = -1,
	};

	int rc = parse_options(&L, argc, argv);
	if (rc >= 0)
		return rc;
	log_init(&L);
	init_sc_nr();
	if (L.probe)
		return do_probe(&L);
	if ((rc = open_output(&L)))
		return rc;
	L.boot_to_wall = measure_boot_to_wall();

	select_syscalls(&L);
	host_checks(&L);
	load_programs(&L);
	install_signals();
	if (L.cmd)
		command_fork(&L);
	attach_programs(&L);
	send_hello(&L);
	if (L.cmd)
		command_start(&L);
	return finish(&L, drain_loop(&L));
}
