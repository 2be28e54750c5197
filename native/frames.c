// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * frames.c - what the loader says: the HELLO, STATS and END frames
 * (docs/wire-format.md), LOG frames and stderr lines, libbpf's messages,
 * and fatal(), the error exit.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "loader.h"
#include "ior.skel.h"

/* enum hooks, by name */
static const char *const hooks_names[] = { "raw", "tracepoints" };
static const char *const file_type_names[] = { "none", "regular", "directory", "pipe", "socket",
					       "char", "block", "symlink", "other" };
/* enum ior_counter, by name */
static const char *const counter_names[IOR_COUNTER_COUNT] = {
	[IOR_LOSS_RINGBUF] = "loss_ringbuf",
	[IOR_LOSS_INFLIGHT_FULL] = "loss_inflight_full",
	[IOR_UNPAIRED_EXIT] = "unpaired_exit",
	[IOR_LOSS_PATH_TRUNCATED] = "loss_path_truncated",
	[IOR_LOSS_PATH_FAULT] = "loss_path_fault",
	[IOR_EVENTS_EMITTED] = "events_emitted",
	[IOR_LIFECYCLE_EMITTED] = "lifecycle_emitted",
	[IOR_ENTER_ABANDONED] = "enter_abandoned",
	[IOR_ENTERS_RECORDED] = "enters_recorded",
	[IOR_EXITS_PAIRED] = "exits_paired",
	[IOR_ASYNC_SUBMITS] = "async_submits",
	[IOR_ASYNC_COMPLETIONS] = "async_completions",
	[IOR_LOSS_ASYNC_BATCH] = "loss_async_batch",
};

/* CLOCK_REALTIME - CLOCK_BOOTTIME, from the tightest of a few samples */
long long measure_boot_to_wall(void)
{
	long long best = -1, off = 0;
	for (int i = 0; i < 5; i++) {
		long long r1 = now_ns(CLOCK_REALTIME), b = now_ns(CLOCK_BOOTTIME), r2 = now_ns(CLOCK_REALTIME);
		if (best < 0 || r2 - r1 < best) {
			best = r2 - r1;
			off = r1 + (r2 - r1) / 2 - b;
		}
	}
	return off;
}

/* ---- logging ------------------------------------------------------------- */

const char *short_libbpf_version(void)
{
	const char *v = libbpf_version_string();
	return v[0] == 'v' ? v + 1 : v;
}

/* The versions HELLO and --probe start with */
void put_versions(struct sb *b)
{
	sb_kv_str(b, "loader_version", IOR_LOADER_VERSION);
	sb_kv_str(b, "libbpf_version", short_libbpf_version());
	sb_kv_i64(b, "wire_version", IOR_WIRE_VERSION);
	sb_kv_i64(b, "event_size", sizeof(struct ior_event));
}

/* LOG frame; held back until HELLO went out (HELLO is always first) */
void emit_log(struct loader *L, const char *level, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (!strcmp(level, "error") || L->debug)
		fprintf(stderr, "ior-loader: %s%s\n", strcmp(level, "error") ? "warning: " : "", msg);
	if (!out_started())
		return;
	struct sb b;
	sb_init(&b);
	sb_putc(&b, '{');
	sb_kv_str(&b, "level", level);
	sb_kv_str(&b, "message", msg);
	sb_putc(&b, '}');
	if (L->hello_sent) {
		out_frame(IOR_FRAME_LOG, b.s, b.len);
	} else {
		struct chunk *c = chunk_new(IOR_FRAME_LOG, b.len);
		memcpy(c->buf + sizeof(struct ior_frame_header), b.s, b.len);
		c->len = b.len;
		*L->pending_tail = c;
		L->pending_tail = &c->next;
	}
	sb_free(&b);
}

/* libbpf's print callback takes no context: it finds the run here */
static struct loader *print_ctx;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	struct loader *L = print_ctx;

	if (L->debug)
		return vfprintf(stderr, fmt, ap);
	if (level != LIBBPF_WARN)
		return 0;
	char line[512];
	vsnprintf(line, sizeof(line), fmt, ap);
	size_t n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == ' '))
		line[--n] = 0;
	if (!n || strncmp(line, "libbpf:", 7) != 0)
		return 0; /* keep libbpf's own lines, not the verifier log */
	memmove(L->libbpf_last[0], L->libbpf_last[1], sizeof(L->libbpf_last[0]) * 2);
	snprintf(L->libbpf_last[2], sizeof(L->libbpf_last[2]), "%s", line);
	if (L->libbpf_nlast < 3)
		L->libbpf_nlast++;
	return 0;
}

/* Before anything logs: no LOG frames held back, libbpf's messages to us */
void log_init(struct loader *L)
{
	L->pending_tail = &L->pending_logs;
	print_ctx = L;
	libbpf_set_print(libbpf_print);
}

const char *last_libbpf_warnings(struct loader *L)
{
	static char buf[1600];
	buf[0] = 0;
	for (int i = 3 - L->libbpf_nlast; i < 3; i++) {
		if (buf[0])
			strcat(buf, "; ");
		strncat(buf, L->libbpf_last[i], sizeof(buf) - strlen(buf) - 3);
	}
	return buf[0] ? buf : "(IOR_DEBUG=1 shows libbpf's log)";
}

