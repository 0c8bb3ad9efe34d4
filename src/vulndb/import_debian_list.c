/* import_debian_list.c - the Debian security tracker's text lists
 * (salsa.debian.org/security-tracker-team/security-tracker, data/CVE/list,
 * data/DSA/list, data/DLA/list):
 *
 *   CVE-2021-36367 (PuTTY through 0.75 proceeds with ...)
 *           - putty 0.75-3 (low; bug #990901)
 *           [bullseye] - putty <no-dsa> (Minor issue)
 *   [11 Jul 2019] DSA-4480-1 redis - security update
 *           {CVE-2019-10192 CVE-2019-10193}
 *           [stretch] - redis 3:3.2.6-3+deb9u3
 *
 * Each package line becomes an affected entry in "Debian:<N>" (no [release]
 * prefix means unstable, "Debian:sid").  A version means fixed in it;
 * <unfixed> affected; <not-affected> not-affected; <no-dsa> and <ignored>
 * will-not-fix; <postponed> fix-deferred; <end-of-life> end-of-life;
 * <undetermined> under-investigation; <removed> is not stored.  The DSA/DLA
 * {CVE ...} list becomes aliases.  Placeholder ids (CVE-2023-XXXX) are
 * skipped. */
#include "vulndb/import_internal.h"

#include <ctype.h>
#include <string.h>

#include "util/log.h"
#include "util/banned.h"

#define MAX_LINE 8192

struct span {
	const char *p;
	size_t n;
};

static int span_eq(struct span s, const char *lit)
{
	return s.n == strlen(lit) && memcmp(s.p, lit, s.n) == 0;
}

static void trim(struct span *s)
{
	while (s->n && isspace((unsigned char)s->p[0])) {
		s->p++;
		s->n--;
	}
	while (s->n && isspace((unsigned char)s->p[s->n - 1]))
		s->n--;
}

/* Next whitespace-separated word of *s. */
static struct span word(struct span *s)
{
	struct span w;
	trim(s);
	w.p = s->p;
	w.n = 0;
	while (w.n < s->n && !isspace((unsigned char)w.p[w.n]))
		w.n++;
	s->p += w.n;
	s->n -= w.n;
	return w;
}

static int is_cve_header(struct span l)
{
	return l.n > 9 && memcmp(l.p, "CVE-", 4) == 0 && isdigit((unsigned char)l.p[4]);
}

/* "[11 Jul 2019] DSA-4480-1 ..." */
static int is_dsa_header(struct span l)
{
	const unsigned char *u = (const unsigned char *)l.p;
	size_t d = 1;
	if (l.n < 16 || u[0] != '[')
		return 0;
	if (isdigit(u[d]) && isdigit(u[d + 1]))
		d += 2;
	else if (isdigit(u[d]))
		d += 1;
	else
		return 0;
	return u[d] == ' ' && isalpha(u[d + 1]) && isalpha(u[d + 2]) && isalpha(u[d + 3]) &&
	       u[d + 4] == ' ' && isdigit(u[d + 5]) && isdigit(u[d + 6]) && isdigit(u[d + 7]) &&
	       isdigit(u[d + 8]) && u[d + 9] == ']';
}

int dd_vimport_is_debian_list(const char *data, size_t len)
{
	struct span l = { data, 0 };
	while (l.p < data + len && (*l.p == '\n' || *l.p == '\r'))
		l.p++;
	const char *nl = memchr(l.p, '\n', (size_t)(data + len - l.p));
	l.n = nl ? (size_t)(nl - l.p) : (size_t)(data + len - l.p);
	return is_cve_header(l) || is_dsa_header(l);
}

struct rec {
	char id[64];
	char published[24];
	dd_buf summary;
	dd_buf aliases; /* space-separated */
	int64_t adv;
	int have_adv;
	int placeholder;
};

static int add_aliases(dd_vimport *im, int64_t adv, struct span s, dd_error *err)
{
	char buf[64];
	int rc;
	for (struct span w = word(&s); w.n; w = word(&s)) {
		if (w.n >= sizeof(buf))
			continue;
		memcpy(buf, w.p, w.n);
		buf[w.n] = '\0';
		if ((rc = dd_vulndb_add_alias(im->db, adv, buf, "alias", err)))
			return rc;
	}
	return 0;
}

