/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * async.bpf.h - async I/O operations, one record per operation submitted
 * and one per completion seen (bpf/ior.h, struct ior_async). Included by
 * ior.bpf.c after its helpers: the libaio part runs inside the syscall exit
 * body, the io_uring part is its own programs.
 *
 *   libaio    io_submit's exit reads the iocbs it submitted (user memory:
 *             the syscall ABI, the same on every kernel); io_getevents' and
 *             io_pgetevents' exits read the io_events they reaped. So the
 *             completion time of an aio operation is when it was reaped.
 *   io_uring  the io_uring_submit_req tracepoint (io_uring_submit_sqe
 *             before 6.4: the loader retargets it), which hands over the
 *             request once its SQE is prepared: fd, offset and length are
 *             read from the request (CO-RE), in whichever thread submits,
 *             SQPOLL's kernel thread included; io_uring_complete when its
 *             CQE is posted. Kernels whose submit tracepoint does not name
 *             the request (before 6.0) get no io_uring records.
 */

/* struct iocb and struct io_event as the syscall ABI fixes them
 * (uapi/linux/aio_abi.h, little endian): user memory, never relocated. */
struct ior_iocb {
	__u64 aio_data;
	__u32 aio_key;
	__s32 aio_rw_flags;
	__u16 aio_lio_opcode;
	__s16 aio_reqprio;
	__u32 aio_fildes;
	__u64 aio_buf;
	__u64 aio_nbytes;
	__s64 aio_offset;
	__u64 aio_reserved2;
	__u32 aio_flags;
	__u32 aio_resfd;
};

struct ior_io_event {
	__u64 data;
	__u64 obj;
	__s64 res;
	__s64 res2;
};

#define IOCB_CMD_PREADV 7
#define IOCB_CMD_PWRITEV 8

/* io_uring opcodes whose request is a struct io_rw or a struct io_sync */
#define IORING_OP_READV 1
#define IORING_OP_WRITEV 2
#define IORING_OP_FSYNC 3
#define IORING_OP_READ_FIXED 4
#define IORING_OP_WRITE_FIXED 5
#define IORING_OP_SYNC_FILE_RANGE 8
#define IORING_OP_FALLOCATE 17
#define IORING_OP_READ 22
#define IORING_OP_WRITE 23
#define IORING_SETUP_SQPOLL (1U << 1)
#define REQ_F_FIXED_FILE 1 /* REQ_F_FIXED_FILE_BIT = IOSQE_FIXED_FILE_BIT = 0 */

struct async_record {
	struct ior_event e;
	struct ior_async a;
};

/* Rings whose requests are traced: the ring's kernel address -> its owner's
 * tgid. A completion is posted in whatever task happens to run it, so it
 * is kept when its ring is one of these (a submit of a traced process put
 * it there), not by the process filter. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u32);
} traced_rings SEC(".maps");

/* An async record's event, zeroed (fields it has no value for at -1) */
static __always_inline void async_event_init(struct ior_event *e, __u16 type, __u64 ts)
{
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = ts;
	e->offset = -1;
	e->count = -1;
	e->fd = -1;
	e->fd2 = -1;
	e->dirfd = -1;
	e->dirfd2 = -1;
	e->syscall = type;
	e->cpu = bpf_get_smp_processor_id();
}

/* A zeroed async record in the ring, NULL (counted) if the ring is full. */
static __always_inline struct async_record *async_reserve(__u16 type, __u64 ts)
{
	struct async_record *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);

	if (!r) {
		count(IOR_LOSS_RINGBUF);
		return NULL;
	}
	async_event_init(&r->e, type, ts);
	__builtin_memset(&r->a, 0, sizeof(r->a));
	return r;
}

/* Bytes of a user iovec array of n entries (the first IOR_ASYNC_IOV_MAX;
 * more sets IOR_EF_IOV_TRUNCATED), -1 if it cannot be read. One read of
 * the whole window and a sum without branches: this runs inside the batch
 * loops, where every branch multiplies the verifier's work. */
