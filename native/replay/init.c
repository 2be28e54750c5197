/*
 * init.c - making the state a trace expects under the target: directories,
 * regular files, symlinks, and nothing where the trace creates something.
 * Everything is confined under the root, nothing followed out of it. The
 * main thread calls these (replay/init.ts) before the replay's clock starts:
 * the target sees none of it during the run.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "confine.h"
#include "replay.h"

/* mkdirat(parent of p, its leaf), the parent found by a confined walk (p is
 * restored before return). 0, also when p exists, or -errno. */
static int mkdir_in_parent(char *p)
{
	char *slash = strrchr(p, '/');
	int dir = g_root;
	const char *leaf = p;
	if (!p[0])
		return 0;
	if (slash) {
		*slash = 0;
		dir = open_confined(p, O_PATH | O_DIRECTORY, 0);
		*slash = '/';
		leaf = slash + 1;
		if (dir < 0)
			return dir;
	}
	int r = mkdirat(dir, leaf, 0755) < 0 && errno != EEXIST ? -errno : 0;
	if (dir != g_root)
		close(dir);
	return r;
}

/* mkdirs(rel): create rel and its missing parents. Returns 0 or -errno.
 * Init creates directories outermost first, so the parent is almost always
 * there: one confined walk per directory. Only when it is missing is every
 * prefix made, each walked from the root (doing that for every directory
 * made a deep tree cubic: 126 s for 2,000 levels). */
static int mkdirs(const char *rel)
{
	char *p = strdup(rel);
	if (!p)
		return -ENOMEM;
	int r = mkdir_in_parent(p);
	if (r == -ENOENT) {
		/* a parent is missing: every prefix, outermost first */
		r = 0;
		for (char *s = p; r == 0 && *s; s++) {
			if (s[1] != '/' && s[1] != 0)
				continue;
			char c = s[1];
			s[1] = 0;
			r = mkdir_in_parent(p);
			s[1] = c;
		}
	}
	free(p);
	return r;
}

static int remove_tree_at(int dir, const char *name, int depth)
{
	if (unlinkat(dir, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -errno;
	if (depth > 256)
		return -ELOOP;
	int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	struct dirent *e;
	int r = 0;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if ((r = remove_tree_at(dirfd(d), e->d_name, depth + 1)) < 0)
			break;
	}
	closedir(d);
	if (r < 0)
		return r;
	return unlinkat(dir, name, AT_REMOVEDIR) == 0 ? 0 : -errno;
}

int init_dir(const char *rel)
{
	int r = mkdirs(rel);
	if (r == -EEXIST || r == -ENOTDIR) {
		const char *leaf;
		int dir = parent_of(rel, &leaf);
		struct stat st;
		if (dir >= 0 && fstatat(dir, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode)) {
			unlinkat(dir, leaf, 0);
			r = mkdirs(rel);
		}
	}
	drop_parent_cache();
	return r;
}

int init_remove(const char *rel)
{
	if (!rel[0])
		return -EBUSY;
	const char *leaf;
	int dir = parent_of(rel, &leaf);
	int r = dir == -ENOENT ? 0 : dir < 0 ? dir : remove_tree_at(dir, leaf, 0);
	drop_parent_cache();
	return r;
}

/* mkdirs of rel's parent (rel is restored) */
static void make_parent(const char *rel)
{
	char *p = strdup(rel);
	char *slash = p ? strrchr(p, '/') : NULL;
	if (slash) {
		*slash = 0;
		mkdirs(p);
	}
	free(p);
}

int init_file_open(const char *rel, off_t *size)
{
	*size = 0;
	if (!rel[0])
		return -EINVAL;
	make_parent(rel);
	const char *leaf;
	int dir = parent_of(rel, &leaf);
	int fd = dir;
	if (dir >= 0) {
		struct stat cur;
		if (fstatat(dir, leaf, &cur, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(cur.st_mode))
			remove_tree_at(dir, leaf, 0);
		fd = openat(dir, leaf, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0)
			fd = -errno;
		else if (fstat(fd, &cur) == 0)
			*size = cur.st_size;
	}
	drop_parent_cache();
	return fd;
}

int init_symlink(const char *rel, const char *target)
{
	int r = -EINVAL;
	if (rel[0]) {
		make_parent(rel);
		const char *leaf;
		int dir = parent_of(rel, &leaf);
		r = dir;
		if (dir >= 0) {
			remove_tree_at(dir, leaf, 0);
			r = symlinkat(target, dir, leaf) == 0 ? 0 : -errno;
		}
		drop_parent_cache();
	}
	atomic_store(&g_symlinks, 1);
	return r;
}
