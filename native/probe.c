// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * probe.c - what this host and kernel allow: privileges, BTF, tracefs, the
 * BPF helpers and kfuncs the builds of the programs need, which syscalls
 * each kind of hook can trace. host_checks() stops a capture that cannot
 * work with a message saying what to do; do_probe() is `--probe`, the same
 * facts as JSON (`ior --version` and `ior doctor` print them).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "loader.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

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

/* L->vmlinux_btf, read once; does it name the syscalls' kernel functions? */
static void load_vmlinux_btf(struct loader *L)
{
	if (L->vmlinux_btf || access(BTF_PATH, R_OK))
		return;
	L->vmlinux_btf = btf__load_vmlinux_btf();
	if (libbpf_get_error(L->vmlinux_btf)) {
		L->vmlinux_btf = NULL;
		return;
	}
	L->btf_has_syscalls = btf__find_by_name_kind(L->vmlinux_btf, SYS_PREFIX "read", BTF_KIND_FUNC) > 0;
}

/* Does the kernel know the helper BPF_FUNC_<name>? Its BTF lists the
 * helpers it has in enum bpf_func_id. */
static bool helper_available(struct loader *L, const char *name)
{
	if (!L->vmlinux_btf)
		return false;
	__s32 id = btf__find_by_name_kind(L->vmlinux_btf, "bpf_func_id", BTF_KIND_ENUM);
	if (id <= 0)
		return false;
	const struct btf_type *t = btf__type_by_id(L->vmlinux_btf, id);
	const struct btf_enum *e = btf_enum(t);
	for (int i = 0; i < btf_vlen(t); i++, e++) {
		const char *n = btf__name_by_offset(L->vmlinux_btf, e->name_off);
		if (!strncmp(n, "BPF_FUNC_", 9) && !strcmp(n + 9, name))
			return true;
	}
	return false;
}

/* Does the kernel have the bpf_find_vma helper (Linux 5.17)?
 * IOR_NO_FIND_VMA=1 makes the loader behave as on a kernel without it
 * (tests, diagnosis). */
bool find_vma_available(struct loader *L)
{
	const char *no = getenv("IOR_NO_FIND_VMA");
	if (no && !strcmp(no, "1"))
		return false;
	return helper_available(L, "find_vma");
}

/* Does the kernel have the bpf_rdonly_cast kfunc (Linux 6.2)? Then the
 * programs read files with plain BTF loads, else with CO-RE probe reads
 * (bpf/ior.bpf.c, fd_type). IOR_NO_RDONLY_CAST=1 (or IOR_NO_FIND_VMA=1:
 * no kernel has the kfunc without the helper) forces the CO-RE build. */
bool rdonly_cast_available(struct loader *L)
{
	const char *no = getenv("IOR_NO_RDONLY_CAST");
	if (no && !strcmp(no, "1"))
		return false;
	return find_vma_available(L) && btf__find_by_name_kind(L->vmlinux_btf, "bpf_rdonly_cast", BTF_KIND_FUNC) > 0;
}

/* Is parameter `param` of tracepoint tp (its BTF typedef btf_trace_<tp>,
 * a pointer to a func proto whose parameter 0 is the tracepoint's data)
 * a pointer, to a struct named `pointee` unless that is NULL? */
static bool tp_param_is_pointer(struct loader *L, const char *tp, int param, const char *pointee)
{
	char name[128];
	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	__s32 id = btf__find_by_name_kind(L->vmlinux_btf, name, BTF_KIND_TYPEDEF);
	if (id <= 0)
		return false;
	const struct btf_type *t = btf__type_by_id(L->vmlinux_btf, btf__resolve_type(L->vmlinux_btf, id));
	if (!t || !btf_is_ptr(t))
		return false;
	t = btf__type_by_id(L->vmlinux_btf, t->type);
	if (!t || !btf_is_func_proto(t) || btf_vlen(t) <= param)
		return false;
	const struct btf_type *arg = btf__type_by_id(L->vmlinux_btf, btf_params(t)[param].type);
	if (!arg || !btf_is_ptr(arg))
		return false;
	if (!pointee)
		return true;
	const struct btf_type *st = btf__type_by_id(L->vmlinux_btf, arg->type);
	return st && btf_is_struct(st) && !strcmp(btf__name_by_offset(L->vmlinux_btf, st->name_off), pointee);
}

