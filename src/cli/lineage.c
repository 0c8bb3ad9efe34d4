/*
 * lineage.c - `drydock lineage IMAGE...`: each image's chain of bases (app ->
 * base -> base's base) and how each link was found: the Dockerfile, the
 * base annotations, or the layers (see docs/lineage.md).
 *
 * Only the metadata of each image is read (manifest and config); the
 * deciding is done by src/lineage/ over plain arrays.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "image/image.h"
#include "lineage/lineage.h"
#include "util/buf.h"
#include "watch/state.h"
#include "util/banned.h"

static struct {
	const char *format, *output, *dockerfile, *build_arg, *known, *target, *state;
	struct dd_image_cli img;
} o;

static const struct dd_opt opts[] = {
	{ "dockerfile", 0, DD_OPT_STR, &o.dockerfile, "FILE",
	  "the Dockerfile the first IMAGE was built from (its FROM lines)" },
	{ "build-arg", 0, DD_OPT_STR, &o.build_arg, "NAME[=VALUE]",
	  "a build argument for the Dockerfile's ARGs (repeat; no value: from the environment)" },
	{ "target", 0, DD_OPT_STR, &o.target, "STAGE",
	  "the Dockerfile stage that was built (default: the last)" },
	{ "known", 0, DD_OPT_STR, &o.known, "IMAGE",
	  "another image that may be a base (repeat); not reported itself" },
	{ "state", 0, DD_OPT_STR, &o.state, "PATH",
	  "the 'drydock watch' state whose recorded FROM digests are evidence (default: "
	  "$XDG_STATE_HOME/drydock/watch.sqlite when it exists)" },
	{ "format", 'f', DD_OPT_STR, &o.format, "FORMAT", "output format: table (default) or json" },
	{ "output", 'o', DD_OPT_STR, &o.output, "FILE", "write to FILE instead of standard output" },
	DD_IMAGE_CLI_OPTS(o.img),
	{ 0 },
};

static const struct dd_cmdspec spec = {
	"lineage", "IMAGE... [options]",
	"Show each image's base, the base's base, and how each link was found.",
	"A link comes from what drydock's own build recorded (--state), the Dockerfile\n"
	"(--dockerfile: the runtime stage's FROM), the\n"
	"org.opencontainers.image.base.name/.digest annotations, or the layers: among\n"
	"the IMAGEs and --known images, the one whose layer diffIDs are the longest\n"
	"proper prefix of this image's is its base.  With --dockerfile and no IMAGE,\n"
	"the Dockerfile alone is shown.  Only manifests and configs are read.",
	opts,
};

struct strs {
	char **v;
	size_t n;
};

static void strs_free(struct strs *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static int strs_add(struct strs *s, const char *a, size_t max)
{
	if (!s->v && !(s->v = calloc(max + 1, sizeof(*s->v))))
		return -1;
	if (s->n >= max || !(s->v[s->n] = dd_strdup(a)))
		return -1;
	s->n++;
	return 0;
}

/* Collect every occurrence of --NAME V / --NAME=V (before parsing, which
 * reorders argv). */
static int collect(struct strs *s, int argc, char **argv, const char *name)
{
	size_t nl = strlen(name);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		if (!strcmp(a, "--"))
			break;
		if (strncmp(a, "--", 2) || strncmp(a + 2, name, nl))
			continue;
		if (!a[2 + nl] && i + 1 < argc)
			v = argv[++i];
		else if (a[2 + nl] == '=')
			v = a + 3 + nl;
		if (v && strs_add(s, v, (size_t)argc))
			return -1;
	}
	return 0;
}

/* --build-arg NAME (no value) takes NAME's value from the environment;
 * the platform ARGs default to --platform and the host. */
