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
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <linux/perf_event.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "ior.h"
#include "ior.skel.h"
#include "out.h"

#ifndef IOR_LOADER_VERSION
#define IOR_LOADER_VERSION "0.0.0-dev"
#endif
#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

#define BTF_PATH "/sys/kernel/btf/vmlinux"
#define BATCH_BYTES (1u << 20)          /* EVENTS frame payload */
#define QUEUE_MAX_BYTES (1ull << 30)    /* writer queue bound */

/* ---- the syscall table (bpf/syscalls.def) -------------------------------- */

struct sc_row {
	const char *name;
	int nargs, kind, fd, fd2, dirfd, path, dirfd2, path2, count, offset, flags, mode, pos;
};

static const struct sc_row table[IOR_SC_COUNT] = {
#define IOR_SC(name, ...) { #name, __VA_ARGS__ },
#include "syscalls.def"
#undef IOR_SC
};

/* syscall number of each row on this architecture, -1: none */
static int row_nr[IOR_SC_COUNT];

static void init_row_nr(void)
{
	for (int i = 0; i < IOR_SC_COUNT; i++)
		row_nr[i] = -1;
#define IOR_NR(name, nr) row_nr[IOR_SC_##name] = (nr);
#include "sysnr.h"
#undef IOR_NR
}

#if defined(__x86_64__)
#define SYS_PREFIX "__x64_sys_"
#elif defined(__aarch64__)
#define SYS_PREFIX "__arm64_sys_"
#elif defined(__s390x__)
#define SYS_PREFIX "__s390x_sys_"
#elif defined(__riscv)
#define SYS_PREFIX "__riscv_sys_"
#else
#define SYS_PREFIX "sys_"
#endif

enum hooks { HOOKS_RAW, HOOKS_TRACEPOINTS };
static const char *const hooks_names[] = { "raw", "tracepoints" };

static const char *const kind_names[] = { "plain", "iov", "open_how", "offptr", "mmap", "vma" };
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
};

/* ---- options and state --------------------------------------------------- */

static struct {
	unsigned ring_mb, poll_ms, stats_ms;
	__u32 pids[1024];
	int npids;
	const char *comm;
	bool follow;
	__u32 excl[IOR_MAX_EXCLUDE];
	int nexcl;
	const char *syscalls;
	int out_fd;
	int hooks;
	int cmd_stderr_fd;
	int start_fd;   /* the command starts when a byte (or EOF) arrives here, -1: at once */
	char **cmd;
} o = { .cmd_stderr_fd = -1, .start_fd = -1,  .ring_mb = 64, .poll_ms = 10, .stats_ms = 1000, .out_fd = 3, .hooks = HOOKS_RAW };
/* --hooks given: no fallback to the other kind */
static bool hooks_chosen;

static struct ior_bpf *skel;
static bool requested[IOR_SC_COUNT];
static bool attached[IOR_SC_COUNT];
static char *skip_reason[IOR_SC_COUNT];
static struct bpf_link *fork_link, *exec_link, *pexit_link;
static struct bpf_link *raw_enter_link, *raw_exit_link;
/* A per-syscall tracepoint attachment (--hooks tracepoints): the perf event
 * and the BPF link on it, kept apart. Closing the link detaches the program
 * at once; releasing the perf event waits for RCU grace periods under a
 * global mutex (~50 ms each here, ~8 s for the whole table), so the perf
 * events are closed only after the END frame, when nobody waits on them. */
struct tp_attach {
	int perf_fd, link_fd;
};
static struct tp_attach tp_enter[IOR_SC_COUNT], tp_exit[IOR_SC_COUNT];
static double load_ms, attach_ms, detach_ms;
static const char *build; /* build_name() of the programs loaded */
static size_t ring_bytes;
static long long boot_to_wall;
static pid_t child_pid = -1;
static int child_status = -1;   /* wait status of the direct child, -1: not reaped */
static bool child_exec_failed;
static bool hello_sent;
static struct sb command_files; /* JSON: what the command starts with (its cwd and inherited fds) */
static struct chunk *pending_logs, **pending_tail = &pending_logs;
static volatile sig_atomic_t stop_signal, got_sigchld;
static bool debug;
static char libbpf_last[3][512]; /* last libbpf warnings, for error messages */
static int libbpf_nlast;

/* ---- time ---------------------------------------------------------------- */

static long long now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* CLOCK_REALTIME - CLOCK_BOOTTIME, from the tightest of a few samples */
static long long measure_boot_to_wall(void)
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

/* ---- logging -------------------------------------------------------------- */

static const char *libbpf_ver(void)
{
	const char *v = libbpf_version_string();
	return v[0] == 'v' ? v + 1 : v;
}

/* LOG frame; held back until HELLO went out (HELLO is always first) */
static void emit_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit_log(const char *level, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (!strcmp(level, "error") || debug)
		fprintf(stderr, "ior-loader: %s%s\n", strcmp(level, "error") ? "warning: " : "", msg);
	if (!out_started())
		return;
	struct sb b;
	sb_init(&b);
	sb_putc(&b, '{');
	sb_kv_str(&b, "level", level);
	sb_kv_str(&b, "message", msg);
	sb_putc(&b, '}');
	if (hello_sent) {
		out_frame(IOR_FRAME_LOG, b.s, b.len);
	} else {
		struct chunk *c = chunk_new(IOR_FRAME_LOG, b.len);
		memcpy(c->buf + sizeof(struct ior_frame_header), b.s, b.len);
		c->len = b.len;
		*pending_tail = c;
		pending_tail = &c->next;
	}
	sb_free(&b);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (debug)
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
	memmove(libbpf_last[0], libbpf_last[1], sizeof(libbpf_last[0]) * 2);
	snprintf(libbpf_last[2], sizeof(libbpf_last[2]), "%s", line);
	if (libbpf_nlast < 3)
		libbpf_nlast++;
	return 0;
}

static const char *libbpf_detail(void)
{
	static char buf[1600];
	buf[0] = 0;
	for (int i = 3 - libbpf_nlast; i < 3; i++) {
		if (buf[0])
			strcat(buf, "; ");
		strncat(buf, libbpf_last[i], sizeof(buf) - strlen(buf) - 3);
	}
	return buf[0] ? buf : "(IOR_DEBUG=1 shows libbpf's log)";
}

/* ---- HELLO / STATS / END --------------------------------------------------- */

static void put_table(struct sb *b)
{
	sb_key(b, "syscalls");
	sb_putc(b, '[');
	for (int i = 0; i < IOR_SC_COUNT; i++) {
		const struct sc_row *r = &table[i];
		if (i)
			sb_putc(b, ',');
		sb_putc(b, '{');
		sb_kv_i64(b, "id", i);
		sb_kv_str(b, "name", r->name);
		sb_kv_i64(b, "nargs", r->nargs);
		sb_kv_str(b, "kind", kind_names[r->kind]);
		sb_kv_i64(b, "fd", r->fd);
		sb_kv_i64(b, "fd2", r->fd2);
		sb_kv_i64(b, "dirfd", r->dirfd);
		sb_kv_i64(b, "path", r->path);
		sb_kv_i64(b, "dirfd2", r->dirfd2);
		sb_kv_i64(b, "path2", r->path2);
		sb_kv_i64(b, "count", r->count);
		sb_kv_i64(b, "offset", r->offset);
		sb_kv_i64(b, "flags", r->flags);
		sb_kv_i64(b, "mode", r->mode);
		sb_kv_i64(b, "pos", r->pos);
		sb_key(b, "nr");
		if (row_nr[i] >= 0)
			sb_printf(b, "%d", row_nr[i]);
		else
			sb_puts(b, "null");
		sb_putc(b, '}');
	}
	sb_putc(b, ']');
}

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

