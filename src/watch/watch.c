/*
 * watch.c - the update loop (see watch.h): detect, order, rebuild,
 * validate, redeploy, and re-match after DB updates.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "build/build.h"
#include "cache/layercache.h"
#include "deploy/git.h"
#include "deploy/kubectl.h"
#include "image/image.h"
#include "inventory/inventory.h"
#include "lineage/lineage.h"
#include "match/invstore.h"
#include "match/match.h"
#include "registry/ref.h"
#include "registry/registry.h"
#include "util/fs.h"
#include "util/log.h"
#include "vulndb/store.h"
#include "watch/metrics.h"
#include "watch/notify.h"
#include "watch/poll.h"
#include "watch/server.h"
#include "watch/state.h"
#include "watch/watch.h"
#include "util/banned.h"

struct dd_watch {
	const dd_fleet *f;
	dd_watch_opts o;
	dd_state *st;
	char *state_path, *db_path, *workdir, *inv_dir;
	long *base;            /* per fleet image: index of its base, or -1 */
	dd_poll_session *poll;
	dd_layercache *cache;
	dd_metrics *metrics;
	dd_server *server;
	char instance[40];     /* this state DB's id, in change ids */
	dd_watch_report total;
};

/* ---- logging ---------------------------------------------------------- */

static void logj(dd_watch *w, const char *level, const char *event, json_t *fields)
{
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;
	if (!fields)
		fields = json_object();
	if (w->o.log && fields) {
		gmtime_r(&now, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
		json_t *line = json_pack("{s:s, s:s, s:s}", "time", ts, "level", level, "event", event);
		if (line) {
			json_object_update(line, fields);
			char *s = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
			if (s) {
				fprintf(w->o.log, "%s\n", s);
				fflush(w->o.log);
				free(s);
			}
			json_decref(line);
		}
	}
	json_decref(fields);
}

/* POST a report to watch.notify_url (when set); takes the reference. */
static void notify(dd_watch *w, json_t *report)
{
	if (w->f->watch.notify_url && report) {
		char *body = json_dumps(report, JSON_COMPACT | JSON_PRESERVE_ORDER);
		dd_error e = DD_ERROR_INIT;
		if (body && dd_notify_post(w->f->watch.notify_url, body, strlen(body), &e))
			logj(w, "warn", "notify-failed", json_pack("{s:s}", "error", e.msg));
		free(body);
	}
	json_decref(report);
}

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

/* ---- images and references -------------------------------------------- */

/* "domain/path:tag" of a fleet image. */
static void image_ref(const dd_fleet_image *im, char *buf, size_t n)
{
	snprintf(buf, n, "%s:%s", im->image, im->tag ? im->tag : "latest");
}

/* Same repository and tag, after normalisation. */
static int same_tag(const char *a, const char *b)
{
	dd_ref ra, rb;
	if (dd_ref_parse(&ra, a, NULL) || dd_ref_parse(&rb, b, NULL))
		return 0;
	return strcmp(ra.domain, rb.domain) == 0 && strcmp(ra.path, rb.path) == 0 &&
	       (!ra.tag[0] || !rb.tag[0] || strcmp(ra.tag, rb.tag) == 0);
}

static long image_for_ref(const dd_fleet *f, const char *ref)
{
	char buf[600];
	const dd_fleet_image *named = dd_fleet_image_named(f, ref);
	if (named)
		return named - f->images;
	for (size_t i = 0; i < f->n_images; i++) {
		image_ref(&f->images[i], buf, sizeof(buf));
		if (same_tag(buf, ref))
			return (long)i;
	}
	return -1;
}

/*
 * The base of fleet image i: `base:` when given; else the runtime stage's
 * FROM of its Dockerfile (context directory); else the runtime FROM its
 * running build recorded (git contexts).  Returns the fleet index or -1.
 */
static long find_base(dd_watch *w, size_t i)
{
	const dd_fleet_image *im = &w->f->images[i];
	const dd_fleet_build *b = &im->build;
	long found = -1;

	if (im->base)
		return image_for_ref(w->f, im->base);
	if (b->backend == DD_BUILD_NONE)
		return -1;
	char *from = NULL;
	dd_error e = DD_ERROR_INIT;
	if (dd_build_runtime_base(b, &from, &e))
		logj(w, "warn", "dockerfile", json_pack("{s:s, s:s}", "image", im->name, "error", e.msg));
	else if (from)
		found = image_for_ref(w->f, from);
	free(from);
	if (found >= 0)
		return found;
	/* (a) what our last build of it recorded */
	char *digest = NULL, *froms = NULL;
	if (dd_state_running_get(w->st, im->name, &digest, NULL) == 0 && digest &&
	    dd_state_froms_of(w->st, digest, &froms, NULL) == 0 && froms) {
		json_t *arr = json_loads(froms, 0, NULL);
		for (size_t k = 0; k < json_array_size(arr); k++) {
			json_t *x = json_array_get(arr, k);
			const char *ref = json_string_value(json_object_get(x, "ref"));
			if (ref && json_is_true(json_object_get(x, "runtime")))
				found = image_for_ref(w->f, ref);
		}
		json_decref(arr);
	}
	free(digest);
	free(froms);
	return found;
}

/* ---- registry options -------------------------------------------------- */

typedef struct regopts {
	dd_registry_opts ro;
	char *password;
} regopts;

static void regopts_release(regopts *r)
{
	if (r->password) {
		explicit_bzero(r->password, strlen(r->password));
		free(r->password);
	}
	r->password = NULL;
}

static int regopts_for(dd_watch *w, const char *ref, regopts *out, dd_error *err)
{
	dd_ref r;
	int rc;
	memset(out, 0, sizeof(*out));
	dd_registry_opts_init(&out->ro);
	if (dd_ref_parse(&r, ref, err))
		return err ? err->code : DD_EINPUT;
	const dd_fleet_registry *fr = dd_fleet_registry_for(w->f, r.domain);
	if (!fr)
		return 0;
	out->ro.tls_verify = !fr->insecure;
	out->ro.ca_file = fr->ca_file;
	out->ro.username = fr->username;
	if ((rc = dd_fleet_password(fr, &out->password, err)))
		return rc;
	out->ro.password = out->password;
	return 0;
}

/* ---- scanning and the gate --------------------------------------------- */

typedef struct scanres {
	json_t *summary; /* {"critical": n, ..., "ids": [...]} */
	char **ids;      /* sorted unique vulnerability ids */
	size_t n_ids;
	size_t counts[DD_SEV_COUNT];
} scanres;

static void scanres_release(scanres *s)
{
	json_decref(s->summary);
	for (size_t i = 0; i < s->n_ids; i++)
		free(s->ids[i]);
	free(s->ids);
	memset(s, 0, sizeof(*s));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int ignored(const dd_fleet_policy *p, const dd_finding *f)
{
	for (size_t i = 0; i < p->n_ignore; i++) {
		if (strcmp(p->ignore[i], f->id) == 0)
			return 1;
		for (size_t a = 0; a < f->n_aliases; a++)
			if (strcmp(p->ignore[i], f->aliases[a]) == 0)
				return 1;
	}
	return 0;
}

/* Scan ref (by digest) in-process, keep its inventory for rematching. */
static int scan_image(dd_watch *w, const char *ref, scanres *out, dd_error *err)
{
	dd_image_opts io;
	dd_image *img = NULL;
	dd_inventory *inv = NULL;
	dd_vulndb *db = NULL;
	dd_findings *fs = NULL;
	regopts ro;
	dd_match_opts mo = { -1 };
	int rc, stored = 0;

	memset(out, 0, sizeof(*out));
	if ((rc = regopts_for(w, ref, &ro, err)))
		return rc;
	dd_image_opts_init(&io);
	io.registry = &ro.ro;
	io.cache = w->cache;
	if ((rc = dd_vulndb_open(&db, w->db_path, DD_VULNDB_RDONLY, err))) {
		dd_error_prefix(err, "scan %s: no usable vulnerability DB", ref);
		goto done;
	}
	if ((rc = dd_image_open(&img, ref, &io, err)) ||
	    (rc = dd_inventory_collect_ex(&inv, img, &io.limits, err)) ||
	    (rc = dd_match_inventory(&fs, inv, db, &mo, err)))
		goto done;
	dd_error se = DD_ERROR_INIT;
	if (dd_invstore_save(w->inv_dir, inv, mo.base_layers, fs, &stored, &se))
		logj(w, "warn", "inventory-not-kept", json_pack("{s:s, s:s}", "image", ref, "error", se.msg));
	out->summary = json_object();
	out->ids = dd_calloc(fs->n + 1, sizeof(*out->ids));
	if (!out->summary || !out->ids) {
		rc = dd_error_oom(err);
		goto done;
	}
	for (size_t i = 0; i < fs->n; i++) {
		const dd_finding *f = &fs->v[i];
		if (ignored(&w->f->policy, f))
			continue;
		out->counts[f->severity]++;
		if (!(out->ids[out->n_ids] = dd_strdup(f->id))) {
			rc = dd_error_oom(err);
			goto done;
		}
		out->n_ids++;
	}
	qsort(out->ids, out->n_ids, sizeof(*out->ids), cmp_str);
	size_t u = 0;
	for (size_t i = 0; i < out->n_ids; i++) {
		if (u && strcmp(out->ids[u - 1], out->ids[i]) == 0) {
			free(out->ids[i]);
			continue;
		}
		out->ids[u++] = out->ids[i];
	}
	out->n_ids = u;
	for (int s = 0; s < DD_SEV_COUNT; s++)
		json_object_set_new(out->summary, dd_severity_name((enum dd_severity)s),
				    json_integer((json_int_t)out->counts[s]));
done:
	if (rc)
		scanres_release(out);
	regopts_release(&ro);
	dd_findings_free(fs);
	dd_inventory_free(inv);
	dd_image_free(img);
	dd_vulndb_close(db);
	return rc;
}

/* The ids recorded for a digest ("findings:DIGEST" meta, JSON array). */
static int ids_of(dd_watch *w, const char *image_repo, const char *digest, char ***ids, size_t *n,
		  dd_error *err)
{
	dd_buf key = DD_BUF_INIT;
	char *v = NULL;
	int rc;
	*ids = NULL;
	*n = 0;
	dd_buf_printf(&key, "findings:%s", digest);
	if ((rc = dd_state_meta_get(w->st, dd_buf_cstr(&key), &v, err)))
		goto done;
	if (!v) { /* never scanned here: scan the running image now */
		scanres sr;
		dd_buf ref = DD_BUF_INIT;
		dd_buf_printf(&ref, "%s@%s", image_repo, digest);
		rc = scan_image(w, dd_buf_cstr(&ref), &sr, err);
		dd_buf_release(&ref);
		if (rc)
			goto done;
		json_t *arr = json_array();
		for (size_t i = 0; i < sr.n_ids; i++)
			json_array_append_new(arr, json_string(sr.ids[i]));
		v = json_dumps(arr, JSON_COMPACT);
		json_decref(arr);
		scanres_release(&sr);
		if (!v || (rc = dd_state_meta_set(w->st, dd_buf_cstr(&key), v, err)))
			goto done;
	}
	json_t *arr = json_loads(v, 0, NULL);
	*ids = dd_calloc(json_array_size(arr) + 1, sizeof(**ids));
	for (size_t i = 0; *ids && i < json_array_size(arr); i++)
		if (json_is_string(json_array_get(arr, i)))
			(*ids)[(*n)++] = dd_strdup(json_string_value(json_array_get(arr, i)));
	json_decref(arr);
done:
	free(v);
	dd_buf_release(&key);
	return rc;
}

static void remember_ids(dd_watch *w, const char *digest, const scanres *sr)
{
	dd_buf key = DD_BUF_INIT;
	json_t *arr = json_array();
	for (size_t i = 0; i < sr->n_ids; i++)
		json_array_append_new(arr, json_string(sr->ids[i]));
	char *v = json_dumps(arr, JSON_COMPACT);
	dd_buf_printf(&key, "findings:%s", digest);
	if (v && !key.failed)
		dd_state_meta_set(w->st, dd_buf_cstr(&key), v, NULL);
	free(v);
	json_decref(arr);
	dd_buf_release(&key);
}

/*
 * The gate: *blocked = 1 with a reason when sr has a finding at or above
 * policy.fail_on, or (fail_on_new) one the running image did not have.
 */
static int gate(dd_watch *w, const dd_fleet_image *im, const scanres *sr, const char *running,
		int *blocked, dd_buf *reason, dd_error *err)
{
	const dd_fleet_policy *p = &w->f->policy;
	int rc = 0;
	*blocked = 0;
	if (p->fail_on >= 0) {
		size_t n = 0;
		for (int s = p->fail_on; s < DD_SEV_COUNT; s++)
			n += sr->counts[s];
		if (n) {
			*blocked = 1;
			dd_buf_printf(reason, "%zu finding(s) at or above %s", n,
				      dd_severity_name((enum dd_severity)p->fail_on));
		}
	}
	if (p->fail_on_new && running) {
		char **old = NULL;
		size_t nold = 0, nnew = 0;
		if ((rc = ids_of(w, im->image, running, &old, &nold, err)))
			return rc;
		json_t *added = json_array();
		for (size_t i = 0; i < sr->n_ids; i++)
			if (!nold || !bsearch(&sr->ids[i], old, nold, sizeof(*old), cmp_str))
				nnew++, json_array_append_new(added, json_string(sr->ids[i]));
		if (nnew) {
			char *s = json_dumps(added, JSON_COMPACT);
			dd_buf_printf(reason, "%s%zu finding(s) the running image does not have: %s",
				      *blocked ? "; " : "", nnew, s ? s : "");
			free(s);
			*blocked = 1;
		}
		json_object_set_new(sr->summary, "new", added);
		for (size_t i = 0; i < nold; i++)
			free(old[i]);
		free(old);
	}
	return rc;
}

/* ---- detection ---------------------------------------------------------- */

/* Check one tracked image; records a change when a wanted platform's
 * manifest (or the single manifest) moved: *changed = 1 then.  *retry is
 * what the registry asked us to wait, in seconds (0: nothing). */
static int check_image(dd_watch *w, size_t i, const char *source, int *changed, long *retry,
		       dd_error *err)
{
	const dd_fleet_image *im = &w->f->images[i];
	char ref[600], *known = NULL;
	dd_poll_result pr;
	dd_poll_target t = { 0 };
	dd_poll_platform *kp = NULL;
	size_t nk = 0;
	int rc;
	int64_t now = now_s();

	*changed = 0;
	*retry = 0;
	image_ref(im, ref, sizeof(ref));
	if ((rc = dd_state_seen_get(w->st, im->name, "", &known, NULL, err)))
		return rc;
	t.registry_ref = ref;
	t.platforms = (const char *const *)im->platforms;
	t.n_platforms = im->n_platforms;
	t.known_digest = known;
	memset(&pr, 0, sizeof(pr));
	w->total.checked++;
	dd_metrics_counter_add(w->metrics, "drydock_watch_checks_total", "Tag checks", NULL, 1);
	rc = dd_poll_check(w->poll, &t, &pr, err);
	*retry = pr.retry_after;
	if (rc) {
		w->total.poll_errors++;
		dd_metrics_counter_add(w->metrics, "drydock_watch_check_errors_total",
				       "Tag checks that failed", NULL, 1);
		goto done;
	}
	if (!known) { /* first sight: the baseline, nothing to rebuild */
		rc = dd_state_seen_set(w->st, im->name, "", pr.digest, now, err);
		for (size_t p = 0; !rc && p < pr.n_platforms; p++)
			if (pr.platforms[p].digest)
				rc = dd_state_seen_set(w->st, im->name, pr.platforms[p].platform,
						       pr.platforms[p].digest, now, err);
		logj(w, "info", "baseline", json_pack("{s:s, s:s, s:s}", "image", im->name, "ref", ref,
						       "digest", pr.digest));
		goto done;
	}
	if (!pr.changed) {
		rc = dd_state_seen_touch(w->st, im->name, now, err);
		goto done;
	}
	/* the tag moved: did a manifest we build on change, or only the index? */
	kp = dd_calloc(pr.n_platforms + 1, sizeof(*kp));
	if (!kp) {
		rc = dd_error_oom(err);
		goto done;
	}
	for (size_t p = 0; p < pr.n_platforms; p++) {
		char *old = NULL;
		if ((rc = dd_state_seen_get(w->st, im->name, pr.platforms[p].platform, &old, NULL, err)))
			goto done;
		if (old) {
			kp[nk].platform = pr.platforms[p].platform;
			kp[nk++].digest = old;
		}
	}
	if (dd_poll_needs_rebuild(&pr, kp, nk)) {
		int64_t id = 0;
		if ((rc = dd_state_change_add(w->st, im->name, known, pr.digest, source, now, &id, err)))
			goto done;
		*changed = 1;
		w->total.changes++;
		dd_metrics_counter_add(w->metrics, "drydock_watch_changes_total",
				       "Base image changes detected", NULL, 1);
		logj(w, "info", "change", json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "image", im->name,
						     "ref", ref, "old", known, "new", pr.digest, "source",
						     source, "change", (json_int_t)id));
	} else {
		logj(w, "info", "index-only-change",
		     json_pack("{s:s, s:s, s:I}", "image", im->name, "digest", pr.digest,
			       "platforms_known", (json_int_t)nk));
	}
	rc = dd_state_seen_set(w->st, im->name, "", pr.digest, now, err);
	for (size_t p = 0; !rc && p < pr.n_platforms; p++)
		if (pr.platforms[p].digest)
			rc = dd_state_seen_set(w->st, im->name, pr.platforms[p].platform,
					       pr.platforms[p].digest, now, err);
done:
	for (size_t k = 0; k < nk; k++)
		free(kp[k].digest);
	free(kp);
	free(known);
	dd_poll_result_release(&pr);
	return rc;
}

/* ---- a round ------------------------------------------------------------ */

/* Images to rebuild for the changed ones, bases first: an image built here
 * whose base changed or is rebuilt in the same round. */
static int plan(dd_watch *w, char **changed, size_t n_changed, char ***order, size_t *n_order,
		dd_error *err)
{
	size_t n = w->f->n_images, *topo = NULL;
	unsigned char *mark = dd_calloc(n + 1, 1);
	int rc = 0;
	*order = NULL;
	*n_order = 0;
	topo = dd_calloc(n + 1, sizeof(*topo));
	*order = dd_calloc(n + 1, sizeof(**order));
	if (!mark || !topo || !*order) {
		rc = dd_error_oom(err);
		goto done;
	}
	for (size_t c = 0; c < n_changed; c++) {
		const dd_fleet_image *im = dd_fleet_image_named(w->f, changed[c]);
		if (im)
			mark[im - w->f->images] = 1;
	}
	if ((rc = dd_lineage_toposort(w->base, n, topo, err)))
		goto done;
	for (size_t k = 0; k < n; k++) {
		size_t i = topo[k];
		long b = w->base[i];
		if (b < 0 || !mark[b] || w->f->images[i].build.backend == DD_BUILD_NONE)
			continue;
		mark[i] = 1;
		(*order)[(*n_order)++] = w->f->images[i].name;
	}
done:
	free(mark);
	free(topo);
	if (rc) {
		free(*order);
		*order = NULL;
		*n_order = 0;
	}
	return rc;
}

static const dd_state_build *build_of(const dd_state_build *b, size_t n, const char *image)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(b[i].image, image) == 0)
			return &b[i];
	return NULL;
}

