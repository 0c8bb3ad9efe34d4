/* dockerarchive.c - `docker save` archives (docker-archive:PATH[:NAME:TAG|:@N]).
 *
 * The outer tar (optionally gzip- or zstd-wrapped) is read with libarchive,
 * never extracted: member names are only compared, never opened.
 *
 *   pass 1    reads every header; keeps the small JSON members (manifest.json,
 *             configs, index.json, OCI blobs) in memory and skips layer data
 *             (cheap on a plain tar: libarchive seeks over it);
 *   pass 1b   only when needed: fetches a config that did not fit the memory
 *             budget, or counts the uncompressed size of compressed layers
 *             (that size goes into the manifest, as skopeo does);
 *   walk      streams each layer member to the walker in archive order; a
 *             member used by several layers is streamed again in another pass.
 *
 * There is no manifest blob in an archive: like skopeo, drydock synthesises
 * a Docker v2 schema 2 manifest (see docs/images.md) so digests agree.
 */
#include "image/internal.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"
#include "util/banned.h"

#define MEMBERS_MAX 200000
#define NAMES_BUDGET ((size_t)64 << 20) /* bytes of member names kept */
#define KEEP_BUDGET ((size_t)64 << 20) /* small JSON-looking members kept by pass 1 */
#define LINK_HOPS 8

enum { NEED_NONE = 0, NEED_DATA = 1, NEED_USIZE = 2 };

struct member {
	char *name;         /* normalised */
	char *link;         /* normalised target (symlink or hardlink), else NULL */
	uint64_t size;      /* header size */
	uint64_t usize;     /* uncompressed size (== size unless compressed) */
	int compressed;     /* gzip or zstd magic */
	int too_big;        /* larger than DD_JSON_MAX */
	int need;           /* NEED_* for pass 1b */
	dd_buf data;        /* content, when kept */
	int kept;
};

struct scan {
	dd_image *img;
	int fd;
	struct member *m;
	size_t n, cap;
	size_t kept_bytes;
	size_t name_bytes;
	struct archive *a;
};

/* ---- names ---- */

/* Lexically clean "./a//b/../c" -> "a/c"; leading '/' dropped.  NULL when
 * the name is empty or climbs above the archive root. */