/* the LOG frames held back until HELLO (or an error before it) */
static void send_pending_logs(struct loader *L)
{
	while (L->pending_logs) {
		struct chunk *c = L->pending_logs;
		L->pending_logs = c->next;
		c->next = NULL;
		out_push(c);
	}
	L->pending_tail = &L->pending_logs;
}

/* ---- HELLO / STATS / END ------------------------------------------------- */

static void put_names(struct sb *b, const char *key, const char *const *names, int n)
{
	sb_key(b, key);
	sb_putc(b, '[');
	for (int i = 0; i < n; i++) {
		if (i)
			sb_putc(b, ',');
		sb_json_str(b, names[i]);
	}
	sb_putc(b, ']');
}

void send_hello(struct loader *L)
{
	struct sb b;
	struct utsname u;
	char host[256] = "";

	uname(&u);
	gethostname(host, sizeof(host) - 1);
	sb_init(&b);
	sb_putc(&b, '{');
	put_versions(&b);
	sb_kv_i64(&b, "boot_to_wall_ns", L->boot_to_wall);
	sb_kv_i64(&b, "start_boot_ns", now_ns(CLOCK_BOOTTIME));
	sb_kv_u64(&b, "ring_bytes", L->ring_bytes);
	sb_kv_str(&b, "hooks", hooks_names[L->hooks]);
	sb_kv_str(&b, "build", L->build);
	sb_printf(&b, ",\"load_ms\":%.1f", L->load_ms);
	sb_printf(&b, ",\"attach_ms\":%.1f", L->attach_ms);
	sb_kv_i64(&b, "poll_ms", L->poll_ms);
	sb_kv_i64(&b, "stats_ms", L->stats_ms);
	sb_kv_i64(&b, "loader_pid", getpid());
	sb_key(&b, "child_pid");
	if (L->child_pid > 0)
		sb_printf(&b, "%d", L->child_pid);
	else
		sb_puts(&b, "null");
	sb_key(&b, "command");
	if (L->cmd) {
		sb_putc(&b, '[');
		for (char **a = L->cmd; *a; a++) {
			if (a != L->cmd)
				sb_putc(&b, ',');
			sb_json_str(&b, *a);
		}
		sb_putc(&b, ']');
	} else {
		sb_puts(&b, "null");
	}
	sb_key(&b, "command_files");
	sb_puts(&b, L->command_files.s ? L->command_files.s : "null");
	sb_key(&b, "records");
	sb_putc(&b, '{');
	sb_kv_i64(&b, "fork", IOR_REC_FORK);
	sb_kv_i64(&b, "exec", IOR_REC_EXEC);
	sb_kv_i64(&b, "exit", IOR_REC_EXIT);
	sb_kv_i64(&b, "aio_submit", IOR_REC_AIO_SUBMIT);
	sb_kv_i64(&b, "aio_reap", IOR_REC_AIO_REAP);
	sb_kv_i64(&b, "uring_submit", IOR_REC_URING_SUBMIT);
	sb_kv_i64(&b, "uring_complete", IOR_REC_URING_COMPLETE);
	sb_kv_i64(&b, "uring_file", IOR_REC_URING_FILE);
	sb_putc(&b, '}');
	sb_kv_i64(&b, "async_size", sizeof(struct ior_async));
	/* io_uring operations: the submit tracepoint attached, null: not captured */
	sb_kv_str(&b, "io_uring_tracepoint", L->uring_tp);
	sb_kv_str(&b, "kernel_release", u.release);
	sb_kv_str(&b, "machine", u.machine);
	sb_kv_str(&b, "hostname", host);
	sb_key(&b, "filters");
	sb_putc(&b, '{');
	sb_key(&b, "pids");
	sb_putc(&b, '[');
	for (int i = 0; i < L->npids; i++)
		sb_printf(&b, "%s%u", i ? "," : "", L->pids[i]);
	sb_putc(&b, ']');
	sb_kv_str(&b, "comm", L->comm);
	sb_kv_bool(&b, "follow", L->follow);
	sb_key(&b, "exclude_pids");
	sb_putc(&b, '[');
	for (int i = 0; i < L->nexcl; i++)
		sb_printf(&b, "%s%u", i ? "," : "", L->excl[i]);
	sb_putc(&b, ']');
	sb_putc(&b, '}');
	sb_kv_i64(&b, "path_max", IOR_PATH_MAX);
	sb_kv_i64(&b, "iov_max", IOR_IOV_MAX);
	put_names(&b, "counters", counter_names, IOR_COUNTER_COUNT);
	put_names(&b, "file_types", file_type_names, 9);
	put_names(&b, "kinds", sc_kind_names, 9);
	put_sc_table(&b);
	sb_key(&b, "attached");
	sb_putc(&b, '[');
	for (int i = 0; i < IOR_SC_COUNT; i++)
		if (L->attached[i]) {
			sb_item(&b);
			sb_json_str(&b, sc_table[i].name);
		}
	sb_putc(&b, ']');
	sb_key(&b, "skipped");
	sb_putc(&b, '[');
	for (int i = 0; i < IOR_SC_COUNT; i++)
		if (L->skip_reason[i]) {
			sb_item(&b);
			sb_putc(&b, '{');
			sb_kv_str(&b, "name", sc_table[i].name);
			sb_kv_str(&b, "reason", L->skip_reason[i]);
			sb_putc(&b, '}');
		}
	sb_putc(&b, ']');
	sb_putc(&b, '}');
	out_frame(IOR_FRAME_HELLO, b.s, b.len);
	sb_free(&b);
	L->hello_sent = true;
	send_pending_logs(L);
}