/*
 * A build that was running when the watcher died may have pushed already:
 * the tag's image labelled with this round's change id (buildah backend,
 * io.drydock.change) is adopted instead of building again.  Returns 1 with
 * res->digest (and the base as its runtime FROM) filled, 0 otherwise.
 */
static int adopt_pushed(dd_watch *w, const dd_fleet_image *im, const char *change,
			const char *base_ref, const char *base_digest, dd_build_result *res)
{
	char ref[600];
	regopts ro;
	dd_image_opts io;
	dd_image *img = NULL;
	json_t *cfg = NULL;
	int adopted = 0;

	if (im->build.backend != DD_BUILD_BUILDAH)
		return 0;
	image_ref(im, ref, sizeof(ref));
	if (regopts_for(w, ref, &ro, NULL))
		return 0;
	dd_image_opts_init(&io);
	io.registry = &ro.ro;
	if (dd_image_open(&img, ref, &io, NULL) == 0 && dd_image_config_raw(img)) {
		const dd_buf *raw = dd_image_config_raw(img);
		cfg = json_loadb(raw->data, raw->len, 0, NULL);
		const char *label = json_string_value(json_object_get(
			json_object_get(json_object_get(cfg, "config"), "Labels"), "io.drydock.change"));
		if (label && !strcmp(label, change) && dd_digest_is_set(dd_image_manifest_digest(img))) {
			res->digest = dd_strdup(dd_image_manifest_digest(img)->s);
			res->ref = dd_strdup(ref);
			if (base_ref && (res->froms = dd_calloc(1, sizeof(*res->froms)))) {
				res->froms[0].ref = dd_strdup(base_ref);
				res->froms[0].digest = dd_strdup(base_digest);
				res->froms[0].runtime = 1;
				res->froms[0].exact = 1;
				res->n_froms = 1;
			}
			adopted = res->digest != NULL;
		}
	}
	json_decref(cfg);
	dd_image_free(img);
	regopts_release(&ro);
	return adopted;
}