static int ensure_adv(dd_vimport *im, struct rec *r, dd_error *err)
{
	dd_vuln_advisory_in a;
	int rc;
	if (r->have_adv)
		return 0;
	memset(&a, 0, sizeof(a));
	a.id = r->id;
	a.published = r->published[0] ? r->published : NULL;
	a.summary = r->summary.len ? r->summary.data : NULL;
	if ((rc = dd_vulndb_add_advisory(im->db, &a, DD_VULNDB_ADV_MERGE, &r->adv, err)))
		return rc;
	r->have_adv = 1;
	if (r->aliases.len)
		return add_aliases(im, r->adv, (struct span){ r->aliases.data, r->aliases.len }, err);
	return 0;
}

static const char *tag_status(struct span t, int *store)
{
	static const struct { const char *tag, *status; } tags[] = {
		{ "<unfixed>", DD_VULN_AFFECTED },
		{ "<not-affected>", DD_VULN_NOT_AFFECTED },
		{ "<no-dsa>", DD_VULN_WILL_NOT_FIX },
		{ "<ignored>", DD_VULN_WILL_NOT_FIX },
		{ "<postponed>", DD_VULN_FIX_DEFERRED },
		{ "<end-of-life>", DD_VULN_END_OF_LIFE },
		{ "<undetermined>", DD_VULN_UNDER_INVESTIGATION },
		{ "<removed>", NULL },
	};
	*store = 1;
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
		if (span_eq(t, tags[i].tag)) {
			*store = tags[i].status != NULL;
			return tags[i].status;
		}
	*store = 0;
	return NULL;
}

/* "(low; bug #990901)" -> urgency "low", notes "bug #990901";
 * "(Minor issue)" -> notes only. */
static void split_paren(struct span p, char *urg, size_t un, char *notes, size_t nn)
{
	static const char *const urgencies[] = { "unimportant", "low", "medium", "high" };
	struct span first, rest;
	const char *semi;

	urg[0] = notes[0] = '\0';
	trim(&p);
	if (p.n < 2 || p.p[0] != '(' || p.p[p.n - 1] != ')')
		return;
	p.p++;
	p.n -= 2;
	first = p;
	rest.p = p.p + p.n;
	rest.n = 0;
	if ((semi = memchr(p.p, ';', p.n))) {
		first.n = (size_t)(semi - p.p);
		rest.p = semi + 1;
		rest.n = (size_t)(p.p + p.n - rest.p);
	}
	trim(&first);
	for (size_t i = 0; i < sizeof(urgencies) / sizeof(urgencies[0]); i++) {
		size_t n = strlen(urgencies[i]);
		if (first.n >= n && memcmp(first.p, urgencies[i], n) == 0 &&
		    (first.n == n || (first.n == n + 2 && first.p[n] == '*' && first.p[n + 1] == '*'))) {
			snprintf(urg, un, "%.*s", (int)first.n, first.p);
			p = rest;
			break;
		}
	}
	trim(&p);
	snprintf(notes, nn, "%.*s", (int)(p.n > 400 ? 400 : p.n), p.p);
}

