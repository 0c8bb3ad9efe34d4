/*
 * match.c - inventory against the vulnerability DB (see match.h and
 * docs/matching.md "# Matching rules").
 *
 * Packages are grouped by the (ecosystem, name) the feeds key them on, so a
 * source package shared by many binaries is looked up once; every entry the
 * DB returns is evaluated for each package of the group with the
 * ecosystem's version ordering.  Raw hits are then merged per package:
 * hits whose ids or aliases overlap become one finding.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "match/match.h"
#include "util/buf.h"
#include "util/log.h"
#include "version/version.h"
#include "vulndb/import.h"
#include "util/banned.h"

static const char *const sev_names[DD_SEV_COUNT] = {
	"UNKNOWN", "NEGLIGIBLE", "LOW", "MEDIUM", "HIGH", "CRITICAL",
};

const char *dd_severity_name(enum dd_severity s)
{
	return (unsigned)s < DD_SEV_COUNT ? sev_names[s] : "UNKNOWN";
}

int dd_severity_parse(const char *s, enum dd_severity *out)
{
	static const struct { const char *name; enum dd_severity sev; } map[] = {
		{ "unknown", DD_SEV_UNKNOWN },       { "negligible", DD_SEV_NEGLIGIBLE },
		{ "unimportant", DD_SEV_NEGLIGIBLE }, { "none", DD_SEV_NEGLIGIBLE },
		{ "low", DD_SEV_LOW },               { "medium", DD_SEV_MEDIUM },
		{ "moderate", DD_SEV_MEDIUM },       { "high", DD_SEV_HIGH },
		{ "important", DD_SEV_HIGH },        { "critical", DD_SEV_CRITICAL },
	};
	if (!s)
		return DD_EINPUT;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcasecmp(s, map[i].name) == 0) {
			*out = map[i].sev;
			return 0;
		}
	return DD_EINPUT;
}

enum dd_severity dd_severity_from_score(double score)
{
	if (score >= 9.0)
		return DD_SEV_CRITICAL;
	if (score >= 7.0)
		return DD_SEV_HIGH;
	if (score >= 4.0)
		return DD_SEV_MEDIUM;
	if (score > 0.0)
		return DD_SEV_LOW;
	return DD_SEV_NEGLIGIBLE;
}

/* ---- ecosystems ---------------------------------------------------------- */

/* Leading "N" or "N.M" of a VERSION_ID into out ("3.10.4" -> "3.10"). */
static int version_prefix(char *out, size_t n, const char *v, int parts)
{
	size_t i = 0;
	int seen = 0;
	if (!v || !(*v >= '0' && *v <= '9'))
		return -1;
	while (v[i] && i + 1 < n) {
		if (v[i] == '.') {
			if (++seen >= parts)
				break;
		} else if (!(v[i] >= '0' && v[i] <= '9')) {
			break;
		}
		out[i] = v[i];
		i++;
	}
	if (i + 1 >= n && v[i])
		return -1;
	out[i] = '\0';
	return 0;
}

const char *dd_match_ecosystem(char *buf, size_t n, const dd_os *os, enum dd_pkg_type t)
{
	char v[32];
	const char *id = os ? os->id : NULL;

	if (!buf || n == 0)
		return NULL;
	if (!id && os && os->distroless && t == DD_PKG_DEB)
		id = "debian";
	if (!id)
		return NULL;
	if (strcmp(id, "alpine") == 0 && t == DD_PKG_APK) {
		if (os->version_id && strstr(os->version_id, "_alpha"))
			snprintf(buf, n, "Alpine:edge");
		else if (version_prefix(v, sizeof(v), os->version_id, 2) == 0 && strchr(v, '.'))
			snprintf(buf, n, "Alpine:v%s", v);
		else
			return NULL;
		return buf;
	}
	if (strcmp(id, "wolfi") == 0 && t == DD_PKG_APK)
		return snprintf(buf, n, "Wolfi"), buf;
	if (strcmp(id, "chainguard") == 0 && t == DD_PKG_APK)
		return snprintf(buf, n, "Chainguard"), buf;
	if (strcmp(id, "debian") == 0 && t == DD_PKG_DEB) {
		const char *rel = NULL;
		if (version_prefix(v, sizeof(v), os->version_id, 1) == 0)
			rel = v;
		else if (os->codename)
			rel = dd_vulndb_debian_version(os->codename);
		else if (os->name && strstr(os->name, "sid"))
			rel = "sid";
		if (!rel)
			return NULL;
		snprintf(buf, n, "Debian:%s", rel);
		return buf;
	}
	if (strcmp(id, "ubuntu") == 0 && t == DD_PKG_DEB) {
		int yy, mm;
		if (version_prefix(v, sizeof(v), os->version_id, 2) != 0 ||
		    sscanf(v, "%d.%d", &yy, &mm) != 2)
			return NULL;
		/* LTS: even year, April release (as the Ubuntu OSV feed names them). */
		snprintf(buf, n, "Ubuntu:%s%s", v, (yy % 2 == 0 && mm == 4) ? ":LTS" : "");
		return buf;
	}
	if (t == DD_PKG_RPM && strcmp(id, "rhel") == 0) {
		/* Red Hat's CSAF VEX, keyed by major release (src/vulndb/import_csaf.c) */
		if (version_prefix(v, sizeof(v), os->version_id, 1) != 0)
			return NULL;
		snprintf(buf, n, "Red Hat:%s", v);
		return buf;
	}
	if (t == DD_PKG_RPM && (strcmp(id, "almalinux") == 0 || strcmp(id, "rocky") == 0)) {
		if (version_prefix(v, sizeof(v), os->version_id, 1) != 0)
			return NULL;
		snprintf(buf, n, "%s:%s", id[0] == 'a' ? "AlmaLinux" : "Rocky Linux", v);
		return buf;
	}
	return NULL;
}

