/**
 * Async I/O operations as trace rows (schema version 2): the names they
 * take in the syscall column, by opcode, and what each one does. Capture
 * names the rows with these tables; stats, sql and replay read them back.
 * libaio's opcodes are IOCB_CMD_* (uapi/linux/aio_abi.h), io_uring's
 * IORING_OP_* (uapi/linux/io_uring.h): numbers fixed by the kernel's ABI.
 */

/** What an async operation does with its file. */
export interface AsyncOp {
  /** the syscall column's value: aio_pread, uring_read, ... */
  readonly name: string;
  /** its fd names a file (not an index into nothing: NOP, TIMEOUT, ...) */
  readonly takesFd: boolean;
  /** a successful result is a byte count moved: 'read' or 'write' direction */
  readonly transfer: 'read' | 'write' | null;
}

const op = (name: string, takesFd: boolean, transfer: AsyncOp['transfer'] = null): AsyncOp => ({ name, takesFd, transfer });

/** libaio, by IOCB_CMD_* (4 was never in a released kernel). */
export const AIO_OPS: readonly (AsyncOp | undefined)[] = [
  op('aio_pread', true, 'read'),
  op('aio_pwrite', true, 'write'),
  op('aio_fsync', true),
  op('aio_fdsync', true),
  undefined,
  op('aio_poll', true),
  op('aio_noop', false),
  op('aio_preadv', true, 'read'),
  op('aio_pwritev', true, 'write'),
];

/** io_uring, by IORING_OP_*. */
export const URING_OPS: readonly AsyncOp[] = [
  op('uring_nop', false),
  op('uring_readv', true, 'read'),
  op('uring_writev', true, 'write'),
  op('uring_fsync', true),
  op('uring_read_fixed', true, 'read'),
  op('uring_write_fixed', true, 'write'),
  op('uring_poll_add', true),
  op('uring_poll_remove', false),
  op('uring_sync_file_range', true),
  op('uring_sendmsg', true),
  op('uring_recvmsg', true),
  op('uring_timeout', false),
  op('uring_timeout_remove', false),
  op('uring_accept', true),
  op('uring_async_cancel', false),
  op('uring_link_timeout', false),
  op('uring_connect', true),
  op('uring_fallocate', true),
  op('uring_openat', false),
  op('uring_close', false),
  op('uring_files_update', false),
  op('uring_statx', false),
  op('uring_read', true, 'read'),
  op('uring_write', true, 'write'),
  op('uring_fadvise', true),
  op('uring_madvise', false),
  op('uring_send', true),
  op('uring_recv', true),
  op('uring_openat2', false),
  op('uring_epoll_ctl', true),
  op('uring_splice', true),
  op('uring_provide_buffers', false),
  op('uring_remove_buffers', false),
  op('uring_tee', true),
  op('uring_shutdown', true),
  op('uring_renameat', false),
  op('uring_unlinkat', false),
  op('uring_mkdirat', false),
  op('uring_symlinkat', false),
  op('uring_linkat', false),
  op('uring_msg_ring', true),
  op('uring_fsetxattr', true),
  op('uring_setxattr', false),
  op('uring_fgetxattr', true),
  op('uring_getxattr', false),
  op('uring_socket', false),
  op('uring_uring_cmd', true),
  op('uring_send_zc', true),
  op('uring_sendmsg_zc', true),
  op('uring_read_multishot', true, 'read'),
  op('uring_waitid', false),
  op('uring_futex_wait', false),
  op('uring_futex_wake', false),
  op('uring_futex_waitv', false),
  op('uring_fixed_fd_install', true),
  op('uring_ftruncate', true),
  op('uring_bind', true),
  op('uring_listen', true),
  op('uring_recv_zc', true),
  op('uring_epoll_wait', true),
  op('uring_readv_fixed', true, 'read'),
  op('uring_writev_fixed', true, 'write'),
];

/** An opcode this ior has no name for. */
export function unknownAsyncOp(family: 'aio' | 'uring', opcode: number): AsyncOp {
  return op(`${family}_op${opcode}`, false);
}

/** How an operation's completion was seen: the async_end column. */
export const ASYNC_ENDS = ['io_getevents', 'io_pgetevents', 'cqe', 'none'] as const;
export type AsyncEnd = (typeof ASYNC_ENDS)[number];

const ALL_OPS = new Map<string, AsyncOp>([...AIO_OPS, ...URING_OPS].filter((o): o is AsyncOp => o !== undefined).map((o) => [o.name, o]));

/** The async operation a syscall column value names, or undefined for a syscall. */
export function asyncOpNamed(name: string): AsyncOp | undefined {
  return ALL_OPS.get(name);
}