static void send_pending_logs(void);

static void send_hello(void)
{
	struct sb b;
	struct utsname u;
	char host[256] = "";

	uname(&u);
	gethostname(host, sizeof(host) - 1);
	sb_init(&b);
	sb_putc(&b, '{');
	sb_kv_str(&b, "loader_version", IOR_LOADER_VERSION);
	sb_kv_str(&b, "libbpf_version", libbpf_ver());
	sb_kv_i64(&b, "wire_version", IOR_WIRE_VERSION);
	sb_kv_i64(&b, "event_size", sizeof(struct ior_event));
	sb_kv_i64(&b, "boot_to_wall_ns", boot_to_wall);
	sb_kv_i64(&b, "start_boot_ns", now_ns(CLOCK_BOOTTIME));
	sb_kv_u64(&b, "ring_bytes", ring_bytes);
	sb_kv_str(&b, "hooks", hooks_names[o.hooks]);
	sb_kv_str(&b, "build", build);
	sb_printf(&b, ",\"load_ms\":%.1f", load_ms);
	sb_printf(&b, ",\"attach_ms\":%.1f", attach_ms);
	sb_kv_i64(&b, "poll_ms", o.poll_ms);
	sb_kv_i64(&b, "stats_ms", o.stats_ms);
	sb_kv_i64(&b, "loader_pid", getpid());
	sb_key(&b, "child_pid");
	if (child_pid > 0)
		sb_printf(&b, "%d", child_pid);
	else
		sb_puts(&b, "null");
	sb_key(&b, "command");
	if (o.cmd) {
		sb_putc(&b, '[');
		for (char **a = o.cmd; *a; a++) {
			if (a != o.cmd)
				sb_putc(&b, ',');
			sb_json_str(&b, *a);
		}
		sb_putc(&b, ']');
	} else {
		sb_puts(&b, "null");
	}
	sb_key(&b, "command_files");
	sb_puts(&b, command_files.s ? command_files.s : "null");
	sb_key(&b, "records");
	sb_putc(&b, '{');
	sb_kv_i64(&b, "fork", IOR_REC_FORK);
	sb_kv_i64(&b, "exec", IOR_REC_EXEC);
	sb_kv_i64(&b, "exit", IOR_REC_EXIT);
	sb_putc(&b, '}');
	sb_kv_str(&b, "kernel_release", u.release);
	sb_kv_str(&b, "machine", u.machine);
	sb_kv_str(&b, "hostname", host);
	sb_key(&b, "filters");
	sb_putc(&b, '{');
	sb_key(&b, "pids");
	sb_putc(&b, '[');
	for (int i = 0; i < o.npids; i++)
		sb_printf(&b, "%s%u", i ? "," : "", o.pids[i]);
	sb_putc(&b, ']');
	sb_kv_str(&b, "comm", o.comm);
	sb_kv_bool(&b, "follow", o.follow);
	sb_key(&b, "exclude_pids");
	sb_putc(&b, '[');
	for (int i = 0; i < o.nexcl; i++)
		sb_printf(&b, "%s%u", i ? "," : "", o.excl[i]);
	sb_putc(&b, ']');
	sb_putc(&b, '}');
	sb_kv_i64(&b, "path_max", IOR_PATH_MAX);
	sb_kv_i64(&b, "iov_max", IOR_IOV_MAX);
	put_names(&b, "counters", counter_names, IOR_COUNTER_COUNT);
	put_names(&b, "file_types", file_type_names, 9);
	put_names(&b, "kinds", kind_names, 6);
	put_table(&b);
	sb_key(&b, "attached");
	sb_putc(&b, '[');
	bool first = true;
	for (int i = 0; i < IOR_SC_COUNT; i++) {
		if (!attached[i])
			continue;
		if (!first)
			sb_putc(&b, ',');
		first = false;
		sb_json_str(&b, table[i].name);
	}
	sb_putc(&b, ']');
	sb_key(&b, "skipped");
	sb_putc(&b, '[');
	first = true;
	for (int i = 0; i < IOR_SC_COUNT; i++) {
		if (!skip_reason[i])
			continue;
		if (!first)
			sb_putc(&b, ',');
		first = false;
		sb_putc(&b, '{');
		sb_kv_str(&b, "name", table[i].name);
		sb_kv_str(&b, "reason", skip_reason[i]);
		sb_putc(&b, '}');
	}
	sb_putc(&b, ']');
	sb_putc(&b, '}');
	out_frame(IOR_FRAME_HELLO, b.s, b.len);
	sb_free(&b);
	hello_sent = true;
	send_pending_logs();
}

/* the LOG frames held back until HELLO (or an error before it) */
static void send_pending_logs(void)
{
	while (pending_logs) {
		struct chunk *c = pending_logs;
		pending_logs = c->next;
		c->next = NULL;
		out_push(c);
	}
	pending_tail = &pending_logs;
}

/* counters summed over CPUs */
static void read_counters(__u64 *sum)
{
	memset(sum, 0, sizeof(__u64) * IOR_COUNTER_COUNT);
	if (!skel)
		return;
	int ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0)
		return;
	__u64 *v = calloc((size_t)ncpu, sizeof(__u64));
	int fd = bpf_map__fd(skel->maps.counters);
	for (__u32 k = 0; k < IOR_COUNTER_COUNT; k++) {
		if (bpf_map_lookup_elem(fd, &k, v))
			continue;
		for (int c = 0; c < ncpu; c++)
			sum[k] += v[c];
	}
	free(v);
}

static uint64_t drained_events; /* records taken from the ring */

/* sum: the BPF counters, as read_counters gives them */
static void put_counters(struct sb *b, const __u64 *sum)
{
	struct out_stats st;

	out_get_stats(&st);
	sb_kv_i64(b, "boot_ns", now_ns(CLOCK_BOOTTIME));
	sb_key(b, "counters");
	sb_putc(b, '{');
	for (int i = 0; i < IOR_COUNTER_COUNT; i++)
		sb_kv_u64(b, counter_names[i], sum[i]);
	sb_putc(b, '}');
	sb_kv_u64(b, "events_drained", drained_events);
	sb_kv_u64(b, "events_forwarded", st.events_forwarded);
	sb_kv_u64(b, "bytes_forwarded", st.bytes_forwarded);
	sb_kv_u64(b, "loader_queue_dropped", st.queue_dropped);
	sb_kv_u64(b, "queue_bytes", st.queue_bytes);
	sb_kv_u64(b, "queue_peak_bytes", st.queue_peak_bytes);
}

static void send_stats(void)
{
	struct sb b;
	sb_init(&b);
	__u64 sum[IOR_COUNTER_COUNT];
	read_counters(sum);
	sb_putc(&b, '{');
	put_counters(&b, sum);
	sb_putc(&b, '}');
	out_frame(IOR_FRAME_STATS, b.s, b.len);
	sb_free(&b);
}