static enum dd_ecosystem eco_of(enum dd_pkg_type t)
{
	switch (t) {
	case DD_PKG_DEB:
		return DD_ECO_DEB;
	case DD_PKG_APK:
		return DD_ECO_APK;
	default:
		return DD_ECO_RPM;
	}
}

/* ---- range evaluation ---------------------------------------------------- */

static int vcmp(enum dd_ecosystem eco, const char *a, const char *b, int *out)
{
	if (!a || !b)
		return -1;
	if (strcmp(b, "0") == 0) { /* OSV: "introduced 0" is below every version */
		*out = strcmp(a, "0") == 0 ? 0 : 1;
		return 0;
	}
	if (strcmp(a, "0") == 0) {
		*out = -1;
		return 0;
	}
	return dd_version_cmp(eco, a, b, out, NULL) == 0 ? 0 : -1;
}

#define MAX_EVENTS 256

static int range_affects(enum dd_ecosystem eco, const char *v, const dd_vuln_range *r,
			 const char **fixed)
{
	const dd_vuln_event *ev[MAX_EVENTS];
	size_t n = 0;
	int in = 0, c;

	for (size_t i = 0; i < r->n_events && n < MAX_EVENTS; i++) {
		if (!r->events[i].version || !r->events[i].kind)
			continue;
		/* insertion sort by version; incomparable events keep their place */
		size_t j = n++;
		while (j > 0 && vcmp(eco, ev[j - 1]->version, r->events[i].version, &c) == 0 &&
		       c > 0) {
			ev[j] = ev[j - 1];
			j--;
		}
		ev[j] = &r->events[i];
	}
	for (size_t i = 0; i < n; i++) {
		const char *k = ev[i]->kind;
		if (vcmp(eco, v, ev[i]->version, &c) != 0)
			continue;
		if (strcmp(k, "introduced") == 0) {
			if (c >= 0)
				in = 1;
		} else if (strcmp(k, "fixed") == 0) {
			if (c >= 0)
				in = 0;
		} else if (strcmp(k, "last_affected") == 0) {
			if (c > 0)
				in = 0;
		}
	}
	for (size_t i = 0; i < n && in; i++)
		if (strcmp(ev[i]->kind, "limit") == 0 && vcmp(eco, v, ev[i]->version, &c) == 0 &&
		    c >= 0)
			in = 0;
	if (in && fixed) {
		/* the first fix above v (events are sorted) */
		for (size_t i = 0; i < n; i++)
			if (strcmp(ev[i]->kind, "fixed") == 0 &&
			    vcmp(eco, v, ev[i]->version, &c) == 0 && c < 0) {
				*fixed = ev[i]->version;
				break;
			}
	}
	return in;
}

int dd_match_entry(enum dd_ecosystem eco, const char *v, const dd_vuln_match *m,
		   const char **fixed)
{
	size_t usable = 0;
	int hit = 0, c;

	if (fixed)
		*fixed = NULL;
	if (!v || !m || (m->status && strcmp(m->status, DD_VULN_NOT_AFFECTED) == 0))
		return 0;
	/* a version the ordering rejects meets no event (the matcher warns
	 * about such packages and counts them unchecked) */
	if (dd_version_valid(eco, v, NULL) != 0)
		return 0;
	for (size_t i = 0; i < m->n_versions; i++)
		if (m->versions[i] && (strcmp(m->versions[i], v) == 0 ||
				       (vcmp(eco, v, m->versions[i], &c) == 0 && c == 0)))
			hit = 1;
	for (size_t i = 0; i < m->n_ranges; i++) {
		const dd_vuln_range *r = &m->ranges[i];
		const char *f = NULL;
		if (!r->type || strcmp(r->type, "GIT") == 0)
			continue;
		usable++;
		if (range_affects(eco, v, r, &f)) {
			hit = 1;
			if (fixed && f && (!*fixed || (vcmp(eco, f, *fixed, &c) == 0 && c > 0)))
				*fixed = f;
		}
	}
	if (usable == 0 && m->n_versions == 0) {
		/* No version data: an entry whose only ranges are GIT cannot be
		 * evaluated; one with none at all is a statement about every
		 * version (Debian "<no-dsa>", "<unfixed>", end-of-life ...). */
		return m->n_ranges == 0;
	}
	return hit;
}

/* ---- raw hits and findings ------------------------------------------------ */

typedef struct raw_hit {
	size_t pkg;
	char **ids; /* ids[0] = the advisory id, then its aliases */
	size_t n_ids;
	char *status, *fixed, *source, *summary, *notes, *distro_rating, *distro_src;
	enum dd_severity distro_sev;
	dd_cvss *cvss;
	size_t n_cvss;
	size_t group;
} raw_hit;

typedef struct raw_list {
	raw_hit *v;
	size_t n, cap;
} raw_list;

static void raw_release(raw_hit *h)
{
	for (size_t i = 0; i < h->n_ids; i++)
		free(h->ids[i]);
	free(h->ids);
	free(h->status);
	free(h->fixed);
	free(h->source);
	free(h->summary);
	free(h->notes);
	free(h->distro_rating);
	free(h->distro_src);
	for (size_t i = 0; i < h->n_cvss; i++) {
		free(h->cvss[i].source);
		free(h->cvss[i].type);
		free(h->cvss[i].vector);
	}
	free(h->cvss);
}

