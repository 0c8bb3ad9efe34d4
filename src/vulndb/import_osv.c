/* import_osv.c - OSV records (https://ossf.github.io/osv-schema/) into the
 * vulnerability DB: ids, aliases/upstream/related, references, severities
 * (CVSS v2/v3 scored here, v4 kept as a vector, distro ratings), affected
 * packages with ECOSYSTEM/SEMVER/GIT ranges and explicit versions. */
#include "vulndb/import_internal.h"

#include <string.h>

#include "util/log.h"
#include "util/banned.h"

/* Ecosystem names of the OSV schema (the part before ':'). */
static const char *const ecosystems[] = {
	"AlmaLinux", "Alpaquita", "Alpine", "Android", "Azure Linux",
	"BellSoft Hardened Containers", "Bioconductor", "Bitnami", "Chainguard", "CleanStart",
	"ConanCenter", "CRAN", "crates.io", "Debian", "Docker Hardened Images", "Echo", "FreeBSD",
	"GHC", "GitHub Actions", "Go", "Hackage", "Hex", "Julia", "Kubernetes", "Linux", "Mageia",
	"Maven", "MinimOS", "npm", "NuGet", "opam", "openEuler", "openSUSE", "OSS-Fuzz",
	"Packagist", "Photon OS", "Pub", "PyPI", "Red Hat", "Rocky Linux", "Root", "RubyGems",
	"SUSE", "SwiftURL", "TuxCare", "Ubuntu", "VSCode", "Wolfi", "GIT",
};

static int known_ecosystem(const char *e)
{
	const char *colon = strchr(e, ':');
	size_t n = colon ? (size_t)(colon - e) : strlen(e);
	if (colon && colon[1] == '\0')
		return 0;
	for (size_t i = 0; i < sizeof(ecosystems) / sizeof(ecosystems[0]); i++)
		if (strlen(ecosystems[i]) == n && memcmp(ecosystems[i], e, n) == 0)
			return 1;
	return 0;
}

/* Record-level failure: DD_EINPUT with a message, the record is skipped. */
#define BAD(...) dd_error_set(err, DD_EINPUT, __VA_ARGS__)

static int add_id_list(dd_vimport *im, int64_t adv, const json_t *rec, const char *key,
		       const char *kind, dd_error *err)
{
	json_t *arr = json_object_get(rec, key), *v;
	size_t i;
	int rc;
	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr))
		return BAD("'%s' is not an array", key);
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v))
			return BAD("'%s[%zu]' is not a string", key, i);
		if ((rc = dd_vulndb_add_alias(im->db, adv, json_string_value(v), kind, err)))
			return rc;
	}
	return 0;
}

static int add_refs(dd_vimport *im, int64_t adv, const json_t *rec, dd_error *err)
{
	json_t *arr = json_object_get(rec, "references"), *v;
	size_t i;
	int rc, bad = 0;
	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr))
		return BAD("'references' is not an array");
	json_array_foreach(arr, i, v) {
		const char *type = dd_vimport_str(v, "type", &bad);
		const char *url = dd_vimport_str(v, "url", &bad);
		if (!json_is_object(v) || bad || !url)
			return BAD("'references[%zu]' is not {type, url}", i);
		if ((rc = dd_vulndb_add_reference(im->db, adv, type, url, err)))
			return rc;
	}
	return 0;
}

/* OSV severity[]: {type: CVSS_V2|CVSS_V3|CVSS_V4|Ubuntu, score}. */
static int add_severity_list(dd_vimport *im, int64_t adv, int64_t aff, const json_t *arr,
			     const char *where, dd_error *err)
{
	json_t *v;
	size_t i;
	int rc;
	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr))
		return BAD("'%sseverity' is not an array", where);
	json_array_foreach(arr, i, v) {
		int bad = 0;
		const char *type = dd_vimport_str(v, "type", &bad);
		const char *score = dd_vimport_str(v, "score", &bad);
		dd_vuln_severity s;
		const char *rating = NULL;
		if (!json_is_object(v) || bad || !type || !score)
			return BAD("'%sseverity[%zu]' is not {type, score}", where, i);
		memset(&s, 0, sizeof(s));
		s.source = im->severity_source;
		if (strcmp(type, "CVSS_V3") == 0 || strcmp(type, "CVSS_V2") == 0 ||
		    strcmp(type, "CVSS_V4") == 0) {
			s.type = type;
			s.vector = score;
			if (type[6] == '3')
				s.has_score = dd_cvss3_score(score, &s.score, &rating) == 0;
			else if (type[6] == '2')
				s.has_score = dd_cvss2_score(score, &s.score, &rating) == 0;
			s.rating = rating;
			if (type[6] != '4' && !s.has_score)
				dd_debug("severity vector '%s' not understood; kept unscored", score);
		} else {
			/* "Ubuntu" (priority) and any future distro rating. */
			s.type = "distro";
			s.source = type;
			s.rating = score;
		}
		if ((rc = dd_vulndb_add_severity(im->db, adv, aff, &s, err)))
			return rc;
	}
	return 0;
}

