/*
 * confine.h - how the executor keeps every replayed path inside the target
 * (confine.c). Two modes, chosen once per replay:
 *
 *   chroot   the thread that starts the executor threads (lanes.c's
 *            nursery) unshares its file-system context (unshare(CLONE_FS))
 *            and chroots into the target; the threads it starts share that
 *            root: every path-based call is issued as itself, relative to
 *            the target's fd, and the kernel resolves `..`, absolute and
 *            relative symlinks inside it. No syscalls of ior's own, and one
 *            chroot per replay, not one per thread (each chroot and chdir
 *            asks the target's file system for permission: on FUSE two
 *            ACCESS requests per thread, which the trace never made).
 *            Needs CAP_SYS_CHROOT (root).
 *   openat2  (the fallback) opens go through openat2(RESOLVE_IN_ROOT |
 *            RESOLVE_NO_MAGICLINKS) from the target's fd; other path calls
 *            act on a leaf in a parent directory opened that way (cached
 *            per thread), or on an O_PATH fd of the whole confined path
 *            when they follow a final symlink: helper syscalls, counted.
 *
 * The main thread (init, scan) always walks: it is never chrooted.
 */
#ifndef IOR_CONFINE_H
#define IOR_CONFINE_H

#include <stdatomic.h>
#include <stdint.h>

/* helper syscalls ior issued on its own behalf (not in the trace); the
 * order is replay/native.ts HELPER_NAMES' */
enum { H_PARENT_OPEN, H_PARENT_CLOSE, H_PATH_OPEN, H_PATH_CLOSE, H_DUP_CLOSE, H_PRE_SEEK, H_STRAY_CLOSE, H_COUNT };
extern atomic_llong g_helpers[H_COUNT];

/* the target directory (O_PATH), every path is relative to it */
extern int g_root;
/* the target may hold symlinks: calls that follow a final symlink take the O_PATH way (openat2 mode) */
extern atomic_int g_symlinks;
/* bumped when directories may have moved: parent caches go stale */
extern atomic_uint g_dirgen;

enum confine_want { CONFINE_AUTO, CONFINE_CHROOT, CONFINE_OPENAT2 };

/* Set the target (root_fd: an O_PATH fd of it, owned from now on) and the
 * mode: CONFINE_AUTO takes chroot where a probe thread can, CONFINE_CHROOT
 * fails (-errno, reason in why) where it cannot. Returns 0 or -errno. */
int confine_setup(int root_fd, enum confine_want want, char *why, size_t whylen);
/* "chroot" or "openat2 (<why chroot was not used>)" */
const char *confine_mode(void);
/* In the nursery, once, before it starts a thread: chroot it (chroot mode) */
void confine_nursery(void);
/* In an executor thread, before its first op: is its root the target (the nursery's)? */
void confine_thread(void);
/* Executor threads whose root was not the target, which walked instead (0 in a good run) */
int confine_thread_failures(void);
/* Close every thread's cached parent directories (the main thread's with drop_parent_cache) */
void confine_teardown(void);
void drop_parent_cache(void);

/* A path inside the target ("" is the target itself), opened with flags
 * and mode as given (the openat2 walk adds O_CLOEXEC). fd or -errno. */
int open_confined(const char *rel, int flags, int mode);
/* The directory fd holding rel, its last component in *leaf (chroot: the
 * target's fd and rel itself). -errno on failure. */
int parent_of(const char *rel, const char **leaf);

/* A path call that follows a final symlink: call(dirfd, name, at-flags) */
typedef long (*at_call)(int dirfd, const char *name, int atflags, const int32_t *op, const double *opf);
long follow_call(const char *rel, int atflags, at_call call, const int32_t *op, const double *opf);
/* rel opened O_PATH following symlinks inside the target (a helper in openat2 mode) */
int opath_follow(const char *rel);
void opath_close(int fd);
/* The calling thread is chrooted into the target: path calls are issued as traced */
int confined_by_chroot(void);

#endif
