/*
 * invstore.c - inventories in the local cache for `drydock rescan` (see
 * invstore.h).
 */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "match/invstore.h"
#include "util/digest.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/banned.h"

#define INV_SCHEMA "drydock-inventory/1"
#define MAX_STORE_FILE ((size_t)256 << 20)

int dd_invstore_default_dir(dd_buf *out, dd_error *err)
{
	int rc = dd_cache_path(out, "inventories", err);
	return rc ? dd_error_prefix(err, "no inventory store") : 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void dd_invstore_keys_free(char **keys, size_t n)
{
	for (size_t i = 0; keys && i < n; i++)
		free(keys[i]);
	free(keys);
}

int dd_invstore_keys(char ***out, size_t *n, const dd_inventory *inv, const dd_findings *f,
		     dd_error *err)
{
	char **k = NULL;
	size_t m = 0;
	*out = NULL;
	*n = 0;
	if (f->n && !(k = dd_calloc(f->n, sizeof(char *))))
		return dd_error_oom(err);
	for (size_t i = 0; i < f->n; i++) {
		const dd_finding *x = &f->v[i];
		const dd_package *p = dd_inventory_package(inv, x->pkg);
		dd_buf b = DD_BUF_INIT_MAX(4096);
		if (x->suppressed_by || !p)
			continue;
		dd_buf_printf(&b, "%s %s %s %s", p->name, x->id, x->status,
			      x->fixed_version ? x->fixed_version : "-");
		if (b.failed || !(k[m] = dd_buf_detach(&b, NULL))) {
			dd_buf_release(&b);
			dd_invstore_keys_free(k, m);
			return dd_error_oom(err);
		}
		m++;
	}
	if (m)
		qsort(k, m, sizeof(char *), cmp_str);
	*out = k;
	*n = m;
	return 0;
}

/* sha256 over the manifest digest and the diffIDs: the store key. */
static int store_key(const dd_inventory *inv, char *hex, size_t n, dd_error *err)
{
	dd_buf b = DD_BUF_INIT;
	dd_digest d;
	int any = 0, rc;
	if (dd_digest_is_set(dd_inventory_manifest_digest(inv))) {
		dd_buf_puts(&b, dd_inventory_manifest_digest(inv)->s);
		any = 1;
	}
	for (size_t i = 0; i < dd_inventory_layer_count(inv); i++) {
		const dd_inv_layer *l = dd_inventory_layer(inv, i);
		dd_buf_putc(&b, '\n');
		if (dd_digest_is_set(&l->diff_id)) {
			dd_buf_puts(&b, l->diff_id.s);
			any = 1;
		}
	}
	if (!any) {
		dd_buf_release(&b);
		return 1;
	}
	if (b.failed) {
		rc = dd_buf_error(&b, err, "inventory key");
		dd_buf_release(&b);
		return rc;
	}
	rc = dd_digest_of(&d, b.data, b.len, err);
	dd_buf_release(&b);
	if (rc)
		return rc;
	snprintf(hex, n, "%s", dd_digest_hex(&d));
	return 0;
}

static json_t *jstr_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *inventory_json(const dd_inventory *inv, long base_layers, const dd_findings *f,
			      dd_error *err)
{
	json_t *root = json_object(), *im = json_object(), *os = json_object(), *layers = json_array(),
	       *pk = json_array(), *fk = json_array();
	const dd_os *o = dd_inventory_os(inv);
	char plat[112];
	char **keys = NULL;
	size_t nk = 0;

	if (!root || !im || !os || !layers || !pk || !fk)
		goto oom;
	json_object_set_new(root, "schema", json_string(INV_SCHEMA));
	json_object_set_new(im, "reference", jstr_or_null(dd_inventory_ref(inv)));
	json_object_set_new(im, "transport", json_integer(dd_inventory_transport(inv)));
	if (dd_digest_is_set(dd_inventory_manifest_digest(inv)))
		json_object_set_new(im, "manifest_digest",
				    json_string(dd_inventory_manifest_digest(inv)->s));
	if (dd_digest_is_set(dd_inventory_config_digest(inv)))
		json_object_set_new(im, "config_digest", json_string(dd_inventory_config_digest(inv)->s));
	if (dd_inventory_platform(inv)->os[0]) {
		dd_platform_format(dd_inventory_platform(inv), plat, sizeof(plat));
		json_object_set_new(im, "platform", json_string(plat));
	}
	for (size_t i = 0; i < dd_inventory_layer_count(inv); i++) {
		const dd_inv_layer *l = dd_inventory_layer(inv, i);
		json_array_append_new(layers, dd_digest_is_set(&l->diff_id) ? json_string(l->diff_id.s)
									 : json_null());
	}
	json_object_set_new(im, "layers", layers);
	layers = NULL;
	json_object_set_new(root, "image", im);
	im = NULL;
	json_object_set_new(os, "id", jstr_or_null(o->id));
	json_object_set_new(os, "version_id", jstr_or_null(o->version_id));
	json_object_set_new(os, "codename", jstr_or_null(o->codename));
	json_object_set_new(os, "name", jstr_or_null(o->name));
	json_object_set_new(os, "distroless", json_boolean(o->distroless));
	json_object_set_new(root, "os", os);
	os = NULL;
	json_object_set_new(root, "base_layers", json_integer(base_layers));
	for (size_t i = 0; i < dd_inventory_package_count(inv); i++) {
		const dd_package *p = dd_inventory_package(inv, i);
		json_t *j = json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:i, s:s?}", "type",
				      dd_pkg_type_name(p->type), "name", p->name, "version", p->version,
				      "arch", p->arch, "source_name", p->source_name, "source_version",
				      p->source_version, "layer", p->layer, "diff_id",
				      dd_digest_is_set(&p->diff_id) ? p->diff_id.s : NULL);
		if (!j) {
			/* jansson refuses invalid UTF-8: such a name cannot be kept
			 * (and read back) faithfully */
			json_decref(root);
			json_decref(pk);
			json_decref(fk);
			dd_error_set(err, DD_EINPUT,
				     "package %zu: a field is not valid UTF-8; the inventory cannot be kept",
				     i);
			return NULL;
		}
		if (p->has_epoch)
			json_object_set_new(j, "epoch", json_integer(p->epoch));
		json_array_append_new(pk, j);
	}
	json_object_set_new(root, "packages", pk);
	pk = NULL;
	if (dd_invstore_keys(&keys, &nk, inv, f, err)) {
		json_decref(root);
		json_decref(fk);
		return NULL;
	}
	for (size_t i = 0; i < nk; i++)
		json_array_append_new(fk, json_string(keys[i]));
	dd_invstore_keys_free(keys, nk);
	json_object_set_new(root, "findings", fk);
	return root;