static void send_end(const char *reason, const char *message)
{
	struct sb b;
	sb_init(&b);
	sb_putc(&b, '{');
	sb_kv_str(&b, "reason", reason);
	if (message)
		sb_kv_str(&b, "message", message);
	__u64 sum[IOR_COUNTER_COUNT];
	read_counters(sum);
	put_counters(&b, sum);
	/* in flight now, or abandoned by a thread that exited inside the call */
	sb_kv_u64(&b, "unpaired_enters", sum[IOR_ENTERS_RECORDED] > sum[IOR_EXITS_PAIRED]
						 ? sum[IOR_ENTERS_RECORDED] - sum[IOR_EXITS_PAIRED] : 0);
	sb_printf(&b, ",\"detach_ms\":%.1f", detach_ms);
	sb_key(&b, "child");
	if (child_pid <= 0) {
		sb_puts(&b, "null");
	} else {
		sb_putc(&b, '{');
		sb_kv_i64(&b, "pid", child_pid);
		sb_kv_bool(&b, "exited", child_status != -1);
		sb_key(&b, "code");
		if (child_status != -1 && WIFEXITED(child_status))
			sb_printf(&b, "%d", WEXITSTATUS(child_status));
		else
			sb_puts(&b, "null");
		sb_key(&b, "signal");
		if (child_status != -1 && WIFSIGNALED(child_status))
			sb_printf(&b, "%d", WTERMSIG(child_status));
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
 * preamble, the LOG frames and END (no capture was made). */
static void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fatal(const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit_log("error", "%s", msg);
	if (out_started()) {
		send_pending_logs();
		send_end("error", msg);
		out_finish();
	}
	exit(2);
}

/* ---- host checks ------------------------------------------------------------ */

static bool has_cap(int cap)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d))
		return false;
	return d[cap / 32].effective & (1u << (cap % 32));
}

static const char *tracefs_dir(void)
{
	static const char *const dirs[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char p[128];
	for (int i = 0; i < 2; i++) {
		snprintf(p, sizeof(p), "%s/events", dirs[i]);
		if (access(p, F_OK) == 0)
			return dirs[i];
	}
	return NULL;
}

/* tracefs mounted, or mounted now; NULL + errno when impossible */
static const char *ensure_tracefs(bool *mounted_now)
{
	const char *d = tracefs_dir();
	*mounted_now = false;
	if (d)
		return d;
	if (mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL) == 0) {
		*mounted_now = true;
		return tracefs_dir();
	}
	return NULL;
}

static bool tracepoint_exists(const char *tfs, const char *name)
{
	char p[256];
	if (!tfs)
		return false;
	snprintf(p, sizeof(p), "%s/events/syscalls/sys_enter_%s", tfs, name);
	if (access(p, F_OK))
		return false;
	snprintf(p, sizeof(p), "%s/events/syscalls/sys_exit_%s", tfs, name);
	return access(p, F_OK) == 0;
}

/* Kernel functions of the syscalls, from BTF (NULL: no BTF) */
static struct btf *vmlinux_btf;
static bool btf_has_syscalls;

static void load_vmlinux_btf(void)
{
	if (vmlinux_btf || access(BTF_PATH, R_OK))
		return;
	vmlinux_btf = btf__load_vmlinux_btf();
	if (libbpf_get_error(vmlinux_btf)) {
		vmlinux_btf = NULL;
		return;
	}
	btf_has_syscalls = btf__find_by_name_kind(vmlinux_btf, SYS_PREFIX "read", BTF_KIND_FUNC) > 0;
}

/* Does the kernel have the bpf_find_vma helper (Linux 5.17)? Its BTF lists
 * the helpers it knows in enum bpf_func_id. IOR_NO_FIND_VMA=1 makes the
 * loader behave as on a kernel without it (tests, diagnosis). */
static bool find_vma_available(void)
{
	const char *no = getenv("IOR_NO_FIND_VMA");
	if (no && !strcmp(no, "1"))
		return false;
	if (!vmlinux_btf)
		return false;
	__s32 id = btf__find_by_name_kind(vmlinux_btf, "bpf_func_id", BTF_KIND_ENUM);
	if (id <= 0)
		return false;
	const struct btf_type *t = btf__type_by_id(vmlinux_btf, id);
	const struct btf_enum *e = btf_enum(t);
	for (int i = 0; i < btf_vlen(t); i++, e++)
		if (!strcmp(btf__name_by_offset(vmlinux_btf, e->name_off), "BPF_FUNC_find_vma"))
			return true;
	return false;
}

/* Does the kernel have the bpf_rdonly_cast kfunc (Linux 6.2)? Then the
 * programs read files with plain BTF loads, else with CO-RE probe reads
 * (bpf/ior.bpf.c, fd_type). IOR_NO_RDONLY_CAST=1 (or IOR_NO_FIND_VMA=1:
 * no kernel has the kfunc without the helper) forces the CO-RE build. */
static bool rdonly_cast_available(void)
{
	const char *no = getenv("IOR_NO_RDONLY_CAST");
	if (no && !strcmp(no, "1"))
		return false;
	return find_vma_available() && btf__find_by_name_kind(vmlinux_btf, "bpf_rdonly_cast", BTF_KIND_FUNC) > 0;
}

/* The build of the programs the loader picks (bpf/ior.bpf.c): "btf" with
 * bpf_rdonly_cast (6.2+), "core" with CO-RE reads and bpf_find_vma
 * (5.17+), "core-novma" without the helper (munmap/msync not traced). */
static const char *build_name(bool find_vma, bool rdonly_cast)
{
	return rdonly_cast ? "btf" : find_vma ? "core" : "core-novma";
}

/* Why row i cannot be traced whatever the hooks, or NULL. */
static const char *helper_unavailable(int i, bool find_vma)
{
	return table[i].kind == IOR_K_VMA && !find_vma ? "file attribution needs bpf_find_vma, Linux 5.17+" : NULL;
}

/* Is sym a text symbol of the kernel? /proc/kallsyms is read once (its
 * names, not addresses: they read as 0 without CAP_SYSLOG). */
static bool kallsyms_has(const char *sym)
{
	static char *names;  /* the SYS_PREFIX names, each followed by '\n' */
	static bool loaded;
	char key[128];

	if (!loaded) {
		FILE *f = fopen("/proc/kallsyms", "re");
		struct sb b;
		char line[512];
		sb_init(&b);
		sb_putc(&b, '\n');
		while (f && fgets(line, sizeof(line), f)) {
			char *name = strstr(line, " " SYS_PREFIX);
			if (!name || (name[-1] != 'T' && name[-1] != 't'))
				continue;
			name++;
			name[strcspn(name, " \t\n")] = 0;
			sb_puts(&b, name);
			sb_putc(&b, '\n');
		}
		if (f)
			fclose(f);
		names = b.s;
		loaded = true;
	}
	snprintf(key, sizeof(key), "\n%s\n", sym);
	return names && strstr(names, key);
}

