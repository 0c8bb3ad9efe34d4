/*
 * inspect.c - `drydock inspect IMAGE`: manifest, platform, config and every
 * layer (digest, diffID, sizes, media type, entry count) of an image.
 *
 * The layers are walked once (streaming, digests verified), which is what
 * gives the uncompressed sizes and entry counts.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "image/image.h"
#include "layer/walker.h"
#include "util/banned.h"

static struct {
	const char *format, *output;
	struct dd_image_cli img;
} o;

static const struct dd_opt opts[] = {
	{ "format", 'f', DD_OPT_STR, &o.format, "FORMAT", "output format: table (default) or json" },
	{ "output", 'o', DD_OPT_STR, &o.output, "FILE", "write to FILE instead of standard output" },
	DD_IMAGE_CLI_OPTS(o.img),
	{ 0 },
};

static const struct dd_cmdspec spec = {
	"inspect", "IMAGE [options]",
	"Show an image's manifest, platform, config and layers.",
	"IMAGE is oci:PATH[:TAG|@DIGEST], docker-archive:PATH, rootfs:PATH or a registry\n"
	"reference [docker://]HOST/NAME[:TAG|@DIGEST].\n"
	"Every layer is read once to verify its digests and count its entries.",
	opts,
};

/* config JSON -> the "config" object of the output (a new reference). */
static json_t *config_summary(const dd_image *img)
{
	const dd_buf *raw = dd_image_config_raw(img);
	json_t *out = json_object(), *cfg = NULL, *c, *h;
	static const struct { const char *in, *out; } fields[] = {
		{ "User", "user" }, { "WorkingDir", "workingDir" }, { "Entrypoint", "entrypoint" },
		{ "Cmd", "cmd" }, { "Env", "env" }, { "Labels", "labels" }, { "StopSignal", "stopSignal" },
	};

	if (dd_digest_is_set(dd_image_config_digest(img)))
		json_object_set_new(out, "digest", json_string(dd_image_config_digest(img)->s));
	if (!raw || !raw->len)
		return out;
	cfg = json_loadb(raw->data, raw->len, 0, NULL);
	if (!json_is_object(cfg))
		goto done;
	if (json_is_string(json_object_get(cfg, "created")))
		json_object_set(out, "created", json_object_get(cfg, "created"));
	c = json_object_get(cfg, "config");
	for (size_t i = 0; json_is_object(c) && i < sizeof(fields) / sizeof(fields[0]); i++) {
		json_t *v = json_object_get(c, fields[i].in);
		if (v && !json_is_null(v))
			json_object_set(out, fields[i].out, v);
	}
	h = json_object_get(cfg, "history");
	if (json_is_array(h)) {
		json_t *hist = json_array();
		size_t i;
		json_t *e;
		json_array_foreach(h, i, e) {
			json_t *x = json_object();
			const char *k[][2] = { { "created", "created" }, { "created_by", "createdBy" },
					       { "comment", "comment" }, { "author", "author" } };
			for (size_t j = 0; j < 4; j++)
				if (json_is_string(json_object_get(e, k[j][0])))
					json_object_set(x, k[j][1], json_object_get(e, k[j][0]));
			json_object_set_new(x, "emptyLayer",
					    json_boolean(json_is_true(json_object_get(e, "empty_layer"))));
			json_array_append_new(hist, x);
		}
		json_object_set_new(out, "history", hist);
	}
done:
	json_decref(cfg);
	return out;
}

