/*
 * import_internal.h - what the format importers (import_*.c) share with the
 * driver (import.c).  Not a public API.
 *
 * Each format importer takes one parsed document (jansson; borrowed) that
 * the driver has recognised as its format, adds its records to the open
 * source transaction and returns 0, or a fatal DD_E* code.  Malformed
 * records go through dd_vimport_skip(), which warns, counts, and returns
 * non-zero only in strict mode.
 */
#ifndef DD_VULNDB_IMPORT_INTERNAL_H
#define DD_VULNDB_IMPORT_INTERNAL_H

#include <jansson.h>

#include "util/buf.h"
#include "util/error.h"
#include "vulndb/import.h"
#include "vulndb/store.h"

typedef struct dd_vimport {
	dd_vulndb *db;
	const dd_vulndb_import_opts *opts;
	dd_vulndb_import_stats *st;
	const char *severity_source; /* set by the OSV importer per record */
	dd_buf file;                 /* reused for every file read */
} dd_vimport;

enum dd_vformat { DD_VF_UNKNOWN, DD_VF_OSV, DD_VF_SECDB, DD_VF_DEBIAN_JSON, DD_VF_CVE,
		  DD_VF_CSAF };

/* Recognise a parsed document. */
enum dd_vformat dd_vimport_detect(const json_t *root);

/* Warn "FILE: record ID: MSG", count it; returns DD_EINPUT (with err set)
 * in strict mode, else 0. */
int dd_vimport_skip(dd_vimport *im, const char *file, const char *record, dd_error *err,
		    const char *fmt, ...) DD_PRINTF(5, 6);

int dd_vimport_osv(dd_vimport *im, const char *file, const json_t *root, dd_error *err);
int dd_vimport_secdb(dd_vimport *im, const char *file, const json_t *root, dd_error *err);
int dd_vimport_debian_json(dd_vimport *im, const char *file, const json_t *root,
			   dd_error *err);

/* The Debian tracker's text lists (data/CVE/list, data/DSA/list,
 * data/DLA/list): recognise, import. */
int dd_vimport_is_debian_list(const char *data, size_t len);
int dd_vimport_debian_list(dd_vimport *im, const char *file, const char *data, size_t len,
			   dd_error *err);

/* NVD API 2.0 pages / JSON 2.0 feeds, NVD JSON 1.1 feeds, CVE JSON 5. */
int dd_vimport_is_cve(const json_t *root);
int dd_vimport_cve(dd_vimport *im, const char *file, const json_t *root, dd_error *err);

/* Red Hat CSAF 2.0 VEX documents (document.category "csaf_vex") and CSAF
 * advisories ("csaf_security_advisory"). */
int dd_vimport_is_csaf(const json_t *root);
int dd_vimport_csaf_is_vex(const json_t *root);
int dd_vimport_csaf(dd_vimport *im, const char *file, const json_t *root, dd_error *err);

/* The Ubuntu CVE Tracker's per-CVE files (active/CVE-*). */
int dd_vimport_is_ubuntu_uct(const char *data, size_t len);
int dd_vimport_ubuntu_uct(dd_vimport *im, const char *file, const char *data, size_t len,
			  dd_error *err);

/* Parse the first YAML document of data into a jansson tree: mappings become
 * objects, sequences arrays, scalars strings (plain null/~ becomes null).
 * Aliases are refused.  Returns NULL and fills err (naming `name`).
 * Tries dd_vimport_yaml_fast() first, then libyaml. */
json_t *dd_vimport_yaml_load(const char *data, size_t len, const char *name, dd_error *err);

/* The same with libyaml's parser only (yaml.c). */
json_t *dd_vimport_yaml_libyaml(const char *data, size_t len, const char *name,
				dd_error *err);

/* The fast YAML reader alone (yamlfast.c): the same tree as
 * dd_vimport_yaml_libyaml(), or NULL when it declines (anything outside the
 * subset of YAML it reads, including every error; for the tests). */
json_t *dd_vimport_yaml_fast(const char *data, size_t len);

/* Parse a JSON document exactly as json_loadb(data, len, JSON_ALLOW_NUL, je)
 * does, faster (json.c).  New reference, or NULL with je filled. */
json_t *dd_vimport_json_load(const char *data, size_t len, json_error_t *je);

/* The fast reader alone: the same tree as json_loadb(JSON_ALLOW_NUL), or
 * NULL when it declines (any error or unusual input; for the fuzz target). */
json_t *dd_vimport_json_fast(const char *data, size_t len);

/* A string member, NULL when absent or null; sets *bad when present with
 * another type. */
const char *dd_vimport_str(const json_t *obj, const char *key, int *bad);

#endif