static __always_inline __s64 iov_bytes(__u64 uptr, __u64 n, __u8 *eflags)
{
	struct iovec iov[IOR_ASYNC_IOV_MAX];
	__s64 sum = 0;

	if (n > IOR_ASYNC_IOV_MAX) {
		n = IOR_ASYNC_IOV_MAX;
		*eflags |= IOR_EF_IOV_TRUNCATED;
	}
	if (bpf_probe_read_user(iov, sizeof(iov), (void *)uptr)) {
		/* a short array at the end of a mapping: its first entry at least */
		if (bpf_probe_read_user(iov, sizeof(iov[0]), (void *)uptr))
			return -1;
		if (n > 1)
			*eflags |= IOR_EF_IOV_TRUNCATED;
	}
#pragma unroll
	for (int i = 0; i < IOR_ASYNC_IOV_MAX; i++)
		sum += iov[i].iov_len & -(__s64)(i < n);
	return sum;
}

/* The comm of the current task into a record (btf: two loads). */
static __always_inline void async_comm(const bool btf, struct self *me, struct ior_event *e)
{
	if (btf) {
		*(__u64 *)&e->comm[0] = *(__u64 *)&me->task->comm[0];
		*(__u64 *)&e->comm[8] = *(__u64 *)&me->task->comm[8];
	} else {
		bpf_get_current_comm(e->comm, sizeof(e->comm));
	}
}

/* n, at most IOR_ASYNC_BATCH_MAX: the rest is counted as lost */
static __always_inline __s64 batch_clamp(__s64 n)
{
	if (n > IOR_ASYNC_BATCH_MAX) {
		__u64 *c = counter(IOR_LOSS_ASYNC_BATCH);

		if (c)
			*c += n - IOR_ASYNC_BATCH_MAX;
		n = IOR_ASYNC_BATCH_MAX;
	}
	return n;
}

/* ---- libaio ---------------------------------------------------------------- */

/* io_submit(ctx_id, nr, iocbpp) returned: iocbpp[i] was submitted, at ts
 * (the call's entry). */
static __always_inline int aio_submit_one(const bool btf, __u64 ts, __u64 ctx_id, __u64 iocbpp, __u32 i)
{
	struct ior_iocb cb;
	struct self me;
	__u64 p;

	if (bpf_probe_read_user(&p, sizeof(p), (void *)(iocbpp + i * sizeof(p))) ||
	    bpf_probe_read_user(&cb, sizeof(cb), (void *)p)) {
		count(IOR_LOSS_ASYNC_BATCH);
		return 0;
	}
	struct async_record *r = async_reserve(IOR_REC_AIO_SUBMIT, ts);

	if (!r)
		return 0;
	self_get(btf, &me);
	r->e.pid = me.tgid;
	r->e.tid = me.tid;
	r->e.fd = (__s32)cb.aio_fildes;
	r->e.offset = cb.aio_offset;
	r->e.flags = cb.aio_rw_flags;
	r->e.mode = cb.aio_lio_opcode;
	if (cb.aio_lio_opcode == IOCB_CMD_PREADV || cb.aio_lio_opcode == IOCB_CMD_PWRITEV)
		r->e.count = iov_bytes(cb.aio_buf, cb.aio_nbytes, &r->e.event_flags);
	else
		r->e.count = (__s64)cb.aio_nbytes;
	r->e.file_type = fd_type(btf, me.task, r->e.fd, NULL);
	async_comm(btf, &me, &r->e);
	r->a.ring = ctx_id;
	r->a.key = p;
	r->a.user_data = cb.aio_data;
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	count(IOR_ASYNC_SUBMITS);
	return 0;
}

/* io_getevents/io_pgetevents(ctx_id, min_nr, nr, events, ...) returned:
 * events[i] was reaped, at now. */
