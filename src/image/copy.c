/* copy.c - see copy.h. */
#include "image/copy.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/internal.h"
#include "layer/decomp.h"
#include "registry/registry.h"
#include "util/fs.h"
#include "util/banned.h"

#define COPY_BUF ((size_t)256 << 10)

/* ---- a reader that verifies digest and size at its end ---- */

typedef struct vreader {
	dd_reader *in;
	dd_sha256 h;
	uint64_t n, want_size;
	const dd_digest *want;
	const char *what;
	int done;
} vreader;

static ssize_t vread(void *ctx, void *buf, size_t n, dd_error *err)
{
	vreader *v = ctx;
	ssize_t r = dd_reader_read(v->in, buf, n, err);
	dd_digest got;

	if (r < 0)
		return r;
	if (r > 0) {
		dd_sha256_update(&v->h, buf, (size_t)r);
		v->n += (uint64_t)r;
		if (v->want_size && v->n > v->want_size)
			return dd_error_set(err, DD_EINPUT, "%s: more than the %llu bytes its descriptor says",
					    v->what, (unsigned long long)v->want_size);
		return r;
	}
	if (!v->done) {
		v->done = 1;
		dd_sha256_final(&v->h, &got);
		if (v->want && !dd_digest_eq(&got, v->want))
			return dd_error_set(err, DD_EINPUT, "%s: blob %s digest mismatch: got %s", v->what,
					    v->want->s, got.s);
		if (v->want_size && v->n != v->want_size)
			return dd_error_set(err, DD_EINPUT, "%s: %llu bytes, but its descriptor says %llu", v->what,
					    (unsigned long long)v->n, (unsigned long long)v->want_size);
	}
	return 0;
}

static int vreader_init(vreader *v, dd_reader *in, const dd_digest *want, uint64_t size, const char *what,
			dd_reader *out, dd_error *err)
{
	memset(v, 0, sizeof(*v));
	v->in = in;
	v->want = want;
	v->want_size = size;
	v->what = what;
	out->read = vread;
	out->ctx = v;
	return dd_sha256_init(&v->h, err);
}

/* ---- a reader of decompressed bytes ---- */

/* docker-archive sources describe each layer by its diff_id (the manifest
 * skopeo synthesises), so what is copied is the uncompressed tar, whatever
 * compression the archive member has. */
typedef struct dreader {
	dd_decomp *d;
	const unsigned char *blk;
	size_t len, off;
} dreader;

static ssize_t dread(void *ctx, void *buf, size_t n, dd_error *err)
{
	dreader *r = ctx;
	while (r->off == r->len) {
		const void *b;
		int rc = dd_decomp_next(r->d, &b, &r->len, err);
		if (rc)
			return rc;
		r->blk = b;
		r->off = 0;
		if (r->len == 0)
			return dd_decomp_drain(r->d, 0, err) ? DD_EINPUT : 0;
	}
	if (n > r->len - r->off)
		n = r->len - r->off;
	memcpy(buf, r->blk + r->off, n);
	r->off += n;
	return (ssize_t)n;
}

/* ---- destinations ---- */

enum dest_kind { DEST_OCI, DEST_ARCHIVE, DEST_REGISTRY };

typedef struct copy {
	dd_image *src;
	dd_copy_stats *st;
	enum dest_kind kind;
	dd_srcref dref;        /* oci: / docker-archive: destinations */
	/* oci: */
	int dirfd, blobsfd;
	/* docker-archive: */
	struct archive *ar;
	char *ar_tmp;
	char **layer_member;   /* per layer index */
	/* registry */
	dd_registry *reg;
	dd_ref rref;
	char mount_from[256];
} copy;

/* -- oci: -- */