oom:
	json_decref(root);
	json_decref(im);
	json_decref(os);
	json_decref(layers);
	json_decref(pk);
	json_decref(fk);
	dd_error_oom(err);
	return NULL;
}

static int write_atomic(const char *path, const json_t *root, dd_error *err)
{
	char tmp[4200];
	FILE *fp;
	int ok;
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (!(fp = fopen(tmp, "w")))
		return dd_error_set(err, DD_EENV, "cannot write %s: %s", tmp, strerror(errno));
	ok = json_dumpf(root, fp, JSON_COMPACT | JSON_PRESERVE_ORDER) == 0;
	ok &= fputc('\n', fp) != EOF;
	ok &= fclose(fp) == 0;
	if (!ok || rename(tmp, path) != 0) {
		unlink(tmp);
		return dd_error_set(err, DD_EENV, "cannot write %s", path);
	}
	return 0;
}

int dd_invstore_update(const char *path, const dd_inventory *inv, long base_layers,
		       const dd_findings *f, dd_error *err)
{
	json_t *root = inventory_json(inv, base_layers, f, err);
	int rc;
	if (!root)
		return err && err->code ? err->code : DD_EENV;
	rc = write_atomic(path, root, err);
	json_decref(root);
	return rc;
}

int dd_invstore_save(const char *dir, const dd_inventory *inv, long base_layers,
		     const dd_findings *f, int *stored, dd_error *err)
{
	char hex[80], path[4200];
	int rc;
	*stored = 0;
	rc = store_key(inv, hex, sizeof(hex), err);
	if (rc)
		return rc > 0 ? 0 : rc;
	if ((rc = dd_mkdir_p(dir, 0700, err)))
		return rc;
	if (snprintf(path, sizeof(path), "%s/%s.json", dir, hex) >= (int)sizeof(path))
		return dd_error_set(err, DD_EENV, "inventory store path too long");
	if ((rc = dd_invstore_update(path, inv, base_layers, f, err)))
		return rc;
	*stored = 1;
	return 0;
}