static __always_inline int aio_reap_one(const bool btf, __u64 now, __u32 sc, __u64 ctx_id, __u64 events, __u32 i)
{
	struct ior_io_event ev;
	struct self me;

	if (bpf_probe_read_user(&ev, sizeof(ev), (void *)(events + i * sizeof(ev)))) {
		count(IOR_LOSS_ASYNC_BATCH);
		return 0;
	}
	struct async_record *r = async_reserve(IOR_REC_AIO_REAP, now);

	if (!r)
		return 0;
	self_get(btf, &me);
	r->e.pid = me.tgid;
	r->e.tid = me.tid;
	r->e.ret = ev.res;
	r->e.flags = sc == IOR_SC_io_pgetevents ? IOR_REAP_PGETEVENTS : IOR_REAP_GETEVENTS;
	async_comm(btf, &me, &r->e);
	r->a.ring = ctx_id;
	r->a.key = ev.obj;
	r->a.user_data = ev.data;
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	count(IOR_ASYNC_COMPLETIONS);
	return 0;
}

/* ---- io_uring --------------------------------------------------------------- */

/* A kernel struct filename's name (its copy of the user's path string) */
static __always_inline __u32 filename_into(char *dst, struct filename *f, __u8 *eflags)
{
	return read_str(dst, (__u64)BPF_CORE_READ(f, name), false, eflags);
}

/*
 * A request that names paths (OPENAT, OPENAT2, STATX, UNLINKAT, MKDIRAT,
 * RENAMEAT): prep has copied the strings into the kernel (struct filename),
 * so the record is built in scratch with them after its struct ior_async,
 * as a syscall's paths follow its event. CLOSE needs no path: its fd (or
 * direct-descriptor slot, in fd2) is enough.
 */
static __always_inline void uring_path_submitted(const bool btf, struct self *me, struct io_kiocb *req, __u64 ring, __u8 op)
{
	__u32 zero = 0;
	struct scratch *s = bpf_map_lookup_elem(&scratch, &zero);

	if (!s)
		return;
	struct ior_event *e = &s->e;
	struct ior_async *a = (struct ior_async *)s->paths;
	char *paths = s->paths + sizeof(struct ior_async);
	struct filename *f1 = NULL, *f2 = NULL;
	__u8 ef = 0;

	async_event_init(e, IOR_REC_URING_SUBMIT, bpf_ktime_get_boot_ns());
	e->pid = me->tgid;
	e->tid = me->tid;
	e->mode = op;
	if (BPF_CORE_READ(req, ctx, flags) & IORING_SETUP_SQPOLL)
		e->event_flags |= IOR_EF_SQ_THREAD;
	switch (op) {
	case IORING_OP_OPENAT:
	case IORING_OP_OPENAT2: {
		struct io_open *o = (struct io_open *)req;

		e->dirfd = BPF_CORE_READ(o, dfd);
		e->flags = (__s32)BPF_CORE_READ(o, how.flags);
		e->count = (__s64)BPF_CORE_READ(o, how.mode); /* the mode column is the opcode's: the decoder moves it */
		e->fd2 = BPF_CORE_READ(o, file_slot); /* > 0: a direct descriptor, into slot fd2 - 1 */
		f1 = BPF_CORE_READ(o, filename);
		break;
	}
	case IORING_OP_STATX: {
		struct io_statx *x = (struct io_statx *)req;

		e->dirfd = BPF_CORE_READ(x, dfd);
		e->flags = BPF_CORE_READ(x, flags);
		e->count = BPF_CORE_READ(x, mask);
		f1 = BPF_CORE_READ(x, filename);
		break;
	}
	case IORING_OP_UNLINKAT: {
		struct io_unlink *u = (struct io_unlink *)req;

		e->dirfd = BPF_CORE_READ(u, dfd);
		e->flags = BPF_CORE_READ(u, flags);
		f1 = BPF_CORE_READ(u, filename);
		break;
	}
	case IORING_OP_MKDIRAT: {
		struct io_mkdir *m = (struct io_mkdir *)req;

		e->dirfd = BPF_CORE_READ(m, dfd);
		e->count = BPF_CORE_READ(m, mode);
		f1 = BPF_CORE_READ(m, filename);
		break;
	}
	case IORING_OP_RENAMEAT: {
		struct io_rename *r = (struct io_rename *)req;

		e->dirfd = BPF_CORE_READ(r, old_dfd);
		e->dirfd2 = BPF_CORE_READ(r, new_dfd);
		e->flags = BPF_CORE_READ(r, flags);
		f1 = BPF_CORE_READ(r, oldpath);
		f2 = BPF_CORE_READ(r, newpath);
		break;
	}
	case IORING_OP_CLOSE: {
		struct io_close *c = (struct io_close *)req;

		e->fd = BPF_CORE_READ(c, fd);
		e->fd2 = BPF_CORE_READ(c, file_slot);
		if (!e->fd2)
			e->file_type = fd_type(btf, me->task, e->fd, NULL);
		break;
	}
	}
	__u32 l1 = 0, l2 = 0;

	if (f1)
		l1 = filename_into(paths, f1, &ef);
	if (f2) {
		l1 &= IOR_PATH_MAX - 1; /* for the verifier: l1 < IOR_PATH_MAX */
		l2 = filename_into(paths + l1, f2, &ef);
	}
	l1 &= IOR_PATH_MAX - 1;
	l2 &= IOR_PATH_MAX - 1;
	e->path_len = l1;
	e->path2_len = l2;
	e->event_flags |= ef;
	if (ef & IOR_EF_PATH_TRUNCATED)
		count(IOR_LOSS_PATH_TRUNCATED);
	if (ef & IOR_EF_PATH_FAULT)
		count(IOR_LOSS_PATH_FAULT);
	*(__u64 *)(paths + ((l1 + l2) & (2 * IOR_PATH_MAX - 1))) = 0;
	async_comm(btf, me, e);
	a->ring = ring;
	a->key = (__u64)req;
	a->user_data = BPF_CORE_READ(req, cqe.user_data);

	__u32 size = (sizeof(struct ior_event) + sizeof(struct ior_async) + l1 + l2 + 7) & ~7u;

	if (size > sizeof(struct scratch))
		return;
	if (bpf_ringbuf_output(&events, e, size, BPF_RB_NO_WAKEUP)) {
		count(IOR_LOSS_RINGBUF);
		return;
	}
	count(IOR_ASYNC_SUBMITS);
}