static json_t *inspect_json(const dd_image *img)
{
	json_t *root = json_object(), *layers = json_array(), *plat = json_object(), *man;
	const dd_platform *p = dd_image_platform(img);
	const char *bn = dd_image_annotation(img, "org.opencontainers.image.base.name");
	const char *bd = dd_image_annotation(img, "org.opencontainers.image.base.digest");
	const dd_buf *raw = dd_image_manifest_raw(img);

	json_object_set_new(root, "reference", json_string(dd_image_ref(img)));
	json_object_set_new(root, "transport", json_string(dd_transport_name(dd_image_transport(img))));
	if (dd_digest_is_set(dd_image_index_digest(img)))
		json_object_set_new(root, "indexDigest", json_string(dd_image_index_digest(img)->s));
	if (dd_digest_is_set(dd_image_manifest_digest(img))) {
		man = json_object();
		json_object_set_new(man, "digest", json_string(dd_image_manifest_digest(img)->s));
		if (dd_image_manifest_media_type(img))
			json_object_set_new(man, "mediaType",
					    json_string(dd_image_manifest_media_type(img)));
		json_object_set_new(man, "size", json_integer(raw ? (json_int_t)raw->len : 0));
		json_object_set_new(root, "manifest", man);
	}
	json_object_set_new(plat, "os", json_string(p->os));
	json_object_set_new(plat, "architecture", json_string(p->arch));
	if (p->variant[0])
		json_object_set_new(plat, "variant", json_string(p->variant));
	json_object_set_new(root, "platform", plat);
	json_object_set_new(root, "config", config_summary(img));
	if (bn || bd) {
		json_t *b = json_object();
		if (bn)
			json_object_set_new(b, "name", json_string(bn));
		if (bd)
			json_object_set_new(b, "digest", json_string(bd));
		json_object_set_new(root, "base", b);
	}
	if (raw && raw->len) {
		json_t *m = json_loadb(raw->data, raw->len, 0, NULL);
		json_t *a = json_object_get(m, "annotations");
		if (json_is_object(a))
			json_object_set(root, "annotations", a);
		json_decref(m);
	}
	for (size_t i = 0; i < dd_image_layer_count(img); i++) {
		const dd_layer_desc *l = dd_image_layer(img, i);
		json_t *x = json_object();
		json_object_set_new(x, "index", json_integer((json_int_t)i));
		if (dd_digest_is_set(&l->digest))
			json_object_set_new(x, "digest", json_string(l->digest.s));
		json_object_set_new(x, "diffID", json_string(dd_digest_is_set(&l->diff_id)
								 ? l->diff_id.s : l->stats.diff_id.s));
		if (l->media_type)
			json_object_set_new(x, "mediaType", json_string(l->media_type));
		json_object_set_new(x, "size", json_integer((json_int_t)(l->size ? l->size
								: l->stats.compressed_bytes)));
		json_object_set_new(x, "uncompressedSize",
				    json_integer((json_int_t)l->stats.uncompressed_bytes));
		json_object_set_new(x, "entries", json_integer((json_int_t)l->stats.entries));
		json_object_set_new(x, "compression",
				    json_string(dd_compression_name(l->stats.compression)));
		json_array_append_new(layers, x);
	}
	json_object_set_new(root, "layers", layers);
	return root;
}

static void print_strings(FILE *fp, const char *label, json_t *arr)
{
	size_t i;
	json_t *v;
	if (!json_is_array(arr) || !json_array_size(arr))
		return;
	fprintf(fp, "%-14s", label);
	json_array_foreach(arr, i, v)
		fprintf(fp, "%s%s", i ? " " : "", json_is_string(v) ? json_string_value(v) : "?");
	fputc('\n', fp);
}

static void human_size(char *buf, size_t n, json_int_t v)
{
	const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double d = (double)v;
	int i = 0;
	while (d >= 1024 && i < 4) {
		d /= 1024;
		i++;
	}
	snprintf(buf, n, i ? "%.1f %s" : "%.0f %s", d, u[i]);
}

static const char *jstr(json_t *obj, const char *k)
{
	const char *s = json_string_value(json_object_get(obj, k));
	return s ? s : "";
}

