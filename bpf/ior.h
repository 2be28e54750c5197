/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ior.h - the kernel/user contract of ior, included by bpf/ior.bpf.c and by
 * the loader (native/loader.c). Every struct crossing the ring buffer or the
 * loader's pipe is defined here, once. docs/wire-format.md describes the
 * bytes; schema/ (TypeScript) decodes them.
 *
 * This header must compile both against vmlinux.h (BPF side, no libc) and
 * against <linux/types.h> (user side), so it only uses __u64-style types.
 */
#ifndef IOR_H
#define IOR_H

#define IOR_COMM_LEN 16
/* Bytes captured per path string, including the terminating NUL. Longer
 * paths are truncated and counted in IOR_LOSS_PATH_TRUNCATED. */
#define IOR_PATH_MAX 512
/* Most iovec entries summed for readv/writev-style calls; more sets
 * IOR_EF_IOV_TRUNCATED on the event. */
#define IOR_IOV_MAX 32

/* Argument roles of the syscall table: "this argument is the fd", etc. */
#define IOR_ARG_NONE (-1)

/* kind: how the generic enter/exit handlers treat a syscall. */
enum ior_kind {
	IOR_K_PLAIN = 0,   /* arguments taken as the table says */
	IOR_K_IOV = 1,     /* count = sum of the iovec lengths (arg count_arg is iovcnt, arg 1 the iovec) */
	IOR_K_OPEN_HOW = 2,/* openat2: flags and mode read from struct open_how (arg 2) */
	IOR_K_OFFPTR = 3,  /* offset_arg is a user pointer to a loff_t (may be NULL) */
	IOR_K_MMAP = 4,    /* only recorded when the fd argument is >= 0 (file mapping) */
	IOR_K_VMA = 5,     /* munmap/msync: only recorded when addr (arg 0) lies in a file-backed VMA */
	IOR_K_AIO_SUBMIT = 6, /* io_submit: also one IOR_REC_AIO_SUBMIT record per iocb submitted */
	IOR_K_AIO_REAP = 7,   /* io_getevents/io_pgetevents: also one IOR_REC_AIO_REAP record per event reaped */
	IOR_K_URING_REGISTER = 8, /* io_uring_register: also one IOR_REC_URING_FILE record per file registered */
};

/* Syscall ids: the order of bpf/syscalls.def. */
enum ior_syscall_id {
#define IOR_SC(name, nargs, kind, fd, fd2, dirfd, path, dirfd2, path2, count, offset, flags, mode, pos) \
	IOR_SC_##name,
#include "syscalls.def"
#undef IOR_SC
	IOR_SC_COUNT
};

/* file_type of the fd argument's file at syscall entry (from i_mode). */
enum ior_file_type {
	IOR_FT_NONE = 0,   /* no fd argument, or the fd was not open */
	IOR_FT_REGULAR = 1,
	IOR_FT_DIRECTORY = 2,
	IOR_FT_PIPE = 3,
	IOR_FT_SOCKET = 4,
	IOR_FT_CHAR = 5,
	IOR_FT_BLOCK = 6,
	IOR_FT_SYMLINK = 7,
	IOR_FT_OTHER = 8,  /* anon inodes: eventfd, epoll, io_uring, ... */
};

/* event_flags bits */
#define IOR_EF_PATH_TRUNCATED  0x01 /* path or path2 longer than IOR_PATH_MAX - 1 */
#define IOR_EF_PATH_FAULT      0x02 /* a path pointer could not be read */
#define IOR_EF_IOV_TRUNCATED   0x04 /* more than IOR_IOV_MAX iovecs: count is partial */
#define IOR_EF_HAS_POS         0x08 /* offset is the file position at entry, not an argument */
#define IOR_EF_FIXED_FILE      0x10 /* async records: fd is an index into the ring's registered files */
#define IOR_EF_SQ_THREAD       0x20 /* async records: submitted by the ring's SQPOLL kernel thread */

/*
 * One completed syscall, as written to the ring buffer by sys_exit and
 * forwarded unchanged by the loader. The struct is followed by path_len
 * bytes of path, then path2_len bytes of path2 (no NULs), and the whole
 * record is padded to a multiple of 8 bytes. Fields a syscall does not
 * have are -1 (fd, fd2, dirfd, dirfd2, offset, count) or 0 (flags, mode).
 */
