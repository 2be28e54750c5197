// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ring.c - the BPF ring buffer, read directly through its mmap (no libbpf
 * callback per record): payloads are copied into the current EVENTS chunk
 * and the consumer position is published once per pass, so the producers'
 * cache line is touched rarely. Records are waited for on an
 * edge-triggered epoll: only the forced (watermark) wakeups of the BPF
 * side wake us early.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <linux/bpf.h>

#include "loader.h"

/* Map the ring (map_fd, size bytes of data) and the first EVENTS batch.
 * 0, or -errno. */
int ring_open(struct loader *L, int map_fd, size_t size)
{
	struct ring *ring = &L->ring;
	long page = sysconf(_SC_PAGESIZE);
	void *c = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (c == MAP_FAILED)
		return -errno;
	/* producer page, then the data area mapped twice (records never wrap) */
	void *p = mmap(NULL, (size_t)page + 2 * size, PROT_READ, MAP_SHARED, map_fd, page);
	if (p == MAP_FAILED)
		return -errno;
	ring->cons_pos = c;
	ring->prod_pos = p;
	ring->data = (unsigned char *)p + page;
	ring->mask = size - 1;
	ring->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ring->epfd < 0)
		return -errno;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	if (epoll_ctl(ring->epfd, EPOLL_CTL_ADD, map_fd, &ev))
		return -errno;
	L->cur = chunk_new(IOR_FRAME_EVENTS, BATCH_BYTES);
	return 0;
}

/* Until records are announced, a signal, or timeout_ms */
void ring_wait(struct loader *L, int timeout_ms)
{
	struct epoll_event ev;
	epoll_wait(L->ring.epfd, &ev, 1, timeout_ms);
}

/* Hand the current EVENTS batch to the writer if it holds any, and have
 * an empty one to fill */
void ring_flush(struct loader *L)
{
	if (L->cur && L->cur->len) {
		out_push(L->cur);
		L->cur = NULL;
	}
	if (!L->cur)
		L->cur = chunk_new(IOR_FRAME_EVENTS, BATCH_BYTES);
}

void ring_drain(struct loader *L)
{
	struct ring *ring = &L->ring;
	unsigned long cons = __atomic_load_n(ring->cons_pos, __ATOMIC_RELAXED);

	for (int pass = 0; pass < 8; pass++) {
		unsigned long prod = __atomic_load_n(ring->prod_pos, __ATOMIC_ACQUIRE);
		if (cons >= prod)
			break;
		while (cons < prod) {
			__u32 *hdr = (__u32 *)(ring->data + (cons & ring->mask));
			__u32 len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
			if (len & BPF_RINGBUF_BUSY_BIT)
				goto out; /* being written: next time */
			__u32 sz = len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
			if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
				if (L->cur->len + sz > L->cur->cap) {
					ring_flush(L);
					__atomic_store_n(ring->cons_pos, cons, __ATOMIC_RELEASE);
				}
				memcpy(L->cur->buf + sizeof(struct ior_frame_header) + L->cur->len,
				       (unsigned char *)hdr + BPF_RINGBUF_HDR_SZ, sz);
				L->cur->len += sz;
				L->cur->nevents++;
				L->drained_events++;
			}
			cons += (sz + BPF_RINGBUF_HDR_SZ + 7) & ~7ul;
		}
		__atomic_store_n(ring->cons_pos, cons, __ATOMIC_RELEASE);
	}
out:
	__atomic_store_n(ring->cons_pos, cons, __ATOMIC_RELEASE);
}