/* Rebuild, scan and gate one image of the round. */
static int run_build(dd_watch *w, int64_t round, const dd_state_build *sb,
		     const dd_state_build *all, size_t n_all, dd_error *err)
{
	const dd_fleet_image *im = dd_fleet_image_named(w->f, sb->image);
	dd_build_request rq;
	dd_build_result res;
	dd_buf reason = DD_BUF_INIT, workdir = DD_BUF_INIT, change = DD_BUF_INIT;
	char *running = NULL, *base_digest = NULL, *froms = NULL, *scan = NULL, *tag_now = NULL;
	scanres sr;
	int rc, blocked = 0;
	enum dd_build_status status;

	memset(&res, 0, sizeof(res));
	memset(&sr, 0, sizeof(sr));
	if (!im) { /* removed from the fleet since the round opened */
		return dd_state_build_end(w->st, sb->id, DD_BUILD_SKIPPED, NULL, NULL, NULL,
					  "no longer in the fleet file", NULL, now_s(), err);
	}
	long bi = w->base[im - w->f->images];
	const dd_fleet_image *base = bi >= 0 ? &w->f->images[bi] : NULL;
	if (base) {
		const dd_state_build *bb = build_of(all, n_all, base->name);
		if (bb && bb->status != DD_BUILD_SUCCEEDED) {
			dd_buf_printf(&reason, "its base %s was not validated (%s)", base->name,
				      dd_build_status_name(bb->status));
			rc = dd_state_build_end(w->st, sb->id, DD_BUILD_SKIPPED, NULL, NULL, NULL,
						dd_buf_cstr(&reason), NULL, now_s(), err);
			w->total.skipped++;
			logj(w, "warn", "build-skipped", json_pack("{s:s, s:s}", "image", im->name,
								    "reason", dd_buf_cstr(&reason)));
			goto done;
		}
		dd_state_seen_get(w->st, base->name, "", &base_digest, NULL, NULL);
	}
	if ((rc = dd_state_running_get(w->st, im->name, &running, err)) ||
	    (rc = dd_state_build_start(w->st, sb->id, now_s(), err)))
		goto done;
	dd_state_seen_get(w->st, im->name, "", &tag_now, NULL, NULL);
	if (!running && tag_now) /* never deployed by us: what the tag points at now */
		running = dd_strdup(tag_now);
	dd_buf_printf(&workdir, "%s/builds/%lld", w->workdir, (long long)sb->id);
	dd_buf_printf(&change, "%s-%lld", w->instance, (long long)round);
	if (workdir.failed || change.failed) {
		rc = dd_error_oom(err);
		goto done;
	}
	if ((rc = dd_mkdir_p(dd_buf_cstr(&workdir), 0700, err)))
		goto done;
	char base_ref[600] = "";
	if (base)
		image_ref(base, base_ref, sizeof(base_ref));
	memset(&rq, 0, sizeof(rq));
	rq.image = im;
	rq.registries = w->f->registries;
	rq.n_registries = w->f->n_registries;
	rq.workdir = dd_buf_cstr(&workdir);
	rq.change_id = dd_buf_cstr(&change);
	rq.base_ref = base ? base_ref : NULL;
	rq.base_digest = base_digest;
	rq.previous_digest = tag_now; /* CI backends wait until the tag moves */
	logj(w, "info", "build-start", json_pack("{s:s, s:s, s:s?, s:I}", "image", im->name, "backend",
						  dd_build_backend_name(im->build.backend), "base",
						  base ? base->name : NULL, "round", (json_int_t)round));
	dd_error be = DD_ERROR_INIT;
	if (sb->attempts > 0 &&
	    adopt_pushed(w, im, rq.change_id, rq.base_ref, base_digest, &res)) {
		logj(w, "info", "build-adopted", json_pack("{s:s, s:s, s:s}", "image", im->name, "digest",
							    res.digest, "change", rq.change_id));
	} else if (dd_build_run(&rq, &res, &be)) {
		w->total.failed++;
		dd_metrics_counter_add(w->metrics, "drydock_watch_builds_total", "Rebuilds by outcome",
				       "status=failed", 1);
		logj(w, "error", "build-failed", json_pack("{s:s, s:s}", "image", im->name, "error", be.msg));
		rc = dd_state_build_end(w->st, sb->id, DD_BUILD_FAILED, NULL, NULL, NULL, be.msg,
					dd_buf_cstr(&res.log), now_s(), err);
		goto done;
	}
	/* our own push is not a change to react to */
	if ((rc = dd_state_seen_set(w->st, im->name, "", res.digest, now_s(), err)))
		goto done;
	json_t *fa = json_array();
	for (size_t i = 0; i < res.n_froms; i++)
		json_array_append_new(fa, json_pack("{s:s, s:s?, s:b}", "ref", res.froms[i].ref, "digest",
						    res.froms[i].digest, "runtime", res.froms[i].runtime));
	froms = json_dumps(fa, JSON_COMPACT);
	json_decref(fa);
	/* validate */
	dd_buf ref = DD_BUF_INIT;
	dd_buf_printf(&ref, "%s@%s", im->image, res.digest);
	dd_error se = DD_ERROR_INIT;
	if (scan_image(w, dd_buf_cstr(&ref), &sr, &se)) {
		blocked = 1;
		dd_buf_printf(&reason, "the scan failed: %s", se.msg);
	} else if ((rc = gate(w, im, &sr, running, &blocked, &reason, err))) {
		dd_buf_release(&ref);
		goto done;
	}
	dd_buf_release(&ref);
	if (sr.summary) {
		remember_ids(w, res.digest, &sr);
		scan = json_dumps(sr.summary, JSON_COMPACT | JSON_PRESERVE_ORDER);
	}
	status = blocked ? DD_BUILD_BLOCKED : DD_BUILD_SUCCEEDED;
	if (blocked)
		w->total.blocked++;
	else
		w->total.succeeded++;
	dd_metrics_counter_add(w->metrics, "drydock_watch_builds_total", "Rebuilds by outcome",
			       blocked ? "status=blocked" : "status=succeeded", 1);
	logj(w, blocked ? "warn" : "info", blocked ? "build-blocked" : "build-validated",
	     json_pack("{s:s, s:s, s:s?, s:O?}", "image", im->name, "digest", res.digest, "reason",
		       blocked ? dd_buf_cstr(&reason) : NULL, "scan", sr.summary));
	rc = dd_state_build_end(w->st, sb->id, status, res.digest, froms, scan,
				blocked ? dd_buf_cstr(&reason) : NULL, dd_buf_cstr(&res.log), now_s(),
				err);
done:
	w->total.builds++;
	scanres_release(&sr);
	dd_build_result_release(&res);
	dd_buf_release(&reason);
	dd_buf_release(&workdir);
	dd_buf_release(&change);
	free(running);
	free(tag_now);
	free(base_digest);
	free(froms);
	free(scan);
	return rc;
}

