/*
 * confine.c - every replayed path stays inside the target: the chroot mode
 * (one root for the executor threads) and the openat2 walk. confine.h says
 * what each does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "confine.h"

atomic_llong g_helpers[H_COUNT];
int g_root = -1;
atomic_int g_symlinks;
atomic_uint g_dirgen;

static int g_chroot;             /* chroot mode chosen */
static char g_why[160];          /* why not, in openat2 mode */
static char g_mode[200];
static atomic_int g_thread_failures;
static atomic_int g_shared_root; /* the nursery chrooted: the threads it starts share its root */
static __thread int t_chrooted;  /* this thread's root is the target */
static __thread int t_tried;

/* ---- chroot mode ---- */

/* The calling thread's own root and cwd, set to the target. 0 or -errno. */
static int chroot_self(void)
{
	char self[64];

	if (unshare(CLONE_FS) < 0)
		return -errno;
	/* by fd, not by name (the target may be renamed under us), and with
	 * no call a capture of the replay would count as the trace's */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", g_root);
	if (chroot(self) < 0 || chdir("/") < 0)
		return -errno;
	return 0;
}

static void *probe_thread(void *arg)
{
	*(int *)arg = chroot_self();
	return NULL;
}

int confine_setup(int root_fd, enum confine_want want, char *why, size_t whylen)
{
	if (g_root >= 0 && g_root != root_fd)
		close(g_root);
	g_root = root_fd;
	g_chroot = 0;
	atomic_store(&g_shared_root, 0);
	g_why[0] = 0;
	atomic_store(&g_thread_failures, 0);
	if (want != CONFINE_OPENAT2) {
		/* a throw-away thread tries: the calling (main) thread must keep the host's root */
		int r = -EAGAIN;
		pthread_t t;
		if (pthread_create(&t, NULL, probe_thread, &r) == 0)
			pthread_join(t, NULL);
		if (r == 0)
			g_chroot = 1;
		else
			snprintf(g_why, sizeof(g_why), "chroot refused: %s", strerror(-r));
		if (!g_chroot && want == CONFINE_CHROOT) {
			snprintf(why, whylen, "%s", g_why);
			return r;
		}
	} else {
		snprintf(g_why, sizeof(g_why), "asked for");
	}
	if (g_chroot) {
		snprintf(g_mode, sizeof(g_mode), "chroot");
		/* glibc's malloc, making an arena for a new thread, counts the CPUs
		 * by reading /sys/devices/system/cpu/online and /proc/stat unless
		 * the arena maximum is set: inside the chroot those are paths of
		 * the target (on FUSE, lookups the trace never made, at every
		 * thread's start). Set to glibc's own default, 8 per CPU, unless
		 * the user chose one. */
		if (!getenv("MALLOC_ARENA_MAX") && !(getenv("GLIBC_TUNABLES") && strstr(getenv("GLIBC_TUNABLES"), "arena_max"))) {
			long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
			mallopt(M_ARENA_MAX, 8 * (int)(ncpu > 0 ? ncpu : 1));
		}
	} else {
		snprintf(g_mode, sizeof(g_mode), "openat2 (%s)", g_why);
	}
	return 0;
}

const char *confine_mode(void)
{
	return g_mode;
}

void confine_nursery(void)
{
	if (g_chroot && chroot_self() == 0) {
		t_chrooted = 1;
		atomic_store(&g_shared_root, 1);
	}
}

void confine_thread(void)
{
	if (t_tried || !g_chroot)
		return;
	t_tried = 1;
	if (atomic_load(&g_shared_root))
		t_chrooted = 1;
	else
		atomic_fetch_add(&g_thread_failures, 1); /* this thread walks: still confined, with helpers */
}

int confine_thread_failures(void)
{
	return atomic_load(&g_thread_failures);
}

int confined_by_chroot(void)
{
	return t_chrooted;
}

/* ---- openat2 walk ---- */

static int sys_openat2(int dirfd, const char *path, int flags, int mode, uint64_t resolve)
{
	struct open_how how = { .flags = (uint64_t)(unsigned)flags, .mode = (flags & (O_CREAT | O_TMPFILE)) ? (uint64_t)(mode & 07777) : 0, .resolve = resolve };
	int r = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	return r < 0 ? -errno : r;
}

#define IN_ROOT (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)