static char *clean_name(const char *s)
{
	size_t n = strlen(s), o = 0;
	char *out;

	if (n == 0 || n > 4096)
		return NULL;
	out = malloc(n + 1);
	if (!out)
		return NULL;
	for (const char *p = s; *p;) {
		const char *e = strchr(p, '/');
		size_t cn = e ? (size_t)(e - p) : strlen(p);
		if (cn == 0 || (cn == 1 && p[0] == '.')) {
			/* skip */
		} else if (cn == 2 && p[0] == '.' && p[1] == '.') {
			if (o == 0) {
				free(out);
				return NULL;
			}
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
		} else {
			if (o)
				out[o++] = '/';
			memcpy(out + o, p, cn);
			o += cn;
		}
		p += cn + (e ? 1 : 0);
	}
	out[o] = '\0';
	if (o == 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* Target of a symlink at `name`: relative to the link's directory. */
static char *symlink_target(const char *name, const char *target)
{
	dd_buf b = DD_BUF_INIT_MAX(8192);
	const char *slash = strrchr(name, '/');
	char *r;

	dd_buf_printf(&b, "%.*s/%s", slash ? (int)(slash - name) : 0, name, target);
	r = b.failed ? NULL : clean_name(dd_buf_cstr(&b));
	dd_buf_release(&b);
	return r;
}

/* "blobs/sha256/HEX" -> digest; 0 when the name is content-addressed. */
static int name_digest(const char *name, dd_digest *out)
{
	char tmp[DD_DIGEST_MAX + 8];
	const char *hex = NULL;
	size_t n = strlen(name);

	if (!strncmp(name, "blobs/sha256/", 13))
		hex = name + 13;
	else if (n == 69 && !strcmp(name + 64, ".json")) /* classic "<hex>.json" config */
		hex = name;
	if (!hex || (strlen(hex) != 64 && !(hex == name && n == 69)))
		return -1;
	snprintf(tmp, sizeof(tmp), "sha256:%.64s", hex);
	return dd_digest_parse(out, tmp, "member", NULL) ? -1 : 0;
}

/* ---- the outer archive ---- */

static int ar_error(struct archive *a, const char *path, const char *what, dd_error *err)
{
	const char *s = archive_error_string(a);
	int e = archive_errno(a);

	if (e == ENOMEM)
		return dd_error_oom(err);
	(void)path; /* the image prefix names the archive */
	return dd_error_set(err, DD_EINPUT, "%s: %s", what, s ? s : "read error");
}

static int ar_open(struct scan *s, dd_error *err)
{
	if (lseek(s->fd, 0, SEEK_SET) != 0)
		return dd_error_set(err, DD_EENV, "seek: %s", strerror(errno));
	s->a = archive_read_new();
	if (!s->a)
		return dd_error_oom(err);
	archive_read_support_format_tar(s->a);
	archive_read_support_filter_gzip(s->a);
	archive_read_support_filter_zstd(s->a);
	if (archive_read_open_fd(s->a, s->fd, 65536) != ARCHIVE_OK)
		return ar_error(s->a, s->img->r.path, "not a tar archive", err);
	return 0;
}

static void ar_close(struct scan *s)
{
	if (s->a)
		archive_read_free(s->a);
	s->a = NULL;
}

/* Next header: 1 got one, 0 end, <0 error. */
static int ar_next(struct scan *s, struct archive_entry **e, dd_error *err)
{
	int r = archive_read_next_header(s->a, e);

	if (r == ARCHIVE_EOF)
		return 0;
	if (r == ARCHIVE_OK || r == ARCHIVE_WARN)
		return 1;
	return ar_error(s->a, s->img->r.path, "not a valid tar archive", err);
}

/* Read up to n bytes of the current member. */
static int ar_read_full(struct scan *s, void *buf, size_t n, size_t *got, const char *name, dd_error *err)
{
	*got = 0;
	while (*got < n) {
		la_ssize_t r = archive_read_data(s->a, (char *)buf + *got, n - *got);
		if (r < 0)
			return ar_error(s->a, s->img->r.path, name, err);
		if (r == 0)
			break;
		*got += (size_t)r;
	}
	return 0;
}

static int cmp_member(const void *a, const void *b)
{
	return strcmp(((const struct member *)a)->name, ((const struct member *)b)->name);
}

static struct member *find(struct scan *s, const char *name)
{
	struct member key = { .name = (char *)name };
	return name ? bsearch(&key, s->m, s->n, sizeof(*s->m), cmp_member) : NULL;
}

/* Follow symlinks and hardlinks to a regular member. */
static struct member *resolve_member(struct scan *s, const char *name)
{
	struct member *m = find(s, name);

	for (int hops = 0; m && m->link; hops++)
		m = hops < LINK_HOPS ? find(s, m->link) : NULL;
	return m;
}

static void scan_release(struct scan *s)
{
	ar_close(s);
	for (size_t i = 0; i < s->n; i++) {
		free(s->m[i].name);
		free(s->m[i].link);
		dd_buf_release(&s->m[i].data);
	}
	free(s->m);
	if (s->fd >= 0)
		close(s->fd);
}

static int is_meta_name(const char *n)
{
	return !strcmp(n, "manifest.json") || !strcmp(n, "index.json") || !strcmp(n, "oci-layout") ||
	       !strcmp(n, "repositories");
}

static int looks_json(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n')
			continue;
		return p[i] == '{' || p[i] == '[';
	}
	return 0;
}

static int is_compressed(const unsigned char *p, size_t n)
{
	return (n >= 2 && p[0] == 0x1f && p[1] == 0x8b) ||
	       (n >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd);
}

/* Read the rest of the current member into m->data (peek already read). */
static int keep_data(struct scan *s, struct member *m, const void *peek, size_t np, dd_error *err)
{
	char buf[65536];
	size_t got;
	int rc;

	dd_buf_init(&m->data, DD_JSON_MAX);
	if (dd_buf_append(&m->data, peek, np) || dd_buf_putc(&m->data, 0))
		return dd_buf_error(&m->data, err, m->name);
	m->data.len = np;
	do {
		if ((rc = ar_read_full(s, buf, sizeof(buf), &got, m->name, err)))
			return rc;
		if (dd_buf_append(&m->data, buf, got)) {
			m->too_big = 1;
			dd_buf_release(&m->data);
			return 0;
		}
	} while (got == sizeof(buf));
	m->kept = 1;
	s->kept_bytes += m->data.len;
	return 0;
}

static int add_member(struct scan *s, struct archive_entry *e, struct member **out, dd_error *err)
{
	const char *path = archive_entry_pathname(e), *hl = archive_entry_hardlink(e);
	mode_t type = archive_entry_filetype(e);
	struct member *m;

	*out = NULL;
	if (!path || (!hl && type != AE_IFREG && type != AE_IFLNK))
		return 0;
	if (s->n == MEMBERS_MAX)
		return dd_error_set(err, DD_EINPUT, "more than %d members", MEMBERS_MAX);
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64, bytes;
		struct member *nm;
		if (dd_mul_size(&bytes, cap, sizeof(*nm)) || !(nm = realloc(s->m, bytes)))
			return dd_error_oom(err);
		s->m = nm;
		s->cap = cap;
	}
	m = &s->m[s->n];
	memset(m, 0, sizeof(*m));
	m->name = clean_name(path);
	if (!m->name)
		return 0; /* a name nothing can refer to */
	if (hl)
		m->link = clean_name(hl);
	else if (type == AE_IFLNK)
		m->link = symlink_target(m->name, archive_entry_symlink(e) ? archive_entry_symlink(e) : "");
	if ((hl || type == AE_IFLNK) && !m->link) {
		free(m->name);
		return 0; /* a link that points outside: unusable */
	}
	s->name_bytes += strlen(m->name) + (m->link ? strlen(m->link) : 0);
	if (s->name_bytes > NAMES_BUDGET) {
		free(m->name);
		free(m->link);
		return dd_error_set(err, DD_EINPUT, "member names exceed %zu MiB",
				    NAMES_BUDGET >> 20);
	}
	m->size = archive_entry_size_is_set(e) && archive_entry_size(e) > 0 ? (uint64_t)archive_entry_size(e) : 0;
	m->usize = m->size;
	s->n++;
	*out = m;
	return 0;
}

