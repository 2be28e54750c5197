/*
 * glibc-compat.h - force-included (gcc -include) into every C and C++ file of
 * the native addons embedded in dist/ior, so that they link against the
 * oldest version of each glibc symbol instead of the newest one of the build
 * host (Debian 12, glibc 2.36). Without it, better-sqlite3 and zstd-napi need
 * glibc 2.34 (pthread_* and dl* moved into libc.so.6 and got new versions);
 * with it they need nothing newer than Node itself (2.28).
 *
 * `.symver name, name@GLIBC_2.2.5` binds each reference to the x86_64 base
 * version. On glibc < 2.34 that version lives in libpthread.so.0, libdl.so.2
 * or libm.so.6; the addon does not list those libraries, it relies on Node,
 * which links all three, having put them in the global symbol scope. The
 * functions are the same ABI (2.34 kept the old versions as aliases), and the
 * 2.29 math functions only differ in speed and errno handling.
 *
 * stat/fstat/lstat/fstatat (2.33) have no older version of the same name: they are
 * redirected with -Wl,--wrap to glibc-compat.c. scripts/build-binary.sh fails
 * the build if any glibc or libstdc++ version above the floor remains.
 */
#ifndef IOR_GLIBC_COMPAT_H
#define IOR_GLIBC_COMPAT_H
/* also force-included into assembler sources (.S), where C cannot go */
#if defined(__x86_64__) && defined(__linux__) && !defined(__ASSEMBLER__)
#define IOR_OLD_SYMBOL(name) __asm__(".symver " #name "," #name "@GLIBC_2.2.5");
/* libpthread until 2.34 */
IOR_OLD_SYMBOL(pthread_create)
IOR_OLD_SYMBOL(pthread_join)
IOR_OLD_SYMBOL(pthread_detach)
IOR_OLD_SYMBOL(pthread_once)
IOR_OLD_SYMBOL(pthread_key_create)
IOR_OLD_SYMBOL(pthread_key_delete)
IOR_OLD_SYMBOL(pthread_getspecific)
IOR_OLD_SYMBOL(pthread_setspecific)
IOR_OLD_SYMBOL(pthread_mutex_trylock)
IOR_OLD_SYMBOL(pthread_mutexattr_init)
IOR_OLD_SYMBOL(pthread_mutexattr_settype)
IOR_OLD_SYMBOL(pthread_mutexattr_destroy)
IOR_OLD_SYMBOL(pthread_attr_setstacksize)
IOR_OLD_SYMBOL(pthread_cond_timedwait)
/* libdl until 2.34 */
IOR_OLD_SYMBOL(dlopen)
IOR_OLD_SYMBOL(dlsym)
IOR_OLD_SYMBOL(dlerror)
IOR_OLD_SYMBOL(dlclose)
/* libm: new implementations in 2.29 */
IOR_OLD_SYMBOL(exp)
IOR_OLD_SYMBOL(exp2)
IOR_OLD_SYMBOL(log)
IOR_OLD_SYMBOL(log2)
IOR_OLD_SYMBOL(pow)
#undef IOR_OLD_SYMBOL
#endif
#endif
