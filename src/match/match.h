/*
 * match.h - the matcher: an inventory's packages against the vulnerability
 * DB, giving findings (docs/matching.md "# Matching rules").
 *
 * The matcher sees a dd_inventory, never an image.  For each package it
 * picks the DB ecosystem from the image's OS (dd_match_ecosystem), the name
 * the feeds key that distro on (Debian/Ubuntu: the source package and source
 * version; Alpine: the origin; rpm: binary and source name), evaluates the
 * entry's ranges/versions with the ecosystem's version ordering, keeps
 * non-"not-affected" statuses, rates severity (distro rating first, then the
 * highest CVSS v3/v4 score) and merges findings that share an id or alias
 * for the same package.
 *
 * Memory: dd_findings owns every string and array in it (copied out of the
 * DB callbacks and the inventory); dd_findings_free() releases it (NULL ok).
 * Findings keep the index of their package in the inventory (`pkg`), so the
 * inventory must outlive any use of that index, not of the strings.
 */
#ifndef DD_MATCH_MATCH_H
#define DD_MATCH_MATCH_H

#include <stddef.h>

#include "inventory/inventory.h"
#include "util/error.h"
#include "version/version.h"
#include "vulndb/store.h"

/* Severity levels, lowest first; DD_SEV_UNKNOWN sorts below everything. */
enum dd_severity {
	DD_SEV_UNKNOWN = 0,
	DD_SEV_NEGLIGIBLE,
	DD_SEV_LOW,
	DD_SEV_MEDIUM,
	DD_SEV_HIGH,
	DD_SEV_CRITICAL,
	DD_SEV_COUNT,
};
/* "UNKNOWN", "NEGLIGIBLE", "LOW", "MEDIUM", "HIGH", "CRITICAL". */
const char *dd_severity_name(enum dd_severity s);
/* Case-insensitive name (also Debian/Ubuntu ratings: "unimportant" ->
 * NEGLIGIBLE, "important" -> HIGH, "moderate" -> MEDIUM ...).  Returns 0 or
 * DD_EINPUT (no message) for anything else. */
int dd_severity_parse(const char *s, enum dd_severity *out);
/* From a CVSS base score (v3/v4 bands: 0.1-3.9 LOW ... 9.0+ CRITICAL). */
enum dd_severity dd_severity_from_score(double score);

typedef struct dd_cvss {
	char *source;  /* "nvd", the feed name ... may be NULL */
	char *type;    /* CVSS_V2, CVSS_V3, CVSS_V4 */
	char *vector;  /* may be NULL */
	double score;  /* valid when has_score */
	int has_score;
} dd_cvss;

typedef struct dd_finding {
	char *id;            /* preferred id: the CVE when one is known */
	char **aliases;      /* every other id merged in (sorted, unique) */
	size_t n_aliases;
	size_t pkg;          /* index into the inventory's packages */
	char *match_name;    /* the name looked up: source package, origin ... */
	char *match_version; /* the version compared */
	char *ecosystem;     /* "Debian:12" */
	char *status;        /* fixed (a fix exists), affected (none yet),
			      * will-not-fix, fix-deferred, end-of-life,
			      * under-investigation */
	char *fixed_version; /* lowest fixing version above the installed one, or NULL */
	enum dd_severity severity;
	char *severity_source; /* who rated it ("distro:debian", "cvss:nvd"), or NULL */
	char *distro_rating;   /* the distro's own rating as given, or NULL */
	dd_cvss *cvss;
	size_t n_cvss;
	char *data_source;   /* DB source name(s), comma-separated */
	char *summary;       /* may be NULL */
	char *notes;         /* may be NULL */
	char **related;      /* ids the advisories list as related (ALSA/RLSA: the
			      * CVEs they fix); informational, never merged */
	size_t n_related;
	int from_base;       /* 1 base image, 0 added on top, -1 unknown */
	/* Set by the CLI filters (ignore file, VEX); NULL when the finding stands. */
	char *suppressed_by; /* "ignore-file", "vex" */
	char *suppress_reason;
} dd_finding;

typedef struct dd_findings {
	dd_finding *v;
	size_t n, cap;
	/* Coverage: packages looked up, and those the DB had no data for
	 * (their ecosystem is missing from the DB, or unknown). */
	size_t checked, unchecked;
	char *ecosystem;     /* the OS ecosystem used ("Alpine:v3.10"), NULL if none */
	int os_supported;    /* 1 when the DB holds data for that ecosystem */
	long base_layers;    /* layers of the base image, -1 unknown */
} dd_findings;

typedef struct dd_match_opts {
	/* Number of bottom layers that came with the base image, or -1 when
	 * unknown (then every finding has from_base -1). */
	long base_layers;
} dd_match_opts;

/* The DB ecosystem string for packages of type t in an image with OS os
 * ("Debian:12", "Ubuntu:18.04:LTS", "Alpine:v3.10", "AlmaLinux:9",
 * "Rocky Linux:9", "Wolfi", "Chainguard"), written into buf (size n).
 * Returns buf, or NULL when drydock knows no feed for that OS. */
const char *dd_match_ecosystem(char *buf, size_t n, const dd_os *os, enum dd_pkg_type t);

/* Match every package of inv against db.  Findings come sorted by package
 * index, then severity (highest first), then id.  When the DB has no data
 * for the image's OS, a warning naming the OS and the number of unchecked
 * packages goes through dd_warn() and out->os_supported is 0.  Returns 0 or
 * a DD_E* code (DB errors). */
int dd_match_inventory(dd_findings **out, const dd_inventory *inv, dd_vulndb *db,
		       const dd_match_opts *o, dd_error *err);

/* Does version v (of ecosystem eco) fall in the entry m?  1 yes, 0 no; the
 * fixing version above v (borrowed from m), if any, goes to *fixed.
 * Exposed for tests. */
int dd_match_entry(enum dd_ecosystem eco, const char *v, const dd_vuln_match *m,
		   const char **fixed);

void dd_findings_free(dd_findings *f);

/* Remove finding i (when a filter drops it), keeping the order. */
void dd_findings_remove(dd_findings *f, size_t i);

/* End of security support of the image's OS release ("2024-06-30"), or
 * NULL when the calendar does not know the release; dd_os_is_eol: that
 * date has passed (UTC). */
const char *dd_os_eol(const dd_os *os);
int dd_os_is_eol(const dd_os *os);

/* RPM modularity: does advisory entry m (fixed version `fixed`, NULL when
 * unfixed) apply to package p, given p's module stream (see match.c)? */
struct dd_vuln_match;
int dd_match_module_applies(const dd_package *p, const struct dd_vuln_match *m, const char *fixed);

#endif
