/*
 * filter.h - what `drydock scan` reads besides the image and the DB: the
 * ignore file, VEX documents (OpenVEX 0.2.0, CycloneDX VEX) and SBOMs made
 * by other tools (CycloneDX JSON, SPDX 2.x JSON), plus a purl parser they
 * share.  Formats: docs/cli.md "## scan" and docs/matching.md.
 *
 * Every input is untrusted: sizes are bounded, malformed input gives
 * DD_EINPUT with the file and line/record named.
 *
 * Memory: each parser returns a heap object the caller frees with the
 * matching *_free() (NULL ok); strings are owned by it.
 */
#ifndef DD_MATCH_FILTER_H
#define DD_MATCH_FILTER_H

#include <stddef.h>
#include <time.h>

#include "inventory/inventory.h"
#include "match/match.h"
#include "util/error.h"

/* ---- purls --------------------------------------------------------------- */

typedef struct dd_purl {
	char *type, *namespace_, *name, *version; /* decoded; namespace/version may be NULL */
	char *arch, *distro, *upstream, *epoch;   /* qualifiers we use, decoded, or NULL */
} dd_purl;

/* Parse "pkg:type/namespace/name@version?qualifiers#subpath".  Returns 0 or
 * DD_EINPUT (err filled, naming the purl). */
int dd_purl_parse(dd_purl *out, const char *s, dd_error *err);
void dd_purl_release(dd_purl *p);
/* 1 when package purl `pkg` is what `want` names: same type, namespace
 * (when want has one) and name (case-insensitively for deb/apk/rpm), and
 * the same version when want has one. */
int dd_purl_matches(const dd_purl *want, const dd_purl *pkg);

/* ---- ignore file ----------------------------------------------------------- */

typedef struct dd_ignore_rule {
	char *id;        /* vulnerability id or alias */
	char *package;   /* binary or source package name, or NULL = any */
	int has_expiry;
	int exp_y, exp_m, exp_d; /* the rule applies through this day (UTC) */
	char *reason;    /* the comment after '#', or NULL */
	size_t line;
} dd_ignore_rule;

typedef struct dd_ignore {
	dd_ignore_rule *v;
	size_t n;
} dd_ignore;

/* Parse an ignore file: one rule a line,
 *   ID [pkg:NAME] [exp:YYYY-MM-DD] [# reason]
 * blank lines and lines starting with '#' are comments.  `name` is used in
 * messages.  Returns 0 or DD_EINPUT naming the file and line. */
int dd_ignore_parse(dd_ignore **out, const char *data, size_t len, const char *name,
		    dd_error *err);
void dd_ignore_free(dd_ignore *ig);
/* 1 when the rule has expired at `now` (the day after exp:). */
int dd_ignore_expired(const dd_ignore_rule *r, time_t now);

/* ---- VEX ------------------------------------------------------------------- */

typedef struct dd_vex_stmt {
	char *id;           /* vulnerability id */
	char **aliases;
	size_t n_aliases;
	dd_purl *products;  /* package-level products; none = every package */
	size_t n_products;
	char *status;       /* OpenVEX terms: not_affected, fixed, affected, under_investigation */
	char *justification;
	char *statement;    /* impact_statement / detail, or NULL */
} dd_vex_stmt;

typedef struct dd_vex {
	char *format;       /* "openvex" or "cyclonedx" */
	dd_vex_stmt *v;
	size_t n;
} dd_vex;

/* Parse an OpenVEX (0.x) or CycloneDX (1.4+) VEX JSON document.  CycloneDX
 * analysis states map to OpenVEX terms: not_affected and false_positive ->
 * not_affected, resolved/resolved_with_pedigree -> fixed, exploitable ->
 * affected, in_triage -> under_investigation.  A later statement about the
 * same vulnerability and product overrides an earlier one (OpenVEX order). */
int dd_vex_parse(dd_vex **out, const char *data, size_t len, const char *name, dd_error *err);
void dd_vex_free(dd_vex *v);
/* The last statement that applies to finding f of package p (purl pkg_purl,
 * may be NULL), or NULL. */
const dd_vex_stmt *dd_vex_find(const dd_vex *v, const dd_finding *f, const char *pkg_purl);

/* ---- SBOM input ------------------------------------------------------------ */

/* Build an inventory from a CycloneDX JSON or SPDX 2.x JSON SBOM made by any
 * tool: every component/package with a deb, apk or rpm purl becomes a
 * package (distro, upstream, arch and epoch qualifiers used); the OS comes
 * from a CycloneDX "operating-system" component, else the purls' distro
 * qualifier.  Other purl types are counted in the warning.  `ref` is stored
 * as the inventory's reference. */
int dd_sbom_read(dd_inventory **out, const char *data, size_t len, const char *ref,
		 dd_error *err);

#endif