static void finding_release(dd_finding *f)
{
	free(f->id);
	for (size_t i = 0; i < f->n_aliases; i++)
		free(f->aliases[i]);
	free(f->aliases);
	free(f->match_name);
	free(f->match_version);
	free(f->ecosystem);
	free(f->status);
	free(f->fixed_version);
	free(f->severity_source);
	free(f->distro_rating);
	for (size_t i = 0; i < f->n_cvss; i++) {
		free(f->cvss[i].source);
		free(f->cvss[i].type);
		free(f->cvss[i].vector);
	}
	free(f->cvss);
	free(f->data_source);
	free(f->summary);
	free(f->notes);
	free(f->suppressed_by);
	free(f->suppress_reason);
	for (size_t i = 0; i < f->n_related; i++)
		free(f->related[i]);
	free(f->related);
}

void dd_findings_free(dd_findings *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		finding_release(&f->v[i]);
	free(f->v);
	free(f->ecosystem);
	free(f);
}

void dd_findings_remove(dd_findings *f, size_t i)
{
	if (!f || i >= f->n)
		return;
	finding_release(&f->v[i]);
	memmove(&f->v[i], &f->v[i + 1], (f->n - i - 1) * sizeof(f->v[0]));
	f->n--;
}

static int grow(void **v, size_t *cap, size_t n, size_t elem)
{
	size_t nc, bytes;
	void *nv;
	if (n < *cap)
		return 0;
	nc = *cap ? *cap * 2 : 16;
	if (dd_mul_size(&bytes, nc, elem))
		return -1;
	if (!(nv = realloc(*v, bytes)))
		return -1;
	*v = nv;
	*cap = nc;
	return 0;
}

typedef struct group_ctx {
	const dd_inventory *inv;
	enum dd_ecosystem eco;
	const size_t *members; /* package indices */
	const char *const *versions; /* the version compared, per member */
	size_t n_members;
	raw_list *raw;
} group_ctx;

static int add_hit(group_ctx *g, size_t pkg, const dd_vuln_match *m, const char *fixed)
{
	raw_hit *h;
	int oom = 0;

	if (grow((void **)&g->raw->v, &g->raw->cap, g->raw->n, sizeof(raw_hit)))
		return -1;
	h = &g->raw->v[g->raw->n++];
	memset(h, 0, sizeof(*h));
	h->pkg = pkg;
	h->distro_sev = DD_SEV_UNKNOWN;
	h->ids = dd_calloc(m->n_aliases + 1, sizeof(char *));
	if (!h->ids)
		return -1;
	h->ids[h->n_ids++] = dd_strdup(m->advisory);
	oom |= !h->ids[0];
	for (size_t i = 0; i < m->n_aliases; i++) {
		if (!m->aliases[i])
			continue;
		if (!(h->ids[h->n_ids++] = dd_strdup(m->aliases[i])))
			oom = 1;
	}
	h->status = dd_strdup(m->status ? m->status : DD_VULN_AFFECTED);
	h->fixed = dd_strdup(fixed);
	h->source = dd_strdup(m->source);
	h->summary = dd_strdup(m->summary);
	h->notes = dd_strdup(m->notes);
	oom |= !h->status || (fixed && !h->fixed) || (m->source && !h->source) ||
	       (m->summary && !h->summary) || (m->notes && !h->notes);
	/* The distro's own rating: a "distro" severity, else the entry urgency. */
	for (size_t i = 0; i < m->n_severities; i++) {
		const dd_vuln_severity *s = &m->severities[i];
		enum dd_severity sv;
		if (s->type && strcmp(s->type, "distro") == 0 && s->rating && !h->distro_rating &&
		    dd_severity_parse(s->rating, &sv) == 0) {
			h->distro_rating = dd_strdup(s->rating);
			h->distro_src = dd_strdup(s->source ? s->source : m->source);
			h->distro_sev = sv;
		}
	}
	if (!h->distro_rating && m->summary && m->ecosystem &&
	    (strncmp(m->ecosystem, "AlmaLinux:", 10) == 0 ||
	     strncmp(m->ecosystem, "Rocky Linux:", 12) == 0)) {
		/* Red Hat rebuilds title errata "Important: openssl security update" */
		static const char *const rh[] = { "Critical: ", "Important: ", "Moderate: ", "Low: " };
		for (size_t i = 0; i < sizeof(rh) / sizeof(rh[0]); i++) {
			size_t l = strlen(rh[i]);
			enum dd_severity sv;
			char word[16];
			if (strncmp(m->summary, rh[i], l) != 0)
				continue;
			snprintf(word, sizeof(word), "%.*s", (int)(l - 2), rh[i]);
			if (dd_severity_parse(word, &sv) == 0) {
				h->distro_rating = dd_strdup(word);
				h->distro_src = dd_strdup(m->source);
				h->distro_sev = sv;
			}
			break;
		}
	}
	if (!h->distro_rating && m->urgency) {
		enum dd_severity sv;
		char u[64];
		snprintf(u, sizeof(u), "%.*s", (int)strcspn(m->urgency, "* "), m->urgency);
		if (dd_severity_parse(u, &sv) == 0) {
			h->distro_rating = dd_strdup(u);
			h->distro_src = dd_strdup(m->source);
			h->distro_sev = sv;
		}
	}
	if (m->n_severities) {
		h->cvss = dd_calloc(m->n_severities, sizeof(dd_cvss));
		if (!h->cvss)
			return -1;
		for (size_t i = 0; i < m->n_severities; i++) {
			const dd_vuln_severity *s = &m->severities[i];
			dd_cvss *c;
			if (!s->type || strncmp(s->type, "CVSS_", 5) != 0)
				continue;
			c = &h->cvss[h->n_cvss++];
			c->source = dd_strdup(s->source ? s->source : m->source);
			c->type = dd_strdup(s->type);
			c->vector = dd_strdup(s->vector);
			c->score = s->score;
			c->has_score = s->has_score;
			oom |= !c->type;
		}
	}
	return oom ? -1 : 0;
}