/* The commit message of a round. */
static void commit_message(dd_watch *w, int64_t round, const dd_state_build *b, size_t n,
			   dd_buf *msg)
{
	size_t ok = 0;
	for (size_t i = 0; i < n; i++)
		ok += b[i].status == DD_BUILD_SUCCEEDED;
	dd_buf_printf(msg, "drydock: rebuild %zu image(s) on updated base images\n\nBase changes:\n",
		      ok);
	dd_buf changes = DD_BUF_INIT;
	dd_state_round_describe(w->st, round, &changes, NULL);
	const char *p = dd_buf_cstr(&changes);
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);
		dd_buf_printf(msg, "  %.*s\n", (int)l, p);
		p = nl ? nl + 1 : p + l;
	}
	dd_buf_release(&changes);
	dd_buf_puts(msg, "\nRebuilt and validated:\n");
	for (size_t i = 0; i < n; i++)
		if (b[i].status == DD_BUILD_SUCCEEDED) {
			const dd_fleet_image *im = dd_fleet_image_named(w->f, b[i].image);
			dd_buf_printf(msg, "  %s@%s\n    scan: %s\n", im ? im->image : b[i].image,
				      b[i].digest, b[i].scan ? b[i].scan : "{}");
		}
	for (size_t i = 0; i < n; i++)
		if (b[i].status != DD_BUILD_SUCCEEDED)
			dd_buf_printf(msg, "\nNot deployed: %s (%s: %s)\n", b[i].image,
				      dd_build_status_name(b[i].status), b[i].reason ? b[i].reason : "");
}

/* Deploy the validated images of a round; *failed = deployments that failed
 * (retried at the next pass: the round stays open). */