static void inspect_table(FILE *fp, json_t *j)
{
	json_t *cfg = json_object_get(j, "config"), *plat = json_object_get(j, "platform");
	json_t *layers = json_object_get(j, "layers"), *l, *labels, *base;
	const char *key;
	json_t *v;
	size_t i;

	fprintf(fp, "%-14s%s\n", "Image", jstr(j, "reference"));
	if (json_object_get(j, "indexDigest"))
		fprintf(fp, "%-14s%s\n", "Index", jstr(j, "indexDigest"));
	if (json_object_get(j, "manifest")) {
		fprintf(fp, "%-14s%s\n", "Manifest", jstr(json_object_get(j, "manifest"), "digest"));
		fprintf(fp, "%-14s%s\n", "Media type", jstr(json_object_get(j, "manifest"), "mediaType"));
	}
	fprintf(fp, "%-14s%s/%s%s%s\n", "Platform", jstr(plat, "os"), jstr(plat, "architecture"),
		json_object_get(plat, "variant") ? "/" : "", jstr(plat, "variant"));
	if (json_object_get(cfg, "digest"))
		fprintf(fp, "%-14s%s\n", "Config", jstr(cfg, "digest"));
	if (json_object_get(cfg, "created"))
		fprintf(fp, "%-14s%s\n", "Created", jstr(cfg, "created"));
	base = json_object_get(j, "base");
	if (base)
		fprintf(fp, "%-14s%s%s%s\n", "Base", jstr(base, "name"),
			json_object_get(base, "digest") ? "@" : "", jstr(base, "digest"));
	if (*jstr(cfg, "user"))
		fprintf(fp, "%-14s%s\n", "User", jstr(cfg, "user"));
	if (*jstr(cfg, "workingDir"))
		fprintf(fp, "%-14s%s\n", "Workdir", jstr(cfg, "workingDir"));
	print_strings(fp, "Entrypoint", json_object_get(cfg, "entrypoint"));
	print_strings(fp, "Cmd", json_object_get(cfg, "cmd"));
	json_array_foreach(json_object_get(cfg, "env"), i, v)
		fprintf(fp, "%-14s%s\n", i ? "" : "Env", json_string_value(v) ? json_string_value(v) : "");
	labels = json_object_get(cfg, "labels");
	i = 0;
	json_object_foreach(labels, key, v)
		fprintf(fp, "%-14s%s=%s\n", i++ ? "" : "Labels", key,
			json_is_string(v) ? json_string_value(v) : "");
	if (json_array_size(json_object_get(cfg, "history")))
		fprintf(fp, "%-14s%zu entries\n", "History",
			json_array_size(json_object_get(cfg, "history")));
	fprintf(fp, "\n%-3s %-19s %-19s %10s %10s %8s  %s\n", "#", "DIGEST", "DIFFID", "SIZE",
		"UNPACKED", "ENTRIES", "MEDIA TYPE");
	json_array_foreach(layers, i, l) {
		char a[32], b[32];
		human_size(a, sizeof(a), json_integer_value(json_object_get(l, "size")));
		human_size(b, sizeof(b), json_integer_value(json_object_get(l, "uncompressedSize")));
		fprintf(fp, "%-3zu %-19.19s %-19.19s %10s %10s %8lld  %s\n", i,
			*jstr(l, "digest") ? jstr(l, "digest") : "-", jstr(l, "diffID"), a, b,
			(long long)json_integer_value(json_object_get(l, "entries")),
			*jstr(l, "mediaType") ? jstr(l, "mediaType") : "-");
	}
}

int dd_cmd_inspect(int argc, char **argv, dd_error *err)
{
	dd_image_opts io;
	dd_image *img = NULL;
	dd_walker *w = NULL;
	dd_output out = { 0 };
	json_t *j = NULL;
	int npos = 0, rc, json;

	memset(&o, 0, sizeof(o));
	rc = dd_opts_parse(&spec, argc, argv, &npos, err);
	if (rc)
		return rc > 0 ? 0 : rc;
	if (npos != 1)
		return dd_error_set(err, DD_EUSAGE, "inspect: expected one IMAGE (see 'drydock inspect --help')");
	if (o.format && strcmp(o.format, "json") && strcmp(o.format, "table"))
		return dd_error_set(err, DD_EUSAGE, "inspect: unknown format '%s' (table, json)", o.format);
	json = o.format && strcmp(o.format, "json") == 0;

	dd_image_opts_init(&io);
	if ((rc = dd_image_cli_apply(&o.img, &io, err)))
		goto done;
	io.cache = NULL; /* inspect measures and verifies every layer itself */
	if ((rc = dd_image_open(&img, argv[1], &io, err)))
		goto done;
	if ((rc = dd_walker_new(&w, &io.limits, err)))
		goto done;
	if ((rc = dd_image_walk(img, w, err)))
		goto done;
	if (!(j = inspect_json(img))) {
		rc = dd_error_oom(err);
		goto done;
	}
	if ((rc = dd_output_open(&out, o.output, err)))
		goto done;
	if (json) {
		json_dumpf(j, out.fp, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', out.fp);
	} else {
		inspect_table(out.fp, j);
	}
	rc = dd_output_close(&out, 0, err);
done:
	json_decref(j);
	dd_walker_free(w);
	dd_image_free(img);
	return rc;
}