static int build_args(struct strs *out, const struct strs *given)
{
	dd_platform host;
	char plat[128], buf[256];
	int have_t = 0, have_b = 0;

	for (size_t i = 0; i < given->n; i++) {
		const char *a = given->v[i], *env;
		if (strchr(a, '=')) {
			if (strs_add(out, a, given->n + 2))
				return -1;
		} else if ((env = getenv(a))) {
			dd_buf b = DD_BUF_INIT;
			int rc = dd_buf_printf(&b, "%s=%s", a, env) || strs_add(out, b.data, given->n + 2);
			dd_buf_release(&b);
			if (rc)
				return -1;
		}
		have_t |= !strncmp(a, "TARGETPLATFORM=", 15);
		have_b |= !strncmp(a, "BUILDPLATFORM=", 14);
	}
	dd_platform_host(&host);
	dd_platform_format(&host, plat, sizeof(plat));
	snprintf(buf, sizeof(buf), "TARGETPLATFORM=%s", o.img.platform ? o.img.platform : plat);
	if (!have_t && strs_add(out, buf, given->n + 2))
		return -1;
	snprintf(buf, sizeof(buf), "BUILDPLATFORM=%s", plat);
	if (!have_b && strs_add(out, buf, given->n + 2))
		return -1;
	return 0;
}