/* Can the raw hooks trace row i here? NULL if so, else why not. */
static const char *raw_unavailable(int i)
{
	char fn[96];
	if (row_nr[i] < 0 || row_nr[i] >= IOR_NR_MAX)
		return "not a syscall on this architecture";
	if (!btf_has_syscalls)
		return NULL; /* cannot tell: assume it exists */
	snprintf(fn, sizeof(fn), SYS_PREFIX "%s", table[i].name);
	/* BTF leaves out a few functions (argument-less SYSCALL_DEFINE0 ones
	 * such as sync): ask kallsyms before calling a syscall missing */
	if (btf__find_by_name_kind(vmlinux_btf, fn, BTF_KIND_FUNC) > 0 || kallsyms_has(fn))
		return NULL;
	return "no such syscall in this kernel";
}

/* One LOG line naming the requested syscalls this kernel cannot trace. */
static void put_skipped_log(void)
{
	struct sb b;
	int n = 0;

	sb_init(&b);
	for (int i = 0; i < IOR_SC_COUNT; i++) {
		if (!skip_reason[i])
			continue;
		sb_printf(&b, "%s%s (%s)", n++ ? ", " : "", table[i].name, skip_reason[i]);
	}
	if (n)
		emit_log("warn", "%d syscall%s not traced on this kernel: %s", n, n > 1 ? "s" : "", b.s);
	sb_free(&b);
}

/* The raw syscall tracepoints exist (BTF has their prototypes)? */
static bool raw_hooks_available(void)
{
	return vmlinux_btf && btf__find_by_name_kind(vmlinux_btf, "btf_trace_sys_enter", BTF_KIND_TYPEDEF) > 0 &&
	       btf__find_by_name_kind(vmlinux_btf, "btf_trace_sys_exit", BTF_KIND_TYPEDEF) > 0;
}

static void put_rlim(struct sb *b, const char *key, rlim_t v)
{
	if (v == RLIM_INFINITY)
		sb_kv_str(b, key, "unlimited");
	else
		sb_kv_u64(b, key, (unsigned long long)v);
}

static int do_probe(void)
{
	struct sb b;
	struct utsname u;
	struct rlimit rl = { 0, 0 };
	bool mounted_now = false;
	const char *tfs = ensure_tracefs(&mounted_now);
	int tfs_err = tfs ? 0 : errno;
	bool root = geteuid() == 0, cap_bpf = has_cap(CAP_BPF), cap_perfmon = has_cap(CAP_PERFMON),
	     cap_sys_admin = has_cap(CAP_SYS_ADMIN);
	bool btf = access(BTF_PATH, R_OK) == 0;
	int rb = (cap_bpf || cap_sys_admin) ? libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) : -EPERM;
	int navail = 0;

	uname(&u);
	getrlimit(RLIMIT_MEMLOCK, &rl);
	sb_init(&b);
	sb_putc(&b, '{');
	sb_kv_str(&b, "loader_version", IOR_LOADER_VERSION);
	sb_kv_str(&b, "libbpf_version", libbpf_ver());
	sb_kv_i64(&b, "wire_version", IOR_WIRE_VERSION);
	sb_kv_i64(&b, "event_size", sizeof(struct ior_event));
	sb_kv_str(&b, "kernel_release", u.release);
	sb_kv_str(&b, "machine", u.machine);
	sb_key(&b, "btf");
	sb_putc(&b, '{');
	sb_kv_bool(&b, "present", btf);
	sb_kv_str(&b, "path", BTF_PATH);
	sb_putc(&b, '}');
	sb_key(&b, "ringbuf");
	sb_puts(&b, rb == 1 ? "true" : rb == 0 ? "false" : "null");
	sb_key(&b, "tracefs");
	sb_putc(&b, '{');
	sb_kv_bool(&b, "mounted", tfs != NULL);
	sb_kv_str(&b, "path", tfs);
	sb_kv_bool(&b, "mounted_now", mounted_now);
	if (!tfs)
		sb_kv_str(&b, "error", strerror(tfs_err));
	sb_putc(&b, '}');
	load_vmlinux_btf();
	bool raw_available = raw_hooks_available(), find_vma = find_vma_available(), rdonly_cast = rdonly_cast_available();
	/* the hooks capture uses by default: raw, the tracepoints where the raw hooks are missing */
	bool raw = raw_available;
	sb_kv_str(&b, "hooks", raw ? "raw" : "tracepoints");
	sb_kv_bool(&b, "raw_syscall_hooks", raw_available);
	sb_kv_bool(&b, "find_vma", find_vma);
	sb_kv_bool(&b, "rdonly_cast", rdonly_cast);
	sb_kv_str(&b, "build", build_name(find_vma, rdonly_cast));
	/* per syscall: traceable here with the default hooks */
	sb_key(&b, "tracepoints");
	sb_putc(&b, '{');
	for (int i = 0; i < IOR_SC_COUNT; i++) {
		bool ok = !helper_unavailable(i, find_vma) && (raw ? raw_unavailable(i) == NULL : tracepoint_exists(tfs, table[i].name));
		navail += ok;
		sb_kv_bool(&b, table[i].name, ok);
	}
	sb_putc(&b, '}');
	sb_kv_i64(&b, "tracepoints_available", navail);
	sb_key(&b, "syscall_numbers");
	sb_putc(&b, '{');
	for (int i = 0; i < IOR_SC_COUNT; i++) {
		sb_key(&b, table[i].name);
		if (row_nr[i] >= 0)
			sb_printf(&b, "%d", row_nr[i]);
		else
			sb_puts(&b, "null");
	}
	sb_putc(&b, '}');
	sb_kv_bool(&b, "root", root);
	sb_kv_bool(&b, "cap_bpf", cap_bpf);
	sb_kv_bool(&b, "cap_perfmon", cap_perfmon);
	sb_kv_bool(&b, "cap_sys_admin", cap_sys_admin);
	sb_key(&b, "memlock");
	sb_putc(&b, '{');
	put_rlim(&b, "soft", rl.rlim_cur);
	put_rlim(&b, "hard", rl.rlim_max);
	sb_putc(&b, '}');
	sb_kv_bool(&b, "ok", btf && (raw || tfs) && navail > 0 && rb == 1 &&
				     (cap_bpf || cap_sys_admin) && (cap_perfmon || cap_sys_admin));
	sb_putc(&b, '}');
	puts(b.s);
	sb_free(&b);
	return 0;
}

/* ---- ring buffer drain ------------------------------------------------------ */

/* The ring is read directly through its mmap (no libbpf callback per record):
 * payloads are copied into the current EVENTS chunk and the consumer
 * position is published once per pass, so the producers' cache line is
 * touched rarely. Records are waited for on an edge-triggered epoll: only
 * the forced (watermark) wakeups of the BPF side wake us early. */
static struct {
	int fd, epfd;
	unsigned long *cons_pos;
	unsigned long *prod_pos;
	unsigned char *data;
	size_t mask;
} ring;
static struct chunk *cur;

static int ring_open(int map_fd, size_t size)
{
	long page = sysconf(_SC_PAGESIZE);
	void *c = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (c == MAP_FAILED)
		return -errno;
	/* producer page, then the data area mapped twice (records never wrap) */
	void *p = mmap(NULL, (size_t)page + 2 * size, PROT_READ, MAP_SHARED, map_fd, page);
	if (p == MAP_FAILED)
		return -errno;
	ring.fd = map_fd;
	ring.cons_pos = c;
	ring.prod_pos = p;
	ring.data = (unsigned char *)p + page;
	ring.mask = size - 1;
	ring.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ring.epfd < 0)
		return -errno;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	if (epoll_ctl(ring.epfd, EPOLL_CTL_ADD, map_fd, &ev))
		return -errno;
	return 0;
}

