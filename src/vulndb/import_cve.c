/* import_cve.c - CVE records for CVSS enrichment: NVD CVE API 2.0 pages (and
 * the JSON 2.0 feeds, which wrap the same "vulnerabilities" array), the
 * legacy NVD JSON 1.1 feeds ("CVE_Items"), and CVE JSON 5 records
 * (CVEProject/cvelistV5).
 *
 * Each CVE becomes an advisory (id, dates, English description, references,
 * withdrawn when rejected) with its CVSS severities, each attributed to who
 * scored it (nvd@nist.gov, a CNA, CISA-ADP).  v2 and v3.x scores are
 * computed from the vector; the published score is used for v4, or when a
 * vector cannot be parsed.  No affected entries: CPE configurations are not
 * mapped to packages.  The matcher finds these severities through
 * dd_vulndb_cve_severities(). */
#include "vulndb/import_internal.h"

#include <string.h>

#include "util/banned.h"

#define BAD(...) dd_error_set(err, DD_EINPUT, __VA_ARGS__)

static int add_cvss(dd_vimport *im, int64_t adv, const char *source, const char *version,
		    const char *vector, const json_t *score, const char *severity, dd_error *err)
{
	dd_vuln_severity s;
	const char *rating = NULL;
	memset(&s, 0, sizeof(s));
	if (!vector || !*vector)
		return 0;
	s.source = source;
	s.vector = vector;
	if (version && version[0] == '4') {
		s.type = "CVSS_V4";
	} else if (version && version[0] == '3') {
		s.type = "CVSS_V3";
		s.has_score = dd_cvss3_score(vector, &s.score, &rating) == 0;
	} else {
		s.type = "CVSS_V2";
		s.has_score = dd_cvss2_score(vector, &s.score, &rating) == 0;
	}
	if (!s.has_score && json_is_number(score)) {
		s.score = json_number_value(score);
		s.has_score = s.score >= 0.0 && s.score <= 10.0;
	}
	s.rating = rating ? rating : severity;
	return dd_vulndb_add_severity(im->db, adv, 0, &s, err);
}

static const char *english(const json_t *arr, const char *lang_key, const char *value_key)
{
	json_t *d;
	size_t i;
	json_array_foreach(arr, i, d) {
		json_t *l = json_object_get(d, lang_key), *v = json_object_get(d, value_key);
		if (json_is_string(l) && strncmp(json_string_value(l), "en", 2) == 0 &&
		    json_is_string(v))
			return json_string_value(v);
	}
	return NULL;
}

static int add_refs(dd_vimport *im, int64_t adv, const json_t *arr, dd_error *err)
{
	json_t *r;
	size_t i;
	int rc;
	json_array_foreach(arr, i, r) {
		json_t *u = json_object_get(r, "url");
		if (json_is_string(u) &&
		    (rc = dd_vulndb_add_reference(im->db, adv, "WEB", json_string_value(u), err)))
			return rc;
	}
	return 0;
}

/* NVD API 2.0: vulnerabilities[].cve */
static int nvd2_record(dd_vimport *im, const json_t *cve, dd_error *err)
{
	dd_vuln_advisory_in a;
	int64_t adv;
	int rc, bad = 0;
	static const char *const keys[] = { "cvssMetricV40", "cvssMetricV31", "cvssMetricV30",
					    "cvssMetricV2" };
	json_t *metrics = json_object_get(cve, "metrics");
	const char *status;

	memset(&a, 0, sizeof(a));
	a.id = dd_vimport_str(cve, "id", &bad);
	a.published = dd_vimport_str(cve, "published", &bad);
	a.modified = dd_vimport_str(cve, "lastModified", &bad);
	status = dd_vimport_str(cve, "vulnStatus", &bad);
	if (bad || !a.id || !*a.id)
		return BAD("cve.id/published/lastModified/vulnStatus must be strings");
	if (status && strcmp(status, "Rejected") == 0)
		a.withdrawn = a.modified ? a.modified : "rejected";
	a.details = english(json_object_get(cve, "descriptions"), "lang", "value");
	if ((rc = dd_vulndb_add_advisory(im->db, &a, DD_VULNDB_ADV_UNIQUE, &adv, err)) ||
	    (rc = add_refs(im, adv, json_object_get(cve, "references"), err)))
		return rc;
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		json_t *arr = json_object_get(metrics, keys[k]), *m;
		size_t i;
		json_array_foreach(arr, i, m) {
			json_t *d = json_object_get(m, "cvssData");
			int b2 = 0;
			const char *src = dd_vimport_str(m, "source", &b2);
			const char *ver = dd_vimport_str(d, "version", &b2);
			const char *vec = dd_vimport_str(d, "vectorString", &b2);
			const char *sev = dd_vimport_str(d, "baseSeverity", &b2);
			if (!sev)
				sev = dd_vimport_str(m, "baseSeverity", &b2); /* v2 keeps it outside */
			if (b2 || !json_is_object(d))
				return BAD("metrics.%s[%zu] is malformed", keys[k], i);
			if ((rc = add_cvss(im, adv, src ? src : "nvd", ver, vec,
					   json_object_get(d, "baseScore"), sev, err)))
				return rc;
		}
	}
	return 0;
}

