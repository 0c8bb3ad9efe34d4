/* oci.c - OCI image layout directories (oci:PATH[:TAG|@DIGEST]); see image.h. */
#include "image/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"
#include "util/banned.h"

/* Open name under dirfd without following a symlink: a regular file
 * (dir == 0) or a directory (dir == 1). */
static int open_under(int dirfd, const char *name, int dir, const char *what, int *out, dd_error *err)
{
	struct stat st;
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK |
					  (dir ? O_DIRECTORY : 0));

	*out = -1;
	if (fd < 0) {
		if (errno == ENOENT)
			return dd_error_set(err, DD_EINPUT, "%s is missing", what);
		if (errno == ELOOP || (!dir && errno == ENXIO))
			return dd_error_set(err, DD_EINPUT, "%s is a symbolic link or special file", what);
		if (errno == ENOTDIR)
			return dd_error_set(err, DD_EINPUT, "%s is not a directory", what);
		return dd_error_set(err, DD_EENV, "%s: %s", what, strerror(errno));
	}
	if (fstat(fd, &st) != 0 || (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))) {
		close(fd);
		return dd_error_set(err, DD_EINPUT, "%s is not a %s", what, dir ? "directory" : "regular file");
	}
	if (!dir) /* back to blocking reads */
		(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	*out = fd;
	return 0;
}

/* Open blobs/sha256/HEX; the path is built only from a validated digest. */
static int open_blob(dd_image *img, const dd_digest *d, const char *what, int *out, uint64_t *size,
		     dd_error *err)
{
	char w[256];
	struct stat st;
	int blobs = -1, alg = -1, rc;

	*out = -1;
	if (!dd_digest_is_set(d))
		return dd_error_set(err, DD_EINTERNAL, "%s: no digest", what);
	snprintf(w, sizeof(w), "%s: blob directory blobs/sha256", what);
	if ((rc = open_under(img->dirfd, "blobs", 1, w, &blobs, err)) ||
	    (rc = open_under(blobs, "sha256", 1, w, &alg, err)))
		goto done;
	snprintf(w, sizeof(w), "%s: blob %s (blobs/sha256/%s)", what, d->s, dd_digest_hex(d));
	if ((rc = open_under(alg, dd_digest_hex(d), 0, w, out, err)))
		goto done;
	if (fstat(*out, &st) != 0) {
		rc = dd_error_set(err, DD_EENV, "%s: %s", w, strerror(errno));
		close(*out);
		*out = -1;
		goto done;
	}
	*size = (uint64_t)st.st_size;
done:
	if (blobs >= 0)
		close(blobs);
	if (alg >= 0)
		close(alg);
	return rc;
}

/* Read a metadata blob: size checked against the descriptor and the JSON
 * limit before reading, digest verified before anyone parses it. */
static int read_meta(dd_image *img, const dd_desc *d, const char *what, dd_buf *out, dd_error *err)
{
	dd_fd_reader fr;
	dd_reader r;
	uint64_t size;
	int fd, rc;

	if (d->size > DD_JSON_MAX)
		return dd_error_set(err, DD_EINPUT, "%s %s is %llu bytes, more than the %zu MiB limit for JSON "
				    "documents", what, d->digest.s, (unsigned long long)d->size, DD_JSON_MAX >> 20);
	if ((rc = open_blob(img, &d->digest, what, &fd, &size, err)))
		return rc;
	if (size != d->size) {
		close(fd);
		return dd_error_set(err, DD_EINPUT, "%s: blob %s is %llu bytes but its descriptor says %llu",
				    what, d->digest.s, (unsigned long long)size, (unsigned long long)d->size);
	}
	dd_reader_from_fd(&r, &fr, fd, what);
	rc = dd_reader_slurp(&r, out, DD_JSON_MAX, what, err);
	close(fd);
	if (rc)
		return rc;
	if (out->len != d->size)
		return dd_error_set(err, DD_EINPUT, "%s: blob %s changed size while being read", what, d->digest.s);
	return dd_blob_verify(&d->digest, out->data, out->len, what, err);
}

static int read_file(dd_image *img, const char *name, dd_buf *out, dd_error *err)
{
	dd_fd_reader fr;
	dd_reader r;
	struct stat st;
	int fd, rc;

	if ((rc = open_under(img->dirfd, name, 0, name, &fd, err)))
		return rc;
	if (fstat(fd, &st) != 0 || (uint64_t)st.st_size > DD_JSON_MAX) {
		close(fd);
		return dd_error_set(err, DD_EINPUT, "%s is more than the %zu MiB limit for JSON documents",
				    name, DD_JSON_MAX >> 20);
	}
	dd_reader_from_fd(&r, &fr, fd, name);
	rc = dd_reader_slurp(&r, out, DD_JSON_MAX, name, err);
	close(fd);
	return rc;
}

