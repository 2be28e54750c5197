// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * load.c - open, configure and load the BPF object (the skeleton embedded
 * by `bpftool gen skeleton`): the ring's size and the filters go into the
 * object before the load, and only the programs this kernel and these
 * options need are loaded (the build for the kernel's helpers, the kind of
 * hooks, the requested syscalls it can trace). Then the ring is mapped and
 * the pid filter filled.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "loader.h"
#include "ior.skel.h"

struct bpf_program *prog_by_name(struct loader *L, const char *prefix, const char *name)
{
	char n[128];
	snprintf(n, sizeof(n), "%s%s", prefix, name);
	return bpf_object__find_program_by_name(L->skel->obj, n);
}

/* One LOG line naming the requested syscalls this kernel cannot trace. */
static void put_skipped_log(struct loader *L)
{
	struct sb b;
	int n = 0;

	sb_init(&b);
	for (int i = 0; i < IOR_SC_COUNT; i++) {
		if (!L->skip_reason[i])
			continue;
		sb_printf(&b, "%s%s (%s)", n++ ? ", " : "", sc_table[i].name, L->skip_reason[i]);
	}
	if (n)
		emit_log(L, "warn", "%d syscall%s not traced on this kernel: %s", n, n > 1 ? "s" : "", b.s);
	sb_free(&b);
}

/* The ring's size (a power of two) and the filters, read-only for the programs */
static void configure(struct loader *L)
{
	struct ior_bpf *skel = L->skel;

	L->ring_bytes = 1;
	while (L->ring_bytes < (size_t)L->ring_mb << 20)
		L->ring_bytes <<= 1;
	bpf_map__set_max_entries(skel->maps.events, (__u32)L->ring_bytes);

	__u32 flags = 0;
	if (L->npids || L->cmd)
		flags |= IOR_FILTER_PIDS;
	if (L->comm)
		flags |= IOR_FILTER_COMM;
	if (L->follow)
		flags |= IOR_FILTER_FOLLOW;
	skel->rodata->filter_flags = flags;
	if (L->comm)
		strncpy((char *)skel->rodata->filter_comm, L->comm, IOR_COMM_LEN - 1);
	skel->rodata->exclude_tgids[0] = (__u32)getpid();
	for (int i = 0; i < L->nexcl; i++)
		skel->rodata->exclude_tgids[i + 1] = L->excl[i];
	skel->rodata->wakeup_bytes = L->ring_bytes / 4;
}

/* io_uring's operations (bpf/async.bpf.h) come with the io_uring_enter
 * row: its submit tracepoint's program in the build chosen, retargeted to
 * the name this kernel has, and the completion's; none where the kernel's
 * tracepoints do not name the request (before 6.0, said once). */
static void choose_uring_programs(struct loader *L, bool rdonly_cast)
{
	struct ior_bpf *skel = L->skel;
	bool wanted = L->requested[IOR_SC_io_uring_enter] && !L->skip_reason[IOR_SC_io_uring_enter];

	L->uring_tp = wanted ? uring_submit_tracepoint(L) : NULL;
	L->uring_submit = rdonly_cast ? skel->progs.ior_uring_submit : skel->progs.ior_uring_submit_core;
	bpf_program__set_autoload(skel->progs.ior_uring_submit, L->uring_tp && rdonly_cast);
	bpf_program__set_autoload(skel->progs.ior_uring_submit_core, L->uring_tp && !rdonly_cast);
	L->uring_complete = uring_complete_has_cqe(L) ? skel->progs.ior_uring_complete : skel->progs.ior_uring_complete_fields;
	bpf_program__set_autoload(skel->progs.ior_uring_complete, L->uring_tp && L->uring_complete == skel->progs.ior_uring_complete);
	bpf_program__set_autoload(skel->progs.ior_uring_complete_fields, L->uring_tp && L->uring_complete == skel->progs.ior_uring_complete_fields);
	bpf_map__set_autocreate(skel->maps.traced_rings, L->uring_tp != NULL);
	if (L->uring_tp)
		bpf_program__set_attach_target(L->uring_submit, 0, L->uring_tp);
	else if (wanted)
		emit_log(L, "warn", "io_uring operations are not captured on this kernel (its io_uring tracepoints do not name the request before Linux 6.0): only the io_uring_enter calls");
}

/* Which programs and maps are loaded: one build (btf, core or core-novma)
 * of the hooks chosen, for the requested syscalls this kernel can trace
 * (the others get a skip reason). */
