/*
 * rescan.c - `drydock rescan`: re-match every inventory `drydock scan` kept
 * (src/match/invstore.h) against the current vulnerability DB and list the
 * images whose findings changed, without reading any image again.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "match/invstore.h"
#include "match/match.h"
#include "util/buf.h"
#include "util/log.h"
#include "vulndb/store.h"
#include "util/banned.h"

static struct {
	const char *db, *inventory_dir, *format;
	int fail_on_change;
} o;

static const struct dd_opt opts[] = {
	{ "db", 0, DD_OPT_STR, &o.db, "PATH",
	  "the vulnerability DB (default $XDG_CACHE_HOME/drydock/db.sqlite)" },
	{ "inventory-dir", 0, DD_OPT_STR, &o.inventory_dir, "DIR",
	  "where 'drydock scan' kept the inventories (default $XDG_CACHE_HOME/drydock/inventories)" },
	{ "format", 'f', DD_OPT_STR, &o.format, "FORMAT", "output format: table (default) or json" },
	{ "fail-on-change", 0, DD_OPT_FLAG, &o.fail_on_change, NULL,
	  "exit 1 when the findings of any image changed" },
	{ 0 },
};

static const struct dd_cmdspec spec = {
	"rescan", "[options]",
	"Re-match every image scanned before against the current DB.",
	"Each 'drydock scan IMAGE' keeps the image's inventory (OS, packages,\n"
	"layers) in the local cache, keyed by its manifest digest and layer\n"
	"diffIDs.  rescan matches them all again, without touching the images,\n"
	"and lists those whose findings changed (new or gone vulnerabilities,\n"
	"new fixes); the kept findings are updated.",
	opts,
};

int dd_cmd_rescan(int argc, char **argv, dd_error *err)
{
	dd_buf dbpath = DD_BUF_INIT, dir = DD_BUF_INIT;
	dd_vulndb *db = NULL;
	char **paths = NULL;
	size_t np = 0, changed = 0, failed = 0;
	json_t *res = NULL;
	int npos = 0, rc, json = 0;
	struct timespec t0, t1;

	memset(&o, 0, sizeof(o));
	rc = dd_opts_parse(&spec, argc, argv, &npos, err);
	if (rc)
		return rc > 0 ? 0 : rc;
	if (npos != 0)
		return dd_error_set(err, DD_EUSAGE, "rescan: takes no IMAGE (see 'drydock rescan --help')");
	if (o.format && strcmp(o.format, "json") == 0)
		json = 1;
	else if (o.format && strcmp(o.format, "table") != 0)
		return dd_error_set(err, DD_EUSAGE, "rescan: unknown format '%s' (table, json)", o.format);
	if ((o.db ? dd_buf_puts(&dbpath, o.db) : dd_vulndb_default_path(&dbpath, err)) ||
	    (o.inventory_dir ? dd_buf_puts(&dir, o.inventory_dir) : dd_invstore_default_dir(&dir, err))) {
		rc = err->code ? err->code : dd_error_oom(err);
		goto done;
	}
	if ((rc = dd_vulndb_open(&db, dd_buf_cstr(&dbpath), DD_VULNDB_RDONLY, err))) {
		dd_error_prefix(err, "rescan: no usable vulnerability DB (run 'drydock db import' first)");
		goto done;
	}
	if ((rc = dd_invstore_list(dd_buf_cstr(&dir), &paths, &np, err)))
		goto done;
	res = json_array();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; i < np; i++) {
		dd_invstore_rematch rm;
		dd_error e = DD_ERROR_INIT;

		if ((rc = dd_invstore_rematch_one(paths[i], db, NULL, NULL, &rm, &e))) {
			int unreadable = rm.inv == NULL;
			dd_invstore_rematch_release(&rm);
			if (unreadable) { /* a file that does not load: skipped, counted */
				dd_warn("%s", e.msg);
				failed++;
				rc = 0;
				continue;
			}
			*err = e;
			goto done;
		}
		changed += rm.changed;
		const dd_digest *md = dd_inventory_manifest_digest(rm.inv);
		json_array_append_new(
			res, json_pack("{s:s?, s:s?, s:b, s:i, s:i, s:o, s:o}", "reference",
				       dd_inventory_ref(rm.inv), "manifest_digest",
				       dd_digest_is_set(md) ? md->s : NULL, "changed", rm.changed,
				       "findings_before", (json_int_t)rm.n_before, "findings_now",
				       (json_int_t)rm.n_now, "added",
				       dd_invstore_keys_missing(rm.now, rm.n_now, rm.before, rm.n_before),
				       "gone",
				       dd_invstore_keys_missing(rm.before, rm.n_before, rm.now, rm.n_now)));
		dd_invstore_rematch_release(&rm);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (json) {
		json_t *root = json_pack("{s:o, s:i, s:i, s:f}", "images", res, "changed",
					 (json_int_t)changed, "unreadable", (json_int_t)failed,
					 "elapsed_ms",
					 (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
		res = NULL;
		if (!root || json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0) {
			json_decref(root);
			rc = dd_error_set(err, DD_EENV, "rescan: writing the result failed");
			goto done;
		}
		json_decref(root);
		fputc('\n', stdout);
	} else {
		size_t i;
		json_t *r;
		json_array_foreach(res, i, r) {
			const char *ref = json_string_value(json_object_get(r, "reference"));
			printf("%-9s %s (%lld -> %lld findings)\n",
			       json_is_true(json_object_get(r, "changed")) ? "CHANGED" : "unchanged",
			       ref ? ref : "?",
			       (long long)json_integer_value(json_object_get(r, "findings_before")),
			       (long long)json_integer_value(json_object_get(r, "findings_now")));
			size_t k;
			json_t *x;
			json_array_foreach(json_object_get(r, "added"), k, x)
				printf("  + %s\n", json_string_value(x));
			json_array_foreach(json_object_get(r, "gone"), k, x)
				printf("  - %s\n", json_string_value(x));
		}
		printf("%zu image(s) rescanned, %zu changed%s\n", np - failed, changed,
		       failed ? " (some stored inventories were unreadable)" : "");
	}
	if (fflush(stdout) != 0) {
		rc = dd_error_set(err, DD_EENV, "rescan: writing the result failed");
		goto done;
	}
	if (o.fail_on_change && changed)
		rc = dd_error_set(err, DD_EGATE, "rescan: the findings of %zu image(s) changed", changed);
done:
	json_decref(res);
	dd_invstore_keys_free(paths, np);
	dd_vulndb_close(db);
	dd_buf_release(&dbpath);
	dd_buf_release(&dir);
	return rc;
}