/* A request leaves the SQ ring (the submit tracepoint, after its prep). */
static __always_inline int uring_submitted(const bool btf, struct io_kiocb *req)
{
	struct self me;
	__u64 ring;
	__u8 op;

	self_get(btf, &me);
	/* the btf build's threads carry their process filter verdict and
	 * last ring in their syscall slot (io_uring_enter made one); SQPOLL
	 * threads and the CO-RE build ask the filter and the map each time */
	struct inflight *slot = btf ? bpf_task_storage_get(&task_inflight, me.task, 0, 0) : NULL;

	if (slot && slot->verdict != VERDICT_UNKNOWN) {
		if (slot->verdict != VERDICT_TRACED || !comm_traced(me.task))
			return 0;
	} else if (!trace_this(me.task, me.tgid)) {
		return 0;
	}
	/* req is a tp_btf argument: plain loads (CO-RE relocated), no probe reads */
	ring = (__u64)req->ctx;
	op = req->opcode;

	/* remember the ring for its completions (an update only when new;
	 * the entry stays: each completion's lookup keeps it recent) */
	if (!slot || slot->uring_ring != ring) {
		__u32 *owner = bpf_map_lookup_elem(&traced_rings, &ring);

		if (!owner || *owner != me.tgid)
			bpf_map_update_elem(&traced_rings, &ring, &me.tgid, BPF_ANY);
		if (slot)
			slot->uring_ring = ring;
	}

	switch (op) {
	case IORING_OP_OPENAT:
	case IORING_OP_OPENAT2:
	case IORING_OP_STATX:
	case IORING_OP_UNLINKAT:
	case IORING_OP_MKDIRAT:
	case IORING_OP_RENAMEAT:
	case IORING_OP_CLOSE:
		uring_path_submitted(btf, &me, req, ring, op);
		return 0;
	}

	struct async_record *r = async_reserve(IOR_REC_URING_SUBMIT, bpf_ktime_get_boot_ns());

	if (!r)
		return 0;
	r->e.pid = me.tgid;
	r->e.tid = me.tid;
	r->e.mode = op;
	/* the SQE's fd (an index into the registered files with
	 * IOSQE_FIXED_FILE): meaningful for opcodes that take a file, which
	 * the decoder knows */
	r->e.fd = req->cqe.fd;
	if (req->flags & REQ_F_FIXED_FILE)
		r->e.event_flags |= IOR_EF_FIXED_FILE;
	if (req->ctx->flags & IORING_SETUP_SQPOLL)
		r->e.event_flags |= IOR_EF_SQ_THREAD;
	switch (op) {
	case IORING_OP_READV:
	case IORING_OP_WRITEV:
	case IORING_OP_READ_FIXED:
	case IORING_OP_WRITE_FIXED:
	case IORING_OP_READ:
	case IORING_OP_WRITE: {
		/* the request's command area holds its struct io_rw: with
		 * bpf_rdonly_cast (btf build) plain loads, else probe reads */
		__u64 len, addr;

		if (btf) {
			struct io_rw *rw = bpf_rdonly_cast(req, bpf_core_type_id_kernel(struct io_rw));

			len = rw->len;
			addr = rw->addr;
			r->e.offset = rw->kiocb.ki_pos;
			r->e.flags = rw->flags;
		} else {
			struct io_rw *rw = (struct io_rw *)req;

			len = BPF_CORE_READ(rw, len);
			addr = BPF_CORE_READ(rw, addr);
			r->e.offset = BPF_CORE_READ(rw, kiocb.ki_pos);
			r->e.flags = BPF_CORE_READ(rw, flags);
		}
		if (op == IORING_OP_READV || op == IORING_OP_WRITEV)
			r->e.count = iov_bytes(addr, len, &r->e.event_flags);
		else
			r->e.count = (__s64)len;
		break;
	}
	case IORING_OP_FSYNC:
	case IORING_OP_SYNC_FILE_RANGE:
	case IORING_OP_FALLOCATE: {
		struct io_sync *sync = (struct io_sync *)req;

		r->e.offset = BPF_CORE_READ(sync, off);
		r->e.count = BPF_CORE_READ(sync, len);
		/* fsync/sync_file_range flags; fallocate's mode */
		r->e.flags = op == IORING_OP_FALLOCATE ? BPF_CORE_READ(sync, mode) : BPF_CORE_READ(sync, flags);
		break;
	}
	}
	if (!(r->e.event_flags & IOR_EF_FIXED_FILE))
		r->e.file_type = fd_type(btf, me.task, r->e.fd, NULL);
	async_comm(btf, &me, &r->e);
	r->a.ring = ring;
	r->a.key = (__u64)req;
	r->a.user_data = req->cqe.user_data;
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	count(IOR_ASYNC_SUBMITS);
	return 0;
}

