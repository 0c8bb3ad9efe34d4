/* image.c - opening images, the accessors and the walk; see image.h. */
#include "image/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"
#include "cache/layercache.h"
#include "registry/registry.h"
#include "util/banned.h"

int dd_image_keep_top_index(dd_image *img, const dd_doc *idx, const dd_digest *d, const dd_buf *raw,
			    dd_error *err)
{
	if (dd_digest_is_set(&img->top_index_digest))
		return 0;
	img->top_index_digest = *d;
	img->top_index_mt = dd_strdup(idx->media_type);
	if (!img->top_index_mt || dd_buf_append(&img->top_index_raw, raw->data, raw->len))
		return dd_error_oom(err);
	return 0;
}

const dd_buf *dd_image_top_index(const dd_image *img, const char **media_type, const dd_digest **digest)
{
	if (!dd_digest_is_set(&img->top_index_digest))
		return NULL;
	if (media_type)
		*media_type = img->top_index_mt;
	if (digest)
		*digest = &img->top_index_digest;
	return &img->top_index_raw;
}

int dd_image_open_blob(dd_image *img, const dd_digest *d, dd_layer_blob *b, dd_reader *r, dd_error *err)
{
	memset(b, 0, sizeof(*b));
	b->fd = -1;
	if (img->r.transport == DD_TRANSPORT_OCI)
		return dd_oci_open_digest(img, d, b, r, err);
	if (img->r.transport == DD_TRANSPORT_REGISTRY)
		return dd_registry_open_blob(img->reg, d, &b->s, r, err);
	return dd_error_set(err, DD_EUSAGE, "%s has no blobs by digest", dd_transport_name(img->r.transport));
}

const char *dd_transport_name(enum dd_transport t)
{
	switch (t) {
	case DD_TRANSPORT_OCI: return "oci";
	case DD_TRANSPORT_DOCKER_ARCHIVE: return "docker-archive";
	case DD_TRANSPORT_ROOTFS: return "rootfs";
	case DD_TRANSPORT_REGISTRY: return "docker";
	}
	return "unknown";
}

void dd_image_opts_init(dd_image_opts *o)
{
	memset(o, 0, sizeof(*o));
	dd_limits_default(&o->limits);
}

static void platform_copy(dd_platform *p, const char *os, const char *arch, const char *variant)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->os, sizeof(p->os), "%s", os ? os : "");
	snprintf(p->arch, sizeof(p->arch), "%s", arch ? arch : "");
	snprintf(p->variant, sizeof(p->variant), "%s", variant ? variant : "");
}

int dd_image_set_config(dd_image *img, const dd_digest *digest, const void *p, size_t n,
			const char *media_type, dd_error *err)
{
	char what[128];
	int rc;

	snprintf(what, sizeof(what), "config %s", digest->s);
	rc = dd_config_parse(&img->config, &img->config_root, p, n, media_type, what, err);
	if (rc)
		return rc;
	img->config_digest = *digest;
	dd_buf_reset(&img->config_raw);
	img->config_raw.max = DD_JSON_MAX;
	if (dd_buf_append(&img->config_raw, p, n))
		return dd_buf_error(&img->config_raw, err, what);
	if (img->config.os && img->config.architecture)
		platform_copy(&img->platform, img->config.os, img->config.architecture, img->config.variant);
	if (img->want_explicit && img->platform.os[0] && !dd_platform_match(&img->platform, &img->want)) {
		char have[128], want[128];
		dd_platform_format(&img->platform, have, sizeof(have));
		dd_platform_format(&img->want, want, sizeof(want));
		dd_warn("image %s is for %s, not the requested %s", img->ref, have, want);
	}
	return 0;
}

/* Map history entries that made a layer (empty_layer false) onto layers. */
static void map_history(dd_image *img)
{
	size_t k = 0, made = 0;

	for (size_t i = 0; i < img->config.n_history; i++)
		made += !img->config.history[i].empty_layer;
	if (made != img->nlayers)
		return;
	for (size_t i = 0; i < img->config.n_history; i++)
		if (!img->config.history[i].empty_layer)
			img->layers[k++].created_by = img->config.history[i].created_by;
}