static char *jdup(const json_t *o, const char *k, int *bad)
{
	const json_t *v = json_object_get(o, k);
	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_string(v)) {
		*bad = 1;
		return NULL;
	}
	char *s = dd_strdup(json_string_value(v));
	if (!s)
		*bad = 1;
	return s;
}

int dd_invstore_load(const char *path, dd_inventory **out, long *base_layers, char ***keys,
		     size_t *nkeys, dd_error *err)
{
	json_error_t je;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	dd_inventory *inv = NULL;
	const json_t *im, *os, *pk, *fk, *x;
	size_t i;
	int bad = 0, rc = 0;
	char **k = NULL;
	size_t nk = 0;

	*out = NULL;
	*keys = NULL;
	*nkeys = 0;
	if (!root)
		return dd_error_set(err, DD_EINPUT, "%s:%d: %s", path, je.line, je.text);
	im = json_object_get(root, "image");
	os = json_object_get(root, "os");
	pk = json_object_get(root, "packages");
	fk = json_object_get(root, "findings");
	if (!json_is_string(json_object_get(root, "schema")) ||
	    strcmp(json_string_value(json_object_get(root, "schema")), INV_SCHEMA) != 0 ||
	    !json_is_object(im) || !json_is_object(os) || !json_is_array(pk) || !json_is_array(fk)) {
		rc = dd_error_set(err, DD_EINPUT, "%s: not a %s file", path, INV_SCHEMA);
		goto done;
	}
	if ((rc = dd_inventory_new(&inv, err)))
		goto done;
	inv->image.ref = jdup(im, "reference", &bad);
	json_int_t tr = json_integer_value(json_object_get(im, "transport"));
	inv->image.transport = tr == DD_TRANSPORT_OCI ? DD_TRANSPORT_OCI
			       : tr == DD_TRANSPORT_DOCKER_ARCHIVE ? DD_TRANSPORT_DOCKER_ARCHIVE
								   : DD_TRANSPORT_ROOTFS;
	x = json_object_get(im, "manifest_digest");
	if (json_is_string(x) &&
	    dd_digest_parse(&inv->image.manifest_digest, json_string_value(x), "manifest", NULL))
		bad = 1;
	x = json_object_get(im, "config_digest");
	if (json_is_string(x) &&
	    dd_digest_parse(&inv->image.config_digest, json_string_value(x), "config", NULL))
		bad = 1;
	x = json_object_get(im, "platform");
	if (json_is_string(x) && dd_platform_parse(&inv->image.platform, json_string_value(x), NULL))
		bad = 1;
	x = json_object_get(im, "layers");
	if (json_is_array(x) && json_array_size(x) && json_array_size(x) < 100000) {
		const json_t *l;
		if (!(inv->image.layers = dd_calloc(json_array_size(x), sizeof(dd_inv_layer))))
			bad = 1;
		else
			json_array_foreach(x, i, l) {
				if (json_is_string(l) &&
				    dd_digest_parse(&inv->image.layers[i].diff_id, json_string_value(l),
						    "diffID", NULL))
					bad = 1;
				inv->image.nlayers++;
			}
	}
	inv->os.id = jdup(os, "id", &bad);
	inv->os.version_id = jdup(os, "version_id", &bad);
	inv->os.codename = jdup(os, "codename", &bad);
	inv->os.name = jdup(os, "name", &bad);
	inv->os.distroless = json_is_true(json_object_get(os, "distroless"));
	*base_layers = json_is_integer(json_object_get(root, "base_layers"))
			       ? (long)json_integer_value(json_object_get(root, "base_layers"))
			       : -1;
	json_array_foreach(pk, i, x) {
		dd_package *p = dd_pkglist_add(&inv->pkgs);
		const char *t = json_string_value(json_object_get(x, "type"));
		if (!p || !t) {
			bad = 1;
			break;
		}
		p->type = !strcmp(t, "deb") ? DD_PKG_DEB : !strcmp(t, "apk") ? DD_PKG_APK : DD_PKG_RPM;
		p->name = jdup(x, "name", &bad);
		p->version = jdup(x, "version", &bad);
		p->arch = jdup(x, "arch", &bad);
		p->source_name = jdup(x, "source_name", &bad);
		p->source_version = jdup(x, "source_version", &bad);
		p->layer = (int)json_integer_value(json_object_get(x, "layer"));
		if (json_is_integer(json_object_get(x, "epoch"))) {
			p->has_epoch = 1;
			p->epoch = (uint32_t)json_integer_value(json_object_get(x, "epoch"));
		}
		const json_t *d = json_object_get(x, "diff_id");
		if (json_is_string(d) && dd_digest_parse(&p->diff_id, json_string_value(d), "diffID", NULL))
			bad = 1;
		if (!p->name || !p->version)
			bad = 1;
	}
	if (json_array_size(fk) && !(k = dd_calloc(json_array_size(fk), sizeof(char *))))
		bad = 1;
	json_array_foreach(fk, i, x) {
		if (!k || !json_is_string(x) || !(k[nk++] = dd_strdup(json_string_value(x)))) {
			bad = 1;
			break;
		}
	}
	if (bad) {
		rc = dd_error_set(err, DD_EINPUT, "%s: malformed stored inventory", path);
		goto done;
	}
	*out = inv;
	inv = NULL;
	*keys = k;
	*nkeys = nk;
	k = NULL;
done:
	dd_invstore_keys_free(k, nk);
	dd_inventory_free(inv);
	json_decref(root);
	return rc;
}

