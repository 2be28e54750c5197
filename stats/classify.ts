/**
 * Which syscalls count as reading or writing file data (docs/stats.md,
 * "Bytes read and written"). The per-call `bytes` column is kept as the
 * kernel returned it; these sets decide what goes into the read and
 * written totals, the per-file bytes and the size distributions.
 */
import { asyncOpNamed } from '../schema/index.js';

/** Data read from the fd's file. */
export const READ_SYSCALLS: ReadonlySet<string> = new Set(['read', 'pread64', 'readv', 'preadv', 'preadv2']);
/** Data written to the fd's file. */
export const WRITE_SYSCALLS: ReadonlySet<string> = new Set(['write', 'pwrite64', 'writev', 'pwritev', 'pwritev2']);
/**
 * In-kernel copies: the bytes are read from `path` (the in fd) and written
 * to `path2` (the out fd), so they count once in each total.
 * getdents64 is not here on purpose: its bytes are directory records, not
 * file data.
 */
export const COPY_SYSCALLS: ReadonlySet<string> = new Set(['sendfile64', 'copy_file_range']);

export const Transfer = { None: 0, Read: 1, Write: 2, Copy: 3 } as const;
export type Transfer = (typeof Transfer)[keyof typeof Transfer];

/** Async operations (aio_*, uring_*) move data as their opcode says (schema/async.ts). */
export function transferOf(syscall: string): Transfer {
  if (READ_SYSCALLS.has(syscall)) return Transfer.Read;
  if (WRITE_SYSCALLS.has(syscall)) return Transfer.Write;
  if (COPY_SYSCALLS.has(syscall)) return Transfer.Copy;
  const op = asyncOpNamed(syscall);
  return op?.transfer === 'read' ? Transfer.Read : op?.transfer === 'write' ? Transfer.Write : Transfer.None;
}