static void choose_programs(struct loader *L)
{
	struct ior_bpf *skel = L->skel;
	int navail = 0;
	bool find_vma = find_vma_available(L), rdonly_cast = rdonly_cast_available(L);

	L->enter_prefix = rdonly_cast ? "enter_" : "core_enter_";
	L->exit_prefix = rdonly_cast ? "exit_" : "core_exit_";
	for (int i = 0; i < IOR_SC_COUNT; i++) {
		const char *why = row_unavailable(L, i, L->hooks, find_vma);
		bool load = L->requested[i] && !why;
		if (L->requested[i] && why)
			L->skip_reason[i] = strdup(why);
		navail += load;
		if (L->hooks == HOOKS_RAW && load)
			skel->rodata->nr_row[sc_nr[i]] = (__u8)(i + 1);
		load = load && L->hooks == HOOKS_TRACEPOINTS;
		bpf_program__set_autoload(prog_by_name(L, "enter_", sc_table[i].name), load && rdonly_cast);
		bpf_program__set_autoload(prog_by_name(L, "exit_", sc_table[i].name), load && rdonly_cast);
		bpf_program__set_autoload(prog_by_name(L, "core_enter_", sc_table[i].name), load && !rdonly_cast);
		bpf_program__set_autoload(prog_by_name(L, "core_exit_", sc_table[i].name), load && !rdonly_cast);
	}
	/* the raw programs built for what the kernel has (bpf/ior.bpf.c) */
	L->raw_enter = rdonly_cast ? skel->progs.ior_sys_enter
		: find_vma ? skel->progs.ior_sys_enter_core : skel->progs.ior_sys_enter_core_novma;
	L->raw_exit = rdonly_cast ? skel->progs.ior_sys_exit : skel->progs.ior_sys_exit_core;
	struct bpf_program *raw_progs[] = { skel->progs.ior_sys_enter, skel->progs.ior_sys_enter_core,
					    skel->progs.ior_sys_enter_core_novma, skel->progs.ior_sys_exit,
					    skel->progs.ior_sys_exit_core };
	for (size_t i = 0; i < sizeof(raw_progs) / sizeof(raw_progs[0]); i++)
		bpf_program__set_autoload(raw_progs[i], L->hooks == HOOKS_RAW && (raw_progs[i] == L->raw_enter || raw_progs[i] == L->raw_exit));
	/* the inflight slots: task storage for the btf build, a hash otherwise */
	bpf_map__set_autocreate(skel->maps.task_inflight, rdonly_cast);
	bpf_map__set_autocreate(skel->maps.inflight, !rdonly_cast);
	bpf_program__set_autoload(skel->progs.ior_exit, rdonly_cast);
	bpf_program__set_autoload(skel->progs.ior_exit_core, !rdonly_cast);
	L->task_exit = rdonly_cast ? skel->progs.ior_exit : skel->progs.ior_exit_core;
	choose_uring_programs(L, rdonly_cast);
	put_skipped_log(L);
	if (!navail)
		fatal(L, "none of the requested syscalls can be traced on this kernel");
	L->build = build_name(find_vma, rdonly_cast);
}

void load_programs(struct loader *L)
{
	/* IOR_DEBUG=1: the verifier's statistics of every program (time,
	 * instructions processed), printed by libbpf with the debug lines */
	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .kernel_log_level = L->debug ? 4 : 0);
	L->skel = ior_bpf__open_opts(&open_opts);
	if (!L->skel)
		fatal(L, "cannot open the BPF object: %s: %s", strerror(errno), last_libbpf_warnings(L));
	configure(L);
	choose_programs(L);

	long long load_t0 = now_ns(CLOCK_MONOTONIC);
	int err = ior_bpf__load(L->skel);
	L->load_ms = (now_ns(CLOCK_MONOTONIC) - load_t0) / 1e6;
	if (err && libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) == 0)
		fatal(L, "this kernel has no BPF ring buffer; ior needs Linux 5.8 or later");
	if (err)
		fatal(L, "cannot load the BPF program: %s: %s", strerror(-err), last_libbpf_warnings(L));
	if (ring_open(L, bpf_map__fd(L->skel->maps.events), L->ring_bytes))
		fatal(L, "cannot map the ring buffer: %s", strerror(errno));

	int pid_fd = bpf_map__fd(L->skel->maps.traced_pids);
	__u8 one = 1;
	for (int i = 0; i < L->npids; i++)
		bpf_map_update_elem(pid_fd, &L->pids[i], &one, BPF_ANY);
}