static int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Write name under dirfd atomically (temporary file, then rename). */
static int put_file_at(int dirfd, const char *name, dd_reader *r, uint64_t *bytes, dd_error *err)
{
	char tmp[300];
	unsigned char *buf = malloc(COPY_BUF);
	int fd, rc = 0;

	if (!buf)
		return dd_error_oom(err);
	snprintf(tmp, sizeof(tmp), ".tmp-%ld-%.100s", (long)getpid(), name);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		free(buf);
		return dd_error_set(err, DD_EENV, "cannot create %s: %s", tmp, strerror(errno));
	}
	for (;;) {
		ssize_t n = dd_reader_read(r, buf, COPY_BUF, err);
		if (n < 0) {
			rc = (int)n;
			break;
		}
		if (n == 0)
			break;
		if (write_all(fd, buf, (size_t)n)) {
			rc = dd_error_set(err, DD_EENV, "writing %s: %s", name, strerror(errno));
			break;
		}
		if (bytes)
			*bytes += (uint64_t)n;
	}
	if (close(fd) != 0 && !rc)
		rc = dd_error_set(err, DD_EENV, "writing %s: %s", name, strerror(errno));
	if (!rc && renameat(dirfd, tmp, dirfd, name) != 0)
		rc = dd_error_set(err, DD_EENV, "cannot rename into %s: %s", name, strerror(errno));
	if (rc)
		unlinkat(dirfd, tmp, 0);
	free(buf);
	return rc;
}

struct mem {
	const unsigned char *p;
	size_t n, off;
};

static ssize_t mem_read(void *ctx, void *buf, size_t n, dd_error *err)
{
	struct mem *m = ctx;
	(void)err;
	if (n > m->n - m->off)
		n = m->n - m->off;
	memcpy(buf, m->p + m->off, n);
	m->off += n;
	return (ssize_t)n;
}