/* One package line of a record. Returns DD_EINPUT for a malformed line. */
static int package_line(dd_vimport *im, struct rec *r, struct span l, dd_error *err)
{
	char release[32] = "sid", pkg[128], ver[256], urg[32], notes[512], eco[40];
	struct span w;
	const char *status = DD_VULN_AFFECTED, *dv;
	int store = 1, rc;
	dd_vuln_affected_in in;
	int64_t aff, rg;

	if (l.p[0] == '[') {
		const char *close = memchr(l.p, ']', l.n);
		if (!close || close - l.p - 1 <= 0 || close - l.p - 1 >= (long)sizeof(release))
			return dd_error_set(err, DD_EINPUT, "bad release in '%.*s'",
					    (int)(l.n > 60 ? 60 : l.n), l.p);
		snprintf(release, sizeof(release), "%.*s", (int)(close - l.p - 1), l.p + 1);
		l.n -= (size_t)(close + 1 - l.p);
		l.p = close + 1;
		trim(&l);
	}
	if (l.n < 2 || l.p[0] != '-' || !isspace((unsigned char)l.p[1]))
		return dd_error_set(err, DD_EINPUT, "not a package line: '%.*s'",
				    (int)(l.n > 60 ? 60 : l.n), l.p);
	l.p++;
	l.n--;
	w = word(&l);
	if (!w.n || w.n >= sizeof(pkg))
		return dd_error_set(err, DD_EINPUT, "package line without a package name");
	snprintf(pkg, sizeof(pkg), "%.*s", (int)w.n, w.p);
	trim(&l);
	ver[0] = '\0';
	if (l.n && l.p[0] != '(') {
		w = word(&l);
		if (w.p[0] == '<') {
			status = tag_status(w, &store);
			if (!status && store == 0 && !span_eq(w, "<removed>"))
				return dd_error_set(err, DD_EINPUT, "unknown tag '%.*s'", (int)w.n, w.p);
		} else if (w.n < sizeof(ver)) {
			snprintf(ver, sizeof(ver), "%.*s", (int)w.n, w.p);
		} else {
			return dd_error_set(err, DD_EINPUT, "version too long");
		}
	} else {
		status = DD_VULN_AFFECTED; /* "- pkg (bug #1)": no fix yet */
	}
	if (!store)
		return 0;
	split_paren(l, urg, sizeof(urg), notes, sizeof(notes));
	if (!(dv = dd_vulndb_debian_version(release)))
		return dd_error_set(err, DD_EINPUT, "unknown Debian release '%s'", release);
	if ((rc = ensure_adv(im, r, err)))
		return rc;
	snprintf(eco, sizeof(eco), "Debian:%s", dv);
	memset(&in, 0, sizeof(in));
	in.ecosystem = eco;
	in.package = pkg;
	in.status = status;
	in.urgency = urg[0] ? urg : NULL;
	in.notes = notes[0] ? notes : NULL;
	if ((rc = dd_vulndb_add_affected(im->db, r->adv, &in, &aff, err)))
		return rc;
	if (strcmp(status, DD_VULN_NOT_AFFECTED) != 0) {
		if ((rc = dd_vulndb_add_range(im->db, aff, "ECOSYSTEM", NULL, &rg, err)) ||
		    (rc = dd_vulndb_add_event(im->db, rg, "introduced", "0", err)))
			return rc;
		if (ver[0] && (rc = dd_vulndb_add_event(im->db, rg, "fixed", ver, err)))
			return rc;
	}
	if (urg[0]) {
		dd_vuln_severity s;
		char rating[32];
		snprintf(rating, sizeof(rating), "%.*s", (int)strcspn(urg, "*"), urg);
		memset(&s, 0, sizeof(s));
		s.source = "debian";
		s.type = "distro";
		s.rating = rating;
		if ((rc = dd_vulndb_add_severity(im->db, r->adv, aff, &s, err)))
			return rc;
	}
	return 0;
}

static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
				      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* Parse a header line into r; returns 0, or -1 when malformed. */
