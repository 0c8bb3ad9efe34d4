/* manifest.c - OCI / Docker manifests, indexes and image configs; see internal.h. */
#include "image/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/banned.h"

/* ---- JSON helpers: every field read is type-checked ---- */

int dd_json_load(json_t **out, const void *p, size_t n, const char *what, dd_error *err)
{
	json_error_t je;

	*out = NULL;
	if (n > DD_JSON_MAX)
		return dd_error_set(err, DD_EINPUT, "%s is %zu bytes, more than the %zu MiB limit for JSON documents",
				    what, n, DD_JSON_MAX >> 20);
	*out = json_loadb(p, n, JSON_REJECT_DUPLICATES, &je);
	if (!*out)
		return dd_error_set(err, DD_EINPUT, "%s: malformed JSON at line %d column %d: %s", what,
				    je.line, je.column, je.text);
	return 0;
}

/* Optional string member: absent or null -> *out = NULL. */
static int opt_str(json_t *o, const char *key, const char **out, const char *what, dd_error *err)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return dd_error_set(err, DD_EINPUT, "%s: '%s' must be a string", what, key);
	*out = json_string_value(v);
	return 0;
}

static int req_str(json_t *o, const char *key, const char **out, const char *what, dd_error *err)
{
	int rc = opt_str(o, key, out, what, err);
	if (rc == 0 && !*out)
		return dd_error_set(err, DD_EINPUT, "%s: missing '%s'", what, key);
	return rc;
}

/* Optional object / array member (absent or null -> NULL). */
static int opt_typed(json_t *o, const char *key, int want_array, json_t **out, const char *what,
		     dd_error *err)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (want_array ? !json_is_array(v) : !json_is_object(v))
		return dd_error_set(err, DD_EINPUT, "%s: '%s' must be %s", what, key,
				    want_array ? "an array" : "an object");
	*out = v;
	return 0;
}

/* An object whose values are all strings (annotations, labels). */
static int string_map(json_t *o, const char *key, json_t **out, const char *what, dd_error *err)
{
	const char *k;
	json_t *v;
	int rc = opt_typed(o, key, 0, out, what, err);

	if (rc || !*out)
		return rc;
	json_object_foreach(*out, k, v) {
		if (!json_is_string(v))
			return dd_error_set(err, DD_EINPUT, "%s: %s['%.100s'] must be a string", what, key, k);
	}
	return 0;
}

/* An array of strings (or null) into a new array of borrowed pointers. */
static int string_array(json_t *o, const char *key, const char ***out, size_t *n, const char *what,
			dd_error *err)
{
	json_t *a, *v;
	size_t i;
	int rc = opt_typed(o, key, 1, &a, what, err);

	*out = NULL;
	*n = 0;
	if (rc || !a || json_array_size(a) == 0)
		return rc;
	*out = dd_calloc(json_array_size(a), sizeof(**out));
	if (!*out)
		return dd_error_oom(err);
	json_array_foreach(a, i, v) {
		if (!json_is_string(v))
			return dd_error_set(err, DD_EINPUT, "%s: %s[%zu] must be a string", what, key, i);
		(*out)[i] = json_string_value(v);
		*n = i + 1;
	}
	return 0;
}

/* ---- descriptors ---- */

static int parse_platform(dd_platform *p, json_t *o, const char *what, dd_error *err)
{
	const char *os, *arch, *variant;
	int rc;

	if (!json_is_object(o))
		return dd_error_set(err, DD_EINPUT, "%s: 'platform' must be an object", what);
	if ((rc = req_str(o, "os", &os, what, err)) || (rc = req_str(o, "architecture", &arch, what, err)) ||
	    (rc = opt_str(o, "variant", &variant, what, err)))
		return rc;
	if (strlen(os) >= sizeof(p->os) || strlen(arch) >= sizeof(p->arch) ||
	    (variant && strlen(variant) >= sizeof(p->variant)))
		return dd_error_set(err, DD_EINPUT, "%s: platform field too long", what);
	memset(p, 0, sizeof(*p));
	memcpy(p->os, os, strlen(os));
	memcpy(p->arch, arch, strlen(arch));
	if (variant)
		memcpy(p->variant, variant, strlen(variant));
	return 0;
}