static int oci_has_blob(copy *c, const dd_digest *d, uint64_t size)
{
	struct stat st;
	return fstatat(c->blobsfd, dd_digest_hex(d), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
	       (uint64_t)st.st_size == size;
}

static int oci_put_blob(copy *c, const dd_digest *d, uint64_t size, dd_reader *src, const char *what,
			dd_error *err)
{
	vreader v;
	dd_reader r;
	int rc;

	if (oci_has_blob(c, d, size)) {
		c->st->blobs_skipped++;
		return 0;
	}
	if ((rc = vreader_init(&v, src, d, size, what, &r, err)))
		return rc;
	rc = put_file_at(c->blobsfd, dd_digest_hex(d), &r, &c->st->bytes, err);
	dd_sha256_release(&v.h);
	if (!rc)
		c->st->blobs_copied++;
	return rc;
}

static int oci_open(copy *c, dd_error *err)
{
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	struct stat st;
	int rc;

	if ((rc = dd_mkdir_p(c->dref.path, 0755, err)))
		return rc;
	c->dirfd = open(c->dref.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->dirfd < 0)
		return dd_error_set(err, DD_EENV, "%s: %s", c->dref.path, strerror(errno));
	if ((mkdirat(c->dirfd, "blobs", 0755) && errno != EEXIST) ||
	    (mkdirat(c->dirfd, "blobs/sha256", 0755) && errno != EEXIST))
		return dd_error_set(err, DD_EENV, "%s/blobs/sha256: %s", c->dref.path, strerror(errno));
	c->blobsfd = openat(c->dirfd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (c->blobsfd < 0)
		return dd_error_set(err, DD_EENV, "%s/blobs/sha256: %s", c->dref.path, strerror(errno));
	if (fstatat(c->dirfd, "oci-layout", &st, AT_SYMLINK_NOFOLLOW) != 0) {
		struct mem m = { (const unsigned char *)layout, sizeof(layout) - 1, 0 };
		dd_reader r = { mem_read, &m };
		return put_file_at(c->dirfd, "oci-layout", &r, NULL, err);
	}
	return 0;
}

/* index.json: keep other entries, replace the one with our ref.name. */
static int oci_index(copy *c, const char *media_type, const dd_digest *d, size_t size, dd_error *err)
{
	dd_buf old = DD_BUF_INIT;
	json_t *root = NULL, *list, *entry, *ann;
	char *text = NULL;
	int rc = 0;

	{
		char p[4200];
		snprintf(p, sizeof(p), "%s/index.json", c->dref.path);
		if (access(p, F_OK) == 0) {
			if ((rc = dd_file_slurp(p, &old, DD_JSON_MAX, err)) ||
			    (rc = dd_json_load(&root, old.data, old.len, "index.json", err)))
				goto done;
		}
	}
	if (!root)
		root = json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType", DD_MT_OCI_INDEX, "manifests");
	list = json_object_get(root, "manifests");
	if (!json_is_array(list)) {
		rc = dd_error_set(err, DD_EINPUT, "%s/index.json has no manifests list", c->dref.path);
		goto done;
	}
	for (size_t i = json_array_size(list); c->dref.tag && i-- > 0;) {
		const char *rn = json_string_value(json_object_get(json_object_get(json_array_get(list, i),
										   "annotations"), DD_ANN_REF_NAME));
		if (rn && !strcmp(rn, c->dref.tag))
			json_array_remove(list, i);
	}
	entry = json_pack("{s:s, s:s, s:I}", "mediaType", media_type, "digest", d->s, "size", (json_int_t)size);
	if (c->dref.tag) {
		ann = json_pack("{s:s}", DD_ANN_REF_NAME, c->dref.tag);
		json_object_set_new(entry, "annotations", ann);
	}
	json_array_append_new(list, entry);
	text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!text) {
		rc = dd_error_oom(err);
		goto done;
	}
	{
		struct mem m = { (const unsigned char *)text, strlen(text), 0 };
		dd_reader r = { mem_read, &m };
		rc = put_file_at(c->dirfd, "index.json", &r, NULL, err);
	}
done:
	free(text);
	json_decref(root);
	dd_buf_release(&old);
	return rc;
}

/* -- docker-archive: -- */

static int ar_fail(copy *c, dd_error *err)
{
	return dd_error_set(err, DD_EENV, "writing %s: %s", c->dref.path, archive_error_string(c->ar));
}

static int ar_open(copy *c, dd_error *err)
{
	size_t n = strlen(c->dref.path) + 32;
	c->ar_tmp = malloc(n);
	if (!c->ar_tmp)
		return dd_error_oom(err);
	snprintf(c->ar_tmp, n, "%s.tmp.%ld", c->dref.path, (long)getpid());
	c->ar = archive_write_new();
	if (!c->ar || archive_write_set_format_pax_restricted(c->ar) != ARCHIVE_OK ||
	    archive_write_open_filename(c->ar, c->ar_tmp) != ARCHIVE_OK)
		return c->ar ? ar_fail(c, err) : dd_error_oom(err);
	c->layer_member = dd_calloc(c->src->nlayers ? c->src->nlayers : 1, sizeof(char *));
	return c->layer_member ? 0 : dd_error_oom(err);
}

static int ar_add(copy *c, const char *name, int fd, uint64_t size, const void *mem, dd_error *err)
{
	struct archive_entry *e = archive_entry_new();
	unsigned char *buf = NULL;
	int rc = 0;

	if (!e)
		return dd_error_oom(err);
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)size);
	if (archive_write_header(c->ar, e) != ARCHIVE_OK) {
		rc = ar_fail(c, err);
		goto done;
	}
	if (mem) {
		if (archive_write_data(c->ar, mem, size) != (la_ssize_t)size)
			rc = ar_fail(c, err);
		goto done;
	}
	if (!(buf = malloc(COPY_BUF))) {
		rc = dd_error_oom(err);
		goto done;
	}
	for (uint64_t left = size; left && !rc;) {
		ssize_t n = read(fd, buf, left < COPY_BUF ? (size_t)left : COPY_BUF);
		if (n <= 0)
			rc = dd_error_set(err, DD_EENV, "reading back a layer: %s", n ? strerror(errno) : "short");
		else if (archive_write_data(c->ar, buf, (size_t)n) != n)
			rc = ar_fail(c, err);
		else
			left -= (uint64_t)n;
	}
done:
	free(buf);
	archive_entry_free(e);
	return rc;
}

/* A docker-archive stores each layer as an uncompressed tar, so decompress
 * it (verifying the blob digest and the diff_id) into an unlinked temporary
 * file beside the destination, then append it. */
