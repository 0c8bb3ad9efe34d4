/* changes.c - Red Hat's changes.csv / deletions.csv index files (see
 * changes.h). */
#include "vulndb/changes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/buf.h"
#include "util/banned.h"

void dd_vulndb_changes_release(dd_vulndb_changes *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].path);
	free(c->v);
	memset(c, 0, sizeof(*c));
}

/* Days from 1970-01-01 to a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *p, size_t n, unsigned *out)
{
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	*out = v;
	return 0;
}

/* "YYYY-MM-DD[THH:MM:SS[.frac]][Z|+HH:MM|-HH:MM]" (no zone: UTC) to Unix
 * time.  -1 when malformed. */
int dd_vulndb_time_parse(const char *p, size_t n, int64_t *out)
{
	unsigned y, mo, d, h = 0, mi = 0, s = 0, zh, zm;
	size_t i = 10;
	int64_t off = 0;
	if (n < 10 || p[4] != '-' || p[7] != '-' || digits(p, 4, &y) || digits(p + 5, 2, &mo) ||
	    digits(p + 8, 2, &d) || mo < 1 || mo > 12 || d < 1 || d > 31)
		return -1;
	if (i < n && (p[i] == 'T' || p[i] == 't' || p[i] == ' ')) {
		if (n - i < 9 || p[i + 3] != ':' || p[i + 6] != ':' || digits(p + i + 1, 2, &h) ||
		    digits(p + i + 4, 2, &mi) || digits(p + i + 7, 2, &s) || h > 23 || mi > 59 ||
		    s > 60)
			return -1;
		i += 9;
		if (i < n && p[i] == '.') {
			i++;
			while (i < n && p[i] >= '0' && p[i] <= '9')
				i++;
		}
	}
	if (i < n && (p[i] == 'Z' || p[i] == 'z')) {
		i++;
	} else if (i < n && (p[i] == '+' || p[i] == '-')) {
		if (n - i < 6 || p[i + 3] != ':' || digits(p + i + 1, 2, &zh) ||
		    digits(p + i + 4, 2, &zm) || zh > 23 || zm > 59)
			return -1;
		off = ((int64_t)zh * 60 + zm) * 60 * (p[i] == '+' ? 1 : -1);
		i += 6;
	}
	if (i != n)
		return -1;
	*out = days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 + mi * 60 + s - off;
	return 0;
}

void dd_vulndb_time_format(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, 32, "1970-01-01T00:00:00Z");
}

/* A file of the feed's directory: "2024/cve-2024-0727.json" (letters,
 * digits, '.', '_', '-', '/'; no "..", not absolute). */
static int valid_change_path(const char *p, size_t n)
{
	if (n < 6 || n > 512 || p[0] == '/' || strncmp(p + n - 5, ".json", 5) != 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-' || c == '/'))
			return 0;
		if (c == '/' && p[i + 1] == '/')
			return 0;
		if (c == '.' && i + 1 < n && p[i + 1] == '.')
			return 0;
	}
	return 1;
}

/* One CSV field at *p (quoted or not), up to ',' or the end of the line. */
static int csv_field(const char **p, const char *end, const char **f, size_t *n)
{
	const char *q = *p;
	if (q < end && *q == '"') {
		const char *close = memchr(q + 1, '"', (size_t)(end - q - 1));
		if (!close)
			return -1;
		*f = q + 1;
		*n = (size_t)(close - q - 1);
		q = close + 1;
	} else {
		*f = q;
		while (q < end && *q != ',')
			q++;
		*n = (size_t)(q - *f);
	}
	if (q < end && *q != ',')
		return -1;
	*p = q < end ? q + 1 : q;
	return 0;
}

/* Parse changes.csv / deletions.csv; lines that are not "path","time" are
 * counted in c->bad.  Only DD_EENV (memory) is an error. */
int dd_vulndb_changes_parse(const char *data, size_t len, dd_vulndb_changes *c, dd_error *err)
{
	size_t off = 0;
	while (off < len) {
		const char *l = data + off, *nl = memchr(l, '\n', len - off);
		const char *end = nl ? nl : data + len, *p = l, *f1, *f2;
		size_t n1, n2;
		int64_t ts;
		off = (size_t)(end - data) + (nl ? 1 : 0);
		if (end > l && end[-1] == '\r')
			end--;
		if (end == l)
			continue;
		if (csv_field(&p, end, &f1, &n1) || csv_field(&p, end, &f2, &n2) || p != end ||
		    !valid_change_path(f1, n1) || dd_vulndb_time_parse(f2, n2, &ts)) {
			c->bad++;
			continue;
		}
		if (c->n == c->cap) {
			size_t ncap = c->cap ? c->cap * 2 : 256, bytes;
			dd_vulndb_change *nv;
			if (dd_mul_size(&bytes, ncap, sizeof(*nv)) || !(nv = realloc(c->v, bytes)))
				return dd_error_oom(err);
			c->v = nv;
			c->cap = ncap;
		}
		if (!(c->v[c->n].path = dd_strndup(f1, n1)))
			return dd_error_oom(err);
		c->v[c->n++].ts = ts;
	}
	return 0;
}

static int cmp_change(const void *a, const void *b)
{
	const dd_vulndb_change *x = a, *y = b;
	int c = strcmp(x->path, y->path);
	if (c)
		return c;
	return x->ts < y->ts ? 1 : x->ts > y->ts ? -1 : 0; /* newest first */
}

/* Keep the entries newer than `after`, one per path (its newest). */
void dd_vulndb_changes_keep_newer(dd_vulndb_changes *c, int64_t after)
{
	size_t k = 0;
	if (c->n)
		qsort(c->v, c->n, sizeof(*c->v), cmp_change);
	for (size_t i = 0; i < c->n; i++) {
		if (c->v[i].ts <= after || (k && strcmp(c->v[k - 1].path, c->v[i].path) == 0)) {
			free(c->v[i].path);
			continue;
		}
		c->v[k++] = c->v[i];
	}
	c->n = k;
}

dd_vulndb_change *dd_vulndb_changes_find(dd_vulndb_changes *c, const char *path)
{
	size_t lo = 0, hi = c->n;
	while (lo < hi) { /* sorted by path, one entry per path */
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(c->v[mid].path, path);
		if (r == 0)
			return &c->v[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The advisory id of a document: "2024/cve-2024-0727.json" ->
 * "CVE-2024-0727", "2024/rhsa-2024_0010.json" -> "RHSA-2024:0010". */
void dd_vulndb_change_id(const char *path, char *out, size_t size)
{
	const char *base = strrchr(path, '/');
	size_t n, i;
	base = base ? base + 1 : path;
	n = strlen(base) - 5; /* ".json" (valid_change_path) */
	if (n >= size)
		n = size - 1;
	for (i = 0; i < n; i++)
		out[i] = (char)(base[i] >= 'a' && base[i] <= 'z' ? base[i] - 'a' + 'A' : base[i]);
	out[n] = '\0';
	if (n > 5 && out[0] == 'R' && out[1] == 'H' && out[3] == 'A' && out[4] == '-') {
		char *us = strchr(out, '_');
		if (us)
			*us = ':';
	}
}


/* The date of an archive name ("csaf_vex_2026-11-27.tar.zst"), at 00:00 UTC. */
int dd_vulndb_archive_date(const char *url, int64_t *out)
{
	const char *base = strrchr(url, '/');
	base = base ? base + 1 : url;
	for (const char *p = base; strlen(p) >= 10; p++)
		if (p[4] == '-' && p[7] == '-' && dd_vulndb_time_parse(p, 10, out) == 0)
			return 0;
	return -1;
}