static int parse_desc(dd_desc *d, json_t *o, const char *what, dd_error *err)
{
	const char *digest;
	json_t *size, *platform;
	int rc;

	memset(d, 0, sizeof(*d));
	if (!json_is_object(o))
		return dd_error_set(err, DD_EINPUT, "%s: descriptor must be an object", what);
	if ((rc = opt_str(o, "mediaType", &d->media_type, what, err)) ||
	    (rc = req_str(o, "digest", &digest, what, err)) ||
	    (rc = dd_digest_parse(&d->digest, digest, what, err)))
		return rc;
	size = json_object_get(o, "size");
	if (!size)
		return dd_error_set(err, DD_EINPUT, "%s: missing 'size'", what);
	if (!json_is_integer(size) || json_integer_value(size) < 0)
		return dd_error_set(err, DD_EINPUT, "%s: 'size' must be a non-negative integer", what);
	d->size = (uint64_t)json_integer_value(size);
	if ((rc = string_map(o, "annotations", &d->annotations, what, err)))
		return rc;
	if (d->annotations) {
		json_t *rn = json_object_get(d->annotations, DD_ANN_REF_NAME);
		d->ref_name = rn ? json_string_value(rn) : NULL;
	}
	if ((rc = opt_typed(o, "platform", 0, &platform, what, err)))
		return rc;
	if (platform) {
		if ((rc = parse_platform(&d->platform, platform, what, err)))
			return rc;
		d->has_platform = 1;
	}
	return 0;
}

/* Parse an array member of descriptors into a new array. */
static int parse_desc_array(json_t *root, const char *key, dd_desc **out, size_t *n, int need_mt,
			    const char *what, dd_error *err)
{
	json_t *a = json_object_get(root, key), *v;
	char w[512];
	size_t i;
	int rc;

	*out = NULL;
	*n = 0;
	if (!a)
		return dd_error_set(err, DD_EINPUT, "%s: missing '%s'", what, key);
	if (!json_is_array(a))
		return dd_error_set(err, DD_EINPUT, "%s: '%s' must be an array", what, key);
	if (json_array_size(a) > DD_DESCRIPTORS_MAX)
		return dd_error_set(err, DD_EINPUT, "%s: %zu entries in '%s', more than %d", what,
				    json_array_size(a), key, DD_DESCRIPTORS_MAX);
	if (json_array_size(a) == 0)
		return 0;
	*out = dd_calloc(json_array_size(a), sizeof(**out));
	if (!*out)
		return dd_error_oom(err);
	json_array_foreach(a, i, v) {
		snprintf(w, sizeof(w), "%s: %s[%zu]", what, key, i);
		if ((rc = parse_desc(&(*out)[i], v, w, err)))
			return rc;
		*n = i + 1;
		if (need_mt && !(*out)[i].media_type)
			return dd_error_set(err, DD_EINPUT, "%s: missing 'mediaType'", w);
	}
	return 0;
}

/* ---- manifests and indexes ---- */

static int is_schema1(const char *mt)
{
	return mt && (!strcmp(mt, "application/vnd.docker.distribution.manifest.v1+json") ||
		      !strcmp(mt, "application/vnd.docker.distribution.manifest.v1+prettyjws"));
}

/* Canonical media type and kind, or NULL when unknown. */
static const char *known_doc_type(const char *mt, enum dd_doc_kind *kind)
{
	static const struct { const char *mt; enum dd_doc_kind kind; } t[] = {
		{ DD_MT_OCI_MANIFEST, DD_DOC_MANIFEST },
		{ DD_MT_OCI_INDEX, DD_DOC_INDEX },
		{ DD_MT_DOCKER_MANIFEST, DD_DOC_MANIFEST },
		{ DD_MT_DOCKER_LIST, DD_DOC_INDEX },
	};
	for (size_t i = 0; mt && i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcmp(mt, t[i].mt)) {
			*kind = t[i].kind;
			return t[i].mt;
		}
	return NULL;
}

static int doc_kind(dd_doc *d, const char *own, const char *declared, const char *what, dd_error *err)
{
	enum dd_doc_kind dk = DD_DOC_MANIFEST;
	const char *canon;

	if (own) {
		canon = known_doc_type(own, &d->kind);
		if (!canon)
			return dd_error_set(err, DD_EINPUT, "%s: unsupported media type '%.200s'", what, own);
		if (declared && known_doc_type(declared, &dk) && dk != d->kind)
			return dd_error_set(err, DD_EINPUT, "%s: the descriptor says '%s' but the document is '%s'",
					    what, declared, own);
	} else if (declared) {
		canon = known_doc_type(declared, &d->kind);
		if (!canon)
			return dd_error_set(err, DD_EINPUT, "%s: unsupported media type '%.200s'", what, declared);
	} else if (json_object_get(d->root, "manifests")) {
		d->kind = DD_DOC_INDEX;
		canon = DD_MT_OCI_INDEX;
	} else if (json_object_get(d->root, "config") || json_object_get(d->root, "layers")) {
		d->kind = DD_DOC_MANIFEST;
		canon = DD_MT_OCI_MANIFEST;
	} else {
		return dd_error_set(err, DD_EINPUT, "%s: neither an image manifest nor an index (no mediaType, "
				    "no 'manifests', no 'config')", what);
	}
	d->media_type = canon;
	return 0;
}

