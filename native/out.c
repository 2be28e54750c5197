// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * out.c - string builder and the frame writer thread of ior-loader.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/types.h>

#include "ior.h"
#include "out.h"

/* ---- string builder ------------------------------------------------------ */

static void sb_grow(struct sb *b, size_t need)
{
	if (b->len + need + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + need + 1)
		cap *= 2;
	char *s = realloc(b->s, cap);
	if (!s) {
		fputs("ior-loader: out of memory\n", stderr);
		_exit(2);
	}
	b->s = s;
	b->cap = cap;
}

void sb_init(struct sb *b)
{
	b->s = NULL;
	b->len = b->cap = 0;
	sb_grow(b, 0);
	b->s[0] = 0;
}

void sb_free(struct sb *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

void sb_putc(struct sb *b, char c)
{
	sb_grow(b, 1);
	b->s[b->len++] = c;
	b->s[b->len] = 0;
}

void sb_puts(struct sb *b, const char *s)
{
	size_t n = strlen(s);
	sb_grow(b, n);
	memcpy(b->s + b->len, s, n + 1);
	b->len += n;
}

void sb_printf(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	sb_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void sb_json_str(struct sb *b, const char *s)
{
	if (!s) {
		sb_puts(b, "null");
		return;
	}
	sb_putc(b, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': sb_puts(b, "\\\""); break;
		case '\\': sb_puts(b, "\\\\"); break;
		case '\n': sb_puts(b, "\\n"); break;
		case '\r': sb_puts(b, "\\r"); break;
		case '\t': sb_puts(b, "\\t"); break;
		default:
			if (*p < 0x20)
				sb_printf(b, "\\u%04x", *p);
			else
				sb_putc(b, (char)*p);
		}
	}
	sb_putc(b, '"');
}

void sb_key(struct sb *b, const char *key)
{
	if (b->len && b->s[b->len - 1] != '{' && b->s[b->len - 1] != '[')
		sb_putc(b, ',');
	sb_json_str(b, key);
	sb_putc(b, ':');
}

void sb_item(struct sb *b)
{
	if (b->len && b->s[b->len - 1] != '[')
		sb_putc(b, ',');
}

void sb_kv_str(struct sb *b, const char *key, const char *val)
{
	sb_key(b, key);
	sb_json_str(b, val);
}

void sb_kv_i64(struct sb *b, const char *key, long long val)
{
	sb_key(b, key);
	sb_printf(b, "%lld", val);
}

void sb_kv_u64(struct sb *b, const char *key, unsigned long long val)
{
	sb_key(b, key);
	sb_printf(b, "%llu", val);
}

void sb_kv_bool(struct sb *b, const char *key, bool val)
{
	sb_key(b, key);
	sb_puts(b, val ? "true" : "false");
}

/* ---- frame writer -------------------------------------------------------- */

static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cond = PTHREAD_COND_INITIALIZER;
static struct chunk *q_head, *q_tail;
static bool q_closing, started;
static size_t q_max;
static int out_fd = -1;
static pthread_t writer;
static struct out_stats st; /* under q_lock */

struct chunk *chunk_new(uint32_t type, size_t cap)
{
	struct chunk *c = malloc(sizeof(*c) + sizeof(struct ior_frame_header) + cap);
	if (!c) {
		fputs("ior-loader: out of memory\n", stderr);
		_exit(2);
	}
	c->next = NULL;
	c->len = 0;
	c->cap = cap;
	c->nevents = 0;
	c->type = type;
	return c;
}

/* Write all of buf; false on a hard error (errno set). */
static bool write_all(int fd, const unsigned char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) { /* a non-blocking fd: wait for it */
				usleep(1000);
				continue;
			}
			return false;
		}
		p += w;
		n -= (size_t)w;
	}
	return true;
}

static void *writer_main(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&q_lock);
		while (!q_head && !q_closing)
			pthread_cond_wait(&q_cond, &q_lock);
		struct chunk *c = q_head;
		if (!c) { /* closing and empty */
			pthread_mutex_unlock(&q_lock);
			return NULL;
		}
		q_head = c->next;
		if (!q_head)
			q_tail = NULL;
		bool broken = st.broken;
		pthread_mutex_unlock(&q_lock);

		bool ok = true;
		int err = 0;
		if (!broken) {
			struct ior_frame_header h = { .type = c->type, .len = (__u32)c->len };
			memcpy(c->buf, &h, sizeof(h));
			ok = write_all(out_fd, c->buf, sizeof(h) + c->len);
			err = errno;
		}

		pthread_mutex_lock(&q_lock);
		st.queue_bytes -= sizeof(struct ior_frame_header) + c->len;
		if (!broken && ok && c->type == IOR_FRAME_EVENTS) {
			st.events_forwarded += c->nevents;
			st.bytes_forwarded += c->len;
		}
		if (!broken && !ok) {
			st.broken = true;
			st.error = err;
		}
		pthread_mutex_unlock(&q_lock);
		free(c);
	}
}

int out_start(int fd, size_t queue_max_bytes)
{
	__u32 pre[2] = { IOR_WIRE_MAGIC, IOR_WIRE_VERSION };
	sigset_t all, old;

	out_fd = fd;
	q_max = queue_max_bytes;
	if (!write_all(fd, (const unsigned char *)pre, sizeof(pre)))
		return -errno;
	/* the writer takes no signals: they go to the main thread */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int err = pthread_create(&writer, NULL, writer_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return -err;
	started = true;
	return 0;
}

bool out_started(void)
{
	return started;
}

void out_push(struct chunk *c)
{
	size_t bytes = sizeof(struct ior_frame_header) + c->len;

	pthread_mutex_lock(&q_lock);
	if (c->type == IOR_FRAME_EVENTS && (st.broken || st.queue_bytes + bytes > q_max)) {
		if (!st.broken)
			st.queue_dropped += c->nevents;
		pthread_mutex_unlock(&q_lock);
		free(c);
		return;
	}
	st.queue_bytes += bytes;
	if (st.queue_bytes > st.queue_peak_bytes)
		st.queue_peak_bytes = st.queue_bytes;
	if (q_tail)
		q_tail->next = c;
	else
		q_head = c;
	q_tail = c;
	pthread_cond_signal(&q_cond);
	pthread_mutex_unlock(&q_lock);
}

void out_frame(uint32_t type, const void *payload, size_t len)
{
	struct chunk *c = chunk_new(type, len);
	memcpy(c->buf + sizeof(struct ior_frame_header), payload, len);
	c->len = len;
	out_push(c);
}

void out_get_stats(struct out_stats *out)
{
	pthread_mutex_lock(&q_lock);
	*out = st;
	pthread_mutex_unlock(&q_lock);
}

void out_finish(void)
{
	if (!started)
		return;
	pthread_mutex_lock(&q_lock);
	q_closing = true;
	pthread_cond_signal(&q_cond);
	pthread_mutex_unlock(&q_lock);
	pthread_join(writer, NULL);
	started = false;
}
