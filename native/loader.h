/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * loader.h - the internal interface of ior-loader: struct loader, the one
 * context every phase is passed (the options and the state of the run),
 * and the functions the files share. The files, by concern:
 *
 *   loader.c    main: the phases in order, the drain loop, the one cleanup path
 *   options.c   usage, option parsing, --syscalls
 *   syscalls.c  the syscall table (bpf/syscalls.def) and its numbers here
 *   probe.c     host checks, feature probing, --probe
 *   load.c      open, configure and load the BPF object
 *   attach.c    attach and detach the programs, the tracepoints' perf events
 *   ring.c      the ring buffer: mapping it, draining it into EVENTS batches
 *   command.c   the traced command, its files, signals, reaping
 *   frames.c    HELLO, STATS, END and LOG frames, logging, fatal()
 *   out.c       string builder and the frame writer thread (out.h)
 */
#ifndef IOR_LOADER_H
#define IOR_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include <linux/types.h>

#include "ior.h"
#include "out.h"

#ifndef IOR_LOADER_VERSION
#define IOR_LOADER_VERSION "0.0.0-dev"
#endif

#define BTF_PATH "/sys/kernel/btf/vmlinux"
#define BATCH_BYTES (1u << 20)          /* EVENTS frame payload */
#define QUEUE_MAX_BYTES (1ull << 30)    /* writer queue bound */

struct ior_bpf;
struct bpf_link;
struct bpf_program;
struct btf;

/* ---- the syscall table (syscalls.c) -------------------------------------- */

struct sc_row {
	const char *name;
	int nargs, kind, fd, fd2, dirfd, path, dirfd2, path2, count, offset, flags, mode, pos;
};

extern const struct sc_row sc_table[IOR_SC_COUNT];
/* syscall number of each row on this architecture, -1: none */
extern int sc_nr[IOR_SC_COUNT];
extern const char *const sc_kind_names[9];

void init_sc_nr(void);
void put_sc_nr(struct sb *b, const char *key, int i);
void put_sc_table(struct sb *b);

/* ---- the run ------------------------------------------------------------- */

enum hooks { HOOKS_RAW, HOOKS_TRACEPOINTS };

/* A per-syscall tracepoint attachment (--hooks tracepoints): the perf event
 * and the BPF link on it, kept apart. Closing the link detaches the program
 * at once; releasing the perf event waits for RCU grace periods under a
 * global mutex (~50 ms each here, ~8 s for the whole table), so the perf
 * events are closed only after the END frame, when nobody waits on them. */
struct tp_attach {
	int perf_fd, link_fd;
};

/* The ring buffer's mappings (ring.c) */
struct ring {
	int epfd;
	unsigned long *cons_pos;
	unsigned long *prod_pos;
	unsigned char *data;
	size_t mask;
};

struct loader {
	/* options (options.c) */
	unsigned ring_mb, poll_ms, stats_ms;
	__u32 pids[1024];
	int npids;
	const char *comm;
	bool follow;
	__u32 excl[IOR_MAX_EXCLUDE];
	int nexcl;
	const char *syscalls;
	int out_fd;
	enum hooks hooks;
	bool hooks_chosen;      /* --hooks given: no fallback to the other kind */
	int cmd_stderr_fd;
	int start_fd;           /* the command starts when a byte (or EOF) arrives here, -1: at once */
	char **cmd;
	bool probe;
	bool debug;             /* IOR_DEBUG=1: libbpf's log and our warnings on stderr */

	/* the host (probe.c) */
	struct btf *vmlinux_btf; /* kernel functions of the syscalls, from BTF (NULL: no BTF) */
	bool btf_has_syscalls;
	const char *tfs;        /* the tracefs directory (--hooks tracepoints) */

