/*
 * glibc-compat.c - linked into every native addon embedded in dist/ior (see
 * glibc-compat.h). glibc 2.33 turned stat/fstat/lstat into real functions
 * (stat64@GLIBC_2.33, fstatat64, ...); before, the headers inlined calls to
 * __xstat64(_STAT_VER, ...), which every glibc still exports. The linker's
 * --wrap=stat64 sends the addon's calls here.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#define IOR_STAT_VER 1 /* _STAT_VER_LINUX on x86_64 */

int __xstat64(int ver, const char *path, struct stat64 *buf);
int __fxstat64(int ver, int fd, struct stat64 *buf);
int __lxstat64(int ver, const char *path, struct stat64 *buf);
int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *buf, int flags);
__asm__(".symver __xstat64,__xstat64@GLIBC_2.2.5");
__asm__(".symver __fxstat64,__fxstat64@GLIBC_2.2.5");
__asm__(".symver __lxstat64,__lxstat64@GLIBC_2.2.5");
__asm__(".symver __fxstatat64,__fxstatat64@GLIBC_2.4");

__attribute__((visibility("hidden"))) int __wrap_stat64(const char *path, struct stat64 *buf)
{
	return __xstat64(IOR_STAT_VER, path, buf);
}

__attribute__((visibility("hidden"))) int __wrap_fstat64(int fd, struct stat64 *buf)
{
	return __fxstat64(IOR_STAT_VER, fd, buf);
}

__attribute__((visibility("hidden"))) int __wrap_lstat64(const char *path, struct stat64 *buf)
{
	return __lxstat64(IOR_STAT_VER, path, buf);
}

__attribute__((visibility("hidden"))) int __wrap_fstatat64(int dirfd, const char *path, struct stat64 *buf, int flags)
{
	return __fxstatat64(IOR_STAT_VER, dirfd, path, buf, flags);
}