static int deploy_round(dd_watch *w, int64_t round, size_t *failed, dd_error *err)
{
	dd_state_build *b = NULL;
	size_t n = 0, nu = 0;
	dd_image_update *u = NULL;
	dd_buf change = DD_BUF_INIT, msg = DD_BUF_INIT;
	int rc;

	if ((rc = dd_state_builds(w->st, round, &b, &n, err)))
		return rc;
	u = dd_calloc(n + 1, sizeof(*u));
	if (!u) {
		rc = dd_error_oom(err);
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		const dd_fleet_image *im = dd_fleet_image_named(w->f, b[i].image);
		if (b[i].status != DD_BUILD_SUCCEEDED || !im || !b[i].digest)
			continue;
		u[nu].repository = im->image;
		u[nu].digest = b[i].digest;
		nu++;
	}
	if (!nu)
		goto done;
	dd_buf_printf(&change, "%s-%lld", w->instance, (long long)round);
	commit_message(w, round, b, n, &msg);
	for (size_t g = 0; g < w->f->n_gits; g++) {
		const dd_fleet_git *git = &w->f->gits[g];
		char target[1100], *status = NULL;
		const char *commit = NULL;
		dd_deploy_result dres;
		dd_buf dir = DD_BUF_INIT;
		snprintf(target, sizeof(target), "git:%s", git->url);
		if ((rc = dd_state_deploy_get(w->st, round, target, &status, NULL, err)))
			goto done;
		int done_before = status && strcmp(status, "failed") != 0;
		free(status);
		if (done_before) /* before a restart */
			continue;
		dd_buf_printf(&dir, "%s/git/%zu", w->workdir, g);
		dd_error ge = DD_ERROR_INIT;
		memset(&dres, 0, sizeof(dres));
		int r = dd_deploy_git(git, dd_buf_cstr(&dir), u, nu, dd_buf_cstr(&msg),
				      dd_buf_cstr(&change), &dres, &ge);
		commit = dres.commit[0] ? dres.commit : NULL;
		dd_buf_release(&dir);
		if (r) {
			w->total.deploy_errors++;
			(*failed)++;
			logj(w, "error", "deploy-failed", json_pack("{s:s, s:s}", "target", target, "error", ge.msg));
			rc = dd_state_deploy_set(w->st, round, target, "failed", NULL, ge.msg, now_s(), err);
		} else {
			w->total.commits += dres.outcome == DD_DEPLOY_COMMITTED;
			logj(w, "info", "git",
			     json_pack("{s:s, s:s, s:s?}", "target", target, "outcome",
				       dd_deploy_outcome_name(dres.outcome), "commit", commit));
			rc = dd_state_deploy_set(w->st, round, target, commit ? "done" : "unchanged", commit,
						 NULL, now_s(), err);
		}
		if (rc)
			goto done;
	}
	for (size_t k = 0; k < w->f->n_kubectls; k++) {
		const dd_fleet_kubectl *kt = &w->f->kubectls[k];
		const dd_fleet_image *im = dd_fleet_image_named(w->f, kt->image);
		const dd_state_build *sb = im ? build_of(b, n, im->name) : NULL;
		char target[1200], *status = NULL;
		if (!sb || sb->status != DD_BUILD_SUCCEEDED || !sb->digest)
			continue;
		snprintf(target, sizeof(target), "kubectl:%s/%s/%s/%s", kt->context ? kt->context : "",
			 kt->namespace ? kt->namespace : "default", kt->resource, kt->container);
		if ((rc = dd_state_deploy_get(w->st, round, target, &status, NULL, err)))
			goto done;
		int done_before = status && strcmp(status, "failed") != 0;
		free(status);
		if (done_before)
			continue;
		dd_buf ref = DD_BUF_INIT, log = DD_BUF_INIT_MAX(65536);
		dd_error ke = DD_ERROR_INIT;
		dd_image_update ku = { im->image, sb->digest };
		dd_buf_printf(&ref, "%s@%s", im->image, sb->digest);
		int r = dd_deploy_kubectl(kt, &ku, NULL, 0, &log, &ke);
		logj(w, r ? "error" : "info", r ? "deploy-failed" : "deployed",
		     json_pack("{s:s, s:s, s:s?}", "target", target, "image", dd_buf_cstr(&ref), "error",
			       r ? ke.msg : NULL));
		w->total.deploys += !r;
		w->total.deploy_errors += !!r;
		*failed += !!r;
		rc = dd_state_deploy_set(w->st, round, target, r ? "failed" : "done", NULL,
					 r ? ke.msg : dd_buf_cstr(&log), now_s(), err);
		dd_buf_release(&ref);
		dd_buf_release(&log);
		if (rc)
			goto done;
	}
	for (size_t i = 0; !*failed && i < n; i++)
		if (b[i].status == DD_BUILD_SUCCEEDED && b[i].digest &&
		    (rc = dd_state_running_set(w->st, b[i].image, b[i].digest, now_s(), err)))
			goto done;
done:
	dd_state_builds_free(b, n);
	free(u);
	dd_buf_release(&change);
	dd_buf_release(&msg);
	return rc;
}

static int work_round(dd_watch *w, int64_t round, dd_error *err)
{
	dd_state_build *b = NULL;
	size_t n = 0;
	int rc;

	if ((rc = dd_state_builds(w->st, round, &b, &n, err)))
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (b[i].status != DD_BUILD_QUEUED)
			continue;
		if ((rc = run_build(w, round, &b[i], b, n, err)))
			goto done;
		/* refresh: later builds look at their base's outcome */
		dd_state_builds_free(b, n);
		b = NULL;
		if ((rc = dd_state_builds(w->st, round, &b, &n, err)))
			goto done;
	}
	size_t failed = 0;
	if ((rc = deploy_round(w, round, &failed, err)))
		goto done;
	if (failed) {
		logj(w, "warn", "round-left-open", json_pack("{s:I, s:I}", "round", (json_int_t)round,
							      "failed_deployments", (json_int_t)failed));
		goto done;
	}
	if ((rc = dd_state_round_finish(w->st, round, now_s(), err)))
		goto done;
	logj(w, "info", "round-finished", json_pack("{s:I}", "round", (json_int_t)round));
	if (w->f->watch.notify_url) {
		dd_buf ch = DD_BUF_INIT;
		json_t *builds = json_array(), *changes = json_array();
		dd_state_builds_free(b, n);
		b = NULL;
		n = 0;
		dd_state_builds(w->st, round, &b, &n, NULL);
		for (size_t i = 0; i < n; i++)
			json_array_append_new(builds, json_pack("{s:s, s:s, s:s?, s:s?, s:o?}", "image", b[i].image,
								"status", dd_build_status_name(b[i].status),
								"digest", b[i].digest, "reason", b[i].reason,
								"scan", b[i].scan ? json_loads(b[i].scan, 0, NULL) : NULL));
		dd_state_round_describe(w->st, round, &ch, NULL);
		for (const char *p = dd_buf_cstr(&ch); p && *p;) {
			const char *nl = strchr(p, '\n');
			size_t l = nl ? (size_t)(nl - p) : strlen(p);
			json_array_append_new(changes, json_stringn(p, l));
			p += l + (nl != NULL);
		}
		dd_buf_release(&ch);
		notify(w, json_pack("{s:s, s:I, s:o, s:o}", "event", "round-finished", "round",
				    (json_int_t)round, "changes", changes, "builds", builds));
	}
done:
	dd_state_builds_free(b, n);
	return rc;
}