/* RPM modularity.  A package built in a module stream (modularitylabel
 * "nodejs:14:8070020221...:ad008a3a") is fixed only by builds of that
 * stream, and a package outside modules never by a module build.  A module
 * build says so in its release (".module+el8..." / ".module_el8..."); an
 * advisory names its stream in its summary, as Red Hat, AlmaLinux and Rocky
 * write them ("Moderate: nodejs:14 security update").  When the advisory
 * names no stream, the entry is kept (nothing to tell them apart). */
int dd_match_module_applies(const dd_package *p, const dd_vuln_match *m, const char *fixed)
{
	const char *label = p->modularitylabel;
	int fixed_module = fixed && (strstr(fixed, ".module+") || strstr(fixed, ".module_"));
	const char *c1, *c2, *sum = m->summary;
	size_t nlen, slen;

	if (p->type != DD_PKG_RPM)
		return 1;
	if (!label || !*label)
		return !fixed_module;
	if (fixed && !fixed_module)
		return 0;
	c1 = strchr(label, ':');
	if (!c1 || !sum)
		return 1;
	c2 = strchr(c1 + 1, ':');
	nlen = (size_t)(c1 - label);
	slen = c2 ? (size_t)(c2 - c1 - 1) : strlen(c1 + 1);
	for (const char *q = sum; (q = strstr(q, ":")) != NULL; q++) {
		/* "NAME:STREAM" at word boundaries */
		const char *n0 = q;
		while (n0 > sum && (isalnum((unsigned char)n0[-1]) || n0[-1] == '-' || n0[-1] == '_' || n0[-1] == '.'))
			n0--;
		if ((size_t)(q - n0) != nlen || strncmp(n0, label, nlen))
			continue;
		/* the advisory is about this module: which stream? */
		const char *st = q + 1;
		size_t sl = 0;
		while (st[sl] && !isspace((unsigned char)st[sl]) && st[sl] != ',' && st[sl] != ')')
			sl++;
		return sl == slen && strncmp(st, c1 + 1, slen) == 0;
	}
	return 1;
}

static int group_cb(const dd_vuln_match *m, void *ctx, dd_error *err)
{
	group_ctx *g = ctx;
	for (size_t i = 0; i < g->n_members; i++) {
		const char *fixed = NULL;
		if (!dd_match_entry(g->eco, g->versions[i], m, &fixed))
			continue;
		if (!dd_match_module_applies(&g->inv->pkgs.v[g->members[i]], m, fixed))
			continue;
		if (add_hit(g, g->members[i], m, fixed))
			return dd_error_oom(err);
	}
	return 0;
}

/* ---- merging --------------------------------------------------------------- */

static size_t uf_find(size_t *p, size_t i)
{
	while (p[i] != i) {
		p[i] = p[p[i]];
		i = p[i];
	}
	return i;
}

static int hits_share_id(const raw_hit *a, const raw_hit *b)
{
	for (size_t i = 0; i < a->n_ids; i++)
		for (size_t j = 0; j < b->n_ids; j++)
			if (a->ids[i] && b->ids[j] && strcmp(a->ids[i], b->ids[j]) == 0)
				return 1;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static double best_score(const dd_finding *f)
{
	double best = -1;
	for (size_t i = 0; i < f->n_cvss; i++)
		if (f->cvss[i].has_score && f->cvss[i].type &&
		    (strcmp(f->cvss[i].type, "CVSS_V3") == 0 ||
		     strcmp(f->cvss[i].type, "CVSS_V4") == 0) &&
		    f->cvss[i].score > best)
			best = f->cvss[i].score;
	return best;
}

/* Status rank when merged hits disagree: a concrete fix wins, then the
 * distro's explicit statements, then plain "affected". */
static int status_rank(const char *s)
{
	static const char *const order[] = { "fixed", DD_VULN_WILL_NOT_FIX, DD_VULN_FIX_DEFERRED,
					     DD_VULN_END_OF_LIFE, DD_VULN_UNDER_INVESTIGATION,
					     DD_VULN_AFFECTED };
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (strcmp(s, order[i]) == 0)
			return (int)i;
	return 99;
}

/* CVSS ratings of the same vulnerability from other sources: advisories
 * whose id, or one of whose aliases, is the finding's id or an alias
 * (docs/matching.md: "the highest CVSS v3/v4 base score among sources"). */
static const char ENRICH_SQL[] =
	"SELECT COALESCE(s.source, src.name), s.type, s.vector, s.score, src.name "
	"FROM severities s JOIN advisories a ON a.pk = s.advisory_id "
	"JOIN sources src ON src.id = a.source_id "
	"WHERE s.type IN ('CVSS_V2','CVSS_V3','CVSS_V4') AND s.affected_id IS NULL AND "
	"(a.id = ?1 OR a.pk IN (SELECT advisory_id FROM aliases WHERE alias = ?1))";

static int cvss_add(dd_finding *f, const char *source, const char *type, const char *vector,
		    double score, int has_score)
{
	dd_cvss *nv;
	for (size_t q = 0; q < f->n_cvss; q++)
		if (strcmp(f->cvss[q].type, type) == 0 &&
		    (f->cvss[q].vector && vector ? strcmp(f->cvss[q].vector, vector) == 0
						 : f->cvss[q].score == score))
			return 0;
	if (f->n_cvss >= 64)
		return 0;
	if (!(nv = realloc(f->cvss, (f->n_cvss + 1) * sizeof(*nv))))
		return -1;
	f->cvss = nv;
	nv = &f->cvss[f->n_cvss];
	memset(nv, 0, sizeof(*nv));
	nv->source = dd_strdup(source);
	nv->type = dd_strdup(type);
	nv->vector = dd_strdup(vector);
	nv->score = score;
	nv->has_score = has_score;
	f->n_cvss++;
	return nv->type ? 0 : -1;
}

static int enrich_one(sqlite3_stmt *st, dd_finding *f, const char *id)
{
	int rc;
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *src = (const char *)sqlite3_column_text(st, 0);
		const char *type = (const char *)sqlite3_column_text(st, 1);
		const char *vec = (const char *)sqlite3_column_text(st, 2);
		int has = sqlite3_column_type(st, 3) != SQLITE_NULL;
		if (type && cvss_add(f, src, type, vec, has ? sqlite3_column_double(st, 3) : 0, has))
			return -1;
	}
	return rc == SQLITE_DONE ? 0 : 1;
}

