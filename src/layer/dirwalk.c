/* dirwalk.c - dd_walker_dir(): a plain root filesystem directory as one
 * layer.  Every step is relative to an open directory descriptor
 * (openat/fstatat with O_NOFOLLOW / AT_SYMLINK_NOFOLLOW), so no symlink is
 * ever followed and the walk never leaves the root. */
#include "layer/walker.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layer/internal.h"
#include "util/buf.h"
#include "util/banned.h"

#define MAX_DEPTH 512

struct dwalk {
	dd_walker *w;
	dd_layer *L;
	char path[DD_PATH_MAX + 2];
	char link[DD_PATH_MAX + 2];
	uint64_t entries, bytes;
};

struct names {
	char **v;
	size_t n, cap;
};

static void names_free(struct names *ns)
{
	for (size_t i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in directory dfd, sorted (for a stable order). */
static int list_dir(struct dwalk *t, int dfd, struct names *ns, dd_error *err)
{
	int fd = dup(dfd);
	DIR *dir;
	struct dirent *de;

	if (fd < 0 || !(dir = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return dd_error_set(err, DD_EENV, "'%s': %s", t->path[0] ? t->path : "/", strerror(errno));
	}
	rewinddir(dir);
	errno = 0;
	while ((de = readdir(dir))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (ns->n == ns->cap) {
			size_t ncap = ns->cap ? ns->cap * 2 : 32;
			char **nv = realloc(ns->v, ncap * sizeof(*nv));
			if (!nv)
				goto oom;
			ns->v = nv;
			ns->cap = ncap;
		}
		if (!(ns->v[ns->n] = dd_strdup(de->d_name)))
			goto oom;
		ns->n++;
	}
	closedir(dir);
	if (ns->n > 1)
		qsort(ns->v, ns->n, sizeof(*ns->v), cmp_str);
	return 0;
oom:
	closedir(dir);
	return dd_error_oom(err);
}

static int deliver_file(struct dwalk *t, int dfd, const char *name, const dd_lrec *rec,
			const struct stat *st, dd_error *err)
{
	struct dd_fstream fs = { .kind = DD_FS_NONE, .fd = -1 };
	dd_file f = { rec->path, (enum dd_ftype)rec->type, rec->size, rec->mode, rec->link,
		      t->L->index, &t->L->diff_id, NULL };
	struct stat st2;
	int rc;

	if (rec->type == DD_FT_REG) {
		fs.fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
		if (fs.fd < 0)
			return dd_error_set(err, DD_EENV, "entry '%s': open: %s", rec->path, strerror(errno));
		if (fstat(fs.fd, &st2) != 0 || !S_ISREG(st2.st_mode) || st2.st_ino != st->st_ino ||
		    st2.st_dev != st->st_dev) {
			close(fs.fd);
			return dd_error_set(err, DD_EINPUT, "entry '%s': changed while being read", rec->path);
		}
		fs.kind = DD_FS_FD;
	}
	rc = dd_walker_deliver(t->w, &f, &fs, err);
	if (fs.fd >= 0)
		close(fs.fd);
	if (rc)
		return dd_error_prefix(err, "entry '%s'", rec->path);
	return 0;
}

static int walk_dir(struct dwalk *t, int dfd, int depth, dd_error *err);

static int one_entry(struct dwalk *t, int dfd, const char *name, int depth, dd_error *err)
{
	dd_walker *w = t->w;
	size_t plen = strlen(t->path), nlen = strlen(name);
	struct stat st;
	dd_lrec r = { 0 };
	int rc = 0;

	if (plen + nlen + 1 > DD_PATH_MAX)
		return dd_error_set(err, DD_EINPUT, "entry '%.300s/%.300s': name longer than PATH_MAX (4096)",
				    t->path, name);
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno == ENOENT)
			return 0; /* vanished meanwhile */
		return dd_error_set(err, DD_EENV, "entry '%s/%s': %s", t->path, name, strerror(errno));
	}
	if (S_ISSOCK(st.st_mode))
		return 0; /* sockets are not image content */
	if (w->total_entries + t->entries >= w->limits.max_entries)
		return dd_error_set(err, DD_EINPUT, "more than %llu entries: exceeds --max-entries (limit %llu)",
				    (unsigned long long)w->limits.max_entries,
				    (unsigned long long)w->limits.max_entries);
	t->entries++;
	if (plen)
		t->path[plen] = '/';
	memcpy(t->path + plen + (plen ? 1 : 0), name, nlen + 1);
	r.path = t->path;
	r.mode = (uint32_t)(st.st_mode & 07777);
	if (S_ISREG(st.st_mode)) {
		r.type = DD_FT_REG;
		r.size = (uint64_t)st.st_size;
		t->bytes += r.size;
	} else if (S_ISDIR(st.st_mode)) {
		r.type = DD_FT_DIR;
	} else if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlinkat(dfd, name, t->link, DD_PATH_MAX + 1);
		if (n < 0 || n > DD_PATH_MAX) {
			rc = n < 0 ? dd_error_set(err, DD_EENV, "entry '%s': readlink: %s", t->path, strerror(errno))
				   : dd_error_set(err, DD_EINPUT, "entry '%s': symlink target longer than PATH_MAX",
						  t->path);
			goto done;
		}
		t->link[n] = '\0';
		r.type = DD_FT_SYMLINK;
		r.link = t->link;
	} else if (S_ISCHR(st.st_mode)) {
		r.type = DD_FT_CHAR;
	} else if (S_ISBLK(st.st_mode)) {
		r.type = DD_FT_BLOCK;
	} else {
		r.type = DD_FT_FIFO;
	}
	if ((rc = dd_layer_add(w, t->L, &r, err)))
		goto done;
	if (r.type == DD_FT_REG || r.type == DD_FT_SYMLINK) {
		rc = deliver_file(t, dfd, name, &t->L->recs[t->L->n - 1], &st, err);
	} else if (r.type == DD_FT_DIR) {
		int cfd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (cfd < 0) {
			rc = dd_error_set(err, DD_EENV, "entry '%s': open: %s", t->path, strerror(errno));
			goto done;
		}
		rc = walk_dir(t, cfd, depth + 1, err);
		close(cfd);
	}
done:
	t->path[plen] = '\0';
	return rc;
}