/* Open rounds for the changes detected at or before `before`, work them. */
static int handle_changes(dd_watch *w, int64_t before, dd_error *err)
{
	int64_t round = 0, *ids = NULL;
	char **images = NULL, **order = NULL;
	size_t n = 0, n_order = 0;
	int rc;

	/* rounds a crash or a failed deployment left unfinished come first,
	 * each once per pass */
	while (!(rc = dd_state_round_unfinished(w->st, round, &round, err)) && round) {
		logj(w, "info", "round-resumed", json_pack("{s:I}", "round", (json_int_t)round));
		if ((rc = work_round(w, round, err)))
			return rc;
	}
	if (rc)
		return rc;
	if ((rc = dd_state_changes_pending(w->st, before, &ids, &images, &n, err)) || !n)
		goto done;
	if ((rc = plan(w, images, n, &order, &n_order, err)) ||
	    (rc = dd_state_round_open(w->st, ids, n, order, n_order, now_s(), &round, err)))
		goto done;
	json_t *arr = json_array();
	for (size_t i = 0; i < n_order; i++)
		json_array_append_new(arr, json_string(order[i]));
	logj(w, "info", "round-opened", json_pack("{s:I, s:o}", "round", (json_int_t)round, "rebuild", arr));
	rc = work_round(w, round, err);
done:
	for (size_t i = 0; i < n; i++)
		free(images[i]);
	free(images);
	free(ids);
	free(order);
	return rc;
}

/* ---- new CVEs, old images ---------------------------------------------- */

static int db_stamp(const char *path, char *buf, size_t n)
{
	struct stat sb;
	if (stat(path, &sb))
		return -1;
	snprintf(buf, n, "%llu:%llu:%lld.%09ld", (unsigned long long)sb.st_dev,
		 (unsigned long long)sb.st_ino, (long long)sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec);
	return 0;
}

static int digest_wanted(void *ctx, const char *image, const char *platform, const char *digest,
			 int64_t checked, int64_t changed)
{
	json_t *set = ctx;
	(void)image;
	(void)checked;
	(void)changed;
	(void)platform;
	json_object_set_new(set, digest, json_true());
	return 0;
}

/* Is inv one of the digests in the JSON object ctx? */
static int tracked_inv(void *ctx, const dd_inventory *inv)
{
	const dd_digest *md = dd_inventory_manifest_digest(inv);
	return dd_digest_is_set(md) && json_object_get((json_t *)ctx, md->s) != NULL;
}

/* Re-match the kept inventories of tracked and running images when the DB
 * changed; report the images that became affected. */
static int rematch(dd_watch *w, dd_error *err)
{
	char stamp[128], *old = NULL, **paths = NULL;
	size_t np = 0;
	dd_vulndb *db = NULL;
	json_t *want = NULL, *affected = NULL;
	int rc;

	if (db_stamp(w->db_path, stamp, sizeof(stamp)))
		return 0; /* no DB yet */
	if ((rc = dd_state_meta_get(w->st, "rematch_db", &old, err)))
		return rc;
	if (old && strcmp(old, stamp) == 0)
		goto done;
	want = json_object();
	if ((rc = dd_state_seen_each(w->st, digest_wanted, want, err)))
		goto done;
	for (size_t i = 0; i < w->f->n_images; i++) {
		char *d = NULL;
		if (dd_state_running_get(w->st, w->f->images[i].name, &d, NULL) == 0 && d)
			json_object_set_new(want, d, json_true());
		free(d);
	}
	if (!old) /* the first DB seen: the stored findings are the baseline */
		goto remember;
	affected = json_array();
	if ((rc = dd_vulndb_open(&db, w->db_path, DD_VULNDB_RDONLY, err)) ||
	    (rc = dd_invstore_list(w->inv_dir, &paths, &np, err)))
		goto done;
	for (size_t i = 0; i < np; i++) {
		dd_invstore_rematch rm;
		dd_error e = DD_ERROR_INIT;
		int r = dd_invstore_rematch_one(paths[i], db, tracked_inv, want, &rm, &e);
		const dd_digest *md = rm.inv ? dd_inventory_manifest_digest(rm.inv) : NULL;
		json_t *added = NULL;
		if (!r && rm.changed && dd_digest_is_set(md) &&
		    json_array_size(added = dd_invstore_keys_missing(rm.now, rm.n_now, rm.before,
								      rm.n_before))) {
			w->total.newly_affected++;
			dd_metrics_counter_add(w->metrics, "drydock_watch_newly_affected_total",
					       "Images a DB update made affected", NULL, 1);
			logj(w, "warn", "newly-affected",
			     json_pack("{s:s?, s:s, s:O}", "ref", dd_inventory_ref(rm.inv), "digest", md->s,
				       "added", added));
			json_array_append_new(affected, json_pack("{s:s?, s:s, s:O}", "ref",
								  dd_inventory_ref(rm.inv), "digest",
								  md->s, "added", added));
		}
		json_decref(added);
		dd_invstore_rematch_release(&rm);
		free(paths[i]);
	}
remember:
	rc = dd_state_meta_set(w->st, "rematch_db", stamp, err);
	if (json_array_size(affected)) {
		notify(w, json_pack("{s:s, s:O}", "event", "newly-affected", "images", affected));
	}
done:
	json_decref(affected);
	free(paths);
	free(old);
	json_decref(want);
	dd_vulndb_close(db);
	return rc;
}

/* ---- lifecycle ---------------------------------------------------------- */

int dd_watch_new(dd_watch **out, const dd_fleet *fleet, const dd_watch_opts *o, dd_error *err)
{
	dd_watch *w = dd_calloc(1, sizeof(*w));
	dd_buf b = DD_BUF_INIT;
	char *inst = NULL;
	int rc;

	*out = NULL;
	if (!w)
		return dd_error_oom(err);
	w->f = fleet;
	w->o = *o;
	if (o->state_path)
		rc = dd_buf_puts(&b, o->state_path) ? dd_error_oom(err) : 0;
	else if (fleet->watch.state)
		rc = dd_buf_puts(&b, fleet->watch.state) ? dd_error_oom(err) : 0;
	else
		rc = dd_state_default_path(&b, err);
	if (rc || !(w->state_path = dd_buf_detach(&b, NULL)))
		goto fail_oom;
	if (o->db_path || fleet->policy.db)
		w->db_path = dd_strdup(o->db_path ? o->db_path : fleet->policy.db);
	else if (!(rc = dd_vulndb_default_path(&b, err)))
		w->db_path = dd_buf_detach(&b, NULL);
	if (rc)
		goto fail;
	if (o->workdir)
		w->workdir = dd_strdup(o->workdir);
	else {
		dd_buf_reset(&b);
		dd_buf_printf(&b, "%s.work", w->state_path);
		w->workdir = dd_buf_detach(&b, NULL);
	}
	dd_buf_reset(&b);
	if ((rc = dd_invstore_default_dir(&b, err)))
		goto fail;
	w->inv_dir = dd_buf_detach(&b, NULL);
	if (!w->db_path || !w->workdir || !w->inv_dir)
		goto fail_oom;
	if ((rc = dd_state_open(&w->st, w->state_path, err)) ||
	    (rc = dd_mkdir_p(w->workdir, 0700, err)))
		goto fail;
	/* this state file's id, in change ids (exactly-once across restarts) */
	if ((rc = dd_state_meta_get(w->st, "instance", &inst, err)))
		goto fail;
	if (!inst) {
		unsigned char rnd[12];
		int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
		if (fd < 0 || read(fd, rnd, sizeof(rnd)) != (ssize_t)sizeof(rnd)) {
			if (fd >= 0)
				close(fd);
			rc = dd_error_set(err, DD_EENV, "cannot read /dev/urandom: %s", strerror(errno));
			goto fail;
		}
		close(fd);
		for (size_t i = 0; i < sizeof(rnd); i++)
			snprintf(w->instance + 2 * i, 3, "%02x", rnd[i]);
		if ((rc = dd_state_meta_set(w->st, "instance", w->instance, err)))
			goto fail;
	} else {
		snprintf(w->instance, sizeof(w->instance), "%s", inst);
		free(inst);
	}
	if (!getenv("DRYDOCK_NO_CACHE")) {
		dd_buf_reset(&b);
		dd_error ce = DD_ERROR_INIT;
		if (dd_layercache_default_path(&b, &ce) == 0)
			dd_layercache_open(&w->cache, dd_buf_cstr(&b), &ce);
	}
	if ((rc = dd_metrics_new(&w->metrics, err)) || (rc = dd_poll_session_new(&w->poll, fleet->registries, fleet->n_registries, err)))
		goto fail;
	w->base = dd_calloc(fleet->n_images + 1, sizeof(*w->base));
	if (!w->base)
		goto fail_oom;
	for (size_t i = 0; i < fleet->n_images; i++) {
		w->base[i] = find_base(w, i);
		if (w->base[i] < 0 && fleet->images[i].build.backend != DD_BUILD_NONE)
			logj(w, "warn", "no-base",
			     json_pack("{s:s, s:s}", "image", fleet->images[i].name, "hint",
				       "its base is not a tracked image (set base: in the fleet file); "
				       "it is rebuilt only when drydock learns its base"));
	}
	size_t requeued = 0;
	if ((rc = dd_state_requeue_running(w->st, &requeued, err)))
		goto fail;
	if (requeued)
		logj(w, "warn", "recovered", json_pack("{s:I}", "requeued_builds", (json_int_t)requeued));
	dd_buf_release(&b);
	*out = w;
	return 0;
fail_oom:
	rc = dd_error_oom(err);
fail:
	dd_buf_release(&b);
	dd_watch_free(w);
	return rc;
}