struct ior_event {
	__u64 ts_ns;       /* CLOCK_BOOTTIME at sys_enter */
	__u64 latency_ns;  /* sys_exit time - sys_enter time */
	__s64 ret;         /* raw return value; negative errno on failure */
	__s64 offset;      /* explicit offset argument, else file position at entry (IOR_EF_HAS_POS), else -1 */
	__s64 count;       /* bytes requested (or length for truncate/fallocate/mmap), -1 none */
	__u32 pid;         /* tgid */
	__u32 tid;         /* thread id */
	__s32 fd;          /* fd argument (in fd for sendfile/copy_file_range, first for close_range) */
	__s32 fd2;         /* second fd: dup2/dup3 newfd, out fd of sendfile/copy_file_range, close_range last */
	__s32 dirfd;       /* dirfd that path is relative to (AT_FDCWD = -100), -1 none */
	__s32 dirfd2;      /* dirfd that path2 is relative to, -1 none */
	__s32 flags;       /* open flags, *at flags, whence, advice, fcntl cmd, ... */
	__u32 mode;        /* creation mode, access mode, prot, uid for chown */
	__u16 syscall;     /* enum ior_syscall_id */
	__u8 file_type;    /* enum ior_file_type of fd at entry */
	__u8 event_flags;  /* IOR_EF_* */
	__u16 path_len;    /* bytes of path that follow the struct */
	__u16 path2_len;   /* bytes of path2 that follow path */
	char comm[IOR_COMM_LEN];
	__u32 cpu;         /* CPU the syscall exited on */
	__u32 _pad;
};

/*
 * Process lifecycle records: a struct ior_event whose `syscall` is one of
 * these (never a row of syscalls.def), with no path. They are not trace
 * rows: they tell the decoder when a traced process forks (copy its fd
 * table and cwd), execs (close-on-exec fds are gone) and exits (forget it).
 *   FORK  pid/tid = parent tgid/tid, ret = child tgid, flags = IOR_FORK_*
 *   EXEC  pid/tid = tgid/tid after exec, fd = the tid that called execve
 *   EXIT  pid = tgid whose last thread exited, tid = that thread, ret = exit code
 */
enum ior_record {
	IOR_REC_FORK = 0xff01,
	IOR_REC_EXEC = 0xff02,
	IOR_REC_EXIT = 0xff03,
	IOR_REC_AIO_SUBMIT = 0xff04,     /* followed by a struct ior_async, see below */
	IOR_REC_AIO_REAP = 0xff05,
	IOR_REC_URING_SUBMIT = 0xff06,
	IOR_REC_URING_COMPLETE = 0xff07,
	IOR_REC_URING_FILE = 0xff08,
};

/*
 * Async I/O records: one per operation submitted and one per completion
 * seen, a struct ior_event (no paths) followed by a struct ior_async. The
 * decoder pairs them by (ring, key) into one trace row per operation.
 *   *_SUBMIT   ts_ns = submit time (io_submit entry; io_uring: the request
 *              was taken from the SQ ring), fd, offset, count as the
 *              operation gives them, flags = RWF_* / fsync flags, mode =
 *              opcode (IOCB_CMD_* or IORING_OP_*), file_type of fd
 *   *_REAP / *_COMPLETE  ts_ns = when the completion was seen (io_getevents
 *              exit; io_uring: the CQE posted), ret = the result, flags =
 *              enum ior_reaper
 * Both: pid/tid = the thread (the ring owner's process for completions).
 */
struct ior_async {
	__u64 ring;      /* aio: the context id (io_setup's); io_uring: the ring's kernel address (numbered, never written, by the decoder) */
	__u64 key;       /* what pairs submit and completion: aio the user iocb address, io_uring the request's kernel address */
	__u64 user_data; /* aio_data / sqe user_data */
};

enum ior_reaper {
	IOR_REAP_GETEVENTS = 1,  /* io_getevents */
	IOR_REAP_PGETEVENTS = 2, /* io_pgetevents */
	IOR_REAP_CQE = 3,        /* io_uring: the CQE was posted */
};