static int walk_dir(struct dwalk *t, int dfd, int depth, dd_error *err)
{
	struct names ns = { 0 };
	int rc;

	if (depth > MAX_DEPTH)
		return dd_error_set(err, DD_EINPUT, "entry '%.300s': directories nested deeper than %d",
				    t->path, MAX_DEPTH);
	if ((rc = list_dir(t, dfd, &ns, err)))
		goto done;
	for (size_t i = 0; i < ns.n && !rc; i++)
		rc = one_entry(t, dfd, ns.v[i], depth, err);
done:
	names_free(&ns);
	return rc;
}

int dd_walker_dir(dd_walker *w, int index, const char *root, dd_layer_stats *stats, dd_error *err)
{
	struct dwalk *t = NULL;
	int fd = -1, rc;

	if (!w || !root)
		return dd_error_set(err, DD_EINTERNAL, "dd_walker_dir: missing argument");
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return dd_error_set(err, errno == ENOENT || errno == ENOTDIR ? DD_EINPUT : DD_EENV,
				    "rootfs '%s': %s", root, strerror(errno));
	t = calloc(1, sizeof(*t));
	if (!t) {
		close(fd);
		return dd_error_oom(err);
	}
	t->w = w;
	if ((rc = dd_layer_open(w, index, &t->L, err)))
		goto done;
	rc = walk_dir(t, fd, 0, err);
	if (rc) {
		dd_layer_discard(w, t->L);
		goto done;
	}
	w->total_entries += t->entries;
	w->total_bytes += t->bytes;
	if (stats) {
		memset(stats, 0, sizeof(*stats));
		stats->compression = DD_COMP_NONE;
		stats->entries = t->entries;
		stats->uncompressed_bytes = t->bytes;
	}
done:
	if (rc)
		dd_error_prefix(err, "layer %d (rootfs %s)", index, root);
	close(fd);
	free(t);
	return rc;
}