/* Does io_uring_complete pass the CQE (6.3+), not its fields? */
bool uring_complete_has_cqe(struct loader *L)
{
	return L->vmlinux_btf && tp_param_is_pointer(L, "io_uring_complete", 3, "io_uring_cqe");
}

/* The io_uring tracepoint whose first argument is the request just taken
 * from the SQ ring (bpf/async.bpf.h): io_uring_submit_req (6.4+), or
 * io_uring_submit_sqe where it already passed the request (6.0-6.3), with
 * an io_uring_complete that names the request too; NULL before (the
 * operations are not captured, only the io_uring_enter calls).
 * IOR_NO_URING=1 behaves as on such a kernel (tests, diagnosis). */
const char *uring_submit_tracepoint(struct loader *L)
{
	const char *no = getenv("IOR_NO_URING");
	if ((no && !strcmp(no, "1")) || !L->vmlinux_btf)
		return NULL;
	if (!tp_param_is_pointer(L, "io_uring_complete", 2, NULL))
		return NULL; /* (ctx, user_data, res): no request */
	if (tp_param_is_pointer(L, "io_uring_submit_req", 1, "io_kiocb"))
		return "io_uring_submit_req";
	if (tp_param_is_pointer(L, "io_uring_submit_sqe", 1, "io_kiocb"))
		return "io_uring_submit_sqe";
	return NULL;
}

/* The build of the programs the loader picks (bpf/ior.bpf.c): "btf" with
 * bpf_rdonly_cast (6.2+), "core" with CO-RE reads and bpf_find_vma
 * (5.17+), "core-novma" without the helper (munmap/msync not traced). */
const char *build_name(bool find_vma, bool rdonly_cast)
{
	return rdonly_cast ? "btf" : find_vma ? "core" : "core-novma";
}

