/* import_debian.c - the Debian security tracker JSON
 * (https://security-tracker.debian.org/tracker/data/json):
 * { srcpkg: { CVE: { description, releases: { codename: { status,
 *   fixed_version, urgency, nodsa, nodsa_reason } } } } }.
 *
 * Each (package, CVE, release) becomes an affected entry in "Debian:<N>":
 *   resolved + fixed_version "0"  -> not-affected
 *   resolved + fixed_version V    -> affected, range introduced 0 / fixed V
 *   open                          -> affected (no fix yet), or fix-deferred
 *                                    (nodsa_reason postponed), will-not-fix
 *                                    (ignored), end-of-life
 *   undetermined                  -> under-investigation
 * The urgency is kept as given (e.g. "high**") and as a distro severity. */
#include "vulndb/import_internal.h"

#include <string.h>

#include "util/banned.h"

static const struct { const char *codename, *version; } releases[] = {
	{ "hamm", "2" },     { "slink", "2.1" },  { "potato", "2.2" },  { "woody", "3.0" },
	{ "sarge", "3.1" },  { "etch", "4" },     { "lenny", "5" },     { "squeeze", "6" },
	{ "wheezy", "7" },   { "jessie", "8" },   { "stretch", "9" },   { "buster", "10" },
	{ "bullseye", "11" }, { "bookworm", "12" }, { "trixie", "13" }, { "forky", "14" },
	{ "duke", "15" },    { "sid", "sid" },
};

const char *dd_vulndb_debian_version(const char *codename)
{
	if (!codename)
		return NULL;
	for (size_t i = 0; i < sizeof(releases) / sizeof(releases[0]); i++)
		if (strcmp(releases[i].codename, codename) == 0)
			return releases[i].version;
	return NULL;
}

static int add_release(dd_vimport *im, int64_t adv, const char *pkg, const char *codename,
		       const json_t *rel, dd_error *err)
{
	int bad = 0, rc;
	const char *status = dd_vimport_str(rel, "status", &bad);
	const char *fixed = dd_vimport_str(rel, "fixed_version", &bad);
	const char *urgency = dd_vimport_str(rel, "urgency", &bad);
	const char *reason = dd_vimport_str(rel, "nodsa_reason", &bad);
	const char *nodsa = dd_vimport_str(rel, "nodsa", &bad);
	const char *ver = dd_vulndb_debian_version(codename);
	char eco[32];
	dd_vuln_affected_in in;
	int64_t aff, r;

	if (!json_is_object(rel) || bad || !status)
		return dd_error_set(err, DD_EINPUT, "release %s: no string status", codename);
	if (!ver)
		return dd_error_set(err, DD_EINPUT, "unknown Debian release '%s'", codename);
	snprintf(eco, sizeof(eco), "Debian:%s", ver);
	memset(&in, 0, sizeof(in));
	in.ecosystem = eco;
	in.package = pkg;
	in.urgency = urgency && *urgency ? urgency : NULL;
	in.notes = nodsa && *nodsa ? nodsa : NULL;
	if (strcmp(status, "resolved") == 0) {
		if (!fixed || !*fixed)
			return dd_error_set(err, DD_EINPUT, "release %s: resolved without "
					    "fixed_version", codename);
		in.status = strcmp(fixed, "0") == 0 ? DD_VULN_NOT_AFFECTED : DD_VULN_AFFECTED;
	} else if (strcmp(status, "open") == 0) {
		in.status = DD_VULN_AFFECTED;
		fixed = NULL;
		if (reason && strcmp(reason, "postponed") == 0)
			in.status = DD_VULN_FIX_DEFERRED;
		else if (reason && strcmp(reason, "ignored") == 0)
			in.status = DD_VULN_WILL_NOT_FIX;
		else if ((reason && strcmp(reason, "end-of-life") == 0) ||
			 (urgency && strcmp(urgency, "end-of-life") == 0))
			in.status = DD_VULN_END_OF_LIFE; /* the tracker's <end-of-life> */
	} else if (strcmp(status, "undetermined") == 0) {
		in.status = DD_VULN_UNDER_INVESTIGATION;
		fixed = NULL;
	} else {
		return dd_error_set(err, DD_EINPUT, "release %s: unknown status '%s'", codename,
				    status);
	}
	if ((rc = dd_vulndb_add_affected(im->db, adv, &in, &aff, err)))
		return rc;
	if (strcmp(in.status, DD_VULN_NOT_AFFECTED) != 0) {
		if ((rc = dd_vulndb_add_range(im->db, aff, "ECOSYSTEM", NULL, &r, err)) ||
		    (rc = dd_vulndb_add_event(im->db, r, "introduced", "0", err)))
			return rc;
		if (fixed && (rc = dd_vulndb_add_event(im->db, r, "fixed", fixed, err)))
			return rc;
	}
	if (in.urgency && strcmp(in.urgency, "not yet assigned") != 0 &&
	    strcmp(in.urgency, "end-of-life") != 0) {
		char rating[32];
		size_t n = strcspn(in.urgency, "*");
		dd_vuln_severity s;
		if (n >= sizeof(rating))
			n = sizeof(rating) - 1;
		memcpy(rating, in.urgency, n);
		rating[n] = '\0';
		memset(&s, 0, sizeof(s));
		s.source = "debian";
		s.type = "distro";
		s.rating = rating;
		if ((rc = dd_vulndb_add_severity(im->db, adv, aff, &s, err)))
			return rc;
	}
	return 0;
}