#define IORING_REGISTER_FILES 2
#define IORING_REGISTER_FILES_UPDATE 6
#define IORING_REGISTER_FILES2 13
#define IORING_REGISTER_FILES_UPDATE2 14
#define IORING_RSRC_REGISTER_SPARSE 1
#define IORING_REGISTER_USE_REGISTERED_RING (1U << 31)

/* uapi/linux/io_uring.h, the arguments of the register opcodes above */
struct ior_files_update {
	__u32 offset;
	__u32 resv;
	__u64 fds;
};

struct ior_rsrc_register {
	__u32 nr;
	__u32 flags;
	__u64 resv2;
	__u64 data;
	__u64 tags;
};

struct ior_rsrc_update2 {
	__u32 offset;
	__u32 resv;
	__u64 data;
	__u64 tags;
	__u32 nr;
	__u32 resv2;
};

/* io_uring_register(ring_fd, opcode, arg, nr) succeeded: the files it
 * registered, one record each, so fixed-file requests get their paths.
 * The ring, the user array of fds, the slot of its first and its length
 * into *ring, *fds, *first, *nr; false if it registered no files. */
static __always_inline bool uring_files_of(const bool btf, int ring_fd, __u32 opcode, __u64 arg,
					   __u64 *ring, __u64 *fds, __u32 *first, __s64 *nr)
{
	struct self me;

	*fds = arg;
	*first = 0;
	if (opcode & IORING_REGISTER_USE_REGISTERED_RING)
		return false; /* ring_fd is an index into the registered rings */
	if (opcode == IORING_REGISTER_FILES_UPDATE) {
		struct ior_files_update up;

		if (bpf_probe_read_user(&up, sizeof(up), (void *)arg))
			return false;
		*first = up.offset;
		*fds = up.fds;
	} else if (opcode == IORING_REGISTER_FILES2) {
		struct ior_rsrc_register rr;

		if (bpf_probe_read_user(&rr, sizeof(rr), (void *)arg) || (rr.flags & IORING_RSRC_REGISTER_SPARSE))
			return false;
		*nr = rr.nr;
		*fds = rr.data;
	} else if (opcode == IORING_REGISTER_FILES_UPDATE2) {
		struct ior_rsrc_update2 up;

		if (bpf_probe_read_user(&up, sizeof(up), (void *)arg))
			return false;
		*first = up.offset;
		*nr = up.nr;
		*fds = up.data;
	} else if (opcode != IORING_REGISTER_FILES) {
		return false;
	}
	self_get(btf, &me);
	struct file *ring_file = fd_file(btf, me.task, ring_fd);

	if (!ring_file)
		return false;
	/* a probe read in both builds: a number, not a pointer, for the global functions */
	*ring = (__u64)BPF_CORE_READ(ring_file, private_data);
	return true;
}