int open_confined(const char *rel, int flags, int mode)
{
	if (t_chrooted) {
		/* the traced call as it was: the chroot confines it */
		int r = openat(g_root, rel[0] ? rel : ".", flags, mode);
		return r < 0 ? -errno : r;
	}
	return sys_openat2(g_root, rel[0] ? rel : ".", flags | O_CLOEXEC, mode, IN_ROOT);
}

/* per-thread cache of parent directories opened confined */
#define PCACHE 64
struct pentry { unsigned gen; int fd; char *path; };
static __thread struct pentry *t_pcache; /* heap: outlives the thread, so teardown can close it */

/* every thread's parent cache, so teardown can close their fds */
#define MAX_THREADS 4096
static struct pentry *g_caches[MAX_THREADS];
static atomic_int g_ncaches;

static struct pentry *thread_cache(void)
{
	if (!t_pcache) {
		t_pcache = calloc(PCACHE, sizeof(*t_pcache));
		int n = atomic_fetch_add(&g_ncaches, 1);
		if (n < MAX_THREADS)
			g_caches[n] = t_pcache;
	}
	return t_pcache;
}

static uint32_t hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

int parent_of(const char *rel, const char **leaf)
{
	if (t_chrooted) {
		*leaf = rel[0] ? rel : ".";
		return g_root;
	}
	const char *slash = strrchr(rel, '/');
	if (!slash) {
		*leaf = rel[0] ? rel : ".";
		return g_root;
	}
	*leaf = slash + 1;
	size_t n = (size_t)(slash - rel);
	unsigned gen = atomic_load_explicit(&g_dirgen, memory_order_acquire);
	struct pentry *cache = thread_cache();
	if (!cache)
		return -ENOMEM;
	struct pentry *e = &cache[hash(rel, n) % PCACHE];
	if (e->path && e->gen == gen && strlen(e->path) == n && memcmp(e->path, rel, n) == 0)
		return e->fd;
	if (e->path) {
		close(e->fd);
		atomic_fetch_add(&g_helpers[H_PARENT_CLOSE], 1);
		free(e->path);
		e->path = NULL;
	}
	char *dir = strndup(rel, n);
	if (!dir)
		return -ENOMEM;
	int fd = sys_openat2(g_root, dir, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, IN_ROOT);
	atomic_fetch_add(&g_helpers[H_PARENT_OPEN], 1);
	if (fd < 0) {
		free(dir);
		return fd;
	}
	e->path = dir;
	e->fd = fd;
	e->gen = gen;
	return fd;
}

static void drop_cache(struct pentry *cache)
{
	if (!cache)
		return;
	for (int i = 0; i < PCACHE; i++) {
		if (cache[i].path) {
			close(cache[i].fd);
			free(cache[i].path);
			cache[i].path = NULL;
		}
	}
}

void drop_parent_cache(void)
{
	drop_cache(t_pcache);
}

void confine_teardown(void)
{
	int n = atomic_load(&g_ncaches);
	for (int i = 0; i < n && i < MAX_THREADS; i++)
		drop_cache(g_caches[i]);
	drop_parent_cache();
}

int opath_follow(const char *rel)
{
	int fd = sys_openat2(g_root, rel[0] ? rel : ".", O_PATH | O_CLOEXEC, 0, IN_ROOT);
	atomic_fetch_add(&g_helpers[H_PATH_OPEN], 1);
	return fd;
}

void opath_close(int fd)
{
	close(fd);
	atomic_fetch_add(&g_helpers[H_PATH_CLOSE], 1);
}

/*
 * chroot: the call itself on (target, rel). openat2: on (parent, leaf) when
 * the target holds no symlinks, else on an O_PATH fd of the confined path
 * with AT_EMPTY_PATH.
 */
long follow_call(const char *rel, int atflags, at_call call, const int32_t *op, const double *opf)
{
	if (t_chrooted || (atflags & AT_SYMLINK_NOFOLLOW) || !atomic_load(&g_symlinks)) {
		const char *leaf;
		int dir = parent_of(rel, &leaf);
		if (dir < 0)
			return dir;
		return call(dir, leaf, atflags, op, opf);
	}
	int fd = opath_follow(rel);
	if (fd < 0)
		return fd;
	long r = call(fd, "", atflags | AT_EMPTY_PATH, op, opf);
	opath_close(fd);
	return r;
}
