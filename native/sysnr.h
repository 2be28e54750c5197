/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * sysnr.h - syscall number of each row of bpf/syscalls.def on the
 * architecture the loader is built for (rows this architecture lacks, such
 * as open or stat on arm64, have no entry). The row name is the kernel's
 * SYSCALL_DEFINE name (and tracepoint name); the __NR_ name differs for a
 * few (newfstat = __NR_fstat, sendfile64 = __NR_sendfile).
 *
 * Used as an X-macro: IOR_NR(row_name, number).
 */
#include <asm/unistd.h>

/* numbers newer than the build host's kernel headers (the same on every
 * architecture since the syscall table unification) */
#ifndef __NR_fchmodat2
#define __NR_fchmodat2 452
#endif

#ifdef __NR_open
IOR_NR(open, __NR_open)
#endif
#ifdef __NR_openat
IOR_NR(openat, __NR_openat)
#endif
#ifdef __NR_openat2
IOR_NR(openat2, __NR_openat2)
#endif
#ifdef __NR_creat
IOR_NR(creat, __NR_creat)
#endif
#ifdef __NR_close
IOR_NR(close, __NR_close)
#endif
#ifdef __NR_close_range
IOR_NR(close_range, __NR_close_range)
#endif
#ifdef __NR_read
IOR_NR(read, __NR_read)
#endif
#ifdef __NR_pread64
IOR_NR(pread64, __NR_pread64)
#endif
#ifdef __NR_readv
IOR_NR(readv, __NR_readv)
#endif
#ifdef __NR_preadv
IOR_NR(preadv, __NR_preadv)
#endif
#ifdef __NR_preadv2
IOR_NR(preadv2, __NR_preadv2)
#endif
#ifdef __NR_write
IOR_NR(write, __NR_write)
#endif
#ifdef __NR_pwrite64
IOR_NR(pwrite64, __NR_pwrite64)
#endif
#ifdef __NR_writev
IOR_NR(writev, __NR_writev)
#endif
#ifdef __NR_pwritev
IOR_NR(pwritev, __NR_pwritev)
#endif
#ifdef __NR_pwritev2
IOR_NR(pwritev2, __NR_pwritev2)
#endif
#ifdef __NR_lseek
IOR_NR(lseek, __NR_lseek)
#endif
#ifdef __NR_fsync
IOR_NR(fsync, __NR_fsync)
#endif
#ifdef __NR_fdatasync
IOR_NR(fdatasync, __NR_fdatasync)
#endif
#ifdef __NR_sync_file_range
IOR_NR(sync_file_range, __NR_sync_file_range)
#endif
#ifdef __NR_syncfs
IOR_NR(syncfs, __NR_syncfs)
#endif
#ifdef __NR_sync
IOR_NR(sync, __NR_sync)
#endif
#ifdef __NR_truncate
IOR_NR(truncate, __NR_truncate)
#endif
#ifdef __NR_ftruncate
IOR_NR(ftruncate, __NR_ftruncate)
#endif
#ifdef __NR_fallocate
IOR_NR(fallocate, __NR_fallocate)
#endif
#ifdef __NR_fadvise64
IOR_NR(fadvise64, __NR_fadvise64)
#endif
#ifdef __NR_readahead
IOR_NR(readahead, __NR_readahead)
#endif
#ifdef __NR_stat
IOR_NR(newstat, __NR_stat)
#endif
#ifdef __NR_lstat
IOR_NR(newlstat, __NR_lstat)
#endif
#ifdef __NR_fstat
IOR_NR(newfstat, __NR_fstat)
#endif
#ifdef __NR_newfstatat
IOR_NR(newfstatat, __NR_newfstatat)
#endif
#ifdef __NR_statx
IOR_NR(statx, __NR_statx)
#endif
#ifdef __NR_access
IOR_NR(access, __NR_access)
#endif
#ifdef __NR_faccessat
IOR_NR(faccessat, __NR_faccessat)
#endif
#ifdef __NR_faccessat2
IOR_NR(faccessat2, __NR_faccessat2)
#endif
#ifdef __NR_unlink
IOR_NR(unlink, __NR_unlink)
#endif
#ifdef __NR_unlinkat
IOR_NR(unlinkat, __NR_unlinkat)
#endif
#ifdef __NR_rename
IOR_NR(rename, __NR_rename)
#endif
#ifdef __NR_renameat
IOR_NR(renameat, __NR_renameat)
#endif
#ifdef __NR_renameat2
IOR_NR(renameat2, __NR_renameat2)
#endif
#ifdef __NR_mkdir
IOR_NR(mkdir, __NR_mkdir)
#endif
#ifdef __NR_mkdirat
IOR_NR(mkdirat, __NR_mkdirat)
#endif
#ifdef __NR_rmdir
IOR_NR(rmdir, __NR_rmdir)
#endif
#ifdef __NR_link
IOR_NR(link, __NR_link)
#endif
#ifdef __NR_linkat
IOR_NR(linkat, __NR_linkat)
#endif
#ifdef __NR_symlink
IOR_NR(symlink, __NR_symlink)
#endif
#ifdef __NR_symlinkat
IOR_NR(symlinkat, __NR_symlinkat)
#endif
#ifdef __NR_readlink
IOR_NR(readlink, __NR_readlink)
#endif
#ifdef __NR_readlinkat
IOR_NR(readlinkat, __NR_readlinkat)
#endif
#ifdef __NR_getdents64
IOR_NR(getdents64, __NR_getdents64)
#endif
#ifdef __NR_chmod
IOR_NR(chmod, __NR_chmod)
#endif
#ifdef __NR_fchmod
IOR_NR(fchmod, __NR_fchmod)
#endif
#ifdef __NR_fchmodat
IOR_NR(fchmodat, __NR_fchmodat)
#endif
#ifdef __NR_fchmodat2
IOR_NR(fchmodat2, __NR_fchmodat2)
#endif
#ifdef __NR_chown
IOR_NR(chown, __NR_chown)
#endif
#ifdef __NR_lchown
IOR_NR(lchown, __NR_lchown)
#endif
#ifdef __NR_fchown
IOR_NR(fchown, __NR_fchown)
#endif
#ifdef __NR_fchownat
IOR_NR(fchownat, __NR_fchownat)
#endif
#ifdef __NR_utimensat
IOR_NR(utimensat, __NR_utimensat)
#endif
#ifdef __NR_futimesat
IOR_NR(futimesat, __NR_futimesat)
#endif
#ifdef __NR_utime
IOR_NR(utime, __NR_utime)
#endif
#ifdef __NR_utimes
IOR_NR(utimes, __NR_utimes)
#endif
#ifdef __NR_dup
IOR_NR(dup, __NR_dup)
#endif
#ifdef __NR_dup2
IOR_NR(dup2, __NR_dup2)
#endif
#ifdef __NR_dup3
IOR_NR(dup3, __NR_dup3)
#endif
#ifdef __NR_fcntl
IOR_NR(fcntl, __NR_fcntl)
#endif
#ifdef __NR_chdir
IOR_NR(chdir, __NR_chdir)
#endif
#ifdef __NR_fchdir
IOR_NR(fchdir, __NR_fchdir)
#endif
#ifdef __NR_copy_file_range
IOR_NR(copy_file_range, __NR_copy_file_range)
#endif
#ifdef __NR_sendfile
IOR_NR(sendfile64, __NR_sendfile)
#endif
#ifdef __NR_mmap
IOR_NR(mmap, __NR_mmap)
#endif
#ifdef __NR_munmap
IOR_NR(munmap, __NR_munmap)
#endif
#ifdef __NR_msync
IOR_NR(msync, __NR_msync)
#endif
#ifdef __NR_io_submit
IOR_NR(io_submit, __NR_io_submit)
#endif
#ifdef __NR_io_uring_enter
IOR_NR(io_uring_enter, __NR_io_uring_enter)
#endif
#ifdef __NR_io_getevents
IOR_NR(io_getevents, __NR_io_getevents)
#endif
#ifdef __NR_io_pgetevents
IOR_NR(io_pgetevents, __NR_io_pgetevents)
#endif
#ifdef __NR_io_uring_register
IOR_NR(io_uring_register, __NR_io_uring_register)
#endif