/* Why row i cannot be traced whatever the hooks, or NULL. */
static const char *helper_unavailable(int i, bool find_vma)
{
	return sc_table[i].kind == IOR_K_VMA && !find_vma ? "file attribution needs bpf_find_vma, Linux 5.17+" : NULL;
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
static const char *raw_unavailable(struct loader *L, int i)
{
	char fn[96];
	if (sc_nr[i] < 0 || sc_nr[i] >= IOR_NR_MAX)
		return "not a syscall on this architecture";
	if (!L->btf_has_syscalls)
		return NULL; /* cannot tell: assume it exists */
	snprintf(fn, sizeof(fn), SYS_PREFIX "%s", sc_table[i].name);
	/* BTF leaves out a few functions (argument-less SYSCALL_DEFINE0 ones
	 * such as sync): ask kallsyms before calling a syscall missing */
	if (btf__find_by_name_kind(L->vmlinux_btf, fn, BTF_KIND_FUNC) > 0 || kallsyms_has(fn))
		return NULL;
	return "no such syscall in this kernel";
}

/* Why row i cannot be traced here with these hooks (the tracepoints need
 * L->tfs), or NULL. */
const char *row_unavailable(struct loader *L, int i, enum hooks hooks, bool find_vma)
{
	const char *why = helper_unavailable(i, find_vma);
	if (!why)
		why = hooks == HOOKS_RAW ? raw_unavailable(L, i)
			: tracepoint_exists(L->tfs, sc_table[i].name) ? NULL : "no tracepoint in this kernel";
	return why;
}

/* The raw syscall tracepoints exist (BTF has their prototypes)? */
static bool raw_hooks_available(struct loader *L)
{
	return L->vmlinux_btf && btf__find_by_name_kind(L->vmlinux_btf, "btf_trace_sys_enter", BTF_KIND_TYPEDEF) > 0 &&
	       btf__find_by_name_kind(L->vmlinux_btf, "btf_trace_sys_exit", BTF_KIND_TYPEDEF) > 0;
}

/* Before loading: the privileges, BTF, and the hooks (raw, or the
 * per-syscall tracepoints and their tracefs). */
void host_checks(struct loader *L)
{
	if (!(has_cap(CAP_BPF) || has_cap(CAP_SYS_ADMIN)) || !(has_cap(CAP_PERFMON) || has_cap(CAP_SYS_ADMIN)))
		fatal(L, "not allowed to load BPF programs (needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN); run as root");
	if (access(BTF_PATH, R_OK))
		fatal(L, "this kernel has no BTF (%s is missing); boot a kernel built with CONFIG_DEBUG_INFO_BTF=y (Debian 11+, Ubuntu 20.10+, RHEL 8.2+ ship one)", BTF_PATH);
	load_vmlinux_btf(L);
	if (L->hooks == HOOKS_RAW && !raw_hooks_available(L)) {
		/* the default's hooks are missing; the per-syscall tracepoints do the same job */
		emit_log(L, "warn", "no raw sys_enter/sys_exit hooks in this kernel's BTF: using per-syscall tracepoints");
		L->hooks = HOOKS_TRACEPOINTS;
	}
	if (L->hooks == HOOKS_TRACEPOINTS) {
		bool mounted_now = false;
		L->tfs = ensure_tracefs(&mounted_now);
		int tfs_err = errno;
		if (!L->tfs) {
			fatal(L, "tracefs is not mounted and mounting it failed (%s); run mount -t tracefs nodev /sys/kernel/tracing%s",
			      strerror(tfs_err), L->hooks_chosen && raw_hooks_available(L) ? ", or use the default hooks (no --hooks)" : "");
		} else if (mounted_now) {
			emit_log(L, "info", "mounted tracefs on /sys/kernel/tracing");
		}
	}
}

static void put_rlim(struct sb *b, const char *key, rlim_t v)
{
	if (v == RLIM_INFINITY)
		sb_kv_str(b, key, "unlimited");
	else
		sb_kv_u64(b, key, (unsigned long long)v);
}

int do_probe(struct loader *L)
{
	struct sb b;
	struct utsname u;
	struct rlimit rl = { 0, 0 };
	bool mounted_now = false;
	const char *tfs = L->tfs = ensure_tracefs(&mounted_now);
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
	put_versions(&b);
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
	load_vmlinux_btf(L);
	bool raw_available = raw_hooks_available(L), find_vma = find_vma_available(L), rdonly_cast = rdonly_cast_available(L);
	/* the hooks capture uses by default: raw, the tracepoints where the raw hooks are missing */
	bool raw = raw_available;
	sb_kv_str(&b, "hooks", raw ? "raw" : "tracepoints");
	sb_kv_bool(&b, "raw_syscall_hooks", raw_available);
	sb_kv_bool(&b, "find_vma", find_vma);
	sb_kv_bool(&b, "rdonly_cast", rdonly_cast);
	sb_kv_str(&b, "build", build_name(find_vma, rdonly_cast));
	/* io_uring operations: the submit tracepoint used, null where none */
	sb_kv_str(&b, "io_uring_tracepoint", uring_submit_tracepoint(L));
	/* per syscall: traceable here with the default hooks */
	sb_key(&b, "tracepoints");
	sb_putc(&b, '{');
	for (int i = 0; i < IOR_SC_COUNT; i++) {
		bool ok = !row_unavailable(L, i, raw ? HOOKS_RAW : HOOKS_TRACEPOINTS, find_vma);
		navail += ok;
		sb_kv_bool(&b, sc_table[i].name, ok);
	}
	sb_putc(&b, '}');
	sb_kv_i64(&b, "tracepoints_available", navail);
	sb_key(&b, "syscall_numbers");
	sb_putc(&b, '{');
	for (int i = 0; i < IOR_SC_COUNT; i++)
		put_sc_nr(&b, sc_table[i].name, i);
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
