/* import_ubuntu_uct.c - the Ubuntu CVE Tracker's per-CVE files
 * (git.launchpad.net/ubuntu-cve-tracker, active/CVE-*, retired/CVE-*):
 *
 *   Candidate: CVE-2020-10029
 *   PublicDate: 2020-03-04 15:15:00 UTC
 *   Description:
 *    ...
 *   Priority: medium
 *   CVSS:
 *    nvd: CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H
 *   Patches_glibc:
 *   bionic_glibc: released (2.27-3ubuntu1.2)
 *   trusty/esm_glibc: needed
 *
 * One advisory per file; each "<release>_<package>: <status> (<note>)" line
 * becomes an affected entry in the ecosystem Canonical's OSV uses
 * ("Ubuntu:20.04:LTS", "Ubuntu:Pro:14.04:LTS" for the esm pockets, "Ubuntu:19.10"):
 *   released (V)       -> affected, introduced 0 / fixed V
 *   needed, pending    -> affected (no fix released yet)
 *   needs-triage       -> under-investigation
 *   deferred           -> fix-deferred
 *   ignored            -> end-of-life when the note says so ("reached
 *                         end-of-life", "out of standard support"), else
 *                         will-not-fix
 *   not-affected       -> not-affected
 *   DNE, and upstream/devel/snap lines -> not stored.
 * Priority becomes an "ubuntu" distro rating of the advisory, and the
 * affected entries' urgency; a Priority_<pkg> line overrides it for that
 * package (urgency, and a rating of the entry).  CVSS lines become CVSS
 * severities attributed to their source (nvd, ...). */
#include "vulndb/import_internal.h"

#include <ctype.h>
#include <string.h>

#include "util/banned.h"

static const struct { const char *name, *version; int lts; } ubuntu_releases[] = {
	{ "warty", "4.10", 0 },    { "hoary", "5.04", 0 },    { "breezy", "5.10", 0 },
	{ "dapper", "6.06", 1 },   { "edgy", "6.10", 0 },     { "feisty", "7.04", 0 },
	{ "gutsy", "7.10", 0 },    { "hardy", "8.04", 1 },    { "intrepid", "8.10", 0 },
	{ "jaunty", "9.04", 0 },   { "karmic", "9.10", 0 },   { "lucid", "10.04", 1 },
	{ "maverick", "10.10", 0 }, { "natty", "11.04", 0 },  { "oneiric", "11.10", 0 },
	{ "precise", "12.04", 1 }, { "quantal", "12.10", 0 }, { "raring", "13.04", 0 },
	{ "saucy", "13.10", 0 },   { "trusty", "14.04", 1 },  { "utopic", "14.10", 0 },
	{ "vivid", "15.04", 0 },   { "wily", "15.10", 0 },    { "xenial", "16.04", 1 },
	{ "yakkety", "16.10", 0 }, { "zesty", "17.04", 0 },   { "artful", "17.10", 0 },
	{ "bionic", "18.04", 1 },  { "cosmic", "18.10", 0 },  { "disco", "19.04", 0 },
	{ "eoan", "19.10", 0 },    { "focal", "20.04", 1 },   { "groovy", "20.10", 0 },
	{ "hirsute", "21.04", 0 }, { "impish", "21.10", 0 },  { "jammy", "22.04", 1 },
	{ "kinetic", "22.10", 0 }, { "lunar", "23.04", 0 },   { "mantic", "23.10", 0 },
	{ "noble", "24.04", 1 },   { "oracular", "24.10", 0 }, { "plucky", "25.04", 0 },
	{ "questing", "25.10", 0 }, { "resolute", "26.04", 1 },
};

struct line {
	const char *p;
	size_t n;
};

static int starts(struct line l, const char *lit)
{
	size_t n = strlen(lit);
	return l.n >= n && memcmp(l.p, lit, n) == 0;
}

int dd_vimport_is_ubuntu_uct(const char *data, size_t len)
{
	/* "Candidate: CVE-..." among the first lines (a leading
	 * PublicDateAtUSN: or comment may come first). */
	size_t lim = len < 4096 ? len : 4096;
	const char *p = data;
	for (int i = 0; i < 8 && p < data + lim; i++) {
		const char *nl = memchr(p, '\n', (size_t)(data + lim - p));
		struct line l = { p, nl ? (size_t)(nl - p) : (size_t)(data + lim - p) };
		if (starts(l, "Candidate:"))
			return 1;
		if (!nl)
			break;
		p = nl + 1;
	}
	return 0;
}

/* Ecosystem of a release name ("trusty", "trusty/esm"); 0 and *store=0 for
 * releases that are not distributions (upstream, devel, snaps, overlays),
 * -1 for unknown names. */