static const char RELATED_SQL[] =
	"SELECT DISTINCT al.alias FROM aliases al JOIN advisories a ON a.pk = al.advisory_id "
	"WHERE al.kind = 'related' AND a.id = ?1 ORDER BY al.alias";

/* The related ids of the finding's own id and aliases, once each. */
static int add_related(sqlite3_stmt *st, dd_finding *f, const char *id)
{
	int rc;
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *r = (const char *)sqlite3_column_text(st, 0);
		int dup = !r || strcmp(r, f->id) == 0;
		for (size_t i = 0; !dup && i < f->n_aliases; i++)
			dup = strcmp(r, f->aliases[i]) == 0;
		for (size_t i = 0; !dup && i < f->n_related; i++)
			dup = strcmp(r, f->related[i]) == 0;
		if (dup || f->n_related >= 256)
			continue;
		char **nv = realloc(f->related, (f->n_related + 1) * sizeof(char *));
		if (!nv)
			return -1;
		f->related = nv;
		if (!(f->related[f->n_related] = dd_strdup(r)))
			return -1;
		f->n_related++;
	}
	sqlite3_reset(st);
	return 0;
}

static int enrich(sqlite3_stmt *st, dd_finding *f)
{
	if (!st)
		return 0;
	if (enrich_one(st, f, f->id) < 0)
		return -1;
	for (size_t i = 0; i < f->n_aliases; i++)
		if (enrich_one(st, f, f->aliases[i]) < 0)
			return -1;
	sqlite3_reset(st);
	return 0;
}

/* Build one finding from the raw hits idx[0..n) (same package). */
static int make_finding(dd_finding *f, raw_hit *raw, const size_t *idx, size_t n,
			const char *name, const char *version, const char *eco_name,
			enum dd_ecosystem eco, long base_layers, const dd_package *p)
{
	size_t nids = 0, k = 0;
	char **ids;
	dd_buf src = DD_BUF_INIT;
	int c;

	memset(f, 0, sizeof(*f));
	f->from_base = -1;
	f->pkg = raw[idx[0]].pkg;
	for (size_t i = 0; i < n; i++)
		nids += raw[idx[i]].n_ids;
	if (!(ids = dd_calloc(nids ? nids : 1, sizeof(char *))))
		return -1;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < raw[idx[i]].n_ids; j++)
			if (raw[idx[i]].ids[j])
				ids[k++] = raw[idx[i]].ids[j];
	qsort(ids, k, sizeof(char *), cmp_str);
	/* unique */
	size_t u = 0;
	for (size_t i = 0; i < k; i++)
		if (u == 0 || strcmp(ids[u - 1], ids[i]) != 0)
			ids[u++] = ids[i];
	/* primary: the CVE when the group names exactly one (a DSA fixing one
	 * CVE is reported as that CVE), else the first hit's own advisory id
	 * (a DSA fixing five CVEs stays the DSA, the CVEs its aliases) */
	const char *primary = raw[idx[0]].ids[0], *cve = NULL;
	size_t ncve = 0;
	for (size_t i = 0; i < u; i++)
		if (strncmp(ids[i], "CVE-", 4) == 0) {
			cve = ids[i];
			ncve++;
		}
	if (ncve == 1)
		primary = cve;
	f->id = dd_strdup(primary);
	if (u > 1 && !(f->aliases = dd_calloc(u - 1, sizeof(char *)))) {
		free(ids);
		return -1;
	}
	for (size_t i = 0; i < u; i++)
		if (strcmp(ids[i], primary) != 0)
			f->aliases[f->n_aliases++] = dd_strdup(ids[i]);
	free(ids);

	const char *status = NULL, *fixed = NULL, *summary = NULL, *notes = NULL;
	const raw_hit *rated = NULL;
	size_t ncv = 0;
	for (size_t i = 0; i < n; i++) {
		raw_hit *h = &raw[idx[i]];
		const char *st = h->fixed ? "fixed" : h->status;
		if (!status || status_rank(st) < status_rank(status))
			status = st;
		/* every merged advisory must be fixed: the highest fix */
		if (h->fixed && (!fixed || (vcmp(eco, h->fixed, fixed, &c) == 0 && c > 0)))
			fixed = h->fixed;
		if (!summary)
			summary = h->summary;
		if (!notes)
			notes = h->notes;
		if (h->distro_rating && (!rated || h->distro_sev > rated->distro_sev))
			rated = h;
		ncv += h->n_cvss;
		if (h->source && !strstr(dd_buf_cstr(&src), h->source)) {
			if (src.len)
				dd_buf_putc(&src, ',');
			dd_buf_puts(&src, h->source);
		}
	}
	f->status = dd_strdup(status);
	f->fixed_version = dd_strdup(fixed);
	f->summary = dd_strdup(summary);
	f->notes = dd_strdup(notes);
	f->match_name = dd_strdup(name);
	f->match_version = dd_strdup(version);
	f->ecosystem = dd_strdup(eco_name);
	f->data_source = src.failed ? NULL : dd_buf_detach(&src, NULL);
	dd_buf_release(&src);
	if (ncv && !(f->cvss = dd_calloc(ncv, sizeof(dd_cvss))))
		return -1;
	for (size_t i = 0; i < n; i++) {
		raw_hit *h = &raw[idx[i]];
		for (size_t j = 0; j < h->n_cvss; j++) {
			dd_cvss *s = &h->cvss[j];
			int dup = 0;
			for (size_t q = 0; q < f->n_cvss; q++)
				if (strcmp(f->cvss[q].type, s->type) == 0 &&
				    (f->cvss[q].vector && s->vector
					     ? strcmp(f->cvss[q].vector, s->vector) == 0
					     : f->cvss[q].score == s->score))
					dup = 1;
			if (dup)
				continue;
			f->cvss[f->n_cvss++] = *s; /* move */
			memset(s, 0, sizeof(*s));
		}
		h->n_cvss = 0;
	}
	char sbuf[160];
	if (rated) {
		f->severity = rated->distro_sev;
		f->distro_rating = dd_strdup(rated->distro_rating);
		snprintf(sbuf, sizeof(sbuf), "distro:%s", rated->distro_src ? rated->distro_src : "?");
		f->severity_source = dd_strdup(sbuf);
	}
	if (base_layers >= 0 && p->layer >= 0)
		f->from_base = p->layer < base_layers;
	if (!f->id || !f->status || (fixed && !f->fixed_version) || !f->match_name)
		return -1;
	return 0;
}