int dd_doc_parse(dd_doc *out, const void *p, size_t n, const char *declared, const char *what,
		 dd_error *err)
{
	const char *own = NULL;
	json_t *sv, *config;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = dd_json_load(&out->root, p, n, what, err)))
		return rc;
	if (!json_is_object(out->root))
		return dd_error_set(err, DD_EINPUT, "%s: not a JSON object", what);
	if ((rc = opt_str(out->root, "mediaType", &own, what, err)))
		return rc;
	sv = json_object_get(out->root, "schemaVersion");
	if (is_schema1(own) || is_schema1(declared) || (json_is_integer(sv) && json_integer_value(sv) == 1))
		return dd_error_set(err, DD_EINPUT, "%s: Docker schema 1 manifests are unsupported "
				    "(convert with: skopeo copy --format v2s2)", what);
	if (!json_is_integer(sv) || json_integer_value(sv) != 2)
		return dd_error_set(err, DD_EINPUT, "%s: 'schemaVersion' must be 2", what);
	if ((rc = doc_kind(out, own, declared, what, err)) ||
	    (rc = string_map(out->root, "annotations", &out->annotations, what, err)))
		return rc;
	if (out->kind == DD_DOC_INDEX)
		return parse_desc_array(out->root, "manifests", &out->manifests, &out->nmanifests, 0, what, err);
	config = json_object_get(out->root, "config");
	if (!config)
		return dd_error_set(err, DD_EINPUT, "%s: missing 'config'", what);
	{
		char w[512];
		snprintf(w, sizeof(w), "%s: config", what);
		if ((rc = parse_desc(&out->config, config, w, err)))
			return rc;
	}
	return parse_desc_array(out->root, "layers", &out->layers, &out->nlayers, 1, what, err);
}

void dd_doc_release(dd_doc *d)
{
	if (!d)
		return;
	free(d->layers);
	free(d->manifests);
	json_decref(d->root);
	memset(d, 0, sizeof(*d));
}

/* ---- image configs ---- */

static int parse_history(dd_image_config *c, json_t *root, const char *what, dd_error *err)
{
	json_t *a, *h;
	char w[512];
	size_t i;
	int rc = opt_typed(root, "history", 1, &a, what, err);

	if (rc || !a || json_array_size(a) == 0)
		return rc;
	c->history = dd_calloc(json_array_size(a), sizeof(*c->history));
	if (!c->history)
		return dd_error_oom(err);
	json_array_foreach(a, i, h) {
		dd_history *e = &c->history[i];
		json_t *el;
		snprintf(w, sizeof(w), "%s: history[%zu]", what, i);
		if (!json_is_object(h))
			return dd_error_set(err, DD_EINPUT, "%s: must be an object", w);
		if ((rc = opt_str(h, "created", &e->created, w, err)) ||
		    (rc = opt_str(h, "created_by", &e->created_by, w, err)) ||
		    (rc = opt_str(h, "author", &e->author, w, err)) ||
		    (rc = opt_str(h, "comment", &e->comment, w, err)))
			return rc;
		el = json_object_get(h, "empty_layer");
		if (el && !json_is_null(el) && !json_is_boolean(el))
			return dd_error_set(err, DD_EINPUT, "%s: 'empty_layer' must be a boolean", w);
		e->empty_layer = json_is_true(el);
		c->n_history = i + 1;
	}
	return 0;
}

static int parse_exec_config(dd_image_config *c, json_t *root, const char *what, dd_error *err)
{
	json_t *cfg, *labels;
	char w[512];
	int rc = opt_typed(root, "config", 0, &cfg, what, err);

	if (rc || !cfg)
		return rc;
	snprintf(w, sizeof(w), "%s: config", what);
	if ((rc = opt_str(cfg, "User", &c->user, w, err)) ||
	    (rc = opt_str(cfg, "WorkingDir", &c->working_dir, w, err)) ||
	    (rc = opt_str(cfg, "StopSignal", &c->stop_signal, w, err)) ||
	    (rc = string_array(cfg, "Entrypoint", &c->entrypoint, &c->n_entrypoint, w, err)) ||
	    (rc = string_array(cfg, "Cmd", &c->cmd, &c->n_cmd, w, err)) ||
	    (rc = string_array(cfg, "Env", &c->env, &c->n_env, w, err)) ||
	    (rc = string_map(cfg, "Labels", &labels, w, err)))
		return rc;
	if (labels && json_object_size(labels)) {
		const char *k;
		json_t *v;
		size_t i = 0, n = json_object_size(labels);
		c->label_keys = dd_calloc(n, sizeof(*c->label_keys));
		c->label_values = dd_calloc(n, sizeof(*c->label_values));
		if (!c->label_keys || !c->label_values)
			return dd_error_oom(err);
		json_object_foreach(labels, k, v) {
			if (i == n)
				break;
			c->label_keys[i] = k;
			c->label_values[i] = json_string_value(v);
			c->n_labels = ++i;
		}
	}
	return 0;
}

