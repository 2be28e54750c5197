/*
 * delayfs BACKING MOUNTPOINT DELAY_MS [fuse options]: a FUSE file system
 * that passes every call through to the directory BACKING, except that
 * fsync and fdatasync take DELAY_MS and nothing else (no disk behind them).
 * A target whose latency is the same whenever it is asked: a trace
 * captured on it and its replay on it see the same latencies, so any
 * difference in calls in flight between them is the replay's
 * (test/replay-capture.test.ts). Run with -f (foreground) and
 * -o max_threads=N above the traced threads, as root.
 */
#define FUSE_USE_VERSION 31
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

static int root = -1;      /* the backing directory */
static long delay_ns;

/* a FUSE path ("/a/b") as a name relative to the backing directory */
static const char *rel(const char *path)
{
	return path[1] ? path + 1 : ".";
}

#define CHECK(x) ((x) < 0 ? -errno : 0)

static int d_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	return fi ? CHECK(fstat((int)fi->fh, st)) : CHECK(fstatat(root, rel(path), st, AT_SYMLINK_NOFOLLOW));
}

static int d_access(const char *path, int mask)
{
	return CHECK(faccessat(root, rel(path), mask, 0));
}

static int d_readlink(const char *path, char *buf, size_t size)
{
	ssize_t n = readlinkat(root, rel(path), buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return 0;
}

static int d_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off, struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	(void)off; (void)fi; (void)flags;
	int fd = openat(root, rel(path), O_RDONLY | O_DIRECTORY);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		int err = errno;
		if (fd >= 0)
			close(fd);
		return -err;
	}
	for (struct dirent *e; (e = readdir(d));)
		if (fill(buf, e->d_name, NULL, 0, 0))
			break;
	closedir(d);
	return 0;
}

static int d_mkdir(const char *path, mode_t mode) { return CHECK(mkdirat(root, rel(path), mode)); }
static int d_unlink(const char *path) { return CHECK(unlinkat(root, rel(path), 0)); }
static int d_rmdir(const char *path) { return CHECK(unlinkat(root, rel(path), AT_REMOVEDIR)); }
static int d_symlink(const char *to, const char *from) { return CHECK(symlinkat(to, root, rel(from))); }
static int d_link(const char *from, const char *to) { return CHECK(linkat(root, rel(from), root, rel(to), 0)); }

static int d_rename(const char *from, const char *to, unsigned int flags)
{
	return CHECK(renameat2(root, rel(from), root, rel(to), flags));
}

static int d_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	return fi ? CHECK(fchmod((int)fi->fh, mode)) : CHECK(fchmodat(root, rel(path), mode, 0));
}

static int d_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	return fi ? CHECK(fchown((int)fi->fh, uid, gid)) : CHECK(fchownat(root, rel(path), uid, gid, AT_SYMLINK_NOFOLLOW));
}

static int d_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	if (fi)
		return CHECK(ftruncate((int)fi->fh, size));
	int fd = openat(root, rel(path), O_WRONLY);
	if (fd < 0)
		return -errno;
	int r = CHECK(ftruncate(fd, size));
	close(fd);
	return r;
}

static int d_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
	return fi ? CHECK(futimens((int)fi->fh, tv)) : CHECK(utimensat(root, rel(path), tv, AT_SYMLINK_NOFOLLOW));
}

static int d_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	int fd = openat(root, rel(path), fi->flags, mode);
	if (fd < 0)
		return -errno;
	fi->fh = (uint64_t)fd;
	return 0;
}

static int d_open(const char *path, struct fuse_file_info *fi)
{
	int fd = openat(root, rel(path), fi->flags);
	if (fd < 0)
		return -errno;
	fi->fh = (uint64_t)fd;
	return 0;
}

static int d_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)path;
	ssize_t n = pread((int)fi->fh, buf, size, off);
	return n < 0 ? -errno : (int)n;
}

static int d_write(const char *path, const char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)path;
	ssize_t n = pwrite((int)fi->fh, buf, size, off);
	return n < 0 ? -errno : (int)n;
}

static int d_statfs(const char *path, struct statvfs *st)
{
	(void)path;
	return CHECK(fstatvfs(root, st));
}

static int d_release(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	close((int)fi->fh);
	return 0;
}

/* the one call that is not passed through: it takes delay_ns, always */
static int d_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	(void)path; (void)datasync; (void)fi;
	struct timespec ts = { delay_ns / 1000000000L, delay_ns % 1000000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	return 0;
}

static void *d_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	/* every call reaches this process (no attribute or entry caching to vary with timing) */
	cfg->entry_timeout = 0;
	cfg->attr_timeout = 0;
	cfg->negative_timeout = 0;
	return NULL;
}

static const struct fuse_operations ops = {
	.init = d_init, .getattr = d_getattr, .access = d_access, .readlink = d_readlink, .readdir = d_readdir,
	.mkdir = d_mkdir, .unlink = d_unlink, .rmdir = d_rmdir, .symlink = d_symlink, .link = d_link,
	.rename = d_rename, .chmod = d_chmod, .chown = d_chown, .truncate = d_truncate, .utimens = d_utimens,
	.create = d_create, .open = d_open, .read = d_read, .write = d_write, .statfs = d_statfs,
	.release = d_release, .fsync = d_fsync,
};

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s BACKING MOUNTPOINT DELAY_MS [fuse options]\n", argv[0]);
		return 2;
	}
	root = open(argv[1], O_PATH | O_DIRECTORY);
	if (root < 0) {
		perror(argv[1]);
		return 1;
	}
	delay_ns = atol(argv[3]) * 1000000L;
	/* fuse_main sees: prog MOUNTPOINT [options] */
	argv[3] = argv[2];
	argv[2] = argv[0];
	return fuse_main(argc - 2, argv + 2, &ops, NULL);
}