static int check_layout(dd_image *img, dd_error *err)
{
	dd_buf b = DD_BUF_INIT;
	json_t *root = NULL, *v;
	int rc = read_file(img, "oci-layout", &b, err);

	if (rc) {
		if (rc == DD_EINPUT && strstr(err ? err->msg : "", "missing"))
			rc = dd_error_set(err, DD_EINPUT, "not an OCI image layout (no oci-layout file)");
		goto done;
	}
	if ((rc = dd_json_load(&root, b.data, b.len, "oci-layout", err)))
		goto done;
	v = json_is_object(root) ? json_object_get(root, "imageLayoutVersion") : NULL;
	if (!json_is_string(v)) {
		rc = dd_error_set(err, DD_EINPUT, "oci-layout: missing 'imageLayoutVersion'");
		goto done;
	}
	if (strcmp(json_string_value(v), "1.0.0") != 0)
		rc = dd_error_set(err, DD_EINPUT, "oci-layout: unsupported imageLayoutVersion '%.40s' (want 1.0.0)",
				  json_string_value(v));
done:
	json_decref(root);
	dd_buf_release(&b);
	return rc;
}

/* "a, b, c" of descriptor ref names or platforms, for error messages. */
static void list_descs(const dd_desc *d, size_t n, int platforms, char *buf, size_t cap)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && o + 1 < cap; i++) {
		char p[128];
		const char *s = p;
		if (platforms) {
			if (!d[i].has_platform)
				continue;
			dd_platform_format(&d[i].platform, p, sizeof(p));
		} else {
			s = d[i].ref_name ? d[i].ref_name : d[i].digest.s;
		}
		o += (size_t)snprintf(buf + o, cap - o, "%s%.100s", o ? ", " : "", s);
		if (o >= cap - 1 && cap > 4) {
			memcpy(buf + cap - 4, "...", 4);
			break;
		}
	}
	if (!buf[0])
		snprintf(buf, cap, "none");
}

int dd_image_select_platform(dd_image *img, const dd_desc *d, size_t n, const char *what, size_t *out,
			     dd_error *err)
{
	int best = 0, any_platform = 0;
	char want[128], have[512];

	for (size_t i = 0; i < n; i++) {
		int s;
		if (!d[i].has_platform)
			continue;
		any_platform = 1;
		s = dd_platform_match(&d[i].platform, &img->want);
		if (s > best) {
			best = s;
			*out = i;
		}
	}
	if (best)
		return 0;
	if (!any_platform && n == 1) { /* a one-entry index without platforms */
		*out = 0;
		return 0;
	}
	if (img->any_platform) { /* copy --all: any real platform will do */
		for (size_t i = 0; i < n; i++)
			if (d[i].has_platform && strcmp(d[i].platform.os, "unknown")) {
				*out = i;
				return 0;
			}
	}
	dd_platform_format(&img->want, want, sizeof(want));
	list_descs(d, n, 1, have, sizeof(have));
	return dd_error_set(err, DD_EINPUT, "%s has no image for platform %s (it has: %s); choose one with "
			    "--platform", what, want, have);
}

/* Pick the descriptor of index.json that the reference names. */
static int select_top(dd_image *img, const dd_doc *idx, const dd_desc **out, dd_error *err)
{
	dd_desc *c = NULL;
	size_t *from = NULL, nc = 0, pick = 0;
	char list[512];
	int rc = 0, all_platform = 1;

	if (idx->nmanifests == 0)
		return dd_error_set(err, DD_EINPUT, "index.json lists no images");
	c = dd_calloc(idx->nmanifests, sizeof(*c));
	from = dd_calloc(idx->nmanifests, sizeof(*from));
	if (!c || !from) {
		rc = dd_error_oom(err);
		goto done;
	}
	for (size_t i = 0; i < idx->nmanifests; i++) {
		const dd_desc *d = &idx->manifests[i];
		if (img->r.tag && !(d->ref_name && !strcmp(d->ref_name, img->r.tag)))
			continue;
		from[nc] = i;
		c[nc++] = *d;
		all_platform &= d->has_platform;
	}
	list_descs(idx->manifests, idx->nmanifests, 0, list, sizeof(list));
	if (nc == 0)
		rc = dd_error_set(err, DD_EINPUT, "index.json has no image tagged '%s' (it has: %s)", img->r.tag,
				  list);
	else if (nc > 1 && all_platform)
		rc = dd_image_select_platform(img, c, nc, "index.json", &pick, err);
	else if (nc > 1 && img->r.tag)
		rc = dd_error_set(err, DD_EINPUT, "index.json has %zu images tagged '%s'", nc, img->r.tag);
	else if (nc > 1)
		rc = dd_error_set(err, DD_EINPUT, "index.json lists %zu images; choose one with oci:PATH:TAG "
				  "(it has: %s)", nc, list);
	if (rc == 0)
		*out = &idx->manifests[from[pick]];
done:
	free(c);
	free(from);
	return rc;
}