static int parse_rootfs(dd_image_config *c, json_t *root, const char *what, dd_error *err)
{
	json_t *rootfs = json_object_get(root, "rootfs");
	const char *type;
	dd_digest d;
	char w[512];
	int rc;

	if (!rootfs)
		return dd_error_set(err, DD_EINPUT, "%s: missing 'rootfs'", what);
	snprintf(w, sizeof(w), "%s: rootfs", what);
	if (!json_is_object(rootfs))
		return dd_error_set(err, DD_EINPUT, "%s: must be an object", w);
	if ((rc = opt_str(rootfs, "type", &type, w, err)))
		return rc;
	if (type && strcmp(type, "layers") != 0)
		return dd_error_set(err, DD_EINPUT, "%s: type '%.100s' is not 'layers'", w, type);
	if (!json_object_get(rootfs, "diff_ids"))
		return dd_error_set(err, DD_EINPUT, "%s: missing 'diff_ids'", w);
	if ((rc = string_array(rootfs, "diff_ids", &c->diff_ids, &c->n_diff_ids, w, err)))
		return rc;
	for (size_t i = 0; i < c->n_diff_ids; i++) {
		snprintf(w, sizeof(w), "%s: rootfs.diff_ids[%zu]", what, i);
		if ((rc = dd_digest_parse(&d, c->diff_ids[i], w, err)))
			return rc;
	}
	return 0;
}

static int parse_config(dd_image_config *c, json_t *root, const char *what, dd_error *err)
{
	int rc;

	if (!json_is_object(root))
		return dd_error_set(err, DD_EINPUT, "%s: not a JSON object", what);
	if ((rc = opt_str(root, "os", &c->os, what, err)) ||
	    (rc = opt_str(root, "architecture", &c->architecture, what, err)) ||
	    (rc = opt_str(root, "variant", &c->variant, what, err)) ||
	    (rc = opt_str(root, "os.version", &c->os_version, what, err)) ||
	    (rc = opt_str(root, "created", &c->created, what, err)) ||
	    (rc = opt_str(root, "author", &c->author, what, err)) ||
	    (rc = parse_rootfs(c, root, what, err)) ||
	    (rc = parse_exec_config(c, root, what, err)) || (rc = parse_history(c, root, what, err)))
		return rc;
	return 0;
}

int dd_config_parse(dd_image_config *out, json_t **root_out, const void *p, size_t n,
		    const char *media_type, const char *what, dd_error *err)
{
	int rc;

	memset(out, 0, sizeof(*out));
	*root_out = NULL;
	if ((rc = dd_json_load(root_out, p, n, what, err)) == 0)
		rc = parse_config(out, *root_out, what, err);
	if (rc) {
		if (media_type && strcmp(media_type, DD_MT_OCI_CONFIG) && strcmp(media_type, DD_MT_DOCKER_CONFIG))
			dd_error_prefix(err, "config media type '%.100s' is not an image config", media_type);
		dd_config_release(out);
		json_decref(*root_out);
		*root_out = NULL;
	}
	return rc;
}

void dd_config_release(dd_image_config *c)
{
	if (!c)
		return;
	free(c->entrypoint);
	free(c->cmd);
	free(c->env);
	free(c->label_keys);
	free(c->label_values);
	free(c->history);
	free(c->diff_ids);
	memset(c, 0, sizeof(*c));
}

int dd_blob_verify(const dd_digest *want, const void *p, size_t n, const char *what, dd_error *err)
{
	dd_digest got;
	int rc = dd_digest_of(&got, p, n, err);

	if (rc)
		return rc;
	if (!dd_digest_eq(&got, want))
		return dd_error_set(err, DD_EINPUT, "%s: blob %s digest mismatch (the content hashes to %s)",
				    what, want->s, got.s);
	return 0;
}