void dd_watch_free(dd_watch *w)
{
	if (!w)
		return;
	dd_server_stop(w->server);
	dd_poll_session_free(w->poll);
	dd_metrics_free(w->metrics);
	dd_layercache_close(w->cache);
	dd_state_close(w->st);
	free(w->base);
	free(w->state_path);
	free(w->db_path);
	free(w->workdir);
	free(w->inv_dir);
	free(w);
}

int dd_watch_pass(dd_watch *w, dd_watch_report *rep, dd_error *err)
{
	int rc;
	for (size_t i = 0; i < w->f->n_images; i++) {
		int changed = 0;
		dd_error e = DD_ERROR_INIT;
		if (!w->f->images[i].tag)
			continue;
		long retry = 0;
		if (check_image(w, i, "poll", &changed, &retry, &e))
			logj(w, "error", "check-failed", json_pack("{s:s, s:s}", "image",
								    w->f->images[i].name, "error", e.msg));
	}
	if ((rc = handle_changes(w, now_s(), err)) || (rc = rematch(w, err)))
		return rc;
	*rep = w->total;
	return 0;
}

/* ---- the daemon --------------------------------------------------------- */

static unsigned interval_of(const dd_watch *w, size_t i, unsigned *jitter)
{
	dd_ref r;
	const dd_fleet_registry *fr = NULL;
	if (dd_ref_parse(&r, w->f->images[i].image, NULL) == 0)
		fr = dd_fleet_registry_for(w->f, r.domain);
	*jitter = fr ? fr->jitter_pct : 10;
	return fr && fr->poll_interval ? fr->poll_interval : 300;
}

static int same_registry(const char *a, const char *b)
{
	dd_ref ra, rb;
	return dd_ref_parse(&ra, a, NULL) == 0 && dd_ref_parse(&rb, b, NULL) == 0 &&
	       strcmp(ra.domain, rb.domain) == 0;
}

/* The fleet image a push event names (registry host optional), or -1. */
static long image_for_event(const dd_watch *w, const dd_push_event *ev)
{
	for (size_t i = 0; i < w->f->n_images; i++) {
		const dd_fleet_image *im = &w->f->images[i];
		dd_ref r;
		if (dd_ref_parse(&r, im->image, NULL))
			continue;
		size_t pl = strlen(r.path), el = ev->repository ? strlen(ev->repository) : 0;
		/* payloads name the repository without the host; Harbor and ACR
		 * may include a project prefix the same way */
		if (!ev->repository || el > pl || strcmp(r.path + pl - el, ev->repository) != 0 ||
		    (el < pl && r.path[pl - el - 1] != '/'))
			continue;
		/* ev->registry is not compared: payloads name the host as the
		 * registry saw it (localhost vs 127.0.0.1, a proxy's name); the
		 * event only makes us ask the registry now */
		if (ev->tag && im->tag && strcmp(ev->tag, im->tag) != 0)
			continue;
		return (long)i;
	}
	return -1;
}

static void update_gauges(dd_watch *w)
{
	dd_state_counts c;
	if (dd_state_counts_get(w->st, &c, NULL))
		return;
	dd_metrics_gauge_set(w->metrics, "drydock_watch_tracked_images", "Tracked tags", NULL,
			     (double)w->f->n_images);
	dd_metrics_gauge_set(w->metrics, "drydock_watch_pending_changes",
			     "Changes waiting for their debounce", NULL, (double)c.pending_changes);
	dd_metrics_gauge_set(w->metrics, "drydock_watch_queued_builds", "Builds queued", NULL,
			     (double)c.queued);
	dd_metrics_gauge_set(w->metrics, "drydock_watch_last_pass_timestamp_seconds",
			     "When the last pass ended", NULL, (double)time(NULL));
}