static int read_dockerfile(const char *path, dd_dockerfile **df, const struct strs *args,
			   dd_error *err)
{
	FILE *fp = fopen(path, "rb");
	dd_buf b = DD_BUF_INIT_MAX(DD_DOCKERFILE_MAX + 1);
	char chunk[65536];
	size_t n;
	int rc;

	if (!fp)
		return dd_error_set(err, DD_EENV, "cannot open %s: %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (dd_buf_append(&b, chunk, n))
			break;
	if (ferror(fp))
		rc = dd_error_set(err, DD_EENV, "cannot read %s", path);
	else if (b.failed)
		rc = dd_buf_error(&b, err, path);
	else
		rc = dd_dockerfile_parse(df, b.data ? b.data : "", b.len,
					 (const char *const *)args->v, args->n, err);
	if (rc && err && err->msg[0] && !strncmp(err->msg, "Dockerfile", 10))
		dd_error_prefix(err, "%s", path);
	fclose(fp);
	dd_buf_release(&b);
	return rc;
}

/* ---- JSON ---- */

static json_t *stages_json(const dd_dockerfile *df, long runtime)
{
	json_t *a = json_array();
	for (size_t i = 0; i < df->n_stages; i++) {
		const dd_dockerfile_stage *s = &df->stages[i];
		json_t *x;
		if ((long)i == runtime)
			continue;
		x = json_object();
		json_object_set_new(x, "stage", json_integer((json_int_t)i));
		if (s->name)
			json_object_set_new(x, "name", json_string(s->name));
		json_object_set_new(x, "from", json_string(s->from));
		json_object_set_new(x, "base", s->base ? json_string(s->base) : json_null());
		if (s->platform)
			json_object_set_new(x, "platform", json_string(s->platform));
		json_object_set_new(x, "line", json_integer((json_int_t)s->line));
		json_array_append_new(a, x);
	}
	return a;
}

static json_t *link_json(const dd_lineage_link *l, const dd_lineage_image *imgs)
{
	json_t *x = json_object(), *ev = json_array();
	json_object_set_new(x, "base", json_string(l->base ? l->base : ""));
	if (l->digest)
		json_object_set_new(x, "digest", json_string(l->digest));
	if (l->image >= 0)
		json_object_set_new(x, "image", json_string(imgs[l->image].ref));
	json_object_set_new(x, "how", json_string(dd_lineage_how_name(l->how)));
	json_array_append_new(ev, json_string(dd_lineage_how_name(l->how)));
	for (int b = 1; b <= DD_LINEAGE_RECORDED; b <<= 1)
		if ((l->evidence & b) && b != l->how)
			json_array_append_new(ev, json_string(dd_lineage_how_name(b)));
	json_object_set_new(x, "evidence", ev);
	json_object_set_new(x, "sharedLayers", l->shared >= 0 ? json_integer(l->shared) : json_null());
	return x;
}

/* The chain of images[self]; df (may be NULL) applies to self only. */
static json_t *chain_json(const dd_lineage_image *imgs, size_t n, const long *lb, size_t self,
			  const dd_dockerfile *df, long runtime)
{
	json_t *img = json_object(), *chain = json_array();
	char *seen = calloc(n ? n : 1, 1);
	size_t cur = self;
	const char *from = df && runtime >= 0 ? df->stages[runtime].base : NULL;

	json_object_set_new(img, "image", json_string(imgs[self].ref));
	if (imgs[self].digest)
		json_object_set_new(img, "manifest", json_string(imgs[self].digest));
	if (df && o.dockerfile)
		json_object_set_new(img, "dockerfile", json_string(o.dockerfile));
	for (size_t depth = 0; seen && depth <= n; depth++) {
		dd_lineage_link l;
		json_t *x;
		seen[cur] = 1;
		if (!dd_lineage_link_of(&l, imgs, n, cur, cur == self && df, from, lb))
			break;
		x = link_json(&l, imgs);
		if (cur == self && df && l.how == DD_LINEAGE_DOCKERFILE)
			json_object_set_new(x, "buildStages", stages_json(df, runtime));
		json_array_append_new(chain, x);
		if (l.image < 0 || seen[l.image])
			break;
		cur = (size_t)l.image;
	}
	if (df && (!json_array_size(chain) || !json_object_get(json_array_get(chain, 0), "buildStages")))
		json_object_set_new(img, "buildStages", stages_json(df, runtime));
	json_object_set_new(img, "chain", chain);
	free(seen);
	return img;
}

/* ---- table ---- */

static const char *js(json_t *o_, const char *k)
{
	const char *s = json_string_value(json_object_get(o_, k));
	return s ? s : "";
}

struct row {
	char *c[4];
};

static int add_row(struct row **rows, size_t *n, const char *a, const char *b, const char *c,
		   const char *d)
{
	struct row *r = realloc(*rows, (*n + 1) * sizeof(**rows));
	if (!r)
		return -1;
	*rows = r;
	r[*n].c[0] = dd_strdup(a);
	r[*n].c[1] = dd_strdup(b);
	r[*n].c[2] = dd_strdup(c);
	r[*n].c[3] = dd_strdup(d);
	(*n)++;
	return 0;
}

static void stage_rows(struct row **rows, size_t *n, const char *who, json_t *stages)
{
	size_t i;
	json_t *s;
	json_array_foreach(stages, i, s) {
		char b[512];
		json_t *base = json_object_get(s, "base");
		snprintf(b, sizeof(b), "%s (stage %s)", json_is_string(base) ? json_string_value(base)
			 : "scratch", *js(s, "name") ? js(s, "name") : "unnamed");
		add_row(rows, n, who, b, "dockerfile (build)", "-");
	}
}

static void print_table(FILE *fp, json_t *root)
{
	struct row *rows = NULL;
	size_t n = 0, w[4] = { 5, 4, 3, 0 }, i, j;
	json_t *img, *l;

	add_row(&rows, &n, "IMAGE", "BASE", "HOW", "LAYERS SHARED");
	json_array_foreach(json_object_get(root, "images"), i, img) {
		const char *who = js(img, "image");
		json_t *chain = json_object_get(img, "chain");
		if (!json_array_size(chain))
			add_row(&rows, &n, who, "-", "none", "-");
		json_array_foreach(chain, j, l) {
			dd_buf how = DD_BUF_INIT, base = DD_BUF_INIT;
			char shared[32] = "-";
			size_t k;
			json_t *e;
			json_array_foreach(json_object_get(l, "evidence"), k, e)
				dd_buf_printf(&how, "%s%s", k ? "+" : "", json_string_value(e));
			dd_buf_puts(&base, js(l, "base"));
			if (*js(l, "image") && strcmp(js(l, "image"), js(l, "base")))
				dd_buf_printf(&base, " = %s", js(l, "image"));
			if (json_is_integer(json_object_get(l, "sharedLayers")))
				snprintf(shared, sizeof(shared), "%lld",
					 (long long)json_integer_value(json_object_get(l, "sharedLayers")));
			add_row(&rows, &n, who, dd_buf_cstr(&base), dd_buf_cstr(&how), shared);
			stage_rows(&rows, &n, who, json_object_get(l, "buildStages"));
			dd_buf_release(&how);
			dd_buf_release(&base);
			who = js(l, "image");
		}
		stage_rows(&rows, &n, js(img, "image"), json_object_get(img, "buildStages"));
	}
	for (i = 0; i < n; i++)
		for (j = 0; j < 3; j++)
			if (rows[i].c[j] && strlen(rows[i].c[j]) > w[j])
				w[j] = strlen(rows[i].c[j]);
	for (i = 0; i < n; i++) {
		fprintf(fp, "%-*s  %-*s  %-*s  %s\n", (int)w[0], rows[i].c[0] ? rows[i].c[0] : "",
			(int)w[1], rows[i].c[1] ? rows[i].c[1] : "", (int)w[2],
			rows[i].c[2] ? rows[i].c[2] : "", rows[i].c[3] ? rows[i].c[3] : "");
		for (j = 0; j < 4; j++)
			free(rows[i].c[j]);
	}
	free(rows);
}

/* ---- the command ---- */

struct opened {
	dd_image **img;
	dd_lineage_image *li;
	const char ***ids;
	char **rec;     /* 2 per image: recorded FROM name and digest */
	dd_state *state; /* the watch state, or NULL */
	size_t n;
};

static void opened_free(struct opened *op)
{
	for (size_t i = 0; i < op->n; i++) {
		dd_image_free(op->img ? op->img[i] : NULL);
		free(op->ids ? (void *)op->ids[i] : NULL);
		if (op->rec) {
			free(op->rec[2 * i]);
			free(op->rec[2 * i + 1]);
		}
	}
	free(op->rec);
	dd_state_close(op->state);
	free(op->img);
	free(op->li);
	free(op->ids);
}

static int open_one(struct opened *op, size_t i, const char *ref, const dd_image_opts *io,
		    dd_error *err)
{
	dd_image *img;
	dd_lineage_image *li = &op->li[i];
	size_t nl;
	int rc;

	li->ref = ref;
	if (!io) /* the Dockerfile alone */
		return 0;
	if ((rc = dd_image_open(&op->img[i], ref, io, err)))
		return rc;
	img = op->img[i];
	li->ref = dd_image_ref(img);
	if (dd_digest_is_set(dd_image_manifest_digest(img)))
		li->digest = dd_image_manifest_digest(img)->s;
	if (dd_digest_is_set(dd_image_index_digest(img)))
		li->index_digest = dd_image_index_digest(img)->s;
	li->base_name = dd_image_annotation(img, "org.opencontainers.image.base.name");
	li->base_digest = dd_image_annotation(img, "org.opencontainers.image.base.digest");
	if (op->state && li->digest) { /* (a): what our own build of it recorded */
		char *froms = NULL;
		if (dd_state_froms_of(op->state, li->digest, &froms, NULL) == 0 && froms) {
			json_t *a = json_loads(froms, 0, NULL);
			for (size_t k = 0; k < json_array_size(a); k++) {
				json_t *x = json_array_get(a, k);
				if (!json_is_true(json_object_get(x, "runtime")))
					continue;
				op->rec[2 * i] = dd_strdup(json_string_value(json_object_get(x, "ref")));
				op->rec[2 * i + 1] = dd_strdup(json_string_value(json_object_get(x, "digest")));
			}
			json_decref(a);
			li->recorded_name = op->rec[2 * i];
			li->recorded_digest = op->rec[2 * i + 1];
		}
		free(froms);
	}
	nl = dd_image_layer_count(img);
	if (!(op->ids[i] = calloc(nl ? nl : 1, sizeof(char *))))
		return dd_error_oom(err);
	for (size_t k = 0; k < nl; k++) {
		const dd_layer_desc *l = dd_image_layer(img, k);
		if (!dd_digest_is_set(&l->diff_id))
			return 0; /* no diffIDs (rootfs:): no layer evidence */
		op->ids[i][k] = l->diff_id.s;
	}
	li->layers.diff_ids = op->ids[i];
	li->layers.n = nl;
	return 0;
}

int dd_cmd_lineage(int argc, char **argv, dd_error *err)
{
	struct strs bargs_given = { 0 }, bargs = { 0 }, known = { 0 };
	struct opened op = { 0 };
	dd_dockerfile *df = NULL;
	dd_image_opts io;
	dd_output out = { 0 };
	json_t *root = NULL, *arr;
	dd_lineage_layers *layers = NULL;
	long runtime = -1, *lb = NULL;
	size_t nimg, total;
	int npos = 0, rc;

	memset(&o, 0, sizeof(o));
	if (collect(&bargs_given, argc, argv, "build-arg") || collect(&known, argc, argv, "known"))
		return dd_error_oom(err);
	rc = dd_opts_parse(&spec, argc, argv, &npos, err);
	if (rc) {
		rc = rc > 0 ? 0 : rc;
		goto done;
	}
	rc = DD_EUSAGE;
	if (npos < 1 && !o.dockerfile) {
		dd_error_set(err, DD_EUSAGE, "lineage: expected IMAGE... or --dockerfile (see 'drydock lineage --help')");
		goto done;
	}
	if (o.format && strcmp(o.format, "json") && strcmp(o.format, "table")) {
		dd_error_set(err, DD_EUSAGE, "lineage: unknown format '%s' (table, json)", o.format);
		goto done;
	}
	if ((o.target || bargs_given.n) && !o.dockerfile) {
		dd_error_set(err, DD_EUSAGE, "lineage: --target and --build-arg need --dockerfile");
		goto done;
	}
	if (o.dockerfile) {
		if (build_args(&bargs, &bargs_given)) {
			rc = dd_error_oom(err);
			goto done;
		}
		if ((rc = read_dockerfile(o.dockerfile, &df, &bargs, err)))
			goto done;
		if ((runtime = dd_dockerfile_target(df, o.target)) < 0) {
			rc = dd_error_set(err, DD_EUSAGE, "lineage: %s has no stage named '%s'",
					  o.dockerfile, o.target);
			goto done;
		}
	}
	dd_image_opts_init(&io);
	if ((rc = dd_image_cli_apply(&o.img, &io, err)))
		goto done;
	nimg = npos ? (size_t)npos : 1; /* no IMAGE: the Dockerfile stands in */
	total = nimg + known.n;
	op.n = total;
	if (!(op.img = calloc(total, sizeof(*op.img))) || !(op.li = calloc(total, sizeof(*op.li))) ||
	    !(op.ids = calloc(total, sizeof(*op.ids))) || !(op.rec = calloc(2 * total, sizeof(*op.rec)))) {
		rc = dd_error_oom(err);
		goto done;
	}
	{ /* the watch state: only an existing file, never created here */
		dd_buf sp = DD_BUF_INIT;
		if (o.state ? dd_buf_puts(&sp, o.state) == 0 : dd_state_default_path(&sp, NULL) == 0) {
			if (access(dd_buf_cstr(&sp), R_OK) == 0) {
				if ((rc = dd_state_open(&op.state, dd_buf_cstr(&sp), err))) {
					dd_buf_release(&sp);
					goto done;
				}
			} else if (o.state) {
				rc = dd_error_set(err, DD_EUSAGE, "lineage: --state %s: no such file", o.state);
				dd_buf_release(&sp);
				goto done;
			}
		}
		dd_buf_release(&sp);
	}
	for (size_t i = 0; i < total; i++) {
		const char *ref = i < nimg ? (npos ? argv[1 + i] : o.dockerfile) : known.v[i - nimg];
		if ((rc = open_one(&op, i, ref, npos || i >= nimg ? &io : NULL, err)))
			goto done;
	}
	if (!(lb = calloc(total, sizeof(*lb))) || !(layers = calloc(total, sizeof(*layers)))) {
		rc = dd_error_oom(err);
		goto done;
	}
	for (size_t i = 0; i < total; i++)
		layers[i] = op.li[i].layers;
	if ((rc = dd_lineage_infer_all(lb, layers, total, err)))
		goto done;
	root = json_object();
	arr = json_array();
	json_object_set_new(root, "images", arr);
	for (size_t i = 0; i < nimg; i++)
		json_array_append_new(arr, chain_json(op.li, total, lb, i, i == 0 ? df : NULL, runtime));
	if ((rc = dd_output_open(&out, o.output, err)))
		goto done;
	if (o.format && !strcmp(o.format, "json")) {
		json_dumpf(root, out.fp, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', out.fp);
	} else {
		print_table(out.fp, root);
	}
	rc = dd_output_close(&out, 0, err);
done:
	json_decref(root);
	free(lb);
	free(layers);
	opened_free(&op);
	dd_dockerfile_free(df);
	strs_free(&bargs_given);
	strs_free(&bargs);
	strs_free(&known);
	return rc;
}