/* The file registered in slot first + i: fds[i] */
static __always_inline int uring_file_one(const bool btf, __u64 now, __u64 ring, __u64 fds, __u32 first, __u32 i)
{
	struct self me;
	__s32 fd;

	if (bpf_probe_read_user(&fd, sizeof(fd), (void *)(fds + i * sizeof(fd)))) {
		count(IOR_LOSS_ASYNC_BATCH);
		return 0;
	}
	struct async_record *r = async_reserve(IOR_REC_URING_FILE, now);

	if (!r)
		return 0;
	self_get(btf, &me);
	r->e.pid = me.tgid;
	r->e.tid = me.tid;
	r->e.fd = fd;
	r->e.file_type = fd_type(btf, me.task, fd, NULL);
	r->a.ring = ring;
	r->a.key = first + i;
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	return 0;
}

/*
 * The batch loops: io_submit, io_getevents and io_uring_register hand over
 * up to IOR_ASYNC_BATCH_MAX items per call, each recorded by a global
 * function (per build). The verifier checks a global function once, on its
 * own, so a loop over a call's items costs it a few instructions per
 * iteration; with the body inlined it walked the body once per possible
 * iteration (428k instructions, 1.6 s of the load; inlined in the raw exit
 * program itself, past the verifier's 1M limit). bpf_loop would do as well
 * from 5.17 on, but a callback reference alone makes 5.10 refuse the whole
 * program. Global functions take scalars only: each finds its thread.
 */
#define ASYNC_GLOBALS(build, btf)                                                                          \
	__noinline int aio_submit_one_##build(__u64 ts, __u64 ctx_id, __u64 iocbpp, __u32 i)               \
	{                                                                                                  \
		return aio_submit_one(btf, ts, ctx_id, iocbpp, i);                                         \
	}                                                                                                  \
	__noinline int aio_reap_one_##build(__u64 now, __u32 sc, __u64 ctx_id, __u64 events, __u32 i)      \
	{                                                                                                  \
		return aio_reap_one(btf, now, sc, ctx_id, events, i);                                      \
	}                                                                                                  \
	__noinline int uring_file_one_##build(__u64 now, __u64 ring, __u64 fds, __u32 first, __u32 i)      \
	{                                                                                                  \
		return uring_file_one(btf, now, ring, fds, first, i);                                      \
	}                                                                                                  \
	__noinline int aio_submitted_##build(__u64 ts, __u64 ctx_id, __u64 iocbpp, __s64 n)                \
	{                                                                                                  \
		n = batch_clamp(n);                                                                        \
		for (__u32 i = 0; i < IOR_ASYNC_BATCH_MAX && i < n; i++)                                  \
			aio_submit_one_##build(ts, ctx_id, iocbpp, i);                                     \
		return 0;                                                                                  \
	}                                                                                                  \
	__noinline int aio_reaped_##build(__u64 now, __u32 sc, __u64 ctx_id, __u64 events, __s64 n)        \
	{                                                                                                  \
		n = batch_clamp(n);                                                                        \
		for (__u32 i = 0; i < IOR_ASYNC_BATCH_MAX && i < n; i++)                                  \
			aio_reap_one_##build(now, sc, ctx_id, events, i);                                  \
		return 0;                                                                                  \
	}                                                                                                  \
	__noinline int uring_files_registered_##build(__u64 now, int ring_fd, __u32 opcode, __u64 arg, __s64 nr) \
	{                                                                                                  \
		__u64 ring = 0, fds = 0;                                                                   \
		__u32 first = 0;                                                                           \
		if (!uring_files_of(btf, ring_fd, opcode, arg, &ring, &fds, &first, &nr))                  \
			return 0;                                                                          \
		nr = batch_clamp(nr);                                                                      \
		for (__u32 i = 0; i < IOR_ASYNC_BATCH_MAX && i < nr; i++)                                 \
			uring_file_one_##build(now, ring, fds, first, i);                                  \
		return 0;                                                                                  \
	}