/*
 *   URING_FILE  a file registered with a ring (IORING_REGISTER_FILES and its
 *              updates): ring, key = its index, fd = the fd registered (-1:
 *              an empty slot), file_type of that fd; fixed-file requests
 *              (IOR_EF_FIXED_FILE) name the index.
 */

/* Most iocbs / io_events / registered files read per io_submit /
 * io_getevents / io_uring_register call; beyond it, counted in
 * IOR_LOSS_ASYNC_BATCH. */
#define IOR_ASYNC_BATCH_MAX 64
/* Most iovecs summed per vectored async operation (IOR_EF_IOV_TRUNCATED beyond). */
#define IOR_ASYNC_IOV_MAX 8
#define IOR_FORK_SHARED_FILES 0x1 /* CLONE_FILES: the child shares the parent's fd table */
#define IOR_FORK_SHARED_FS    0x2 /* CLONE_FS: the child shares the parent's cwd */

/* Per-CPU loss and health counters (BPF array map "counters"). */
enum ior_counter {
	IOR_LOSS_RINGBUF = 0,        /* ring buffer full: record dropped (an event or, rarely, a lifecycle record) */
	IOR_LOSS_INFLIGHT_FULL = 1,  /* sys_enter could not be remembered (map full): event dropped */
	IOR_UNPAIRED_EXIT = 2,       /* sys_exit with no matching sys_enter (call began before attach) */
	IOR_LOSS_PATH_TRUNCATED = 3, /* events whose path was truncated */
	IOR_LOSS_PATH_FAULT = 4,     /* events whose path could not be read */
	IOR_EVENTS_EMITTED = 5,      /* syscall events written to the ring buffer */
	IOR_LIFECYCLE_EMITTED = 6,   /* lifecycle records (fork, exec, exit) written to the ring buffer */
	IOR_ENTER_ABANDONED = 7,     /* sys_enter never followed by its sys_exit: the thread exited inside the call, or its next call entered first */
	IOR_ENTERS_RECORDED = 8,     /* sys_enter remembered for its sys_exit */
	IOR_EXITS_PAIRED = 9,        /* sys_exit that found its sys_enter (ENTERS_RECORDED - EXITS_PAIRED: never paired) */
	IOR_ASYNC_SUBMITS = 10,      /* async submit records written to the ring buffer */
	IOR_ASYNC_COMPLETIONS = 11,  /* async completion records written to the ring buffer */
	IOR_LOSS_ASYNC_BATCH = 12,   /* async operations (or registered files) of a call past IOR_ASYNC_BATCH_MAX, or whose iocb could not be read: not recorded */
	IOR_COUNTER_COUNT
};

/* Filter settings, written into the BPF object's .rodata before load. */
#define IOR_FILTER_PIDS   0x1 /* only tgids in the traced_pids map (and, with follow, their descendants) */
#define IOR_FILTER_COMM   0x2 /* only tasks whose comm equals filter_comm */
#define IOR_FILTER_FOLLOW 0x4 /* add children of traced tgids to traced_pids on fork */
/* Syscall numbers below this are mapped to rows (BPF .rodata nr_row). */
#define IOR_NR_MAX 1024
/* Most tgids excluded from tracing (the loader itself, --exclude-pid). */
#define IOR_MAX_EXCLUDE 8

/*
 * Loader -> TypeScript stream (fd 3 of the loader): a sequence of frames,
 * each an 8-byte header followed by len bytes of payload.
 */
#define IOR_WIRE_MAGIC 0x31524f49u /* "IOR1", first 4 bytes of the stream */
#define IOR_WIRE_VERSION 2

enum ior_frame_type {
	IOR_FRAME_HELLO = 1,   /* JSON: versions, syscall table, attached and skipped tracepoints */
	IOR_FRAME_EVENTS = 2,  /* concatenated ior_event records (syscall events and lifecycle records) */
	IOR_FRAME_STATS = 3,   /* JSON: counters summed over CPUs, sent periodically */
	IOR_FRAME_LOG = 4,     /* JSON: {"level": "info|warn|error", "message": "..."} */
	IOR_FRAME_END = 5,     /* JSON: final counters, unpaired enters, child exit status; last frame */
};

struct ior_frame_header {
	__u32 type; /* enum ior_frame_type */
	__u32 len;  /* payload bytes */
};

#endif /* IOR_H */