static int ubuntu_ecosystem(const char *rel, char *out, size_t n, int *store)
{
	char base[32];
	const char *slash = strchr(rel, '/');
	size_t bn = slash ? (size_t)(slash - rel) : strlen(rel);
	int esm = 0;
	*store = 0;
	if (strcmp(rel, "upstream") == 0 || strcmp(rel, "devel") == 0 ||
	    strncmp(rel, "snap", 4) == 0 || strncmp(rel, "product", 7) == 0)
		return 0;
	if (slash) {
		if (strcmp(slash, "/esm") != 0 && strncmp(slash, "/esm-", 5) != 0)
			return 0; /* vivid/ubuntu-core, vivid/stable-phone-overlay */
		esm = 1;
	}
	if (bn >= sizeof(base))
		return -1;
	memcpy(base, rel, bn);
	base[bn] = '\0';
	for (size_t i = 0; i < sizeof(ubuntu_releases) / sizeof(ubuntu_releases[0]); i++) {
		if (strcmp(ubuntu_releases[i].name, base) != 0)
			continue;
		snprintf(out, n, "Ubuntu:%s%s%s", esm ? "Pro:" : "", ubuntu_releases[i].version,
			 ubuntu_releases[i].lts ? ":LTS" : "");
		*store = 1;
		return 0;
	}
	return -1;
}

struct uct {
	char id[64];
	char published[32];
	char priority[32];
	char pkg_prio_name[128]; /* the last Priority_<pkg>: line */
	char pkg_prio[32];
	dd_buf details;
	dd_buf refs; /* URLs of References:, one a line */
	int64_t adv;
	int have_adv;
};

static int ensure_adv(dd_vimport *im, struct uct *u, dd_error *err)
{
	dd_vuln_advisory_in a;
	int rc;
	if (u->have_adv)
		return 0;
	memset(&a, 0, sizeof(a));
	a.id = u->id;
	a.published = u->published[0] ? u->published : NULL;
	a.details = u->details.len ? u->details.data : NULL;
	if ((rc = dd_vulndb_add_advisory(im->db, &a, DD_VULNDB_ADV_MERGE, &u->adv, err)))
		return rc;
	u->have_adv = 1;
	if (u->priority[0] && strcmp(u->priority, "untriaged") != 0) {
		dd_vuln_severity s;
		memset(&s, 0, sizeof(s));
		s.source = "ubuntu";
		s.type = "distro";
		s.rating = u->priority;
		if ((rc = dd_vulndb_add_severity(im->db, u->adv, 0, &s, err)))
			return rc;
	}
	return 0;
}