int dd_image_set_layers(dd_image *img, const dd_desc *layers, size_t n, dd_error *err)
{
	if (n != img->config.n_diff_ids)
		return dd_error_set(err, DD_EINPUT, "the manifest lists %zu layers but config %s has %zu "
				    "rootfs.diff_ids", n, img->config_digest.s, img->config.n_diff_ids);
	if (n) {
		img->layers = dd_calloc(n, sizeof(*img->layers));
		if (!img->layers)
			return dd_error_oom(err);
	}
	for (size_t i = 0; i < n; i++) {
		dd_layer_desc *l = &img->layers[i];
		img->nlayers = i + 1;
		l->digest = layers[i].digest;
		l->size = layers[i].size;
		l->media_type = dd_strdup(layers[i].media_type ? layers[i].media_type : "");
		if (!l->media_type)
			return dd_error_oom(err);
		if (dd_digest_parse(&l->diff_id, img->config.diff_ids[i], "diff_id", err))
			return DD_EINPUT;
	}
	map_history(img);
	return 0;
}

int dd_image_open(dd_image **out, const char *ref, const dd_image_opts *opts, dd_error *err)
{
	dd_image *img;
	int rc;

	*out = NULL;
	img = dd_calloc(1, sizeof(*img));
	if (!img)
		return dd_error_oom(err);
	img->dirfd = -1;
	dd_buf_init(&img->manifest_raw, DD_JSON_MAX);
	dd_buf_init(&img->top_index_raw, DD_JSON_MAX);
	dd_buf_init(&img->config_raw, DD_JSON_MAX);
	img->ref = dd_strdup(ref ? ref : "");
	if (!img->ref) {
		rc = dd_error_oom(err);
		goto done;
	}
	if ((rc = dd_srcref_parse(&img->r, ref, err)))
		goto done;
	if (opts) {
		img->limits = opts->limits;
		img->cache = opts->cache;
		img->any_platform = opts->any_platform && !opts->platform;
	}
	else
		dd_limits_default(&img->limits);
	if (opts && opts->platform) {
		if ((rc = dd_platform_parse(&img->want, opts->platform, err)))
			goto done;
		img->want_explicit = 1;
	} else {
		dd_platform_host(&img->want);
	}
	switch (img->r.transport) {
	case DD_TRANSPORT_OCI:
		rc = dd_oci_open(img, err);
		break;
	case DD_TRANSPORT_DOCKER_ARCHIVE:
		rc = dd_dockerarchive_open(img, err);
		break;
	case DD_TRANSPORT_ROOTFS:
		rc = dd_rootfs_open(img, err);
		break;
	case DD_TRANSPORT_REGISTRY:
		img->reg_opts = opts ? opts->registry : NULL;
		rc = dd_registry_src_open(img, err);
		break;
	default:
		rc = dd_error_set(err, DD_EINTERNAL, "unknown transport");
	}
	if (rc)
		dd_error_prefix(err, "image %s", ref);
done:
	if (rc) {
		dd_image_free(img);
		return rc;
	}
	*out = img;
	return 0;
}

void dd_image_free(dd_image *img)
{
	if (!img)
		return;
	for (size_t i = 0; i < img->nlayers; i++) {
		free(img->layers[i].media_type);
		if (img->members)
			free(img->members[i]);
	}
	free(img->layers);
	free(img->members);
	free(img->member_digest);
	for (size_t i = 0; i < img->nann; i++)
		json_decref(img->ann[i]);
	dd_config_release(&img->config);
	json_decref(img->config_root);
	json_decref(img->manifest_root);
	dd_buf_release(&img->manifest_raw);
	dd_buf_release(&img->config_raw);
	dd_buf_release(&img->top_index_raw);
	free(img->top_index_mt);
	free(img->manifest_media_type);
	if (img->dirfd >= 0)
		close(img->dirfd);
	dd_registry_free(img->reg);
	free(img->reg_copy);
	dd_srcref_release(&img->r);
	free(img->ref);
	free(img);
}