/* One (package, CVE) record; each release is its own savepoint so one
 * malformed release does not drop the others. */
static int add_cve(dd_vimport *im, const char *file, const char *pkg, const char *cve,
		   const json_t *v, dd_error *err)
{
	json_t *rels = json_object_get(v, "releases"), *rel;
	const char *codename;
	char rid[200];
	int rc, bad = 0;
	dd_vuln_advisory_in a;
	int64_t adv;

	im->st->records++;
	snprintf(rid, sizeof(rid), "%s/%s", pkg, cve);
	/* An empty mapping is sometimes serialised as [] */
	if (json_is_array(rels) && json_array_size(rels) == 0)
		return 0;
	if (!json_is_object(v) || !json_is_object(rels))
		return dd_vimport_skip(im, file, rid, err, "no releases object");
	memset(&a, 0, sizeof(a));
	a.id = cve;
	a.details = dd_vimport_str(v, "description", &bad);
	if (bad)
		return dd_vimport_skip(im, file, rid, err, "description is not a string");
	json_object_foreach(rels, codename, rel) {
		dd_error rerr = DD_ERROR_INIT;
		if ((rc = dd_vulndb_record_begin(im->db, err)))
			return rc;
		int arc = dd_vulndb_add_advisory(im->db, &a, DD_VULNDB_ADV_MERGE, &adv, &rerr);
		if (!arc)
			arc = add_release(im, adv, pkg, codename, rel, &rerr);
		if ((rc = dd_vulndb_record_end(im->db, arc != 0, err)))
			return rc;
		if (arc == DD_EINPUT) {
			if ((rc = dd_vimport_skip(im, file, rid, err, "%s", rerr.msg)))
				return rc;
		} else if (arc) {
			if (err)
				*err = rerr;
			return arc;
		}
	}
	return 0;
}

int dd_vimport_debian_json(dd_vimport *im, const char *file, const json_t *root,
			   dd_error *err)
{
	const char *pkg, *cve;
	json_t *pv, *cv;
	int rc;

	json_object_foreach((json_t *)root, pkg, pv) {
		if (!json_is_object(pv) || !*pkg) {
			im->st->records++;
			if ((rc = dd_vimport_skip(im, file, pkg, err, "package entry is not an object")))
				return rc;
			continue;
		}
		json_object_foreach(pv, cve, cv) {
			if (!*cve) {
				im->st->records++;
				if ((rc = dd_vimport_skip(im, file, pkg, err, "empty CVE id")))
					return rc;
				continue;
			}
			if ((rc = add_cve(im, file, pkg, cve, cv, err)))
				return rc;
		}
	}
	return 0;
}