void dd_image_keep_annotations(dd_image *img, json_t *ann)
{
	if (ann && img->nann < sizeof(img->ann) / sizeof(img->ann[0]))
		img->ann[img->nann++] = json_incref(ann);
}

static int adopt_manifest(dd_image *img, dd_doc *m, const dd_desc *d, dd_buf *raw, dd_error *err)
{
	dd_buf cfg = DD_BUF_INIT;
	char what[128];
	int rc;

	img->manifest_digest = d->digest;
	img->manifest_media_type = dd_strdup(m->media_type);
	if (!img->manifest_media_type)
		return dd_error_oom(err);
	dd_buf_release(&img->manifest_raw);
	img->manifest_raw = *raw;
	memset(raw, 0, sizeof(*raw));
	img->manifest_root = json_incref(m->root);
	snprintf(what, sizeof(what), "config %s", m->config.digest.s);
	if ((rc = read_meta(img, &m->config, what, &cfg, err)) == 0 &&
	    (rc = dd_image_set_config(img, &m->config.digest, cfg.data, cfg.len, m->config.media_type, err)) == 0)
		rc = dd_image_set_layers(img, m->layers, m->nlayers, err);
	if (rc)
		dd_error_prefix(err, "manifest %s", d->digest.s);
	dd_buf_release(&cfg);
	return rc;
}

/* Follow `first` (an index or a manifest) down to a manifest.  Strings of
 * the current descriptor live in `parent`, the index it was chosen from. */
static int resolve(dd_image *img, const dd_desc *first, dd_error *err)
{
	dd_digest visited[DD_INDEX_DEPTH_MAX + 1];
	dd_desc d = *first;
	dd_doc parent = { 0 }, doc = { 0 };
	dd_buf raw = DD_BUF_INIT;
	char what[128];
	int rc = 0;

	dd_image_keep_annotations(img, first->annotations);
	for (size_t depth = 0;; depth++) {
		size_t pick = 0;
		for (size_t i = 0; i < depth; i++)
			if (dd_digest_eq(&visited[i], &d.digest)) {
				rc = dd_error_set(err, DD_EINPUT, "index %s refers back to itself (a loop)", d.digest.s);
				goto done;
			}
		if (depth > DD_INDEX_DEPTH_MAX) {
			rc = dd_error_set(err, DD_EINPUT, "indexes nested more than %d deep", DD_INDEX_DEPTH_MAX);
			goto done;
		}
		visited[depth] = d.digest;
		snprintf(what, sizeof(what), "manifest %s", d.digest.s);
		if ((rc = read_meta(img, &d, "manifest", &raw, err)) ||
		    (rc = dd_doc_parse(&doc, raw.data, raw.len, d.media_type, what, err)))
			goto done;
		if (doc.kind == DD_DOC_MANIFEST) {
			rc = adopt_manifest(img, &doc, &d, &raw, err);
			goto done;
		}
		snprintf(what, sizeof(what), "index %s", d.digest.s);
		if ((rc = dd_image_keep_top_index(img, &doc, &d.digest, &raw, err)) ||
		    (rc = dd_image_select_platform(img, doc.manifests, doc.nmanifests, what, &pick, err)))
			goto done;
		img->index_digest = d.digest;
		dd_doc_release(&parent);
		parent = doc;
		memset(&doc, 0, sizeof(doc));
		d = parent.manifests[pick];
		if (d.has_platform)
			img->platform = d.platform;
		dd_image_keep_annotations(img, d.annotations);
	}
done:
	dd_doc_release(&doc);
	dd_doc_release(&parent);
	dd_buf_release(&raw);
	return rc;
}

/* oci:PATH@DIGEST naming a blob that index.json does not list. */
static int direct_desc(dd_image *img, dd_desc *d, dd_error *err)
{
	int fd, rc;

	memset(d, 0, sizeof(*d));
	d->digest = img->r.digest;
	rc = open_blob(img, &d->digest, "reference", &fd, &d->size, err);
	if (rc == 0)
		close(fd);
	return rc;
}