static int pass1(struct scan *s, dd_error *err)
{
	struct archive_entry *e;
	int rc;

	if ((rc = ar_open(s, err)))
		return rc;
	while ((rc = ar_next(s, &e, err)) == 1) {
		unsigned char peek[512];
		size_t np;
		struct member *m;
		if ((rc = add_member(s, e, &m, err)))
			return rc;
		if (!m || m->link)
			continue;
		if ((rc = ar_read_full(s, peek, sizeof(peek), &np, m->name, err)))
			return rc;
		m->compressed = is_compressed(peek, np);
		m->too_big = m->size > DD_JSON_MAX;
		if (!m->too_big && (is_meta_name(m->name) ||
				    (looks_json(peek, np) && s->kept_bytes + m->size <= KEEP_BUDGET)))
			if ((rc = keep_data(s, m, peek, np, err)))
				return rc;
	}
	ar_close(s);
	if (rc < 0)
		return rc;
	qsort(s->m, s->n, sizeof(*s->m), cmp_member);
	for (size_t i = 1; i < s->n; i++)
		if (!strcmp(s->m[i - 1].name, s->m[i].name))
			return dd_error_set(err, DD_EINPUT, "member '%s' appears twice",
					    s->m[i].name);
	return 0;
}

/* Count the uncompressed bytes of the current (compressed) member. */
struct inner {
	struct scan *s;
	char buf[65536];
};