/* The CVSS step of the severity rule: when the distro gave no usable
 * rating, the highest CVSS v3/v4 score among all ratings. */
static void finish_severity(dd_finding *f)
{
	double score = best_score(f);
	char sbuf[160];
	if ((f->distro_rating && f->severity != DD_SEV_UNKNOWN) || score < 0)
		return;
	f->severity = dd_severity_from_score(score);
	for (size_t q = 0; q < f->n_cvss; q++)
		if (f->cvss[q].has_score && f->cvss[q].score == score) {
			snprintf(sbuf, sizeof(sbuf), "cvss:%s", f->cvss[q].source ? f->cvss[q].source : "?");
			free(f->severity_source);
			f->severity_source = dd_strdup(sbuf);
			break;
		}
}

static int same_ids(const dd_finding *a, const dd_finding *b)
{
	if (strcmp(a->id, b->id) != 0 || a->n_aliases != b->n_aliases)
		return 0;
	for (size_t i = 0; i < a->n_aliases; i++)
		if (strcmp(a->aliases[i], b->aliases[i]) != 0)
			return 0;
	return 1;
}

static int by_ids(const void *pa, const void *pb, void *ctx)
{
	const dd_finding *v = ctx;
	const dd_finding *a = &v[*(const size_t *)pa], *b = &v[*(const size_t *)pb];
	int c = strcmp(a->id, b->id);
	if (c)
		return c;
	if (a->n_aliases != b->n_aliases)
		return a->n_aliases < b->n_aliases ? -1 : 1;
	for (size_t i = 0; i < a->n_aliases; i++)
		if ((c = strcmp(a->aliases[i], b->aliases[i])))
			return c;
	return 0;
}

/* Enrich every finding with other sources' CVSS ratings, querying once per
 * distinct (id, aliases) (libc6, libc-bin ... share glibc's CVEs), then
 * finish the severities. */
static int enrich_all(sqlite3_stmt *st, sqlite3_stmt *rel, dd_findings *res)
{
	size_t *ord = NULL;
	if (st && res->n) {
		if (!(ord = dd_calloc(res->n, sizeof(size_t))))
			return -1;
		for (size_t i = 0; i < res->n; i++)
			ord[i] = i;
		qsort_r(ord, res->n, sizeof(size_t), by_ids, res->v);
		for (size_t i = 0; i < res->n;) {
			dd_finding *first = &res->v[ord[i]];
			size_t j = i + 1, before = first->n_cvss;
			if (enrich(st, first)) {
				free(ord);
				return -1;
			}
			for (; j < res->n && same_ids(first, &res->v[ord[j]]); j++) {
				dd_finding *g = &res->v[ord[j]];
				for (size_t q = before; q < first->n_cvss; q++)
					if (cvss_add(g, first->cvss[q].source, first->cvss[q].type,
						     first->cvss[q].vector, first->cvss[q].score,
						     first->cvss[q].has_score)) {
						free(ord);
						return -1;
					}
			}
			i = j;
		}
		free(ord);
	}
	for (size_t i = 0; i < res->n; i++) {
		dd_finding *f = &res->v[i];
		if (rel) {
			if (add_related(rel, f, f->id))
				return -1;
			for (size_t k = 0; k < f->n_aliases; k++)
				if (add_related(rel, f, f->aliases[k]))
					return -1;
		}
		finish_severity(f);
	}
	return 0;
}

static int finding_order(const void *pa, const void *pb)
{
	const dd_finding *a = pa, *b = pb;
	if (a->pkg != b->pkg)
		return a->pkg < b->pkg ? -1 : 1;
	if (a->severity != b->severity)
		return a->severity > b->severity ? -1 : 1;
	return strcmp(a->id, b->id);
}

