/*
 * cache.c - `drydock cache status|prune`: the layer cache (what drydock
 * learned from each layer, by diff_id; see docs/cache.md).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache/layercache.h"
#include "cli/cli.h"
#include "util/banned.h"

static struct {
	const char *format, *older_than;
} o;

static const struct dd_opt opts[] = {
	{ "format", 'f', DD_OPT_STR, &o.format, "FORMAT", "status output: table (default) or json" },
	{ "older-than", 0, DD_OPT_STR, &o.older_than, "AGE",
	  "prune: only records unused for AGE (e.g. 30d, 12h, 90m; default: all)" },
	{ 0 },
};

static const struct dd_cmdspec spec = {
	"cache", "status|prune [options]",
	"Show or prune the layer cache.",
	"The layer cache keeps, by layer diff_id, what drydock read from each layer,\n"
	"so an image whose layers were seen before is scanned without reading them\n"
	"again.  It lives in $XDG_CACHE_HOME/drydock/layers.sqlite (DRYDOCK_CACHE_DIR\n"
	"overrides the directory; DRYDOCK_NO_CACHE=1 turns it off).",
	opts,
};

/* "30d", "12h", "90m", "45s" -> seconds; -1 when malformed. */
static long long parse_age(const char *s)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	long long mul;
	if (end == s || v < 0)
		return -1;
	switch (*end) {
	case 'd': mul = 86400; break;
	case 'h': mul = 3600; break;
	case 'm': mul = 60; break;
	case 's': case '\0': mul = 1; break;
	default: return -1;
	}
	if (*end && end[1])
		return -1;
	if (v > (long long)1 << 40)
		return -1;
	return v * mul;
}

static void fmt_time(char *buf, size_t n, int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;
	if (!t || !gmtime_r(&tt, &tm))
		snprintf(buf, n, "-");
	else
		strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int dd_cmd_cache(int argc, char **argv, dd_error *err)
{
	dd_layercache *lc = NULL;
	dd_buf path = DD_BUF_INIT;
	int npos = 0, rc;

	memset(&o, 0, sizeof(o));
	rc = dd_opts_parse(&spec, argc, argv, &npos, err);
	if (rc)
		return rc > 0 ? 0 : rc;
	if (npos != 1 || (strcmp(argv[1], "status") && strcmp(argv[1], "prune")))
		return dd_error_set(err, DD_EUSAGE, "cache: expected 'status' or 'prune' (see 'drydock cache --help')");
	if (o.format && strcmp(o.format, "table") && strcmp(o.format, "json"))
		return dd_error_set(err, DD_EUSAGE, "cache: unknown format '%s' (table, json)", o.format);
	if ((rc = dd_layercache_default_path(&path, err)) ||
	    (rc = dd_layercache_open(&lc, dd_buf_cstr(&path), err)))
		goto done;
	if (!strcmp(argv[1], "prune")) {
		long long age = 0;
		int64_t removed;
		if (o.older_than && (age = parse_age(o.older_than)) < 0) {
			rc = dd_error_set(err, DD_EUSAGE, "cache: --older-than '%s' is not an age like 30d, 12h or 90m",
					  o.older_than);
			goto done;
		}
		if ((rc = dd_layercache_prune(lc, age, &removed, err)))
			goto done;
		printf("removed %lld layer records\n", (long long)removed);
	} else {
		dd_layercache_status st;
		char a[32], b[32];
		if ((rc = dd_layercache_stat(lc, &st, err)))
			goto done;
		fmt_time(a, sizeof(a), st.oldest_use);
		fmt_time(b, sizeof(b), st.newest_use);
		if (o.format && !strcmp(o.format, "json")) {
			json_t *j = json_pack("{s:s, s:I, s:I, s:I, s:s, s:s}", "path", dd_buf_cstr(&path), "layers",
					      (json_int_t)st.records, "storedBytes", (json_int_t)st.stored_bytes,
					      "contentBytes", (json_int_t)st.content_bytes, "oldestUse", a, "newestUse", b);
			if (!j) {
				rc = dd_error_oom(err);
				goto done;
			}
			json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
			putchar('\n');
			json_decref(j);
		} else
			printf("Path          %s\nLayers        %lld\nStored        %lld bytes (%lld before compression)\n"
			       "Oldest use    %s\nNewest use    %s\n",
			       dd_buf_cstr(&path), (long long)st.records, (long long)st.stored_bytes,
			       (long long)st.content_bytes, a, b);
	}
done:
	dd_layercache_close(lc);
	dd_buf_release(&path);
	return rc;
}