ASYNC_GLOBALS(btf, true)
ASYNC_GLOBALS(core, false)
#undef ASYNC_GLOBALS

/* The batch of an async syscall that returned ret, at its exit. */
static __always_inline void async_syscall_exit(const bool btf, const int kind, const __u16 sc, __u64 *args, __u64 ts, __u64 now, __s64 ret)
{
	if (kind == IOR_K_AIO_SUBMIT && ret > 0) {
		if (btf)
			aio_submitted_btf(ts, args[0], args[2], ret);
		else
			aio_submitted_core(ts, args[0], args[2], ret);
	} else if (kind == IOR_K_AIO_REAP && ret > 0) {
		if (btf)
			aio_reaped_btf(now, sc, args[0], args[3], ret);
		else
			aio_reaped_core(now, sc, args[0], args[3], ret);
	} else if (kind == IOR_K_URING_REGISTER && ret >= 0) {
		if (btf)
			uring_files_registered_btf(now, (int)args[0], (__u32)args[1], args[2], (__s64)(__u32)args[3]);
		else
			uring_files_registered_core(now, (int)args[0], (__u32)args[1], args[2], (__s64)(__u32)args[3]);
	}
}

/* The loader loads one build and points it at io_uring_submit_sqe on
 * kernels before 6.4 (same first argument: the request). */
SEC("tp_btf/io_uring_submit_req")
int BPF_PROG(ior_uring_submit, struct io_kiocb *req)
{
	return uring_submitted(true, req);
}

SEC("tp_btf/io_uring_submit_req")
int BPF_PROG(ior_uring_submit_core, struct io_kiocb *req)
{
	return uring_submitted(false, req);
}

/* A CQE is posted for a request of a traced ring. Auxiliary CQEs (no
 * request) are not operations of their own. */
static __always_inline int uring_completed(__u64 ring, void *req, __u64 user_data, __s32 res)
{
	__u32 *owner;

	if (!req)
		return 0;
	owner = bpf_map_lookup_elem(&traced_rings, &ring);
	if (!owner)
		return 0;
	struct async_record *r = async_reserve(IOR_REC_URING_COMPLETE, bpf_ktime_get_boot_ns());

	if (!r)
		return 0;
	r->e.pid = *owner;
	r->e.tid = (__u32)bpf_get_current_pid_tgid();
	r->e.ret = res;
	r->e.flags = IOR_REAP_CQE;
	r->a.ring = ring;
	r->a.key = (__u64)req;
	r->a.user_data = user_data;
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	count(IOR_ASYNC_COMPLETIONS);
	return 0;
}

/* io_uring_complete hands over the CQE since 6.3 (the loader loads one). */
SEC("tp_btf/io_uring_complete")
int BPF_PROG(ior_uring_complete, void *ring_ctx, void *req, struct io_uring_cqe *cqe)
{
	return uring_completed((__u64)ring_ctx, req, cqe->user_data, cqe->res);
}

/* ... and its fields before. */
SEC("tp_btf/io_uring_complete")
int BPF_PROG(ior_uring_complete_fields, void *ring_ctx, void *req, __u64 user_data, int res)
{
	return uring_completed((__u64)ring_ctx, req, user_data, res);
}