int dd_invstore_list(const char *dir, char ***paths, size_t *n, dd_error *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL;
	size_t cap = 0, m = 0;

	*paths = NULL;
	*n = 0;
	if (!d)
		return errno == ENOENT ? 0
				       : dd_error_set(err, DD_EENV, "cannot read %s: %s", dir,
						      strerror(errno));
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l != 64 + 5 || strcmp(e->d_name + 64, ".json") != 0)
			continue;
		if (m == cap) {
			size_t nc = cap ? cap * 2 : 16;
			char **nv = realloc(v, nc * sizeof(char *));
			if (!nv)
				goto oom;
			v = nv;
			cap = nc;
		}
		dd_buf b = DD_BUF_INIT_MAX(8192);
		dd_buf_printf(&b, "%s/%s", dir, e->d_name);
		if (b.failed || !(v[m] = dd_buf_detach(&b, NULL))) {
			dd_buf_release(&b);
			goto oom;
		}
		m++;
	}
	closedir(d);
	if (m)
		qsort(v, m, sizeof(char *), cmp_str);
	*paths = v;
	*n = m;
	return 0;
oom:
	closedir(d);
	dd_invstore_keys_free(v, m);
	return dd_error_oom(err);
}

int dd_invstore_rematch_one(const char *path, struct dd_vulndb *db,
			    int (*want)(void *ctx, const dd_inventory *inv), void *ctx,
			    dd_invstore_rematch *out, dd_error *err)
{
	dd_findings *fs = NULL;
	dd_match_opts mo;
	long base = -1;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = dd_invstore_load(path, &out->inv, &base, &out->before, &out->n_before, err)))
		return rc;
	if (want && !want(ctx, out->inv)) {
		out->skipped = 1;
		return 0;
	}
	mo.base_layers = base;
	if ((rc = dd_match_inventory(&fs, out->inv, db, &mo, err)) ||
	    (rc = dd_invstore_keys(&out->now, &out->n_now, out->inv, fs, err)))
		goto done;
	out->changed = out->n_now != out->n_before;
	for (size_t i = 0; !out->changed && i < out->n_now; i++)
		out->changed = strcmp(out->now[i], out->before[i]) != 0;
	if (out->changed) {
		dd_error e = DD_ERROR_INIT;
		if (dd_invstore_update(path, out->inv, base, fs, &e))
			dd_warn("%s", e.msg);
	}
done:
	dd_findings_free(fs);
	return rc;
}

void dd_invstore_rematch_release(dd_invstore_rematch *r)
{
	dd_inventory_free(r->inv);
	dd_invstore_keys_free(r->before, r->n_before);
	dd_invstore_keys_free(r->now, r->n_now);
	memset(r, 0, sizeof(*r));
}

json_t *dd_invstore_keys_missing(char *const *a, size_t na, char *const *b, size_t nb)
{
	json_t *arr = json_array();
	size_t i = 0, j = 0;
	while (arr && i < na) {
		int c = j < nb ? strcmp(a[i], b[j]) : -1;
		if (c < 0)
			json_array_append_new(arr, json_string(a[i++]));
		else if (c == 0)
			i++, j++;
		else
			j++;
	}
	return arr;
}