const char *dd_image_ref(const dd_image *img)
{
	return img->ref;
}

enum dd_transport dd_image_transport(const dd_image *img)
{
	return img->r.transport;
}

const dd_digest *dd_image_index_digest(const dd_image *img)
{
	return &img->index_digest;
}

const dd_digest *dd_image_manifest_digest(const dd_image *img)
{
	return &img->manifest_digest;
}

const char *dd_image_manifest_media_type(const dd_image *img)
{
	return img->manifest_media_type;
}

const dd_buf *dd_image_manifest_raw(const dd_image *img)
{
	return img->manifest_raw.data ? &img->manifest_raw : NULL;
}

const dd_digest *dd_image_config_digest(const dd_image *img)
{
	return &img->config_digest;
}

const dd_buf *dd_image_config_raw(const dd_image *img)
{
	return img->config_raw.data ? &img->config_raw : NULL;
}

const dd_platform *dd_image_platform(const dd_image *img)
{
	return &img->platform;
}

static const char *ann_get(json_t *obj, const char *key)
{
	json_t *v = obj ? json_object_get(obj, key) : NULL;
	return json_is_string(v) ? json_string_value(v) : NULL;
}

const char *dd_image_annotation(const dd_image *img, const char *key)
{
	const char *v = NULL;

	if (!key)
		return NULL;
	if (img->manifest_root)
		v = ann_get(json_object_get(img->manifest_root, "annotations"), key);
	for (size_t i = img->nann; !v && i > 0; i--) /* nearest descriptor first */
		v = ann_get(img->ann[i - 1], key);
	return v;
}

const dd_image_config *dd_image_config_info(const dd_image *img)
{
	return img->config_root ? &img->config : NULL;
}

const char *dd_image_label(const dd_image *img, const char *key)
{
	for (size_t i = 0; key && i < img->config.n_labels; i++)
		if (strcmp(img->config.label_keys[i], key) == 0)
			return img->config.label_values[i];
	return NULL;
}

size_t dd_image_layer_count(const dd_image *img)
{
	return img->nlayers;
}

const dd_layer_desc *dd_image_layer(const dd_image *img, size_t i)
{
	return i < img->nlayers ? &img->layers[i] : NULL;
}

static int each_layer(dd_image *img, dd_layer_sink sink, void *ctx, dd_error *err)
{
	switch (img->r.transport) {
	case DD_TRANSPORT_OCI:
		return dd_oci_each_layer(img, sink, ctx, err);
	case DD_TRANSPORT_DOCKER_ARCHIVE:
		return dd_dockerarchive_each_layer(img, sink, ctx, err);
	case DD_TRANSPORT_REGISTRY:
		return dd_registry_src_each_layer(img, sink, ctx, err);
	case DD_TRANSPORT_ROOTFS:
		return dd_error_set(err, DD_EUSAGE, "a rootfs: directory has no layer blobs");
	}
	return dd_error_set(err, DD_EINTERNAL, "unknown transport");
}

/* How many layers to read at once: DRYDOCK_JOBS, else the number of CPUs
 * (at least 2: downloads overlap even on one core), at most 8. */
static size_t walk_jobs(void)
{
	const char *e = getenv("DRYDOCK_JOBS");
	long n = e ? strtol(e, NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);
	if (!e && n < 2)
		n = 2;
	return n < 1 ? 1 : n > 8 ? 8 : (size_t)n;
}

struct walk_ctx {
	dd_image *img;
	dd_walker *w;
	char key[64];
};

/* The walker as a layer sink; a layer walked is offered to the cache. */
static int walk_sink(void *ctx, size_t i, dd_reader *blob, const dd_digest *blob_digest, const char *label,
		     dd_error *err)
{
	struct walk_ctx *c = ctx;
	dd_layer_desc *l = &c->img->layers[i];
	void *rec;
	size_t len;
	dd_error e2 = DD_ERROR_INIT;
	int rc;

	dd_info("reading layer %zu/%zu %.19s (%.1f MiB)", i + 1, c->img->nlayers, l->digest.s,
		(double)l->size / (1 << 20));
	rc = dd_walker_layer(c->w, (int)i, blob, blob_digest, &l->diff_id, label, &l->stats, err);

	if (rc)
		return rc;
	l->walked = 1;
	if (c->img->cache && dd_walker_take_record(c->w, (int)i, &rec, &len) == 0) {
		if (dd_layercache_put(c->img->cache, &l->diff_id, c->key, rec, len, &e2))
			dd_warn("%s", e2.msg);
		free(rec);
	}
	return 0;
}