/* ---- the driver ------------------------------------------------------------ */

typedef struct pkg_key {
	size_t pkg;
	const char *eco;  /* interned per OS: one string for the whole image */
	const char *name; /* the name the feed keys on */
	const char *version;
} pkg_key;

static int key_order(const void *pa, const void *pb)
{
	const pkg_key *a = pa, *b = pb;
	int c = strcmp(a->eco, b->eco);
	if (c)
		return c;
	c = strcmp(a->name, b->name);
	if (c)
		return c;
	return a->pkg < b->pkg ? -1 : a->pkg > b->pkg;
}

static int eco_present(dd_vulndb *db, const char *eco, int *present, dd_error *err)
{
	sqlite3_stmt *st = NULL;
	sqlite3 *s = dd_vulndb_sqlite(db);
	int rc;
	if (!s)
		return dd_error_set(err, DD_EINTERNAL, "vulnerability DB: no connection");
	if (sqlite3_prepare_v2(s, "SELECT 1 FROM affected WHERE ecosystem = ?1 LIMIT 1", -1, &st,
			       NULL) != SQLITE_OK)
		return dd_error_set(err, DD_EENV, "vulnerability DB: %s", sqlite3_errmsg(s));
	sqlite3_bind_text(st, 1, eco, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*present = rc == SQLITE_ROW;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return dd_error_set(err, DD_EENV, "vulnerability DB: %s", sqlite3_errmsg(s));
	return 0;
}

int dd_match_inventory(dd_findings **out, const dd_inventory *inv, dd_vulndb *db,
		       const dd_match_opts *o, dd_error *err)
{
	dd_findings *res = NULL;
	pkg_key *keys = NULL;
	raw_list raw = { NULL, 0, 0 };
	size_t np = dd_inventory_package_count(inv), nk = 0;
	char ecos[3][64];
	const char *eco_str[3] = { NULL, NULL, NULL };
	int eco_ok[3] = { 0, 0, 0 };
	size_t unchecked[3] = { 0, 0, 0 }, unchecked_bad = 0;
	size_t *members = NULL, *idx = NULL, *parent = NULL;
	const char **versions = NULL;
	int rc = 0;
	long base = o ? o->base_layers : -1;
	const dd_os *os = dd_inventory_os(inv);
	sqlite3_stmt *enrich_st = NULL, *exists_st = NULL, *related_st = NULL;

	*out = NULL;
	if (!(res = dd_calloc(1, sizeof(*res))))
		return dd_error_oom(err);
	res->base_layers = base;
	for (int t = 0; t < 3; t++) {
		eco_str[t] = dd_match_ecosystem(ecos[t], sizeof(ecos[t]), os, (enum dd_pkg_type)t);
		if (eco_str[t] && (rc = eco_present(db, eco_str[t], &eco_ok[t], err)))
			goto done;
	}
	if (np && (!(keys = dd_calloc(np, sizeof(*keys))) ||
		   !(members = dd_calloc(np, sizeof(size_t))) ||
		   !(versions = dd_calloc(np, sizeof(char *))))) {
		rc = dd_error_oom(err);
		goto done;
	}
	for (size_t i = 0; i < np; i++) {
		const dd_package *p = dd_inventory_package(inv, i);
		int t = (int)p->type;
		if (t < 0 || t > 2 || !p->name || !p->version)
			continue;
		if (!eco_str[t] || !eco_ok[t]) {
			unchecked[t]++;
			res->unchecked++;
			continue;
		}
		{
			const char *cv = p->type == DD_PKG_DEB && p->source_version ? p->source_version
										     : p->version;
			if (dd_version_valid(eco_of(p->type), cv, NULL) != 0) {
				dd_warn("package %s: version '%s' is not a valid %s version; not checked",
					p->name, cv, dd_pkg_type_name(p->type));
				unchecked_bad++;
				res->unchecked++;
				continue;
			}
		}
		res->checked++;
		pkg_key *k = &keys[nk++];
		k->pkg = i;
		k->eco = eco_str[t];
		if (p->type == DD_PKG_DEB) {
			k->name = p->source_name ? p->source_name : p->name;
			k->version = p->source_version ? p->source_version : p->version;
		} else if (p->type == DD_PKG_APK) {
			k->name = p->source_name ? p->source_name : p->name;
			k->version = p->version;
		} else {
			k->name = p->name;
			k->version = p->version;
			/* rpm feeds key on binary or source names: look up both */
			if (p->source_name && strcmp(p->source_name, p->name) != 0) {
				/* the extra key reuses the slot budget of skipped packages
				 * when there are any; otherwise grow */
				pkg_key *nkeys;
				size_t bytes;
				if (dd_mul_size(&bytes, np + nk + 1, sizeof(*keys)) ||
				    !(nkeys = realloc(keys, bytes))) {
					rc = dd_error_oom(err);
					goto done;
				}
				keys = nkeys;
				k = &keys[nk - 1];
				keys[nk] = *k;
				keys[nk].name = p->source_name;
				nk++;
			}
		}
	}
	for (int t = 0; t < 3; t++) {
		if (!unchecked[t])
			continue;
		const char *what = os->id ? os->id : "unknown OS";
		if (eco_str[t])
			dd_warn("the vulnerability DB has no data for %s %s (%s): %zu %s packages "
				"were NOT checked",
				what, os->version_id ? os->version_id : "", eco_str[t], unchecked[t],
				dd_pkg_type_name((enum dd_pkg_type)t));
		else
			dd_warn("drydock knows no vulnerability feed for %s %s: %zu %s packages were "
				"NOT checked",
				what, os->version_id ? os->version_id : "", unchecked[t],
				dd_pkg_type_name((enum dd_pkg_type)t));
	}
	(void)unchecked_bad;
	for (int t = 0; t < 3; t++)
		if (eco_str[t] && !res->ecosystem) {
			res->ecosystem = dd_strdup(eco_str[t]);
			res->os_supported = eco_ok[t];
		}
	if (nk) {
		size_t *nm = realloc(members, nk * sizeof(size_t));
		const char **nv = (const char **)realloc((void *)versions, nk * sizeof(char *));
		if (nm)
			members = nm;
		if (nv)
			versions = nv;
		if (!nm || !nv) {
			rc = dd_error_oom(err);
			goto done;
		}
	}
	if (nk)
		qsort(keys, nk, sizeof(*keys), key_order);
	if (nk && sqlite3_prepare_v2(dd_vulndb_sqlite(db),
				     "SELECT 1 FROM affected WHERE ecosystem = ?1 AND package = ?2 LIMIT 1",
				     -1, &exists_st, NULL) != SQLITE_OK)
		exists_st = NULL;
	for (size_t i = 0; i < nk;) {
		size_t j = i;
		group_ctx g;
		while (j < nk && strcmp(keys[j].eco, keys[i].eco) == 0 &&
		       strcmp(keys[j].name, keys[i].name) == 0) {
			members[j - i] = keys[j].pkg;
			versions[j - i] = keys[j].version;
			j++;
		}
		g.inv = inv;
		g.eco = eco_of(dd_inventory_package(inv, keys[i].pkg)->type);
		g.members = members;
		g.versions = versions;
		g.n_members = j - i;
		g.raw = &raw;
		if (exists_st) {
			/* a cheap index probe first: most packages have no entry, and
			 * a full lookup costs a statement preparation */
			int st;
			sqlite3_reset(exists_st);
			sqlite3_bind_text(exists_st, 1, keys[i].eco, -1, SQLITE_STATIC);
			sqlite3_bind_text(exists_st, 2, keys[i].name, -1, SQLITE_STATIC);
			st = sqlite3_step(exists_st);
			sqlite3_reset(exists_st);
			if (st == SQLITE_DONE) {
				i = j;
				continue;
			}
		}
		rc = dd_vulndb_lookup(db, keys[i].eco, keys[i].name, group_cb, &g, err);
		if (rc) {
			if (rc > 0)
				rc = DD_EINTERNAL;
			dd_error_prefix(err, "matching %s in %s", keys[i].name, keys[i].eco);
			goto done;
		}
		i = j;
	}
	/* merge per package: union-find over hits sharing an id or alias */
	if (raw.n) {
		if (!(parent = dd_calloc(raw.n, sizeof(size_t))) ||
		    !(idx = dd_calloc(raw.n, sizeof(size_t)))) {
			rc = dd_error_oom(err);
			goto done;
		}
		for (size_t i = 0; i < raw.n; i++)
			parent[i] = i;
		/* optional: without it findings keep their own feed's ratings */
		if (sqlite3_prepare_v2(dd_vulndb_sqlite(db), ENRICH_SQL, -1, &enrich_st, NULL) !=
		    SQLITE_OK)
			enrich_st = NULL;
		if (sqlite3_prepare_v2(dd_vulndb_sqlite(db), RELATED_SQL, -1, &related_st, NULL) !=
		    SQLITE_OK)
			related_st = NULL;
		/* hits of one package are not adjacent when rpm had two keys;
		 * compare all pairs of the same package (hits per package are few) */
		for (size_t i = 0; i < raw.n; i++)
			for (size_t j = i + 1; j < raw.n; j++)
				if (raw.v[i].pkg == raw.v[j].pkg && hits_share_id(&raw.v[i], &raw.v[j])) {
					size_t a = uf_find(parent, i), b = uf_find(parent, j);
					if (a != b)
						parent[b] = a;
				}
		for (size_t i = 0; i < raw.n; i++) {
			size_t root = uf_find(parent, i), n = 0;
			if (root != i)
				continue;
			for (size_t j = i; j < raw.n; j++)
				if (uf_find(parent, j) == root)
					idx[n++] = j;
			const dd_package *p = dd_inventory_package(inv, raw.v[i].pkg);
			const char *mname = p->name, *mver = p->version;
			if (p->type != DD_PKG_RPM && p->source_name)
				mname = p->source_name;
			if (p->type == DD_PKG_DEB && p->source_version)
				mver = p->source_version;
			if (grow((void **)&res->v, &res->cap, res->n, sizeof(dd_finding))) {
				rc = dd_error_oom(err);
				goto done;
			}
			dd_finding *f = &res->v[res->n++];
			char fe[64];
			if (make_finding(f, raw.v, idx, n, mname, mver,
					 dd_match_ecosystem(fe, sizeof(fe), os, p->type),
					 eco_of(p->type), base, p)) {
				rc = dd_error_oom(err);
				goto done;
			}
		}
		if (enrich_all(enrich_st, related_st, res)) {
			rc = dd_error_oom(err);
			goto done;
		}
		qsort(res->v, res->n, sizeof(dd_finding), finding_order);
	}
	*out = res;
	res = NULL;
done:
	sqlite3_finalize(enrich_st);
	sqlite3_finalize(exists_st);
	sqlite3_finalize(related_st);
	for (size_t i = 0; i < raw.n; i++)
		raw_release(&raw.v[i]);
	free(raw.v);
	free(keys);
	free(members);
	free((void *)versions);
	free(idx);
	free(parent);
	dd_findings_free(res);
	return rc;
}
