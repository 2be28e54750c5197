/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * out.h - the loader's output side: a growable string/JSON builder and the
 * frame writer (a thread with an in-memory queue, so a slow reader on the
 * pipe never stalls the ring buffer drain).
 */
#ifndef IOR_OUT_H
#define IOR_OUT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- string builder ------------------------------------------------------ */
struct sb {
	char *s;
	size_t len, cap;
};

void sb_init(struct sb *b);
void sb_free(struct sb *b);
void sb_putc(struct sb *b, char c);
void sb_puts(struct sb *b, const char *s);
void sb_printf(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* JSON string literal, quoted and escaped (s may be NULL: null) */
void sb_json_str(struct sb *b, const char *s);
/* "key": (with a leading comma unless the object was just opened) */
void sb_key(struct sb *b, const char *key);
/* before an array element: a comma unless the array was just opened */
void sb_item(struct sb *b);
void sb_kv_str(struct sb *b, const char *key, const char *val);
void sb_kv_i64(struct sb *b, const char *key, long long val);
void sb_kv_u64(struct sb *b, const char *key, unsigned long long val);
void sb_kv_bool(struct sb *b, const char *key, bool val);

/* ---- frame writer -------------------------------------------------------- */

/* A frame in the queue: header + payload, contiguous, written with one
 * write loop. EVENTS chunks are filled in place by the drain. */
struct chunk {
	struct chunk *next;
	size_t len;          /* payload bytes used */
	size_t cap;          /* payload capacity */
	uint64_t nevents;    /* EVENTS: records in the payload */
	uint32_t type;       /* enum ior_frame_type */
	unsigned char buf[]; /* 8-byte frame header, then payload */
};

struct out_stats {
	uint64_t events_forwarded;  /* records written to the fd */
	uint64_t bytes_forwarded;   /* EVENTS payload bytes written to the fd */
	uint64_t queue_dropped;     /* records dropped: queue over its bound */
	uint64_t queue_bytes;       /* bytes waiting in the queue now */
	uint64_t queue_peak_bytes;  /* most bytes ever waiting */
	bool broken;                /* the fd failed (EPIPE, ...): output is discarded */
	int error;                  /* errno of that failure */
};

/* Start the writer on fd, writing the stream preamble (magic, version). */
int out_start(int fd, size_t queue_max_bytes);
struct chunk *chunk_new(uint32_t type, size_t cap);
/* Hand a chunk to the writer (takes ownership; an EVENTS chunk may be
 * dropped and counted when the queue is over its bound). */
void out_push(struct chunk *c);
/* Frame with a copy of payload. */
void out_frame(uint32_t type, const void *payload, size_t len);
void out_get_stats(struct out_stats *st);
/* Write everything queued, stop the writer thread. */
void out_finish(void);
bool out_started(void);

#endif