static la_ssize_t inner_read(struct archive *a, void *ctx, const void **out)
{
	struct inner *in = ctx;
	la_ssize_t r = archive_read_data(in->s->a, in->buf, sizeof(in->buf));
	(void)a;
	*out = in->buf;
	if (r < 0) {
		archive_set_error(a, EIO, "%s", archive_error_string(in->s->a));
		return -1;
	}
	return r;
}

static int count_usize(struct scan *s, struct member *m, dd_error *err)
{
	struct inner *in = dd_calloc(1, sizeof(*in));
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char *buf = malloc(65536);
	uint64_t total = 0;
	int rc = 0;

	if (!in || !a || !buf) {
		rc = dd_error_oom(err);
		goto done;
	}
	in->s = s;
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_format_raw(a);
	if (archive_read_open(a, in, NULL, inner_read, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(a, &e) != ARCHIVE_OK) {
		rc = ar_error(a, s->img->r.path, m->name, err);
		goto done;
	}
	for (;;) {
		la_ssize_t r = archive_read_data(a, buf, 65536);
		if (r < 0) {
			rc = ar_error(a, s->img->r.path, m->name, err);
			goto done;
		}
		if (r == 0)
			break;
		total += (uint64_t)r;
		if (s->img->limits.max_total_bytes && total > s->img->limits.max_total_bytes) {
			rc = dd_error_set(err, DD_EINPUT, "%s uncompresses to more than %llu bytes (see "
					  "--max-image-size)", m->name,
					  (unsigned long long)s->img->limits.max_total_bytes);
			goto done;
		}
	}
	m->usize = total;
done:
	if (a)
		archive_read_free(a);
	free(in);
	free(buf);
	return rc;
}

/* Pass 1b: fetch data / count sizes of members flagged `need`. */
static int pass1b(struct scan *s, dd_error *err)
{
	struct archive_entry *e;
	size_t todo = 0;
	int rc;

	for (size_t i = 0; i < s->n; i++)
		todo += s->m[i].need != NEED_NONE;
	if (!todo)
		return 0;
	if ((rc = ar_open(s, err)))
		return rc;
	while (todo && (rc = ar_next(s, &e, err)) == 1) {
		const char *p = archive_entry_pathname(e);
		char *name = p ? clean_name(p) : NULL;
		struct member *m = find(s, name);
		free(name);
		if (!m || m->link || m->need == NEED_NONE)
			continue;
		if (m->need & NEED_DATA)
			rc = keep_data(s, m, "", 0, err);
		else
			rc = count_usize(s, m, err);
		if (rc)
			break;
		m->need = NEED_NONE;
		todo--;
	}
	ar_close(s);
	return rc < 0 ? rc : 0;
}

/* ---- manifest.json ---- */

struct entry {
	const char *config;
	json_t *tags;   /* array of strings or NULL */
	json_t *layers; /* array of strings */
};

static int parse_entry(json_t *o, size_t i, struct entry *out, dd_error *err)
{
	json_t *c, *v;
	size_t k;

	if (!json_is_object(o))
		return dd_error_set(err, DD_EINPUT, "manifest.json[%zu]: not an object", i);
	c = json_object_get(o, "Config");
	if (!json_is_string(c))
		return dd_error_set(err, DD_EINPUT, "manifest.json[%zu]: 'Config' must be a string", i);
	out->config = json_string_value(c);
	out->tags = json_object_get(o, "RepoTags");
	if (json_is_null(out->tags))
		out->tags = NULL;
	if (out->tags && !json_is_array(out->tags))
		return dd_error_set(err, DD_EINPUT, "manifest.json[%zu]: 'RepoTags' must be an array", i);
	json_array_foreach(out->tags, k, v) {
		if (!json_is_string(v))
			return dd_error_set(err, DD_EINPUT, "manifest.json[%zu]: RepoTags[%zu] must be a string", i, k);
	}
	out->layers = json_object_get(o, "Layers");
	if (!json_is_array(out->layers))
		return dd_error_set(err, DD_EINPUT, "manifest.json[%zu]: 'Layers' must be an array", i);
	if (json_array_size(out->layers) > DD_DESCRIPTORS_MAX)
		return dd_error_set(err, DD_EINPUT, "manifest.json[%zu]: too many layers", i);
	json_array_foreach(out->layers, k, v) {
		if (!json_is_string(v))
			return dd_error_set(err, DD_EINPUT, "manifest.json[%zu]: Layers[%zu] must be a string", i, k);
	}
	return 0;
}

static int has_tag(json_t *tags, const char *want)
{
	size_t k;
	json_t *v;

	json_array_foreach(tags, k, v) {
		char *n = dd_srcref_docker_name(json_string_value(v));
		int eq = n && !strcmp(n, want);
		free(n);
		if (eq)
			return 1;
	}
	return 0;
}

static void list_tags(json_t *root, char *buf, size_t cap)
{
	size_t i, k, o = 0;
	json_t *e, *v;

	buf[0] = '\0';
	json_array_foreach(root, i, e) {
		json_array_foreach(json_object_get(e, "RepoTags"), k, v) {
			if (json_is_string(v) && o + 1 < cap)
				o += (size_t)snprintf(buf + o, cap - o, "%s%.100s", o ? ", " : "", json_string_value(v));
		}
	}
	if (!buf[0])
		snprintf(buf, cap, "no tags");
}

static int choose_entry(struct scan *s, json_t *root, struct entry *out, dd_error *err)
{
	size_t n = json_array_size(root), i;
	char list[512];
	json_t *o;
	int rc;

	if (n == 0)
		return dd_error_set(err, DD_EINPUT, "manifest.json lists no images");
	json_array_foreach(root, i, o) {
		if ((rc = parse_entry(o, i, out, err)))
			return rc;
	}
	if (s->img->r.index >= 0) {
		if ((size_t)s->img->r.index >= n)
			return dd_error_set(err, DD_EINPUT, "source index @%ld: the archive holds %zu images",
					    s->img->r.index, n);
		return parse_entry(json_array_get(root, (size_t)s->img->r.index), (size_t)s->img->r.index, out, err);
	}
	if (s->img->r.tag) {
		json_array_foreach(root, i, o) {
			if (has_tag(json_object_get(o, "RepoTags"), s->img->r.tag))
				return parse_entry(o, i, out, err);
		}
		list_tags(root, list, sizeof(list));
		return dd_error_set(err, DD_EINPUT, "no image tagged %s in the archive (it has: %s)",
				    s->img->r.tag, list);
	}
	if (n > 1) {
		list_tags(root, list, sizeof(list));
		dd_warn("%s holds %zu images (%s); using the first; choose one with docker-archive:PATH:NAME:TAG",
			s->img->r.path, n, list);
	}
	return parse_entry(json_array_get(root, 0), 0, out, err);
}

/* ---- putting the image together ---- */

static int load_config(struct scan *s, struct member *m, const char *name, dd_error *err)
{
	dd_digest d, named;
	int rc;

	if ((rc = dd_digest_of(&d, m->data.data, m->data.len, err)))
		return rc;
	if (name_digest(m->name, &named) == 0 && !dd_digest_eq(&named, &d))
		return dd_error_set(err, DD_EINPUT, "config %s: blob %s digest mismatch (the content hashes to %s)",
				    name, named.s, d.s);
	return dd_image_set_config(s->img, &d, m->data.data, m->data.len, DD_MT_DOCKER_CONFIG, err);
}

/* The manifest `skopeo inspect --raw docker-archive:...` prints. */
static int synthesise(dd_image *img, dd_error *err)
{
	dd_buf *b = &img->manifest_raw;

	dd_buf_reset(b);
	b->max = DD_BUF_DEFAULT_MAX;
	dd_buf_printf(b, "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\","
		      "\"size\":%zu,\"digest\":\"%s\"},\"layers\":[", DD_MT_DOCKER_MANIFEST, DD_MT_DOCKER_CONFIG,
		      img->config_raw.len, img->config_digest.s);
	for (size_t i = 0; i < img->nlayers; i++)
		dd_buf_printf(b, "%s{\"mediaType\":\"%s\",\"size\":%llu,\"digest\":\"%s\"}", i ? "," : "",
			      img->layers[i].media_type, (unsigned long long)img->layers[i].size,
			      img->layers[i].digest.s);
	dd_buf_puts(b, "]}");
	if (b->failed)
		return dd_buf_error(b, err, "manifest");
	img->manifest_media_type = dd_strdup(DD_MT_DOCKER_MANIFEST);
	if (!img->manifest_media_type)
		return dd_error_oom(err);
	return dd_digest_of(&img->manifest_digest, b->data, b->len, err);
}

/* Docker 25+ archives also hold an OCI layout; borrow its annotations
 * (image name, ref.name) for the manifest whose config is ours.  Best
 * effort: the archive's identity is manifest.json, as for skopeo. */
static void oci_annotations(struct scan *s)
{
	struct member *im = find(s, "index.json");
	dd_doc idx = { 0 };
	dd_error e = DD_ERROR_INIT;

	if (!im || !im->kept || dd_doc_parse(&idx, im->data.data, im->data.len, DD_MT_OCI_INDEX, "index.json", &e) ||
	    idx.kind != DD_DOC_INDEX)
		goto done;
	for (size_t i = 0; i < idx.nmanifests; i++) {
		char name[96];
		struct member *mm;
		dd_doc man = { 0 };
		snprintf(name, sizeof(name), "blobs/sha256/%s", dd_digest_hex(&idx.manifests[i].digest));
		mm = resolve_member(s, name);
		if (mm && mm->kept && !dd_blob_verify(&idx.manifests[i].digest, mm->data.data, mm->data.len, name, &e) &&
		    !dd_doc_parse(&man, mm->data.data, mm->data.len, idx.manifests[i].media_type, name, &e) &&
		    man.kind == DD_DOC_MANIFEST && dd_digest_eq(&man.config.digest, &s->img->config_digest)) {
			if (idx.manifests[i].annotations && s->img->nann < DD_INDEX_DEPTH_MAX)
				s->img->ann[s->img->nann++] = json_incref(idx.manifests[i].annotations);
			if (man.annotations && s->img->nann < DD_INDEX_DEPTH_MAX)
				s->img->ann[s->img->nann++] = json_incref(man.annotations);
			dd_doc_release(&man);
			break;
		}
		dd_doc_release(&man);
	}
done:
	dd_doc_release(&idx);
}

static int set_layers(struct scan *s, const struct entry *ent, dd_error *err)
{
	dd_image *img = s->img;
	size_t n = json_array_size(ent->layers);
	dd_desc *d = NULL;
	int rc = 0;

	if (n != img->config.n_diff_ids)
		return dd_error_set(err, DD_EINPUT, "manifest.json lists %zu layers but config %s has %zu "
				    "rootfs.diff_ids", n, img->config_digest.s, img->config.n_diff_ids);
	if (n && !(d = dd_calloc(n, sizeof(*d))))
		return dd_error_oom(err);
	for (size_t i = 0; i < n; i++) {
		d[i].media_type = DD_MT_DOCKER_LAYER_GZIP;
		if ((rc = dd_digest_parse(&d[i].digest, img->config.diff_ids[i], "diff_id", err)))
			goto done;
	}
	if ((rc = dd_image_set_layers(img, d, n, err)))
		goto done;
	if (n && (!(img->members = dd_calloc(n, sizeof(*img->members))) ||
		  !(img->member_digest = dd_calloc(n, sizeof(*img->member_digest))))) {
		rc = dd_error_oom(err);
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		const char *ln = json_string_value(json_array_get(ent->layers, i));
		char *cn = clean_name(ln);
		struct member *m = resolve_member(s, cn);
		free(cn);
		if (!m) {
			rc = dd_error_set(err, DD_EINPUT, "layer %zu: member '%.200s' is missing from the archive", i, ln);
			goto done;
		}
		if (!(img->members[i] = dd_strdup(m->name))) {
			rc = dd_error_oom(err);
			goto done;
		}
		(void)name_digest(m->name, &img->member_digest[i]);
		if (m->compressed)
			m->need |= NEED_USIZE;
	}
done:
	free(d);
	return rc;
}

static int fill_sizes(struct scan *s, dd_error *err)
{
	int rc = pass1b(s, err);

	for (size_t i = 0; rc == 0 && i < s->img->nlayers; i++)
		s->img->layers[i].size = resolve_member(s, s->img->members[i])->usize;
	return rc;
}

static int open_fd(const char *path, int *out, dd_error *err)
{
	struct stat st;

	*out = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (*out < 0)
		return dd_error_set(err, errno == ENOENT || errno == ENOTDIR ? DD_EINPUT : DD_EENV, "%s: %s", path,
				    strerror(errno));
	if (fstat(*out, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(*out);
		*out = -1;
		return dd_error_set(err, DD_EINPUT, "%s is not a regular file%s", path,
				    S_ISDIR(st.st_mode) ? " (for an OCI layout directory use oci:)" : "");
	}
	(void)fcntl(*out, F_SETFL, fcntl(*out, F_GETFL) & ~O_NONBLOCK);
	return 0;
}

int dd_dockerarchive_open(dd_image *img, dd_error *err)
{
	struct scan s = { .img = img, .fd = -1 };
	struct entry ent = { 0 };
	struct member *mj, *cm;
	json_t *root = NULL;
	char *cname = NULL;
	int rc;

	if ((rc = open_fd(img->r.path, &s.fd, err)) || (rc = pass1(&s, err)))
		goto done;
	mj = find(&s, "manifest.json");
	if (!mj || mj->link) {
		rc = dd_error_set(err, DD_EINPUT, "no manifest.json: %s",
				  find(&s, "index.json") && find(&s, "oci-layout") ?
				  "an OCI archive (oci-archive:) is not supported yet; unpack it and use oci:DIR" :
				  "not a `docker save` archive");
		goto done;
	}
	if (!mj->kept) {
		rc = dd_error_set(err, DD_EINPUT, "manifest.json is more than the %zu MiB limit for JSON documents",
				  DD_JSON_MAX >> 20);
		goto done;
	}
	if ((rc = dd_json_load(&root, mj->data.data, mj->data.len, "manifest.json", err)))
		goto done;
	if (!json_is_array(root)) {
		rc = dd_error_set(err, DD_EINPUT, "manifest.json: not a JSON array");
		goto done;
	}
	if ((rc = choose_entry(&s, root, &ent, err)))
		goto done;
	cname = clean_name(ent.config);
	cm = resolve_member(&s, cname);
	if (!cm) {
		rc = dd_error_set(err, DD_EINPUT, "config member '%.200s' is missing from the archive", ent.config);
		goto done;
	}
	if (cm->too_big) {
		rc = dd_error_set(err, DD_EINPUT, "config %s is more than the %zu MiB limit for JSON documents",
				  cm->name, DD_JSON_MAX >> 20);
		goto done;
	}
	if (!cm->kept) {
		cm->need = NEED_DATA;
		if ((rc = pass1b(&s, err)))
			goto done;
		if (!cm->kept) {
			rc = dd_error_set(err, DD_EINPUT, "config %s could not be read", cm->name);
			goto done;
		}
	}
	if ((rc = load_config(&s, cm, cm->name, err)) || (rc = set_layers(&s, &ent, err)) ||
	    (rc = fill_sizes(&s, err)) || (rc = synthesise(img, err)))
		goto done;
	oci_annotations(&s);
done:
	free(cname);
	json_decref(root);
	scan_release(&s);
	return rc;
}

/* ---- walking ---- */

struct ar_reader {
	struct archive *a;
	const char *path, *name;
};

static ssize_t ar_reader_read(void *ctx, void *buf, size_t n, dd_error *err)
{
	struct ar_reader *r = ctx;
	la_ssize_t got = archive_read_data(r->a, buf, n);

	if (got < 0)
		return ar_error(r->a, r->path, r->name, err);
	return (ssize_t)got;
}

struct layer_ref {
	const char *member;
	size_t layer;
};

static int cmp_layer_ref(const void *a, const void *b)
{
	const struct layer_ref *x = a, *y = b;
	int c = strcmp(x->member, y->member);
	return c ? c : (x->layer > y->layer) - (x->layer < y->layer);
}

/* The first not-yet-walked layer held by member `name`, or NULL. */
static struct layer_ref *pending_layer(const unsigned char *done, struct layer_ref *refs, size_t n,
				       const char *name)
{
	size_t lo = 0, hi = n;

	while (lo < hi) { /* lower bound of name */
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(refs[mid].member, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < n && !strcmp(refs[lo].member, name); lo++)
		if (!done[refs[lo].layer])
			return &refs[lo];
	return NULL;
}

struct sink {
	dd_layer_sink fn;
	void *ctx;
	unsigned char *done; /* per layer: delivered */
};

static int walk_one(struct scan *s, struct sink *k, size_t i, dd_error *err)
{
	dd_image *img = s->img;
	dd_layer_desc *l = &img->layers[i];
	struct ar_reader ar = { s->a, img->r.path, img->members[i] };
	dd_reader r = { ar_reader_read, &ar };
	const dd_digest *blob = dd_digest_is_set(&img->member_digest[i]) ? &img->member_digest[i] : NULL;
	char label[300];
	int rc;

	snprintf(label, sizeof(label), "layer %zu %.19s (%.200s)", i, l->digest.s, img->members[i]);
	rc = k->fn(k->ctx, i, &r, blob, label, err);
	if (rc == 0)
		k->done[i] = 1;
	return rc;
}

/* One pass over the archive: walk the first pending layer of each member,
 * in archive order. */
static int walk_pass(struct scan *s, struct sink *k, struct layer_ref *refs, size_t n, size_t *walked,
		     dd_error *err)
{
	struct archive_entry *e;
	int rc;

	*walked = 0;
	if ((rc = ar_open(s, err)))
		return rc;
	while ((rc = ar_next(s, &e, err)) == 1) {
		const char *p = archive_entry_pathname(e);
		struct layer_ref *hit;
		char *name;
		if (!p || archive_entry_hardlink(e) || archive_entry_filetype(e) != AE_IFREG)
			continue;
		if (!(name = clean_name(p)))
			continue;
		hit = pending_layer(k->done, refs, n, name);
		free(name);
		if (!hit)
			continue;
		if ((rc = walk_one(s, k, hit->layer, err)))
			break;
		(*walked)++;
	}
	ar_close(s);
	return rc < 0 ? rc : 0;
}

int dd_dockerarchive_each_layer(dd_image *img, dd_layer_sink sink, void *ctx, dd_error *err)
{
	struct scan s = { .img = img, .fd = -1 };
	struct layer_ref *refs = NULL;
	struct sink k = { sink, ctx, NULL };
	size_t n = img->nlayers, left = n, walked;
	int rc;

	if (n == 0)
		return 0;
	if (!(refs = dd_calloc(n, sizeof(*refs))) || !(k.done = dd_calloc(n, 1))) {
		free(refs);
		return dd_error_oom(err);
	}
	for (size_t i = 0; img->skip && i < n; i++)
		if (img->skip[i]) {
			k.done[i] = 1;
			left--;
		}
	for (size_t i = 0; i < n; i++) {
		refs[i].member = img->members[i];
		refs[i].layer = i;
	}
	qsort(refs, n, sizeof(*refs), cmp_layer_ref);
	if ((rc = open_fd(img->r.path, &s.fd, err)))
		goto done;
	while (left) {
		if ((rc = walk_pass(&s, &k, refs, n, &walked, err)))
			goto done;
		if (walked == 0) {
			for (size_t i = 0; i < n; i++)
				if (!k.done[i]) {
					rc = dd_error_set(err, DD_EINPUT, "layer %zu: member '%s' is missing from the "
							  "archive", i, img->members[i]);
					goto done;
				}
		}
		left -= walked;
	}
done:
	free(refs);
	free(k.done);
	scan_release(&s);
	return rc;
}