/* "<release>_<pkg>: <status> (<note>)" */
static int status_line(dd_vimport *im, struct uct *u, struct line l, dd_error *err)
{
	char rel[48], pkg[128], status[32], note[256], eco[48];
	const char *colon = memchr(l.p, ':', l.n), *us;
	const char *st;
	size_t i;
	int store, rc;
	dd_vuln_affected_in in;
	int64_t aff, rg;

	if (!colon)
		return dd_error_set(err, DD_EINPUT, "no ':' in status line");
	us = memchr(l.p, '_', (size_t)(colon - l.p));
	if (!us || us == l.p || (size_t)(us - l.p) >= sizeof(rel) ||
	    (size_t)(colon - us - 1) >= sizeof(pkg) || colon - us - 1 <= 0)
		return dd_error_set(err, DD_EINPUT, "bad release_package '%.*s'",
				    (int)((size_t)(colon - l.p) > 60 ? 60 : (size_t)(colon - l.p)),
				    l.p);
	snprintf(rel, sizeof(rel), "%.*s", (int)(us - l.p), l.p);
	snprintf(pkg, sizeof(pkg), "%.*s", (int)(colon - us - 1), us + 1);
	const char *p = colon + 1, *end = l.p + l.n;
	while (p < end && isspace((unsigned char)*p))
		p++;
	for (i = 0; p + i < end && !isspace((unsigned char)p[i]) && p[i] != '(' &&
		    i < sizeof(status) - 1; i++)
		status[i] = p[i];
	status[i] = '\0';
	p += i;
	note[0] = '\0';
	const char *op = memchr(p, '(', (size_t)(end - p));
	if (op) {
		const char *cp = memchr(op, ')', (size_t)(end - op));
		size_t nn = cp ? (size_t)(cp - op - 1) : (size_t)(end - op - 1);
		snprintf(note, sizeof(note), "%.*s", (int)(nn > 250 ? 250 : nn), op + 1);
	}
	if (!status[0] || strcmp(status, "DNE") == 0)
		return 0;
	if (ubuntu_ecosystem(rel, eco, sizeof(eco), &store) < 0)
		return dd_error_set(err, DD_EINPUT, "unknown Ubuntu release '%s'", rel);
	if (!store)
		return 0;
	const char *fixed = NULL;
	if (strcmp(status, "released") == 0) {
		if (!note[0] || strchr(note, ' '))
			return 0; /* released without a version: nothing to match on */
		st = DD_VULN_AFFECTED;
		fixed = note;
	} else if (strcmp(status, "needed") == 0 || strcmp(status, "pending") == 0 ||
		   strcmp(status, "active") == 0) {
		st = DD_VULN_AFFECTED;
	} else if (strcmp(status, "needs-triage") == 0) {
		st = DD_VULN_UNDER_INVESTIGATION;
	} else if (strcmp(status, "deferred") == 0) {
		st = DD_VULN_FIX_DEFERRED;
	} else if (strcmp(status, "ignored") == 0) {
		st = (strstr(note, "end-of-life") || strstr(note, "end of life") ||
		      strstr(note, "end of standard support") ||
		      strstr(note, "out of standard support")) ? DD_VULN_END_OF_LIFE
							       : DD_VULN_WILL_NOT_FIX;
	} else if (strcmp(status, "not-affected") == 0) {
		st = DD_VULN_NOT_AFFECTED;
	} else {
		return dd_error_set(err, DD_EINPUT, "unknown status '%s'", status);
	}
	if ((rc = ensure_adv(im, u, err)))
		return rc;
	int own_prio = u->pkg_prio[0] && strcmp(u->pkg_prio_name, pkg) == 0;
	memset(&in, 0, sizeof(in));
	in.ecosystem = eco;
	in.package = pkg;
	in.status = st;
	in.notes = !fixed && note[0] ? note : NULL;
	in.urgency = own_prio ? u->pkg_prio : (u->priority[0] ? u->priority : NULL);
	if ((rc = dd_vulndb_add_affected(im->db, u->adv, &in, &aff, err)))
		return rc;
	if (own_prio) { /* Priority_<pkg> overrides the CVE's priority */
		dd_vuln_severity sv;
		memset(&sv, 0, sizeof(sv));
		sv.source = "ubuntu";
		sv.type = "distro";
		sv.rating = u->pkg_prio;
		if ((rc = dd_vulndb_add_severity(im->db, u->adv, aff, &sv, err)))
			return rc;
	}
	if (strcmp(st, DD_VULN_NOT_AFFECTED) != 0) {
		if ((rc = dd_vulndb_add_range(im->db, aff, "ECOSYSTEM", NULL, &rg, err)) ||
		    (rc = dd_vulndb_add_event(im->db, rg, "introduced", "0", err)))
			return rc;
		if (fixed && (rc = dd_vulndb_add_event(im->db, rg, "fixed", fixed, err)))
			return rc;
	}
	return 0;
}

static void field_value(struct line l, size_t keylen, char *out, size_t n)
{
	const char *p = l.p + keylen, *end = l.p + l.n;
	while (p < end && isspace((unsigned char)*p))
		p++;
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	snprintf(out, n, "%.*s", (int)((size_t)(end - p) > n - 1 ? n - 1 : (size_t)(end - p)), p);
}