int dd_watch_run(dd_watch *w, volatile sig_atomic_t *stop, dd_watch_report *rep, dd_error *err)
{
	size_t n = w->f->n_images;
	int64_t *due = dd_calloc(n + 1, sizeof(*due));
	/* checks still owed to a webhook: the registry may notify before the
	 * tag points at the new manifest (distribution does), so an unchanged
	 * answer is asked again a second later, a few times */
	unsigned char *owed = dd_calloc(n + 1, 1);
	unsigned long seed = (unsigned long)time(NULL) ^ (unsigned long)getpid();
	int rc = 0;
	const char *secret = NULL;

	if (!due || !owed) {
		free(due);
		free(owed);
		return dd_error_oom(err);
	}
	if (w->f->watch.webhook_secret_env && !(secret = getenv(w->f->watch.webhook_secret_env))) {
		free(due);
		free(owed);
		return dd_error_set(err, DD_EENV, "watch: environment variable %s (webhook secret) is not set",
				    w->f->watch.webhook_secret_env);
	}
	if (w->f->watch.listen) {
		if ((rc = dd_server_start(&w->server, w->f->watch.listen, secret, w->metrics, err))) {
			free(due);
			free(owed);
			return rc;
		}
		logj(w, "info", "listening", json_pack("{s:s, s:i}", "listen", w->f->watch.listen, "port",
							(int)dd_server_port(w->server)));
	}
	logj(w, "info", "started", json_pack("{s:I, s:s}", "tracked", (json_int_t)n, "state", w->state_path));
	while (!*stop) {
		int64_t now = now_s(), next = now + 3600;
		for (size_t i = 0; i < n && !*stop; i++) {
			if (!w->f->images[i].tag || due[i] > now)
				continue;
			int changed = 0;
			long retry = 0;
			dd_error e = DD_ERROR_INIT;
			unsigned jitter, iv = interval_of(w, i, &jitter);
			if (check_image(w, i, "poll", &changed, &retry, &e))
				logj(w, "error", "check-failed", json_pack("{s:s, s:s, s:I}", "image",
									    w->f->images[i].name, "error", e.msg,
									    "retry_after", (json_int_t)retry));
			seed = seed * 6364136223846793005UL + 1442695040888963407UL;
			due[i] = now + (retry > 0 ? retry : (int64_t)dd_poll_next_delay(iv, jitter, seed));
			if (retry > 0) /* the registry said slow down: all of its tags wait */
				for (size_t k = 0; k < n; k++)
					if (k != i && same_registry(w->f->images[k].image,
								    w->f->images[i].image) &&
					    due[k] < now + retry)
						due[k] = now + retry;
			if (changed)
				owed[i] = 0;
			else if (owed[i] && !retry) {
				owed[i]--;
				due[i] = now + 1;
			}
		}
		dd_error e = DD_ERROR_INIT;
		int64_t deb = (int64_t)w->f->watch.debounce;
		if (handle_changes(w, now_s() - deb, &e) || rematch(w, &e))
			logj(w, "error", "pass-failed", json_pack("{s:s}", "error", e.msg));
		update_gauges(w);
		for (size_t i = 0; i < n; i++)
			if (w->f->images[i].tag && due[i] < next)
				next = due[i];
		{ /* a pending change wakes us when its debounce ends */
			int64_t *ids = NULL;
			char **imgs = NULL;
			size_t np = 0;
			if (dd_state_changes_pending(w->st, INT64_MAX, &ids, &imgs, &np, NULL) == 0 && np &&
			    now_s() + 1 < next)
				next = now_s() + 1;
			for (size_t k = 0; k < np; k++)
				free(imgs[k]);
			free(imgs);
			free(ids);
		}
		int64_t wait_ms = (next - now_s()) * 1000;
		if (wait_ms < 0)
			wait_ms = 0;
		while (!*stop && wait_ms > 0) {
			int slice = wait_ms > 500 ? 500 : (int)wait_ms; /* notice *stop quickly */
			dd_push_event *ev = NULL;
			size_t ne = 0;
			if (w->server) {
				dd_server_wait(w->server, slice, &ev, &ne);
			} else {
				struct timespec ts = { 0, (long)slice * 1000000L };
				nanosleep(&ts, NULL);
			}
			wait_ms -= slice;
			for (size_t k = 0; k < ne; k++) {
				long i = image_for_event(w, &ev[k]);
				logj(w, "info", "webhook",
				     json_pack("{s:s?, s:s?, s:s?, s:s?}", "repository", ev[k].repository, "tag",
					       ev[k].tag, "digest", ev[k].digest, "image",
					       i >= 0 ? w->f->images[i].name : NULL));
				if (i >= 0) { /* verify with the registry now: never trust the payload */
					due[i] = 0;
					owed[i] = 3;
					wait_ms = 0;
				}
			}
			dd_push_events_free(ev, ne);
		}
	}
	logj(w, "info", "stopped", NULL);
	free(due);
	free(owed);
	*rep = w->total;
	return rc;
}

/* ---- status ------------------------------------------------------------- */

struct status_ctx {
	FILE *fp;
	json_t *seen;
	int json;
};

static void fmt_time(int64_t t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!t) {
		snprintf(buf, n, "-");
		return;
	}
	gmtime_r(&tt, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int status_seen(void *ctx, const char *image, const char *platform, const char *digest,
		       int64_t checked, int64_t changed)
{
	struct status_ctx *c = ctx;
	char a[32], b[32];
	fmt_time(checked, a, sizeof(a));
	fmt_time(changed, b, sizeof(b));
	if (c->json)
		json_array_append_new(c->seen, json_pack("{s:s, s:s, s:s, s:s, s:s}", "image", image,
							 "platform", platform, "digest", digest,
							 "last_check", a, "last_change", b));
	else
		fprintf(c->fp, "  %-20s %-14s %.19s...  checked %s  changed %s\n", image,
			platform[0] ? platform : "(tag)", digest, a, b);
	return 0;
}

int dd_watch_status(const dd_fleet *fleet, const char *state_path, int json, FILE *fp,
		    dd_error *err)
{
	dd_buf path = DD_BUF_INIT;
	dd_state *st = NULL;
	dd_state_build *b = NULL;
	dd_state_counts c;
	size_t n = 0;
	int rc;
	struct status_ctx sc = { fp, NULL, json };

	if (state_path || fleet->watch.state)
		rc = dd_buf_puts(&path, state_path ? state_path : fleet->watch.state) ? dd_error_oom(err) : 0;
	else
		rc = dd_state_default_path(&path, err);
	if (rc || (rc = dd_state_open(&st, dd_buf_cstr(&path), err)) ||
	    (rc = dd_state_counts_get(st, &c, err)) || (rc = dd_state_builds(st, 0, &b, &n, err)))
		goto done;
	if (json) {
		json_t *builds = json_array();
		sc.seen = json_array();
		if ((rc = dd_state_seen_each(st, status_seen, &sc, err)))
			goto done;
		for (size_t i = 0; i < n; i++) {
			char t[32];
			fmt_time(b[i].finished ? b[i].finished : b[i].created, t, sizeof(t));
			json_t *scan = b[i].scan ? json_loads(b[i].scan, 0, NULL) : NULL;
			json_array_append_new(builds, json_pack("{s:I, s:I, s:s, s:s, s:s?, s:s?, s:o?, s:s, s:i}",
								"id", (json_int_t)b[i].id, "round",
								(json_int_t)b[i].round, "image", b[i].image,
								"status", dd_build_status_name(b[i].status),
								"digest", b[i].digest, "reason", b[i].reason,
								"scan", scan, "at", t, "attempts",
								b[i].attempts));
		}
		json_t *root = json_pack("{s:s, s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}, s:o}",
					 "state", dd_buf_cstr(&path), "tracked", sc.seen, "counts",
					 "pending_changes", (json_int_t)c.pending_changes, "queued",
					 (json_int_t)c.queued, "running", (json_int_t)c.running,
					 "succeeded", (json_int_t)c.succeeded, "blocked",
					 (json_int_t)c.blocked, "failed", (json_int_t)c.failed,
					 "skipped", (json_int_t)c.skipped, "deploys",
					 (json_int_t)c.deploys, "builds", builds);
		sc.seen = NULL;
		if (!root || json_dumpf(root, fp, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) {
			json_decref(root);
			rc = dd_error_set(err, DD_EENV, "watch status: writing the result failed");
			goto done;
		}
		json_decref(root);
		fputc('\n', fp);
		goto done;
	}
	fprintf(fp, "state: %s\ntracked (%zu of %zu images seen):\n", dd_buf_cstr(&path), c.tracked,
		fleet->n_images);
	if ((rc = dd_state_seen_each(st, status_seen, &sc, err)))
		goto done;
	fprintf(fp, "pending changes: %zu   builds: %zu queued, %zu running, %zu succeeded, "
		    "%zu blocked, %zu failed, %zu skipped   deployments: %zu\n",
		c.pending_changes, c.queued, c.running, c.succeeded, c.blocked, c.failed, c.skipped,
		c.deploys);
	if (n)
		fprintf(fp, "recent builds:\n");
	for (size_t i = 0; i < n; i++) {
		char t[32];
		fmt_time(b[i].finished ? b[i].finished : b[i].created, t, sizeof(t));
		fprintf(fp, "  #%-4lld round %-4lld %-20s %-9s %s %s%s\n", (long long)b[i].id,
			(long long)b[i].round, b[i].image, dd_build_status_name(b[i].status), t,
			b[i].digest ? b[i].digest : "", b[i].reason ? "" : "");
		if (b[i].reason)
			fprintf(fp, "        %s\n", b[i].reason);
	}
done:
	json_decref(sc.seen);
	dd_state_builds_free(b, n);
	dd_state_close(st);
	dd_buf_release(&path);
	return rc;
}