static int ar_put_layer(copy *c, size_t i, dd_reader *src, const char *what, dd_error *err)
{
	dd_layer_desc *l = &c->src->layers[i];
	dd_decomp *d = NULL;
	dd_digest got_blob, got_diff;
	char dir[4200], member[96];
	const void *blk;
	size_t len;
	uint64_t total = 0;
	int fd = -1, rc;
	char *slash;

	snprintf(member, sizeof(member), "%s/layer.tar", dd_digest_hex(&l->diff_id));
	for (size_t j = 0; j < c->src->nlayers; j++)
		if (c->layer_member[j] && !strcmp(c->layer_member[j], member)) {
			c->layer_member[i] = dd_strdup(member);
			c->st->blobs_skipped++;
			return c->layer_member[i] ? 0 : dd_error_oom(err);
		}
	snprintf(dir, sizeof(dir), "%s", c->dref.path);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return dd_error_set(err, DD_EENV, "temporary file in %s: %s", dir, strerror(errno));
	if ((rc = dd_decomp_new(&d, src, err)))
		goto done;
	while ((rc = dd_decomp_next(d, &blk, &len, err)) == 0 && len) {
		if (write_all(fd, blk, len)) {
			rc = dd_error_set(err, DD_EENV, "temporary file: %s", strerror(errno));
			break;
		}
		total += len;
	}
	if (rc || (rc = dd_decomp_drain(d, 0, err)))
		goto done;
	dd_decomp_digests(d, &got_blob, &got_diff);
	if (dd_digest_is_set(&l->digest) && !dd_digest_eq(&got_blob, &l->digest) &&
	    !(c->src->r.transport == DD_TRANSPORT_DOCKER_ARCHIVE)) {
		rc = dd_error_set(err, DD_EINPUT, "%s: blob %s digest mismatch: got %s", what, l->digest.s,
				  got_blob.s);
		goto done;
	}
	if (!dd_digest_eq(&got_diff, &l->diff_id)) {
		rc = dd_error_set(err, DD_EINPUT, "%s: diff_id mismatch: config says %s, content is %s", what,
				  l->diff_id.s, got_diff.s);
		goto done;
	}
	if (lseek(fd, 0, SEEK_SET) != 0) {
		rc = dd_error_set(err, DD_EENV, "temporary file: %s", strerror(errno));
		goto done;
	}
	if ((rc = ar_add(c, member, fd, total, NULL, err)))
		goto done;
	c->st->bytes += total;
	c->st->blobs_copied++;
	c->layer_member[i] = dd_strdup(member);
	if (!c->layer_member[i])
		rc = dd_error_oom(err);
done:
	dd_decomp_free(d);
	if (fd >= 0)
		close(fd);
	return rc;
}