static int import_uct(dd_vimport *im, const char *file, struct uct *u, const char *data,
		      size_t len, dd_error *err)
{
	const char *p = data, *end = data + len;
	enum { F_NONE, F_DESC, F_CVSS, F_REFS, F_OTHER } field = F_NONE;
	size_t lineno = 0;
	int rc;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		struct line l = { p, nl ? (size_t)(nl - p) : (size_t)(end - p) };
		p = nl ? nl + 1 : end;
		lineno++;
		if (l.n && l.p[l.n - 1] == '\r')
			l.n--;
		if (l.n == 0 || l.p[0] == '#')
			continue;
		if (isspace((unsigned char)l.p[0])) { /* continuation */
			struct line c = l;
			while (c.n && isspace((unsigned char)c.p[0])) {
				c.p++;
				c.n--;
			}
			if (field == F_REFS && c.n && c.n < 2000 && !memchr(c.p, ' ', c.n)) {
				dd_buf_append(&u->refs, c.p, c.n);
				dd_buf_putc(&u->refs, '\n');
			} else if (field == F_DESC && c.n) {
				if (u->details.len)
					dd_buf_putc(&u->details, '\n');
				dd_buf_append(&u->details, c.p, c.n > 4000 ? 4000 : c.n);
			} else if (field == F_CVSS && c.n) {
				/* " nvd: CVSS:3.1/AV:..." */
				const char *colon = memchr(c.p, ':', c.n);
				char src[32], vec[200];
				dd_vuln_severity s;
				const char *rating = NULL;
				if (!colon || (size_t)(colon - c.p) >= sizeof(src))
					continue;
				snprintf(src, sizeof(src), "%.*s", (int)(colon - c.p), c.p);
				field_value(c, (size_t)(colon - c.p) + 1, vec, sizeof(vec));
				memset(&s, 0, sizeof(s));
				s.source = src;
				s.vector = vec;
				if (strncmp(vec, "CVSS:3", 6) == 0) {
					s.type = "CVSS_V3";
					s.has_score = dd_cvss3_score(vec, &s.score, &rating) == 0;
				} else if (strncmp(vec, "CVSS:4", 6) == 0) {
					s.type = "CVSS_V4";
				} else {
					s.type = "CVSS_V2";
					s.has_score = dd_cvss2_score(vec, &s.score, &rating) == 0;
				}
				s.rating = rating;
				if (!vec[0])
					continue;
				if ((rc = ensure_adv(im, u, err)) ||
				    (rc = dd_vulndb_add_severity(im->db, u->adv, 0, &s, err)))
					return rc;
			}
			continue;
		}
		field = F_OTHER;
		if (starts(l, "Candidate:")) {
			field_value(l, 10, u->id, sizeof(u->id));
		} else if (starts(l, "PublicDate:")) {
			char v[32];
			int y, mo, d, h, mi, s;
			field_value(l, 11, v, sizeof(v));
			if (sscanf(v, "%4d-%2d-%2d %2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s) == 6 &&
			    y > 1990 && y < 10000 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 &&
			    h >= 0 && h < 24 && mi >= 0 && mi < 60 && s >= 0 && s < 61)
				snprintf(u->published, sizeof(u->published),
					 "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d, h, mi, s);
		} else if (starts(l, "References:")) {
			field = F_REFS;
		} else if (starts(l, "Description:")) {
			field = F_DESC;
		} else if (starts(l, "Priority:")) {
			field_value(l, 9, u->priority, sizeof(u->priority));
		} else if (starts(l, "CVSS:")) {
			field = F_CVSS;
		} else if (starts(l, "Priority_")) {
			const char *colon = memchr(l.p, ':', l.n);
			size_t nn = colon ? (size_t)(colon - l.p - 9) : 0;
			if (colon && nn > 0 && nn < sizeof(u->pkg_prio_name)) {
				snprintf(u->pkg_prio_name, sizeof(u->pkg_prio_name), "%.*s", (int)nn,
					 l.p + 9);
				field_value(l, (size_t)(colon - l.p) + 1, u->pkg_prio,
					    sizeof(u->pkg_prio));
			}
		} else if (starts(l, "Patches_") || starts(l, "Tags_")) {
			/* Patch URLs and tags are not kept. */
		} else {
			const char *colon = memchr(l.p, ':', l.n);
			const char *us = colon ? memchr(l.p, '_', (size_t)(colon - l.p)) : NULL;
			if (!us)
				continue; /* References:, Bugs:, Notes:, ... */
			if (!u->id[0])
				return dd_error_set(err, DD_EINPUT, "status line before Candidate:");
			dd_error lerr = DD_ERROR_INIT;
			int lrc = status_line(im, u, l, &lerr);
			if (lrc == DD_EINPUT) {
				if ((rc = dd_vimport_skip(im, file, u->id, err, "line %zu: %s", lineno,
							  lerr.msg)))
					return rc;
			} else if (lrc) {
				if (err)
					*err = lerr;
				return lrc;
			}
		}
	}
	if (!u->id[0] || strncmp(u->id, "CVE-", 4) != 0)
		return dd_error_set(err, DD_EINPUT, "no 'Candidate: CVE-...' line");
	if ((rc = ensure_adv(im, u, err))) /* one advisory per file, even if all DNE */
		return rc;
	for (const char *r = dd_buf_cstr(&u->refs); *r;) {
		const char *e = strchr(r, '\n');
		char url[2048];
		size_t n = e ? (size_t)(e - r) : strlen(r);
		snprintf(url, sizeof(url), "%.*s", (int)n, r);
		if ((rc = dd_vulndb_add_reference(im->db, u->adv, "WEB", url, err)))
			return rc;
		r += n + (e ? 1 : 0);
	}
	return 0;
}

int dd_vimport_ubuntu_uct(dd_vimport *im, const char *file, const char *data, size_t len,
			  dd_error *err)
{
	struct uct u;
	dd_error rerr = DD_ERROR_INIT;
	int rc;

	memset(&u, 0, sizeof(u));
	im->st->records++;
	if ((rc = dd_vulndb_record_begin(im->db, err)))
		return rc;
	int arc = import_uct(im, file, &u, data, len, &rerr);
	dd_buf_release(&u.details);
	dd_buf_release(&u.refs);
	if ((rc = dd_vulndb_record_end(im->db, arc != 0, err)))
		return rc;
	if (arc == DD_EINPUT)
		return dd_vimport_skip(im, file, u.id[0] ? u.id : "-", err, "%s", rerr.msg);
	if (arc && err)
		*err = rerr;
	return arc;
}
