// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * options.c - the command line: usage, parsing into struct loader (whose
 * defaults main sets), and --syscalls, the rows of the table to trace.
 * Errors here exit 2 with one line on stderr: there is no stream yet.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"

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

int parse_options(struct loader *L, int argc, char **argv)
{
	int c;

	L->debug = getenv("IOR_DEBUG") && !strcmp(getenv("IOR_DEBUG"), "1");
	opterr = 0;
	/* '+': stop at the first non-option (the command) */
	while ((c = getopt_long(argc, argv, "+", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_RING: L->ring_mb = parse_uint("--ring-mb", optarg, 1, 1024); break;
		case OPT_POLL: L->poll_ms = parse_uint("--poll-ms", optarg, 1, 60000); break;
		case OPT_STATS: L->stats_ms = parse_uint("--stats-ms", optarg, 0, 3600000); break;
		case OPT_PID:
			if (L->npids == (int)(sizeof(L->pids) / sizeof(L->pids[0]))) {
				fputs("ior-loader: too many --pid\n", stderr);
				return 2;
			}
			L->pids[L->npids++] = parse_uint("--pid", optarg, 1, INT_MAX);
			break;
		case OPT_COMM: L->comm = optarg; break;
		case OPT_FOLLOW: L->follow = true; break;
		case OPT_EXCL:
			if (L->nexcl == IOR_MAX_EXCLUDE - 1) {
				fprintf(stderr, "ior-loader: at most %d --exclude-pid\n", IOR_MAX_EXCLUDE - 1);
				return 2;
			}
			L->excl[L->nexcl++] = parse_uint("--exclude-pid", optarg, 1, INT_MAX);
			break;
		case OPT_SYSCALLS: L->syscalls = optarg; break;
		case OPT_OUTFD: L->out_fd = (int)parse_uint("--out-fd", optarg, 0, INT_MAX); break;
		case OPT_PROBE: L->probe = true; break;
		case OPT_CMD_STDERR: L->cmd_stderr_fd = (int)parse_uint("--cmd-stderr-fd", optarg, 0, INT_MAX); break;
		case OPT_START: L->start_fd = (int)parse_uint("--start-fd", optarg, 3, INT_MAX); break;
		case OPT_HOOKS:
			L->hooks_chosen = true;
			if (!strcmp(optarg, "raw"))
				L->hooks = HOOKS_RAW;
			else if (!strcmp(optarg, "tracepoints"))
				L->hooks = HOOKS_TRACEPOINTS;
			else {
				fprintf(stderr, "ior-loader: --hooks: expected raw or tracepoints, got '%s'\n", optarg);
				return 2;
			}
			break;
		case OPT_VERSION:
			printf("ior-loader %s (libbpf %s, wire %d)\n", IOR_LOADER_VERSION, short_libbpf_version(), IOR_WIRE_VERSION);
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
		L->cmd = &argv[optind];
	}
	return -1;
}

/* which syscalls: --syscalls (all by default). After the stream started:
 * an unknown name is an error frame. */
void select_syscalls(struct loader *L)
{
	if (!L->syscalls || !strcmp(L->syscalls, "all")) {
		for (int i = 0; i < IOR_SC_COUNT; i++)
			L->requested[i] = true;
		return;
	}
	char *list = strdup(L->syscalls), *save = NULL;
	for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		while (isspace((unsigned char)*t))
			t++;
		int i;
		for (i = 0; i < IOR_SC_COUNT; i++)
			if (!strcmp(sc_table[i].name, t))
				break;
		if (i == IOR_SC_COUNT)
			fatal(L, "--syscalls: %s is not traced by ior; use the kernel's tracepoint names (openat, pread64, newfstatat, renameat2, ...: docs/capture.md lists them)", t);
		L->requested[i] = true;
	}
	free(list);
}