static int ar_finish(copy *c, dd_error *err)
{
	dd_image *img = c->src;
	json_t *man = NULL, *layers = json_array(), *tags = json_array();
	char cfgname[80], *text = NULL;
	int rc;

	snprintf(cfgname, sizeof(cfgname), "%s.json", dd_digest_hex(&img->config_digest));
	if ((rc = ar_add(c, cfgname, -1, img->config_raw.len, img->config_raw.data, err)))
		goto done;
	for (size_t i = 0; i < img->nlayers; i++)
		json_array_append_new(layers, json_string(c->layer_member[i]));
	if (c->dref.tag)
		json_array_append_new(tags, json_string(c->dref.tag));
	man = json_pack("[{s:s, s:o, s:o}]", "Config", cfgname, "RepoTags", tags, "Layers", layers);
	layers = tags = NULL;
	text = man ? json_dumps(man, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	if (!text) {
		rc = dd_error_oom(err);
		goto done;
	}
	if ((rc = ar_add(c, "manifest.json", -1, strlen(text), text, err)))
		goto done;
	if (archive_write_close(c->ar) != ARCHIVE_OK) {
		rc = ar_fail(c, err);
		goto done;
	}
	if (rename(c->ar_tmp, c->dref.path) != 0)
		rc = dd_error_set(err, DD_EENV, "cannot write %s: %s", c->dref.path, strerror(errno));
done:
	json_decref(layers);
	json_decref(tags);
	json_decref(man);
	free(text);
	return rc;
}

/* -- the copy -- */

static int layer_cb2(copy *c, size_t i, dd_reader *blob, dd_error *err);

static int layer_cb(void *ctx, size_t i, dd_reader *blob, dd_error *err)
{
	copy *c = ctx;
	dreader dr = { 0 };
	dd_reader r = { dread, &dr };
	int rc;

	if (c->src->r.transport != DD_TRANSPORT_DOCKER_ARCHIVE || c->kind == DEST_ARCHIVE)
		return layer_cb2(c, i, blob, err);
	if ((rc = dd_decomp_new(&dr.d, blob, err)))
		return rc;
	rc = layer_cb2(c, i, &r, err);
	dd_decomp_free(dr.d);
	return rc;
}

static int layer_cb2(copy *c, size_t i, dd_reader *blob, dd_error *err)
{
	dd_layer_desc *l = &c->src->layers[i];
	char what[64];
	vreader v;
	dd_reader r;
	int rc;

	snprintf(what, sizeof(what), "layer %zu %.19s", i, l->digest.s);
	switch (c->kind) {
	case DEST_OCI:
		return oci_put_blob(c, &l->digest, l->size, blob, what, err);
	case DEST_ARCHIVE:
		return ar_put_layer(c, i, blob, what, err);
	case DEST_REGISTRY:
		rc = dd_registry_blob_exists(c->reg, &l->digest, err);
		if (rc < 0)
			return rc;
		if (rc == 1) {
			c->st->blobs_skipped++;
			return 0;
		}
		if ((rc = vreader_init(&v, blob, &l->digest, l->size, what, &r, err)))
			return rc;
		rc = dd_registry_push_blob(c->reg, &l->digest, l->size, &r,
					   c->mount_from[0] ? c->mount_from : NULL, err);
		dd_sha256_release(&v.h);
		if (rc == 1)
			c->st->blobs_skipped++; /* mounted */
		else if (rc == 0) {
			c->st->blobs_copied++;
			c->st->bytes += v.n;
		}
		return rc < 0 ? rc : 0;
	}
	return DD_EINTERNAL;
}

static int put_mem(copy *c, const dd_digest *d, const void *p, size_t n, const char *what, dd_error *err)
{
	struct mem m = { p, n, 0 };
	dd_reader r = { mem_read, &m };
	if (c->kind == DEST_OCI)
		return oci_put_blob(c, d, n, &r, what, err);
	int rc = dd_registry_push_blob(c->reg, d, n, &r, c->mount_from[0] ? c->mount_from : NULL, err);
	if (rc == 0) {
		c->st->blobs_copied++;
		c->st->bytes += n;
	} else if (rc == 1) {
		c->st->blobs_skipped++;
	}
	return rc < 0 ? rc : 0;
}

static int parse_dest(copy *c, const char *dst, const dd_copy_opts *o, dd_error *err)
{
	int rc;
	if (!strncmp(dst, "oci:", 4) || !strncmp(dst, "docker-archive:", 15)) {
		if ((rc = dd_srcref_parse(&c->dref, dst, err)))
			return rc;
		if (c->dref.digest.s[0])
			return dd_error_set(err, DD_EUSAGE, "copy: a destination takes a tag, not a digest");
		c->kind = c->dref.transport == DD_TRANSPORT_OCI ? DEST_OCI : DEST_ARCHIVE;
		return c->kind == DEST_OCI ? oci_open(c, err) : ar_open(c, err);
	}
	if (!strncmp(dst, "rootfs:", 7))
		return dd_error_set(err, DD_EUSAGE, "copy: rootfs: is not a destination");
	if ((rc = dd_ref_parse(&c->rref, dst, err)))
		return rc;
	if (dd_digest_is_set(&c->rref.digest))
		return dd_error_set(err, DD_EUSAGE, "copy: a destination takes a tag, not a digest");
	c->kind = DEST_REGISTRY;
	{
		dd_registry_opts ro;
		if (o && o->dst_registry)
			ro = *o->dst_registry;
		else
			dd_registry_opts_init(&ro);
		ro.push = 1;
		if ((rc = dd_registry_new(&c->reg, &c->rref, &ro, err)))
			return rc;
	}
	if (c->src->r.transport == DD_TRANSPORT_REGISTRY) {
		dd_ref s;
		if (dd_ref_parse(&s, c->src->r.path, NULL) == 0 && !strcmp(s.domain, c->rref.domain) &&
		    strcmp(s.path, c->rref.path))
			snprintf(c->mount_from, sizeof(c->mount_from), "%s", s.path);
	}
	return 0;
}

int dd_image_copy(dd_image *src, const char *dst, const dd_copy_opts *o, dd_copy_stats *st, dd_error *err)
{
	copy c;
	int rc;

	memset(&c, 0, sizeof(c));
	memset(st, 0, sizeof(*st));
	c.src = src;
	c.st = st;
	c.dirfd = c.blobsfd = -1;
	if (src->r.transport == DD_TRANSPORT_ROOTFS) {
		rc = dd_error_set(err, DD_EUSAGE, "copy: a rootfs: directory is not an image (no manifest)");
		goto done;
	}
	if ((rc = parse_dest(&c, dst, o, err)))
		goto done;
	if ((rc = dd_image_each_layer_blob(src, layer_cb, &c, err)))
		goto done;
	if (c.kind == DEST_ARCHIVE) {
		rc = ar_finish(&c, err);
		goto done;
	}
	if ((rc = put_mem(&c, &src->config_digest, src->config_raw.data, src->config_raw.len, "config", err)))
		goto done;
	if (c.kind == DEST_OCI) {
		if ((rc = put_mem(&c, &src->manifest_digest, src->manifest_raw.data, src->manifest_raw.len,
				  "manifest", err)) ||
		    (rc = oci_index(&c, src->manifest_media_type, &src->manifest_digest, src->manifest_raw.len, err)))
			goto done;
	} else {
		rc = dd_registry_put_manifest(c.reg, c.rref.tag, src->manifest_media_type, src->manifest_raw.data,
					      src->manifest_raw.len, err);
		if (rc)
			goto done;
	}
	st->manifest_digest = src->manifest_digest;
done:
	if (rc)
		dd_error_prefix(err, "copy to %s", dst);
	if (c.ar) {
		if (rc) {
			archive_write_free(c.ar);
			unlink(c.ar_tmp);
		} else {
			archive_write_free(c.ar);
		}
	}
	if (c.layer_member)
		for (size_t i = 0; i < src->nlayers; i++)
			free(c.layer_member[i]);
	free(c.layer_member);
	free(c.ar_tmp);
	if (c.blobsfd >= 0)
		close(c.blobsfd);
	if (c.dirfd >= 0)
		close(c.dirfd);
	dd_registry_free(c.reg);
	dd_srcref_release(&c.dref);
	return rc;
}

/* ---- copy --all: a multi-platform index and every manifest it lists ---- */

static int src_manifest(dd_image *img, const dd_digest *d, dd_buf *raw, char **mt, dd_error *err)
{
	*mt = NULL;
	if (img->r.transport == DD_TRANSPORT_REGISTRY) {
		dd_digest got;
		return dd_registry_get_manifest(img->reg, d->s, raw, mt, &got, err);
	}
	dd_layer_blob b;
	dd_reader r;
	int rc = dd_image_open_blob(img, d, &b, &r, err);
	if (!rc)
		rc = dd_reader_slurp(&r, raw, DD_JSON_MAX, "manifest", err);
	dd_layer_blob_close(&b);
	if (!rc)
		rc = dd_blob_verify(d, raw->data, raw->len, "manifest", err);
	return rc;
}

/* One blob of the source to the destination, verified on the way. */
static int copy_blob(copy *c, const dd_desc *d, dd_error *err)
{
	dd_layer_blob b;
	dd_reader r, vr;
	vreader v;
	int rc;

	if (c->kind == DEST_OCI && oci_has_blob(c, &d->digest, d->size)) {
		c->st->blobs_skipped++;
		return 0;
	}
	if ((rc = dd_image_open_blob(c->src, &d->digest, &b, &r, err)))
		return rc;
	if (c->kind == DEST_OCI) {
		rc = oci_put_blob(c, &d->digest, d->size, &r, d->digest.s, err);
	} else if ((rc = vreader_init(&v, &r, &d->digest, d->size, d->digest.s, &vr, err)) == 0) {
		rc = dd_registry_push_blob(c->reg, &d->digest, d->size, &vr, c->mount_from[0] ? c->mount_from : NULL,
					   err);
		dd_sha256_release(&v.h);
		if (rc == 1)
			c->st->blobs_skipped++;
		else if (rc == 0) {
			c->st->blobs_copied++;
			c->st->bytes += v.n;
		}
		rc = rc < 0 ? rc : 0;
	}
	dd_layer_blob_close(&b);
	return rc;
}

/* A manifest (with its blobs) or index body, by digest, tagged when tag. */
static int put_doc(copy *c, const dd_digest *d, const char *mt, const dd_buf *raw, const char *tag, dd_error *err)
{
	int rc;
	if (c->kind == DEST_OCI) {
		if ((rc = put_mem(c, d, raw->data, raw->len, "manifest", err)))
			return rc;
		return tag ? oci_index(c, mt, d, raw->len, err) : 0;
	}
	return dd_registry_put_manifest(c->reg, tag ? tag : d->s, mt, raw->data, raw->len, err);
}

static int copy_child(copy *c, const dd_desc *child, dd_error *err)
{
	dd_buf raw = DD_BUF_INIT_MAX(DD_JSON_MAX);
	dd_doc doc = { 0 };
	char *mt = NULL, what[100];
	int rc;

	snprintf(what, sizeof(what), "manifest %s", child->digest.s);
	if ((rc = src_manifest(c->src, &child->digest, &raw, &mt, err)) ||
	    (rc = dd_doc_parse(&doc, raw.data, raw.len, child->media_type ? child->media_type : mt, what, err)))
		goto done;
	if (doc.kind != DD_DOC_MANIFEST) {
		rc = dd_error_set(err, DD_EINPUT, "%s: nested indexes are not copied with --all", what);
		goto done;
	}
	if ((rc = copy_blob(c, &doc.config, err)))
		goto done;
	for (size_t i = 0; i < doc.nlayers; i++)
		if ((rc = copy_blob(c, &doc.layers[i], err)))
			goto done;
	rc = put_doc(c, &child->digest, doc.media_type, &raw, NULL, err);
done:
	if (rc)
		dd_error_prefix(err, "%s", what);
	dd_doc_release(&doc);
	dd_buf_release(&raw);
	free(mt);
	return rc;
}

int dd_image_copy_all(dd_image *src, const char *dst, const dd_copy_opts *o, dd_copy_stats *st, dd_error *err)
{
	const char *mt;
	const dd_digest *idx_digest;
	const dd_buf *idx = dd_image_top_index(src, &mt, &idx_digest);
	dd_doc doc = { 0 };
	copy c;
	int rc;

	if (!idx)
		return dd_image_copy(src, dst, o, st, err);
	memset(&c, 0, sizeof(c));
	memset(st, 0, sizeof(*st));
	c.src = src;
	c.st = st;
	c.dirfd = c.blobsfd = -1;
	if (!strncmp(dst, "docker-archive:", 15)) {
		rc = dd_error_set(err, DD_EUSAGE, "copy --all: a docker-archive holds one platform; choose it with --platform");
		goto done;
	}
	if ((rc = parse_dest(&c, dst, o, err)) ||
	    (rc = dd_doc_parse(&doc, idx->data, idx->len, mt, "index", err)))
		goto done;
	for (size_t i = 0; i < doc.nmanifests; i++)
		if ((rc = copy_child(&c, &doc.manifests[i], err)))
			goto done;
	if ((rc = put_doc(&c, idx_digest, mt, idx, c.kind == DEST_OCI ? c.dref.tag : c.rref.tag, err)))
		goto done;
	st->manifest_digest = *idx_digest;
done:
	if (rc)
		dd_error_prefix(err, "copy to %s", dst);
	dd_doc_release(&doc);
	if (c.blobsfd >= 0)
		close(c.blobsfd);
	if (c.dirfd >= 0)
		close(c.dirfd);
	dd_registry_free(c.reg);
	dd_srcref_release(&c.dref);
	return rc;
}