int dd_oci_open(dd_image *img, dd_error *err)
{
	dd_buf b = DD_BUF_INIT;
	dd_doc idx = { 0 };
	dd_desc direct;
	const dd_desc *top = NULL;
	int rc;

	img->dirfd = open(img->r.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (img->dirfd < 0 && (errno == ENOENT || errno == ENOTDIR) && img->r.alt_path) {
		int e = errno, fd = open(img->r.alt_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) { /* skopeo's reading of PATH:TAG names a directory */
			char *p = img->r.path, *t = img->r.tag;
			img->r.path = img->r.alt_path;
			img->r.tag = img->r.alt_tag;
			img->r.alt_path = p;
			img->r.alt_tag = t;
			img->dirfd = fd;
		}
		errno = e;
	}
	if (img->dirfd < 0) {
		if (errno == ENOTDIR)
			return dd_error_set(err, DD_EINPUT, "%s is not a directory (an OCI layout is a directory; "
					    "use docker-archive: for a tar)", img->r.path);
		return dd_error_set(err, errno == ENOENT ? DD_EINPUT : DD_EENV, "%s: %s", img->r.path,
				    strerror(errno));
	}
	if ((rc = check_layout(img, err)) || (rc = read_file(img, "index.json", &b, err)) ||
	    (rc = dd_doc_parse(&idx, b.data, b.len, DD_MT_OCI_INDEX, "index.json", err)))
		goto done;
	if (idx.kind != DD_DOC_INDEX) {
		rc = dd_error_set(err, DD_EINPUT, "index.json is not an image index");
		goto done;
	}
	if (dd_digest_is_set(&img->r.digest)) {
		for (size_t i = 0; !top && i < idx.nmanifests; i++)
			if (dd_digest_eq(&idx.manifests[i].digest, &img->r.digest))
				top = &idx.manifests[i];
		if (!top && (rc = direct_desc(img, &direct, err)) == 0)
			top = &direct;
		if (rc)
			goto done;
	} else if ((rc = select_top(img, &idx, &top, err))) {
		goto done;
	}
	if (top->has_platform)
		img->platform = top->platform;
	rc = resolve(img, top, err);
done:
	dd_doc_release(&idx);
	dd_buf_release(&b);
	return rc;
}

int dd_oci_each_layer(dd_image *img, dd_layer_sink sink, void *ctx, dd_error *err)
{
	for (size_t i = 0; i < img->nlayers; i++) {
		dd_layer_desc *l = &img->layers[i];
		char name[64];
		dd_fd_reader fr;
		dd_reader r;
		uint64_t size;
		int fd, rc;

		if (img->skip && img->skip[i])
			continue;
		snprintf(name, sizeof(name), "layer %zu %.19s", i, l->digest.s);
		if ((rc = open_blob(img, &l->digest, name, &fd, &size, err)))
			return rc;
		if (size != l->size) {
			close(fd);
			return dd_error_set(err, DD_EINPUT, "%s: blob is %llu bytes but the manifest says %llu", name,
					    (unsigned long long)size, (unsigned long long)l->size);
		}
		dd_reader_from_fd(&r, &fr, fd, name);
		rc = sink(ctx, i, &r, &l->digest, name, err);
		close(fd);
		if (rc)
			return rc;
	}
	return 0;
}

int dd_oci_open_layer(dd_image *img, size_t i, dd_layer_blob *b, dd_reader *r, dd_error *err)
{
	dd_layer_desc *l = &img->layers[i];
	char name[64];
	uint64_t size;
	int rc;

	memset(b, 0, sizeof(*b));
	b->fd = -1;
	snprintf(name, sizeof(name), "layer %zu %.19s", i, l->digest.s);
	if ((rc = open_blob(img, &l->digest, name, &b->fd, &size, err)))
		return rc;
	if (size != l->size)
		return dd_error_set(err, DD_EINPUT, "%s: blob is %llu bytes but the manifest says %llu", name,
				    (unsigned long long)size, (unsigned long long)l->size);
	if (!(b->fr = malloc(sizeof(dd_fd_reader))))
		return dd_error_oom(err);
	dd_reader_from_fd(r, b->fr, b->fd, "layer blob");
	return 0;
}

int dd_oci_open_digest(dd_image *img, const dd_digest *d, dd_layer_blob *b, dd_reader *r, dd_error *err)
{
	uint64_t size;
	int rc;

	if ((rc = open_blob(img, d, "blob", &b->fd, &size, err)))
		return rc;
	if (!(b->fr = malloc(sizeof(dd_fd_reader))))
		return dd_error_oom(err);
	dd_reader_from_fd(r, b->fr, b->fd, "blob");
	return 0;
}