/* Replay the layers the cache knows; returns how many were replayed. */
static size_t replay_cached(struct walk_ctx *c, unsigned char *skip)
{
	dd_image *img = c->img;
	size_t hits = 0;

	for (size_t i = 0; i < img->nlayers; i++) {
		dd_layer_desc *l = &img->layers[i];
		dd_error e2 = DD_ERROR_INIT;
		void *rec;
		size_t len;
		int rc;

		if (!dd_digest_is_set(&l->diff_id))
			continue;
		rc = dd_layercache_get(img->cache, &l->diff_id, c->key, &rec, &len, &e2);
		if (rc < 0) {
			dd_warn("%s", e2.msg);
			return hits;
		}
		if (rc == 1)
			continue;
		/* A record that does not replay is a miss: the layer is read. */
		if (dd_walker_replay(c->w, (int)i, rec, len, &l->diff_id, &l->stats, &e2) == 0) {
			l->walked = 1;
			skip[i] = 1;
			hits++;
		} else {
			dd_debug("layer cache: %s: %s", l->diff_id.s, e2.msg);
		}
		free(rec);
	}
	return hits;
}

int dd_image_walk(dd_image *img, dd_walker *w, dd_error *err)
{
	struct walk_ctx ctx = { img, w, "" };
	unsigned char *skip = NULL;
	int rc;

	if (!img || !w)
		return dd_error_set(err, DD_EINTERNAL, "dd_image_walk: no image or walker");
	for (size_t i = 0; i < img->nlayers; i++)
		img->layers[i].walked = 0;
	if (img->r.transport == DD_TRANSPORT_ROOTFS) {
		rc = dd_rootfs_walk(img, w, err);
	} else {
		size_t left = img->nlayers, jobs = walk_jobs();
		if (img->nlayers && (skip = dd_calloc(img->nlayers, 1))) {
			dd_walker_want_key(w, ctx.key, sizeof(ctx.key));
			if (img->cache)
				left -= replay_cached(&ctx, skip);
			img->skip = skip;
			dd_walker_record(w, img->cache != NULL);
		}
		rc = 0;
		if (skip && left > 1 && jobs > 1 &&
		    (img->r.transport == DD_TRANSPORT_OCI || img->r.transport == DD_TRANSPORT_REGISTRY)) {
			/* several layers to read: in parallel, replayed in order */
			rc = dd_image_walk_parallel(img, w, ctx.key, skip, jobs < left ? jobs : left, err);
			for (size_t i = 0; !rc && i < img->nlayers; i++)
				if (img->layers[i].walked)
					skip[i] = 1;
		}
		if (!rc)
			rc = each_layer(img, walk_sink, &ctx, err);
		dd_walker_record(w, 0);
		img->skip = NULL;
		free(skip);
	}
	if (rc == 0)
		rc = dd_walker_finish(w, err);
	if (rc)
		dd_error_prefix(err, "image %s", img->ref);
	return rc;
}

struct blob_ctx {
	dd_layer_blob_cb cb;
	void *ctx;
};

static int blob_sink(void *ctx, size_t i, dd_reader *blob, const dd_digest *blob_digest, const char *label,
		     dd_error *err)
{
	struct blob_ctx *b = ctx;
	(void)blob_digest;
	(void)label;
	return b->cb(b->ctx, i, blob, err);
}

int dd_image_each_layer_blob(dd_image *img, dd_layer_blob_cb cb, void *ctx, dd_error *err)
{
	struct blob_ctx b = { cb, ctx };
	int rc = each_layer(img, blob_sink, &b, err);
	if (rc)
		dd_error_prefix(err, "image %s", img->ref);
	return rc;
}