/* counters summed over CPUs */
static void read_counters(struct loader *L, __u64 *sum)
{
	memset(sum, 0, sizeof(__u64) * IOR_COUNTER_COUNT);
	if (!L->skel)
		return;
	int ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0)
		return;
	__u64 *v = calloc((size_t)ncpu, sizeof(__u64));
	int fd = bpf_map__fd(L->skel->maps.counters);
	for (__u32 k = 0; k < IOR_COUNTER_COUNT; k++) {
		if (bpf_map_lookup_elem(fd, &k, v))
			continue;
		for (int c = 0; c < ncpu; c++)
			sum[k] += v[c];
	}
	free(v);
}

/* sum: the BPF counters, as read_counters gives them */
static void put_counters(struct loader *L, struct sb *b, const __u64 *sum)
{
	struct out_stats st;

	out_get_stats(&st);
	sb_kv_i64(b, "boot_ns", now_ns(CLOCK_BOOTTIME));
	sb_key(b, "counters");
	sb_putc(b, '{');
	for (int i = 0; i < IOR_COUNTER_COUNT; i++)
		sb_kv_u64(b, counter_names[i], sum[i]);
	sb_putc(b, '}');
	sb_kv_u64(b, "events_drained", L->drained_events);
	sb_kv_u64(b, "events_forwarded", st.events_forwarded);
	sb_kv_u64(b, "bytes_forwarded", st.bytes_forwarded);
	sb_kv_u64(b, "loader_queue_dropped", st.queue_dropped);
	sb_kv_u64(b, "queue_bytes", st.queue_bytes);
	sb_kv_u64(b, "queue_peak_bytes", st.queue_peak_bytes);
}

void send_stats(struct loader *L)
{
	struct sb b;
	sb_init(&b);
	__u64 sum[IOR_COUNTER_COUNT];
	read_counters(L, sum);
	sb_putc(&b, '{');
	put_counters(L, &b, sum);
	sb_putc(&b, '}');
	out_frame(IOR_FRAME_STATS, b.s, b.len);
	sb_free(&b);
}

void send_end(struct loader *L, const char *reason, const char *message)
{
	struct sb b;
	sb_init(&b);
	sb_putc(&b, '{');
	sb_kv_str(&b, "reason", reason);
	if (message)
		sb_kv_str(&b, "message", message);
	__u64 sum[IOR_COUNTER_COUNT];
	read_counters(L, sum);
	put_counters(L, &b, sum);
	/* in flight now, or abandoned by a thread that exited inside the call */
	sb_kv_u64(&b, "unpaired_enters", sum[IOR_ENTERS_RECORDED] > sum[IOR_EXITS_PAIRED]
						 ? sum[IOR_ENTERS_RECORDED] - sum[IOR_EXITS_PAIRED] : 0);
	sb_printf(&b, ",\"detach_ms\":%.1f", L->detach_ms);
	sb_key(&b, "child");
	if (L->child_pid <= 0) {
		sb_puts(&b, "null");
	} else {
		sb_putc(&b, '{');
		sb_kv_i64(&b, "pid", L->child_pid);
		sb_kv_bool(&b, "exited", L->child_status != -1);
		sb_key(&b, "code");
		if (L->child_status != -1 && WIFEXITED(L->child_status))
			sb_printf(&b, "%d", WEXITSTATUS(L->child_status));
		else
			sb_puts(&b, "null");
		sb_key(&b, "signal");
		if (L->child_status != -1 && WIFSIGNALED(L->child_status))
			sb_printf(&b, "%d", WTERMSIG(L->child_status));
		else
			sb_puts(&b, "null");
		sb_putc(&b, '}');
	}
	sb_putc(&b, '}');
	out_frame(IOR_FRAME_END, b.s, b.len);
	sb_free(&b);
}

/* One error line on stderr and as a LOG frame, then END with reason
 * "error", exit 2. Before attaching there is no HELLO: the stream is the
 * preamble, the LOG frames and END (no capture was made). The exit is the
 * cleanup: the kernel releases the BPF programs, links, maps and perf
 * events with our fds, and a command still waiting for its go byte sees
 * the pipe close and exits 126. */
void fatal(struct loader *L, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit_log(L, "error", "%s", msg);
	if (out_started()) {
		send_pending_logs(L);
		send_end(L, "error", msg);
		out_finish();
	}
	exit(2);
}
