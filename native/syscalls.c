// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * syscalls.c - the syscall table of bpf/syscalls.def (one row per traced
 * syscall: its argument roles), the syscall numbers of the rows on this
 * architecture (sysnr.h), and the table's JSON for HELLO and --probe.
 */
#include "loader.h"

const struct sc_row sc_table[IOR_SC_COUNT] = {
#define IOR_SC(name, ...) { #name, __VA_ARGS__ },
#include "syscalls.def"
#undef IOR_SC
};

int sc_nr[IOR_SC_COUNT];

void init_sc_nr(void)
{
	for (int i = 0; i < IOR_SC_COUNT; i++)
		sc_nr[i] = -1;
#define IOR_NR(name, nr) sc_nr[IOR_SC_##name] = (nr);
#include "sysnr.h"
#undef IOR_NR
}

/* enum ior_kind, by name */
const char *const sc_kind_names[9] = { "plain", "iov", "open_how", "offptr", "mmap", "vma", "aio_submit", "aio_reap", "uring_register" };

/* "key": the syscall number of row i, or null where it has none */
void put_sc_nr(struct sb *b, const char *key, int i)
{
	sb_key(b, key);
	if (sc_nr[i] >= 0)
		sb_printf(b, "%d", sc_nr[i]);
	else
		sb_puts(b, "null");
}

void put_sc_table(struct sb *b)
{
	sb_key(b, "syscalls");
	sb_putc(b, '[');
	for (int i = 0; i < IOR_SC_COUNT; i++) {
		const struct sc_row *r = &sc_table[i];
		if (i)
			sb_putc(b, ',');
		sb_putc(b, '{');
		sb_kv_i64(b, "id", i);
		sb_kv_str(b, "name", r->name);
		sb_kv_i64(b, "nargs", r->nargs);
		sb_kv_str(b, "kind", sc_kind_names[r->kind]);
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
		put_sc_nr(b, "nr", i);
		sb_putc(b, '}');
	}
	sb_putc(b, ']');
}