/* database_specific.severity / ecosystem_specific.severity strings
 * (GitHub's "HIGH", Bitnami's "Medium", ...). */
static int add_specific_severity(dd_vimport *im, int64_t adv, int64_t aff, const json_t *obj,
				 dd_error *err)
{
	const char *keys[] = { "database_specific", "ecosystem_specific" };
	for (size_t k = 0; k < 2; k++) {
		json_t *spec = json_object_get(obj, keys[k]);
		json_t *sv = json_is_object(spec) ? json_object_get(spec, "severity") : NULL;
		if (json_is_string(sv) && json_string_length(sv) > 0) {
			dd_vuln_severity s;
			memset(&s, 0, sizeof(s));
			s.source = im->severity_source;
			s.type = "distro";
			s.rating = json_string_value(sv);
			int rc = dd_vulndb_add_severity(im->db, adv, aff, &s, err);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static int add_ranges(dd_vimport *im, int64_t aff, const json_t *ranges, size_t ai,
		      dd_error *err)
{
	json_t *r;
	size_t i;
	int rc;
	if (!ranges || json_is_null(ranges))
		return 0;
	if (!json_is_array(ranges))
		return BAD("'affected[%zu].ranges' is not an array", ai);
	json_array_foreach(ranges, i, r) {
		int bad = 0;
		const char *type = dd_vimport_str(r, "type", &bad);
		const char *repo = dd_vimport_str(r, "repo", &bad);
		json_t *events = json_object_get(r, "events"), *ev;
		size_t j;
		int64_t rid;
		if (!json_is_object(r) || bad || !type)
			return BAD("'affected[%zu].ranges[%zu]' has no type", ai, i);
		if (strcmp(type, "ECOSYSTEM") && strcmp(type, "SEMVER") && strcmp(type, "GIT"))
			return BAD("'affected[%zu].ranges[%zu]': unknown range type '%s'", ai, i,
				   type);
		if (!json_is_array(events) || json_array_size(events) == 0)
			return BAD("'affected[%zu].ranges[%zu].events' is not a non-empty array",
				   ai, i);
		if ((rc = dd_vulndb_add_range(im->db, aff, type, strcmp(type, "GIT") ? NULL : repo,
					      &rid, err)))
			return rc;
		json_array_foreach(events, j, ev) {
			static const char *const kinds[] = { "introduced", "fixed", "last_affected",
							     "limit" };
			const char *kind = NULL, *ver = NULL;
			for (size_t k = 0; k < 4; k++) {
				json_t *v = json_object_get(ev, kinds[k]);
				if (!v)
					continue;
				if (kind || !json_is_string(v) || json_string_length(v) == 0)
					return BAD("'affected[%zu].ranges[%zu].events[%zu]' is not "
						   "one non-empty version", ai, i, j);
				kind = kinds[k];
				ver = json_string_value(v);
			}
			if (!kind)
				return BAD("'affected[%zu].ranges[%zu].events[%zu]' has no "
					   "introduced/fixed/last_affected/limit", ai, i, j);
			if ((rc = dd_vulndb_add_event(im->db, rid, kind, ver, err)))
				return rc;
		}
	}
	return 0;
}

static int add_affected(dd_vimport *im, const char *file, const char *id, int64_t adv,
			const json_t *rec, dd_error *err)
{
	json_t *arr = json_object_get(rec, "affected"), *a;
	size_t i;
	int rc;
	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr))
		return BAD("'affected' is not an array");
	json_array_foreach(arr, i, a) {
		int bad = 0;
		json_t *pkg, *versions, *v;
		dd_vuln_affected_in in;
		int64_t aff;
		size_t j;
		if (!json_is_object(a))
			return BAD("'affected[%zu]' is not an object", i);
		pkg = json_object_get(a, "package");
		if (!pkg || json_is_null(pkg))
			continue; /* GIT-only entries: nothing a package lookup can match */
		memset(&in, 0, sizeof(in));
		in.ecosystem = dd_vimport_str(pkg, "ecosystem", &bad);
		in.package = dd_vimport_str(pkg, "name", &bad);
		in.purl = dd_vimport_str(pkg, "purl", &bad);
		if (!json_is_object(pkg) || bad || !in.ecosystem || !in.package || !*in.package)
			return BAD("'affected[%zu].package' lacks a string ecosystem and name", i);
		if (!known_ecosystem(in.ecosystem)) {
			/* Skip the entry, keep the record. */
			if ((rc = dd_vimport_skip(im, file, id, err,
						  "affected[%zu]: unknown ecosystem '%s'", i,
						  in.ecosystem)))
				return rc == DD_EINPUT ? DD_EGATE : rc; /* strict: fatal */
			continue;
		}
		if ((rc = dd_vulndb_add_affected(im->db, adv, &in, &aff, err)) ||
		    (rc = add_ranges(im, aff, json_object_get(a, "ranges"), i, err)))
			return rc;
		versions = json_object_get(a, "versions");
		if (versions && !json_is_null(versions)) {
			const char **list;
			if (!json_is_array(versions))
				return BAD("'affected[%zu].versions' is not an array", i);
			json_array_foreach(versions, j, v)
				if (!json_is_string(v))
					return BAD("'affected[%zu].versions[%zu]' is not a string", i,
						   j);
			if (json_array_size(versions)) {
				if (!(list = dd_calloc(json_array_size(versions), sizeof(*list))))
					return dd_error_oom(err);
				json_array_foreach(versions, j, v)
					list[j] = json_string_value(v);
				rc = dd_vulndb_add_versions(im->db, aff, list, json_array_size(versions),
							    err);
				free(list);
				if (rc)
					return rc;
			}
		}
		if ((rc = add_severity_list(im, adv, aff, json_object_get(a, "severity"),
					    "affected[].", err)) ||
		    (rc = add_specific_severity(im, adv, aff, a, err)))
			return rc;
	}
	return 0;
}

static int add_record(dd_vimport *im, const char *file, const char *id, const json_t *rec,
		      dd_error *err)
{
	dd_vuln_advisory_in in;
	int64_t adv;
	int rc, bad = 0;

	memset(&in, 0, sizeof(in));
	in.id = id;
	in.published = dd_vimport_str(rec, "published", &bad);
	in.modified = dd_vimport_str(rec, "modified", &bad);
	in.withdrawn = dd_vimport_str(rec, "withdrawn", &bad);
	in.summary = dd_vimport_str(rec, "summary", &bad);
	in.details = dd_vimport_str(rec, "details", &bad);
	if (bad)
		return BAD("published/modified/withdrawn/summary/details must be strings");
	if ((rc = dd_vulndb_add_advisory(im->db, &in, DD_VULNDB_ADV_UNIQUE, &adv, err)) ||
	    (rc = add_id_list(im, adv, rec, "aliases", "alias", err)) ||
	    (rc = add_id_list(im, adv, rec, "upstream", "upstream", err)) ||
	    (rc = add_id_list(im, adv, rec, "related", "related", err)) ||
	    (rc = add_refs(im, adv, rec, err)) ||
	    (rc = add_severity_list(im, adv, 0, json_object_get(rec, "severity"), "", err)) ||
	    (rc = add_specific_severity(im, adv, 0, rec, err)))
		return rc;
	return add_affected(im, file, id, adv, rec, err);
}

static int one_record(dd_vimport *im, const char *file, const json_t *rec, dd_error *err)
{
	dd_error rerr = DD_ERROR_INIT;
	const char *id;
	char src[24];
	int rc, bad = 0;

	im->st->records++;
	id = json_is_object(rec) ? dd_vimport_str(rec, "id", &bad) : NULL;
	if (!id || bad || !*id)
		return dd_vimport_skip(im, file, "-", err, "not an OSV record (no string id)");
	/* Ratings are attributed to the database that published the record. */
	size_t n = strcspn(id, "-");
	if (n >= sizeof(src))
		n = sizeof(src) - 1;
	memcpy(src, id, n);
	src[n] = '\0';
	im->severity_source = src;
	if ((rc = dd_vulndb_record_begin(im->db, err)))
		return rc;
	rc = add_record(im, file, id, rec, &rerr);
	im->severity_source = NULL;
	if (rc == 0)
		return dd_vulndb_record_end(im->db, 0, err);
	{
		dd_error e2 = DD_ERROR_INIT;
		int rrc = dd_vulndb_record_end(im->db, 1, &e2);
		if (rrc) {
			if (err)
				*err = e2;
			return rrc;
		}
	}
	if (rc == DD_EGATE) { /* strict-mode entry skip, message already in rerr */
		rerr.code = rc = DD_EINPUT;
		if (err)
			*err = rerr;
		return rc;
	}
	if (rc != DD_EINPUT) {
		if (err)
			*err = rerr;
		return rc;
	}
	return dd_vimport_skip(im, file, id, err, "%s", rerr.msg);
}

int dd_vimport_osv(dd_vimport *im, const char *file, const json_t *root, dd_error *err)
{
	if (json_is_array(root)) {
		json_t *rec;
		size_t i;
		json_array_foreach(root, i, rec) {
			int rc = one_record(im, file, rec, err);
			if (rc)
				return rc;
		}
		return 0;
	}
	return one_record(im, file, root, err);
}