	/* the BPF object (load.c, attach.c) */
	struct ior_bpf *skel;
	bool requested[IOR_SC_COUNT];
	bool attached[IOR_SC_COUNT];
	char *skip_reason[IOR_SC_COUNT];
	const char *build;      /* build_name() of the programs loaded */
	const char *enter_prefix, *exit_prefix; /* names of that build's per-syscall programs */
	struct bpf_program *raw_enter, *raw_exit, *task_exit;
	struct bpf_link *fork_link, *exec_link, *pexit_link;
	/* io_uring operations (bpf/async.bpf.h): the submit tracepoint, NULL: not captured */
	const char *uring_tp;
	struct bpf_program *uring_submit, *uring_complete;
	struct bpf_link *uring_submit_link, *uring_complete_link;
	struct bpf_link *raw_enter_link, *raw_exit_link;
	struct tp_attach tp_enter[IOR_SC_COUNT], tp_exit[IOR_SC_COUNT];
	double load_ms, attach_ms, detach_ms;

	/* the ring and the output (ring.c, frames.c) */
	size_t ring_bytes;
	struct ring ring;
	struct chunk *cur;          /* the EVENTS batch being filled */
	uint64_t drained_events;    /* records taken from the ring */
	int stream_fd;              /* our private copy of --out-fd */
	long long boot_to_wall;
	bool hello_sent;
	struct chunk *pending_logs, **pending_tail; /* LOG frames held back until HELLO */
	char libbpf_last[3][512];   /* last libbpf warnings, for error messages */
	int libbpf_nlast;
	char end_message[512];      /* END's message, "": none */

	/* the command (command.c) */
	pid_t child_pid;
	int child_status;           /* wait status of the direct child, -1: not reaped */
	struct sb command_files;    /* JSON: what the command starts with (its cwd and inherited fds) */
	int go[2];                  /* the go byte: the command may exec */
	int exec_errno[2];          /* execvp's errno when the command could not run */
};

static inline long long now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- options.c ----------------------------------------------------------- */

/* -1: go on; else the exit code (--help, --version, a bad option) */
int parse_options(struct loader *L, int argc, char **argv);
void select_syscalls(struct loader *L);

/* ---- probe.c ------------------------------------------------------------- */

void host_checks(struct loader *L);
bool find_vma_available(struct loader *L);
bool rdonly_cast_available(struct loader *L);
const char *build_name(bool find_vma, bool rdonly_cast);
const char *uring_submit_tracepoint(struct loader *L);
bool uring_complete_has_cqe(struct loader *L);
const char *row_unavailable(struct loader *L, int i, enum hooks hooks, bool find_vma);
int do_probe(struct loader *L);

/* ---- load.c -------------------------------------------------------------- */

void load_programs(struct loader *L);
struct bpf_program *prog_by_name(struct loader *L, const char *prefix, const char *name);

/* ---- attach.c ------------------------------------------------------------ */

void attach_programs(struct loader *L);
void detach_programs(struct loader *L);
void release_tracepoints(struct loader *L);

/* ---- ring.c -------------------------------------------------------------- */

/* the ring's reader: map, wait, take the records, hand the batch to the writer */
int ring_open(struct loader *L, int map_fd, size_t size);
void ring_wait(struct loader *L, int timeout_ms);
void ring_drain(struct loader *L);
void ring_flush(struct loader *L);

/* ---- command.c ----------------------------------------------------------- */

void install_signals(void);
bool stop_requested(struct loader *L);
void command_fork(struct loader *L);
void command_start(struct loader *L);
bool reap(struct loader *L);

/* ---- frames.c ------------------------------------------------------------ */

const char *short_libbpf_version(void);
void put_versions(struct sb *b);
void log_init(struct loader *L);
const char *last_libbpf_warnings(struct loader *L);
long long measure_boot_to_wall(void);
/* a LOG frame (level "info", "warn" or "error"), on stderr too for errors */
void emit_log(struct loader *L, const char *level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void send_hello(struct loader *L);
void send_stats(struct loader *L);
void send_end(struct loader *L, const char *reason, const char *message);
/* the error exit of every phase: LOG, END, exit(2), no cleanup (see frames.c) */
void fatal(struct loader *L, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

#endif