static void flush_batch(void)
{
	if (cur && cur->len) {
		out_push(cur);
		cur = NULL;
	}
	if (!cur)
		cur = chunk_new(IOR_FRAME_EVENTS, BATCH_BYTES);
}

static void drain(void)
{
	unsigned long cons = __atomic_load_n(ring.cons_pos, __ATOMIC_RELAXED);

	for (int pass = 0; pass < 8; pass++) {
		unsigned long prod = __atomic_load_n(ring.prod_pos, __ATOMIC_ACQUIRE);
		if (cons >= prod)
			break;
		while (cons < prod) {
			__u32 *hdr = (__u32 *)(ring.data + (cons & ring.mask));
			__u32 len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
			if (len & BPF_RINGBUF_BUSY_BIT)
				goto out; /* being written: next time */
			__u32 sz = len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
			if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
				if (cur->len + sz > cur->cap) {
					flush_batch();
					__atomic_store_n(ring.cons_pos, cons, __ATOMIC_RELEASE);
				}
				memcpy(cur->buf + sizeof(struct ior_frame_header) + cur->len,
				       (unsigned char *)hdr + BPF_RINGBUF_HDR_SZ, sz);
				cur->len += sz;
				cur->nevents++;
				drained_events++;
			}
			cons += (sz + BPF_RINGBUF_HDR_SZ + 7) & ~7ul;
		}
		__atomic_store_n(ring.cons_pos, cons, __ATOMIC_RELEASE);
	}
out:
	__atomic_store_n(ring.cons_pos, cons, __ATOMIC_RELEASE);
}

/* ---- attach / detach ---------------------------------------------------------- */

static struct bpf_program *prog_by_name(const char *prefix, const char *name)
{
	char n[128];
	snprintf(n, sizeof(n), "%s%s", prefix, name);
	return bpf_object__find_program_by_name(skel->obj, n);
}

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

/* Close many fds from several threads: each close of a tracepoint's BPF
 * link or perf event waits for RCU grace periods, and the waits overlap
 * (150 links: ~4.7 s one by one, ~0.3-0.4 s from 16 threads; the perf
 * events, released under a kernel-wide mutex, overlap less: ~5 s instead
 * of the 9-13 s libbpf's one-by-one destroy took). */
#define CLOSE_THREADS 16
static struct {
	int **fds;
	int n, next;
	pthread_mutex_t lock;
} closing = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void *close_worker(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&closing.lock);
		int i = closing.next++;
		pthread_mutex_unlock(&closing.lock);
		if (i >= closing.n)
			return NULL;
		close_fd(closing.fds[i]);
	}
}

static void close_all(int **fds, int n)
{
	pthread_t th[CLOSE_THREADS];
	int nth = 0;

	closing.fds = fds;
	closing.n = n;
	closing.next = 0;
	for (; nth < CLOSE_THREADS && nth < n - 1; nth++)
		if (pthread_create(&th[nth], NULL, close_worker, NULL))
			break;
	close_worker(NULL);
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
static void close_tracepoints(int which)
{
	int *fds[2 * IOR_SC_COUNT], n = 0;

	for (int i = 0; i < IOR_SC_COUNT; i++)
		if (tp_enter[i].link_fd >= 0 || tp_enter[i].perf_fd >= 0)
			fds[n++] = tracepoint_fd(&tp_enter[i], which);
	close_all(fds, n);
	n = 0;
	for (int i = 0; i < IOR_SC_COUNT; i++)
		if (tp_exit[i].link_fd >= 0 || tp_exit[i].perf_fd >= 0)
			fds[n++] = tracepoint_fd(&tp_exit[i], which);
	close_all(fds, n);
}

/* Stop every program: enters first, so no new in-flight entries, then the
 * exits that pair them, then the lifecycle hooks. */
static void detach_programs(void)
{
	long long t0 = now_ns(CLOCK_MONOTONIC);

	bpf_link__destroy(raw_enter_link);
	bpf_link__destroy(raw_exit_link);
	raw_enter_link = raw_exit_link = NULL;
	if (o.hooks == HOOKS_TRACEPOINTS) {
		/* the programs stop themselves; release_tracepoints() closes the
		 * links and perf events after END (bpf/ior.bpf.c, tp_stop_level) */
		__atomic_store_n(&skel->bss->tp_stop_level, 1, __ATOMIC_SEQ_CST);
		__atomic_store_n(&skel->bss->tp_stop_level, 2, __ATOMIC_SEQ_CST);
	}
	bpf_link__destroy(fork_link);
	bpf_link__destroy(exec_link);
	bpf_link__destroy(pexit_link);
	fork_link = exec_link = pexit_link = NULL;
	detach_ms = (now_ns(CLOCK_MONOTONIC) - t0) / 1e6;
}

/* The per-syscall links and perf events (--hooks tracepoints), after END:
 * seconds of RCU grace periods (one per perf event, under a global mutex),
 * so first our stdio goes to /dev/null: nobody reading our output or
 * waiting on a pipe we hold (a shell's $(ior capture ...)) waits for it. */
static void release_tracepoints(void)
{
	if (o.hooks != HOOKS_TRACEPOINTS)
		return;
	if (debug)
		fprintf(stderr, "ior-loader: releasing the perf events, stdio closed\n");
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int i = 0; null >= 0 && i <= 2; i++)
		dup2(null, i);
	close_fd(&null);
	close_tracepoints(0);
	close_tracepoints(1);
}

/* ---- the command ------------------------------------------------------------------ */

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
static void swap_stderr(int cmd_fd)
{
	int mine = fcntl(2, F_DUPFD_CLOEXEC, 10);
	FILE *f = mine >= 0 ? fdopen(mine, "w") : NULL;

	if (!f || dup2(cmd_fd, 2) < 0)
		fatal("--cmd-stderr-fd %d: %s", cmd_fd, strerror(errno));
	if (cmd_fd != 2)
		close(cmd_fd);
	setvbuf(f, NULL, _IONBF, 0);
	fflush(stderr);
	stderr = f;
}

/* ---- signals and children ------------------------------------------------------ */

static void on_stop(int sig)
{
	stop_signal = sig;
}

static void on_chld(int sig)
{
	(void)sig;
	got_sigchld = 1;
}

/* reap every child; true when none is left (ECHILD) */
static bool reap(void)
{
	for (;;) {
		int st;
		pid_t p = waitpid(-1, &st, WNOHANG | __WALL);
		if (p > 0) {
			if (p == child_pid)
				child_status = st;
			continue;
		}
		if (p == 0)
			return false;
		if (errno == EINTR)
			continue;
		return errno == ECHILD;
	}
}