static int header(struct rec *r, struct span l)
{
	struct span w;
	memset(r->id, 0, sizeof(r->id));
	r->published[0] = '\0';
	r->placeholder = 0;
	if (l.p[0] == '[') {
		int d = 0, y = 0, m = -1;
		char mon[4] = "";
		const char *close = memchr(l.p, ']', l.n);
		if (!close || close - l.p > 15)
			return -1;
		char date[16];
		snprintf(date, sizeof(date), "%.*s", (int)(close - l.p - 1), l.p + 1);
		if (sscanf(date, "%2d %3s %4d", &d, mon, &y) == 3)
			for (int i = 0; i < 12; i++)
				if (strcmp(mon, months[i]) == 0)
					m = i;
		if (m >= 0 && d >= 1 && d <= 31 && y >= 1990 && y <= 9999)
			snprintf(r->published, sizeof(r->published), "%04d-%02d-%02d", y, m + 1, d);
		l.n -= (size_t)(close + 1 - l.p);
		l.p = close + 1;
		w = word(&l);
		if (w.n < 5 || w.n >= sizeof(r->id) || (memcmp(w.p, "DSA-", 4) && memcmp(w.p, "DLA-", 4)))
			return -1;
	} else {
		w = word(&l);
		if (w.n < 9 || w.n >= sizeof(r->id))
			return -1;
	}
	memcpy(r->id, w.p, w.n);
	r->placeholder = strstr(r->id, "XXXX") != NULL;
	trim(&l);
	dd_buf_reset(&r->summary);
	dd_buf_reset(&r->aliases);
	if (l.n > 2 && (l.p[0] == '(' || l.p[0] == '[') && (l.p[l.n - 1] == ')' || l.p[l.n - 1] == ']')) {
		l.p++;
		l.n -= 2;
	}
	dd_buf_append(&r->summary, l.p, l.n > 1000 ? 1000 : l.n);
	return 0;
}

int dd_vimport_debian_list(dd_vimport *im, const char *file, const char *data, size_t len,
			   dd_error *err)
{
	struct rec r;
	const char *p = data, *end = data + len;
	int in_rec = 0, skipping = 0, rc = 0;
	size_t lineno = 0;

	memset(&r, 0, sizeof(r));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		struct span l = { p, nl ? (size_t)(nl - p) : (size_t)(end - p) };
		p = nl ? nl + 1 : end;
		lineno++;
		if (l.n && l.p[l.n - 1] == '\r')
			l.n--;
		if (l.n == 0)
			continue;
		if (l.n > MAX_LINE) {
			if ((rc = dd_vimport_skip(im, file, r.id, err, "line %zu is too long", lineno)))
				break;
			continue;
		}
		if (!isspace((unsigned char)l.p[0])) {
			/* A new record. */
			if (in_rec && (rc = dd_vulndb_record_end(im->db, 0, err)))
				break;
			in_rec = skipping = 0;
			im->st->records++;
			if (header(&r, l)) {
				char where[32];
				snprintf(where, sizeof(where), "line %zu", lineno);
				if ((rc = dd_vimport_skip(im, file, where, err, "malformed header '%.*s'",
							  (int)(l.n > 60 ? 60 : l.n), l.p)))
					break;
				skipping = 1;
				continue;
			}
			if (r.placeholder) {
				im->st->records--;
				skipping = 1;
				continue;
			}
			r.have_adv = 0;
			if ((rc = dd_vulndb_record_begin(im->db, err)))
				break;
			in_rec = 1;
			continue;
		}
		if (skipping || !in_rec)
			continue;
		trim(&l);
		if (l.n == 0)
			continue;
		if (l.p[0] == '{') {
			struct span a = { l.p + 1, l.n - 1 };
			if (a.n && a.p[a.n - 1] == '}')
				a.n--;
			if (r.have_adv) {
				if ((rc = add_aliases(im, r.adv, a, err)))
					break;
			} else {
				dd_buf_append(&r.aliases, a.p, a.n);
				dd_buf_putc(&r.aliases, ' ');
			}
			continue;
		}
		if (l.p[0] != '-' && l.p[0] != '[')
			continue; /* NOTE:, TODO:, NOT-FOR-US:, RESERVED, REJECTED */
		dd_error lerr = DD_ERROR_INIT;
		int lrc = package_line(im, &r, l, &lerr);
		if (lrc == DD_EINPUT) {
			if ((rc = dd_vimport_skip(im, file, r.id, err, "line %zu: %s", lineno, lerr.msg)))
				break;
		} else if (lrc) {
			if (err)
				*err = lerr;
			rc = lrc;
			break;
		}
	}
	if (in_rec) {
		if (rc)
			dd_vulndb_record_end(im->db, 1, NULL);
		else
			rc = dd_vulndb_record_end(im->db, 0, err);
	}
	dd_buf_release(&r.summary);
	dd_buf_release(&r.aliases);
	return rc;
}
