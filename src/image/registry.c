/*
 * registry.c - images in a registry ([docker://]HOST/NAME[:TAG|@DIGEST]);
 * see image.h and docs/registry.md.
 *
 * Opening fetches the manifest (following indexes to the wanted platform)
 * and the config, each verified against its digest; walking streams each
 * layer blob straight from the HTTP connection into the layer walker, which
 * verifies the blob digest and the diff_id as the bytes pass.  Nothing is
 * written to disk.
 */
#include "image/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry/registry.h"
#include "util/banned.h"

/* Fetch a manifest/index by digest or tag; check the descriptor's size. */
static int fetch_doc(dd_image *img, const char *reference, const dd_desc *d, dd_doc *doc,
		     dd_buf *raw, dd_digest *digest, dd_error *err)
{
	char *mt = NULL, what[160];
	int rc;

	dd_buf_release(raw);
	if ((rc = dd_registry_get_manifest(img->reg, reference, raw, &mt, digest, err)))
		return rc;
	if (d && d->size && d->size != raw->len) {
		rc = dd_error_set(err, DD_EINPUT, "manifest %s is %zu bytes but its descriptor says %llu",
				  digest->s, raw->len, (unsigned long long)d->size);
		goto done;
	}
	snprintf(what, sizeof(what), "manifest %s", digest->s);
	rc = dd_doc_parse(doc, raw->data, raw->len, d && d->media_type ? d->media_type : mt, what, err);
done:
	free(mt);
	return rc;
}

static int adopt(dd_image *img, dd_doc *m, const dd_digest *digest, dd_buf *raw, dd_error *err)
{
	dd_buf cfg = DD_BUF_INIT;
	int rc;

	img->manifest_digest = *digest;
	img->manifest_media_type = dd_strdup(m->media_type);
	if (!img->manifest_media_type)
		return dd_error_oom(err);
	dd_buf_release(&img->manifest_raw);
	img->manifest_raw = *raw;
	dd_buf_init(raw, DD_JSON_MAX);
	img->manifest_root = json_incref(m->root);
	dd_image_keep_annotations(img, m->annotations);
	if (m->config.size > DD_JSON_MAX)
		return dd_error_set(err, DD_EINPUT, "config %s is %llu bytes, more than the %zu MiB limit",
				    m->config.digest.s, (unsigned long long)m->config.size, DD_JSON_MAX >> 20);
	if ((rc = dd_registry_get_blob(img->reg, &m->config.digest, DD_JSON_MAX, &cfg, err)))
		goto done;
	if (cfg.len != m->config.size) {
		rc = dd_error_set(err, DD_EINPUT, "config %s is %zu bytes but its descriptor says %llu",
				  m->config.digest.s, cfg.len, (unsigned long long)m->config.size);
		goto done;
	}
	if ((rc = dd_image_set_config(img, &m->config.digest, cfg.data, cfg.len, m->config.media_type, err)))
		goto done;
	rc = dd_image_set_layers(img, m->layers, m->nlayers, err);
done:
	dd_buf_release(&cfg);
	return rc;
}

int dd_registry_src_open(dd_image *img, dd_error *err)
{
	dd_registry_opts defaults;
	dd_ref ref;
	dd_doc doc = { 0 }, parent = { 0 };
	dd_buf raw = DD_BUF_INIT_MAX(DD_JSON_MAX);
	dd_digest visited[DD_INDEX_DEPTH_MAX + 1], digest;
	const dd_desc *d = NULL;
	char reference[200];
	int rc;

	if ((rc = dd_ref_parse(&ref, img->r.path, err)))
		return rc;
	if (!img->reg_opts) {
		dd_registry_opts_init(&defaults);
		img->reg_opts = &defaults;
	}
	rc = dd_registry_new(&img->reg, &ref, img->reg_opts, err);
	if (!rc && (img->reg_copy = malloc(sizeof(*img->reg_copy))))
		*img->reg_copy = *img->reg_opts;
	img->reg_opts = NULL; /* may point at this stack frame */
	if (rc)
		return rc;
	snprintf(reference, sizeof(reference), "%s", dd_digest_is_set(&ref.digest) ? ref.digest.s : ref.tag);
	for (size_t depth = 0;; depth++) {
		size_t pick = 0;
		if (depth > DD_INDEX_DEPTH_MAX) {
			rc = dd_error_set(err, DD_EINPUT, "indexes nested more than %d deep", DD_INDEX_DEPTH_MAX);
			break;
		}
		if ((rc = fetch_doc(img, reference, d, &doc, &raw, &digest, err)))
			break;
		for (size_t i = 0; i < depth; i++)
			if (dd_digest_eq(&visited[i], &digest)) {
				rc = dd_error_set(err, DD_EINPUT, "index %s refers back to itself (a loop)", digest.s);
				goto done;
			}
		visited[depth] = digest;
		if (doc.kind == DD_DOC_MANIFEST) {
			rc = adopt(img, &doc, &digest, &raw, err);
			if (rc)
				dd_error_prefix(err, "manifest %s", digest.s);
			break;
		}
		img->index_digest = digest;
		if ((rc = dd_image_keep_top_index(img, &doc, &digest, &raw, err)))
			break;
		dd_image_keep_annotations(img, doc.annotations);
		if ((rc = dd_image_select_platform(img, doc.manifests, doc.nmanifests, "the index", &pick, err)))
			break;
		dd_doc_release(&parent);
		parent = doc;
		memset(&doc, 0, sizeof(doc));
		d = &parent.manifests[pick];
		if (d->has_platform)
			img->platform = d->platform;
		dd_image_keep_annotations(img, d->annotations);
		snprintf(reference, sizeof(reference), "%s", d->digest.s);
	}
done:
	dd_doc_release(&doc);
	dd_doc_release(&parent);
	dd_buf_release(&raw);
	return rc;
}

int dd_registry_src_each_layer(dd_image *img, dd_layer_sink sink, void *ctx, dd_error *err)
{
	for (size_t i = 0; i < img->nlayers; i++) {
		dd_layer_desc *l = &img->layers[i];
		dd_http_stream *s = NULL;
		dd_reader r;
		char name[64];
		int rc;

		if (img->skip && img->skip[i])
			continue;
		snprintf(name, sizeof(name), "layer %zu %.19s", i, l->digest.s);
		if ((rc = dd_registry_open_blob(img->reg, &l->digest, &s, &r, err)))
			return dd_error_prefix(err, "%s", name);
		rc = sink(ctx, i, &r, &l->digest, name, err);
		dd_http_stream_free(s);
		if (rc)
			return rc;
	}
	return 0;
}

int dd_registry_src_open_layer(dd_image *img, size_t i, struct dd_registry **reg, dd_layer_blob *b,
			       dd_reader *r, dd_error *err)
{
	dd_layer_desc *l = &img->layers[i];
	dd_ref ref;
	int rc;

	memset(b, 0, sizeof(*b));
	b->fd = -1;
	if (!*reg) {
		if (!img->reg_copy)
			return dd_error_oom(err);
		if ((rc = dd_ref_parse(&ref, img->r.path, err)) ||
		    (rc = dd_registry_new(reg, &ref, img->reg_copy, err)))
			return rc;
	}
	return dd_registry_open_blob(*reg, &l->digest, &b->s, r, err);
}