/* ---- options -------------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ior-loader [--ring-mb N] [--poll-ms N] [--stats-ms N] [--pid N]... [--comm NAME]\n"
		"                  [--follow] [--exclude-pid N]... [--syscalls name,name,...] [--out-fd N]\n"
		"                  [--hooks raw|tracepoints] [--cmd-stderr-fd N] [--start-fd N]\n"
		"                  [-- CMD ARGS...]\n"
		"       ior-loader --probe\n"
		"       ior-loader --version\n");
}

static unsigned parse_uint(const char *opt, const char *s, unsigned min, unsigned max)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "ior-loader: %s: expected a number in [%u, %u], got '%s'\n", opt, min, max, s);
		exit(2);
	}
	return (unsigned)v;
}

enum { OPT_RING = 1000, OPT_POLL, OPT_STATS, OPT_PID, OPT_COMM, OPT_FOLLOW, OPT_EXCL, OPT_SYSCALLS,
       OPT_OUTFD, OPT_PROBE, OPT_VERSION, OPT_HELP, OPT_HOOKS, OPT_CMD_STDERR, OPT_START };

static const struct option long_opts[] = {
	{ "ring-mb", required_argument, 0, OPT_RING },   { "poll-ms", required_argument, 0, OPT_POLL },
	{ "stats-ms", required_argument, 0, OPT_STATS }, { "pid", required_argument, 0, OPT_PID },
	{ "comm", required_argument, 0, OPT_COMM },      { "follow", no_argument, 0, OPT_FOLLOW },
	{ "exclude-pid", required_argument, 0, OPT_EXCL }, { "syscalls", required_argument, 0, OPT_SYSCALLS },
	{ "out-fd", required_argument, 0, OPT_OUTFD },   { "probe", no_argument, 0, OPT_PROBE },
	{ "version", no_argument, 0, OPT_VERSION },      { "help", no_argument, 0, OPT_HELP },
	{ "hooks", required_argument, 0, OPT_HOOKS },    { "cmd-stderr-fd", required_argument, 0, OPT_CMD_STDERR },
	{ "start-fd", required_argument, 0, OPT_START },
	{ 0, 0, 0, 0 },
};

/* ---- main ------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
	bool probe = false;
	int c;

	debug = getenv("IOR_DEBUG") && !strcmp(getenv("IOR_DEBUG"), "1");
	opterr = 0;
	/* '+': stop at the first non-option (the command) */
	while ((c = getopt_long(argc, argv, "+", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_RING: o.ring_mb = parse_uint("--ring-mb", optarg, 1, 1024); break;
		case OPT_POLL: o.poll_ms = parse_uint("--poll-ms", optarg, 1, 60000); break;
		case OPT_STATS: o.stats_ms = parse_uint("--stats-ms", optarg, 0, 3600000); break;
		case OPT_PID:
			if (o.npids == (int)(sizeof(o.pids) / sizeof(o.pids[0]))) {
				fputs("ior-loader: too many --pid\n", stderr);
				return 2;
			}
			o.pids[o.npids++] = parse_uint("--pid", optarg, 1, INT_MAX);
			break;
		case OPT_COMM: o.comm = optarg; break;
		case OPT_FOLLOW: o.follow = true; break;
		case OPT_EXCL:
			if (o.nexcl == IOR_MAX_EXCLUDE - 1) {
				fprintf(stderr, "ior-loader: at most %d --exclude-pid\n", IOR_MAX_EXCLUDE - 1);
				return 2;
			}
			o.excl[o.nexcl++] = parse_uint("--exclude-pid", optarg, 1, INT_MAX);
			break;
		case OPT_SYSCALLS: o.syscalls = optarg; break;
		case OPT_OUTFD: o.out_fd = (int)parse_uint("--out-fd", optarg, 0, INT_MAX); break;
		case OPT_PROBE: probe = true; break;
		case OPT_CMD_STDERR: o.cmd_stderr_fd = (int)parse_uint("--cmd-stderr-fd", optarg, 0, INT_MAX); break;
		case OPT_START: o.start_fd = (int)parse_uint("--start-fd", optarg, 3, INT_MAX); break;
		case OPT_HOOKS:
			hooks_chosen = true;
			if (!strcmp(optarg, "raw"))
				o.hooks = HOOKS_RAW;
			else if (!strcmp(optarg, "tracepoints"))
				o.hooks = HOOKS_TRACEPOINTS;
			else {
				fprintf(stderr, "ior-loader: --hooks: expected raw or tracepoints, got '%s'\n", optarg);
				return 2;
			}
			break;
		case OPT_VERSION:
			printf("ior-loader %s (libbpf %s, wire %d)\n", IOR_LOADER_VERSION, libbpf_ver(), IOR_WIRE_VERSION);
			return 0;
		case OPT_HELP: usage(stdout); return 0;
		default:
			fprintf(stderr, "ior-loader: unknown or incomplete option '%s'\n", argv[optind - 1]);
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		/* getopt_long with '+' leaves "--" consumed; a bare word is an error */
		if (strcmp(argv[optind - 1], "--") != 0) {
			fprintf(stderr, "ior-loader: unexpected argument '%s' (a command goes after --)\n", argv[optind]);
			return 2;
		}
		o.cmd = &argv[optind];
	}
	libbpf_set_print(libbpf_print);
	init_row_nr();
	for (int i = 0; i < IOR_SC_COUNT; i++)
		tp_enter[i] = tp_exit[i] = (struct tp_attach){ -1, -1 };
	if (probe)
		return do_probe();

	/* the output: a private close-on-exec copy, so the command never sees it */
	int fd = fcntl(o.out_fd, F_DUPFD_CLOEXEC, 10);
	if (fd < 0) {
		fprintf(stderr, "ior-loader: --out-fd %d is not open: %s\n", o.out_fd, strerror(errno));
		return 2;
	}
	if (o.out_fd > 2)
		close(o.out_fd);
	if (o.start_fd >= 0) {
		/* likewise: a private close-on-exec copy the command never sees */
		int start = fcntl(o.start_fd, F_DUPFD_CLOEXEC, 10);
		close(o.start_fd);
		o.start_fd = start;
	}
	signal(SIGPIPE, SIG_IGN);
	int err = out_start(fd, QUEUE_MAX_BYTES);
	if (err) {
		fprintf(stderr, "ior-loader: cannot write to --out-fd %d: %s\n", o.out_fd, strerror(-err));
		return 2;
	}
	boot_to_wall = measure_boot_to_wall();

	/* which syscalls */
	if (!o.syscalls || !strcmp(o.syscalls, "all")) {
		for (int i = 0; i < IOR_SC_COUNT; i++)
			requested[i] = true;
	} else {
		char *list = strdup(o.syscalls), *save = NULL;
		for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			while (isspace((unsigned char)*t))
				t++;
			int i;
			for (i = 0; i < IOR_SC_COUNT; i++)
				if (!strcmp(table[i].name, t))
					break;
			if (i == IOR_SC_COUNT)
				fatal("--syscalls: %s is not traced by ior; use the kernel's tracepoint names (openat, pread64, newfstatat, renameat2, ...: docs/capture.md lists them)", t);
			requested[i] = true;
		}
		free(list);
	}

	/* host checks */
	if (!(has_cap(CAP_BPF) || has_cap(CAP_SYS_ADMIN)) || !(has_cap(CAP_PERFMON) || has_cap(CAP_SYS_ADMIN)))
		fatal("not allowed to load BPF programs (needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN); run as root");
	if (access(BTF_PATH, R_OK))
		fatal("this kernel has no BTF (%s is missing); boot a kernel built with CONFIG_DEBUG_INFO_BTF=y (Debian 11+, Ubuntu 20.10+, RHEL 8.2+ ship one)", BTF_PATH);
	load_vmlinux_btf();
	if (o.hooks == HOOKS_RAW && !raw_hooks_available()) {
		/* the default's hooks are missing; the per-syscall tracepoints do the same job */
		emit_log("warn", "no raw sys_enter/sys_exit hooks in this kernel's BTF: using per-syscall tracepoints");
		o.hooks = HOOKS_TRACEPOINTS;
	}
	const char *tfs = NULL;
	if (o.hooks == HOOKS_TRACEPOINTS) {
		bool mounted_now = false;
		tfs = ensure_tracefs(&mounted_now);
		int tfs_err = errno;
		if (!tfs) {
			fatal("tracefs is not mounted and mounting it failed (%s); run mount -t tracefs nodev /sys/kernel/tracing%s",
			      strerror(tfs_err), hooks_chosen && raw_hooks_available() ? ", or use the default hooks (no --hooks)" : "");
		} else if (mounted_now) {
			emit_log("info", "mounted tracefs on /sys/kernel/tracing");
		}
	}

	/* open, configure, load */
	skel = ior_bpf__open();
	if (!skel)
		fatal("cannot open the BPF object: %s: %s", strerror(errno), libbpf_detail());

	ring_bytes = 1;
	while (ring_bytes < (size_t)o.ring_mb << 20)
		ring_bytes <<= 1;
	bpf_map__set_max_entries(skel->maps.events, (__u32)ring_bytes);

	__u32 flags = 0;
	if (o.npids || o.cmd)
		flags |= IOR_FILTER_PIDS;
	if (o.comm)
		flags |= IOR_FILTER_COMM;
	if (o.follow)
		flags |= IOR_FILTER_FOLLOW;
	skel->rodata->filter_flags = flags;
	if (o.comm)
		strncpy((char *)skel->rodata->filter_comm, o.comm, IOR_COMM_LEN - 1);
	skel->rodata->exclude_tgids[0] = (__u32)getpid();
	for (int i = 0; i < o.nexcl; i++)
		skel->rodata->exclude_tgids[i + 1] = o.excl[i];
	skel->rodata->wakeup_bytes = ring_bytes / 4;

	int navail = 0;
	bool find_vma = find_vma_available(), rdonly_cast = rdonly_cast_available();
	const char *tp_prefix = rdonly_cast ? "" : "core_";
	char enter_prefix[16], exit_prefix[16];
	snprintf(enter_prefix, sizeof(enter_prefix), "%senter_", tp_prefix);
	snprintf(exit_prefix, sizeof(exit_prefix), "%sexit_", tp_prefix);
	for (int i = 0; i < IOR_SC_COUNT; i++) {
		const char *why = helper_unavailable(i, find_vma);
		if (!why)
			why = o.hooks == HOOKS_RAW ? raw_unavailable(i)
				: tracepoint_exists(tfs, table[i].name) ? NULL : "no tracepoint in this kernel";
		bool load = requested[i] && !why;
		if (requested[i] && why)
			skip_reason[i] = strdup(why);
		navail += load;
		if (o.hooks == HOOKS_RAW && load)
			skel->rodata->nr_row[row_nr[i]] = (__u8)(i + 1);
		load = load && o.hooks == HOOKS_TRACEPOINTS;
		bpf_program__set_autoload(prog_by_name("enter_", table[i].name), load && rdonly_cast);
		bpf_program__set_autoload(prog_by_name("exit_", table[i].name), load && rdonly_cast);
		bpf_program__set_autoload(prog_by_name("core_enter_", table[i].name), load && !rdonly_cast);
		bpf_program__set_autoload(prog_by_name("core_exit_", table[i].name), load && !rdonly_cast);
	}
	/* the raw programs built for what the kernel has (bpf/ior.bpf.c) */
	struct bpf_program *raw_enter = rdonly_cast ? skel->progs.ior_sys_enter
		: find_vma ? skel->progs.ior_sys_enter_core : skel->progs.ior_sys_enter_core_novma;
	struct bpf_program *raw_exit = rdonly_cast ? skel->progs.ior_sys_exit : skel->progs.ior_sys_exit_core;
	struct bpf_program *raw_progs[] = { skel->progs.ior_sys_enter, skel->progs.ior_sys_enter_core,
					    skel->progs.ior_sys_enter_core_novma, skel->progs.ior_sys_exit,
					    skel->progs.ior_sys_exit_core };
	for (size_t i = 0; i < sizeof(raw_progs) / sizeof(raw_progs[0]); i++)
		bpf_program__set_autoload(raw_progs[i], o.hooks == HOOKS_RAW && (raw_progs[i] == raw_enter || raw_progs[i] == raw_exit));
	/* the inflight slots: task storage for the btf build, a hash otherwise */
	bpf_map__set_autocreate(skel->maps.task_inflight, rdonly_cast);
	bpf_map__set_autocreate(skel->maps.inflight, !rdonly_cast);
	bpf_program__set_autoload(skel->progs.ior_exit, rdonly_cast);
	bpf_program__set_autoload(skel->progs.ior_exit_core, !rdonly_cast);
	struct bpf_program *task_exit_prog = rdonly_cast ? skel->progs.ior_exit : skel->progs.ior_exit_core;
	put_skipped_log();
	if (!navail)
		fatal("none of the requested syscalls can be traced on this kernel");

	build = build_name(find_vma, rdonly_cast);
	long long load_t0 = now_ns(CLOCK_MONOTONIC);
	err = ior_bpf__load(skel);
	load_ms = (now_ns(CLOCK_MONOTONIC) - load_t0) / 1e6;
	if (err && libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) == 0)
		fatal("this kernel has no BPF ring buffer; ior needs Linux 5.8 or later");
	if (err)
		fatal("cannot load the BPF program: %s: %s", strerror(-err), libbpf_detail());
	if (ring_open(bpf_map__fd(skel->maps.events), ring_bytes))
		fatal("cannot map the ring buffer: %s", strerror(errno));
	cur = chunk_new(IOR_FRAME_EVENTS, BATCH_BYTES);

	int pid_fd = bpf_map__fd(skel->maps.traced_pids);
	__u8 one = 1;
	for (int i = 0; i < o.npids; i++)
		bpf_map_update_elem(pid_fd, &o.pids[i], &one, BPF_ANY);

	/* signals: SIGTERM stops; SIGINT too, except in command mode (the
	 * terminal sends it to the command as well) */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_chld;
	sa.sa_flags = SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);

	/* command mode: fork now, release the child once it is traced */
	int go[2] = { -1, -1 }, status[2] = { -1, -1 };
	if (o.cmd) {
		if (prctl(PR_SET_CHILD_SUBREAPER, 1))
			emit_log("warn", "PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
		if (pipe2(go, O_CLOEXEC) || pipe2(status, O_CLOEXEC))
			fatal("pipe: %s", strerror(errno));
		if (o.cmd_stderr_fd >= 0)
			swap_stderr(o.cmd_stderr_fd);
		read_command_files(&command_files);
		fflush(NULL);
		child_pid = fork();
		if (child_pid < 0)
			fatal("fork: %s", strerror(errno));
		if (child_pid == 0) {
			/* the command: default signals, wait for the go byte with
			 * poll (not a traced syscall), exec. Our pipes and the
			 * output fd are close-on-exec: no traced close() needed. */
			sigset_t none;
			signal(SIGINT, SIG_DFL);
			signal(SIGTERM, SIG_DFL);
			signal(SIGHUP, SIG_DFL);
			signal(SIGPIPE, SIG_DFL);
			signal(SIGCHLD, SIG_DFL);
			sigemptyset(&none);
			sigprocmask(SIG_SETMASK, &none, NULL);
			struct pollfd p = { .fd = go[0], .events = POLLIN };
			while (poll(&p, 1, -1) < 0 && errno == EINTR)
				;
			if (!(p.revents & POLLIN))
				_exit(126); /* the loader failed before starting us */
			execvp(o.cmd[0], o.cmd);
			int e = errno;
			if (write(status[1], &e, sizeof(e)) < 0) {
			}
			_exit(127);
		}
		close(go[0]);
		close(status[1]);
		signal(SIGINT, SIG_IGN);
		bpf_map_update_elem(pid_fd, (__u32 *)&child_pid, &one, BPF_ANY);
	}

	/* attach: the process lifecycle first (no fork between the first
	 * syscall event and following the child), then exits before enters,
	 * so no entry is left without its exit */
	fork_link = bpf_program__attach(skel->progs.ior_fork);
	if (!fork_link && (flags & IOR_FILTER_FOLLOW))
		fatal("cannot attach sched_process_fork (needed to follow children): %s: %s", strerror(errno), libbpf_detail());
	if (!fork_link)
		emit_log("warn", "cannot attach sched_process_fork: %s; children's fds are looked up in /proc", strerror(errno));
	exec_link = bpf_program__attach(skel->progs.ior_exec);
	if (!exec_link)
		emit_log("warn", "cannot attach sched_process_exec: %s; close-on-exec fds are not dropped at exec", strerror(errno));
	pexit_link = bpf_program__attach(task_exit_prog);
	if (!pexit_link)
		emit_log("warn", "cannot attach sched_process_exit: %s; exited processes are remembered until the end", strerror(errno));
	int nattached = 0;
	long long attach_t0 = now_ns(CLOCK_MONOTONIC);
	if (o.hooks == HOOKS_RAW) {
		raw_exit_link = bpf_program__attach(raw_exit);
		if (!raw_exit_link)
			fatal("cannot attach the raw sys_exit hook: %s: %s", strerror(errno), libbpf_detail());
		raw_enter_link = bpf_program__attach(raw_enter);
		if (!raw_enter_link)
			fatal("cannot attach the raw sys_enter hook: %s: %s", strerror(errno), libbpf_detail());
		for (int i = 0; i < IOR_SC_COUNT; i++)
			if (requested[i] && !skip_reason[i]) {
				attached[i] = true;
				nattached++;
			}
	}
	for (int pass = 0; pass < 2 && o.hooks == HOOKS_TRACEPOINTS; pass++) {
		for (int i = 0; i < IOR_SC_COUNT; i++) {
			if (!requested[i] || skip_reason[i])
				continue;
			struct bpf_program *p = prog_by_name(pass ? enter_prefix : exit_prefix, table[i].name);
			char tp[96];
			snprintf(tp, sizeof(tp), "sys_%s_%s", pass ? "enter" : "exit", table[i].name);
			int err = attach_tracepoint(p, tfs, tp, pass ? &tp_enter[i] : &tp_exit[i]);
			if (err) {
				char r[256];
				snprintf(r, sizeof(r), "cannot attach %s: %s", tp, strerror(-err));
				skip_reason[i] = strdup(r);
				emit_log("warn", "%s; %s is not traced", r, table[i].name);
				close_fd(&tp_exit[i].link_fd);
				close_fd(&tp_exit[i].perf_fd);
				continue;
			}
			if (pass) {
				attached[i] = true;
				nattached++;
			}
		}
	}
	if (!nattached)
		fatal("could not attach any syscall tracepoint");
	attach_ms = (now_ns(CLOCK_MONOTONIC) - attach_t0) / 1e6;

	send_hello();

	const char *reason = "signal";
	char endmsg[512] = "";
	if (o.cmd) {
		/* ior has announced the capture (the byte comes after HELLO was
		 * handled): only then may the command write anything */
		if (o.start_fd >= 0) {
			char c;
			while (read(o.start_fd, &c, 1) < 0 && errno == EINTR && !(stop_signal && stop_signal != SIGINT))
				;
			close(o.start_fd);
		}
		/* go */
		if (write(go[1], "g", 1) != 1)
			fatal("cannot start the command: %s", strerror(errno));
		close(go[1]);
		int e = 0;
		ssize_t n;
		while ((n = read(status[0], &e, sizeof(e))) < 0 && errno == EINTR)
			;
		close(status[0]);
		if (n == (ssize_t)sizeof(e)) {
			child_exec_failed = true;
			snprintf(endmsg, sizeof(endmsg), "cannot run %s: %s", o.cmd[0], strerror(e));
			emit_log("error", "%s", endmsg);
		}
	}

	/* drain loop */
	long long next_stats = o.stats_ms ? now_ns(CLOCK_MONOTONIC) + (long long)o.stats_ms * 1000000 : 0;
	for (;;) {
		if (stop_signal && !(o.cmd && stop_signal == SIGINT)) {
			reason = "signal";
			break;
		}
		if (o.cmd && stop_signal == SIGINT)
			stop_signal = 0;
		int timeout = (int)o.poll_ms;
		if (next_stats) {
			long long left = (next_stats - now_ns(CLOCK_MONOTONIC)) / 1000000;
			if (left < timeout)
				timeout = left < 0 ? 0 : (int)left;
		}
		struct epoll_event ev;
		epoll_wait(ring.epfd, &ev, 1, timeout);
		drain();
		flush_batch();
		if (next_stats && now_ns(CLOCK_MONOTONIC) >= next_stats) {
			send_stats();
			next_stats += (long long)o.stats_ms * 1000000;
			if (next_stats < now_ns(CLOCK_MONOTONIC))
				next_stats = now_ns(CLOCK_MONOTONIC) + (long long)o.stats_ms * 1000000;
		}
		if (o.cmd && reap()) {
			reason = "child-exited";
			break;
		}
		struct out_stats st;
		out_get_stats(&st);
		if (st.broken) {
			reason = "error";
			snprintf(endmsg, sizeof(endmsg), "output fd failed: %s", strerror(st.error));
			fprintf(stderr, "ior-loader: %s\n", endmsg);
			break;
		}
	}

	/* stop: detach, final drain, END, close the stream; then the slow part
	 * (releasing the perf events) while nobody waits for it */
	detach_programs();
	drain();
	flush_batch();
	if (o.cmd && child_status == -1)
		reap();
	send_end(reason, endmsg[0] ? endmsg : NULL);
	out_finish();
	close(fd);
	release_tracepoints();
	ior_bpf__destroy(skel);
	return strcmp(reason, "error") ? 0 : 2;
}