/* NVD JSON 1.1: CVE_Items[] */
static int nvd11_record(dd_vimport *im, const json_t *item, dd_error *err)
{
	dd_vuln_advisory_in a;
	int64_t adv;
	int rc, bad = 0;
	json_t *cve = json_object_get(item, "cve");
	json_t *impact = json_object_get(item, "impact");
	json_t *m3 = json_object_get(impact, "baseMetricV3");
	json_t *m2 = json_object_get(impact, "baseMetricV2");
	json_t *c3 = json_object_get(m3, "cvssV3"), *c2 = json_object_get(m2, "cvssV2");

	memset(&a, 0, sizeof(a));
	a.id = dd_vimport_str(json_object_get(cve, "CVE_data_meta"), "ID", &bad);
	a.published = dd_vimport_str(item, "publishedDate", &bad);
	a.modified = dd_vimport_str(item, "lastModifiedDate", &bad);
	if (bad || !a.id || !*a.id)
		return BAD("cve.CVE_data_meta.ID/publishedDate/lastModifiedDate must be strings");
	a.details = english(json_object_get(json_object_get(cve, "description"),
					    "description_data"), "lang", "value");
	if ((rc = dd_vulndb_add_advisory(im->db, &a, DD_VULNDB_ADV_UNIQUE, &adv, err)) ||
	    (rc = add_refs(im, adv, json_object_get(json_object_get(cve, "references"),
						    "reference_data"), err)))
		return rc;
	if (json_is_object(c3)) {
		int b2 = 0;
		const char *ver = dd_vimport_str(c3, "version", &b2);
		const char *vec = dd_vimport_str(c3, "vectorString", &b2);
		const char *sev = dd_vimport_str(c3, "baseSeverity", &b2);
		if (b2)
			return BAD("impact.baseMetricV3 is malformed");
		if ((rc = add_cvss(im, adv, "nvd@nist.gov", ver ? ver : "3", vec,
				   json_object_get(c3, "baseScore"), sev, err)))
			return rc;
	}
	if (json_is_object(c2)) {
		int b2 = 0;
		const char *vec = dd_vimport_str(c2, "vectorString", &b2);
		const char *sev = dd_vimport_str(m2, "severity", &b2);
		if (b2)
			return BAD("impact.baseMetricV2 is malformed");
		if ((rc = add_cvss(im, adv, "nvd@nist.gov", "2", vec,
				   json_object_get(c2, "baseScore"), sev, err)))
			return rc;
	}
	return 0;
}

/* CVE JSON 5: metrics of the CNA and of each ADP container. */
static int cve5_metrics(dd_vimport *im, int64_t adv, const json_t *container, dd_error *err)
{
	static const struct { const char *key, *version; } kinds[] = {
		{ "cvssV4_0", "4.0" }, { "cvssV3_1", "3.1" }, { "cvssV3_0", "3.0" },
		{ "cvssV2_0", "2.0" },
	};
	json_t *pm = json_object_get(container, "providerMetadata");
	json_t *name = json_object_get(pm, "shortName"), *m;
	const char *src = json_is_string(name) ? json_string_value(name) : "cna";
	size_t i;
	int rc;
	json_array_foreach(json_object_get(container, "metrics"), i, m) {
		for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
			json_t *c = json_object_get(m, kinds[k].key);
			int b2 = 0;
			const char *vec, *sev;
			if (!c)
				continue;
			vec = dd_vimport_str(c, "vectorString", &b2);
			sev = dd_vimport_str(c, "baseSeverity", &b2);
			if (b2 || !json_is_object(c))
				return BAD("metrics[%zu].%s is malformed", i, kinds[k].key);
			if ((rc = add_cvss(im, adv, src, kinds[k].version, vec,
					   json_object_get(c, "baseScore"), sev, err)))
				return rc;
		}
	}
	return 0;
}

static int cve5_record(dd_vimport *im, const json_t *root, dd_error *err)
{
	dd_vuln_advisory_in a;
	int64_t adv;
	int rc, bad = 0;
	json_t *meta = json_object_get(root, "cveMetadata");
	json_t *cont = json_object_get(root, "containers");
	json_t *cna = json_object_get(cont, "cna"), *adp;
	const char *state;
	size_t i;

	memset(&a, 0, sizeof(a));
	a.id = dd_vimport_str(meta, "cveId", &bad);
	a.published = dd_vimport_str(meta, "datePublished", &bad);
	a.modified = dd_vimport_str(meta, "dateUpdated", &bad);
	state = dd_vimport_str(meta, "state", &bad);
	if (bad || !a.id || !*a.id)
		return BAD("cveMetadata.cveId/datePublished/dateUpdated/state must be strings");
	if (state && strcmp(state, "REJECTED") == 0)
		a.withdrawn = a.modified ? a.modified : "rejected";
	a.summary = dd_vimport_str(cna, "title", &bad);
	a.details = english(json_object_get(cna, "descriptions"), "lang", "value");
	if (bad)
		a.summary = NULL;
	if ((rc = dd_vulndb_add_advisory(im->db, &a, DD_VULNDB_ADV_UNIQUE, &adv, err)) ||
	    (rc = add_refs(im, adv, json_object_get(cna, "references"), err)) ||
	    (rc = cve5_metrics(im, adv, cna, err)))
		return rc;
	json_array_foreach(json_object_get(cont, "adp"), i, adp)
		if ((rc = cve5_metrics(im, adv, adp, err)))
			return rc;
	return 0;
}

/* Run one record in its own savepoint; malformed ones are skipped. */
static int one(dd_vimport *im, const char *file, const json_t *rec, int kind, dd_error *err)
{
	dd_error rerr = DD_ERROR_INIT;
	char rid[64] = "-";
	int rc, arc;

	im->st->records++;
	if ((rc = dd_vulndb_record_begin(im->db, err)))
		return rc;
	arc = !json_is_object(rec) ? dd_error_set(&rerr, DD_EINPUT, "not an object")
	      : kind == 0 ? nvd2_record(im, json_object_get(rec, "cve"), &rerr)
	      : kind == 1 ? nvd11_record(im, rec, &rerr)
	      : cve5_record(im, rec, &rerr);
	if ((rc = dd_vulndb_record_end(im->db, arc != 0, err)))
		return rc;
	if (arc == DD_EINPUT) {
		json_t *id = kind == 0 ? json_object_get(json_object_get(rec, "cve"), "id")
			     : kind == 1 ? json_object_get(json_object_get(json_object_get(rec, "cve"),
									   "CVE_data_meta"), "ID")
			     : json_object_get(json_object_get(rec, "cveMetadata"), "cveId");
		if (json_is_string(id))
			snprintf(rid, sizeof(rid), "%s", json_string_value(id));
		return dd_vimport_skip(im, file, rid, err, "%s", rerr.msg);
	}
	if (arc && err)
		*err = rerr;
	return arc;
}

int dd_vimport_cve(dd_vimport *im, const char *file, const json_t *root, dd_error *err)
{
	json_t *arr, *rec;
	size_t i;
	int rc;
	if ((arr = json_object_get(root, "vulnerabilities")) && json_is_array(arr)) {
		json_array_foreach(arr, i, rec)
			if ((rc = one(im, file, rec, 0, err)))
				return rc;
		return 0;
	}
	if ((arr = json_object_get(root, "CVE_Items")) && json_is_array(arr)) {
		json_array_foreach(arr, i, rec)
			if ((rc = one(im, file, rec, 1, err)))
				return rc;
		return 0;
	}
	return one(im, file, root, 2, err);
}

int dd_vimport_is_cve(const json_t *root)
{
	json_t *dt = json_object_get(root, "dataType"), *fmt = json_object_get(root, "format");
	if (json_is_string(dt) && strcmp(json_string_value(dt), "CVE_RECORD") == 0 &&
	    json_is_object(json_object_get(root, "cveMetadata")))
		return 1;
	if (json_is_array(json_object_get(root, "vulnerabilities")) &&
	    ((json_is_string(fmt) && strcmp(json_string_value(fmt), "NVD_CVE") == 0) ||
	     json_object_get(root, "resultsPerPage")))
		return 1;
	if (json_is_array(json_object_get(root, "CVE_Items")))
		return 1;
	return 0;
}
