/*
 * json_util.h - small jansson helpers for the SBOM writers: building
 * objects with one sticky failure flag instead of a check after each call,
 * and writing a tree deterministically.
 *
 * Internal to src/report/.  Memory: the dd_jctx owns a scratch buffer
 * (dd_jctx_release()); every json_t built is owned by the tree it is set
 * into (jansson's *_new semantics: references are stolen even on failure).
 */
#ifndef DD_REPORT_JSON_UTIL_H
#define DD_REPORT_JSON_UTIL_H

#include <jansson.h>
#include <stdio.h>

#include "util/buf.h"
#include "util/error.h"

typedef struct dd_jctx {
	int failed;   /* sticky: some allocation failed */
	dd_buf tmp;   /* scratch for UTF-8 cleaning */
} dd_jctx;

void dd_jctx_init(dd_jctx *c);
void dd_jctx_release(dd_jctx *c);

/* A JSON string of s with invalid UTF-8 replaced (never NULL unless out of
 * memory, then c->failed is set).  s NULL is treated as "". */
json_t *dd_jstr(dd_jctx *c, const char *s);
/* A new object / array; NULL (and c->failed) when out of memory. */
json_t *dd_jobj(dd_jctx *c);
json_t *dd_jarr(dd_jctx *c);
/* obj[key] = v (stolen).  Records failure when obj or v is NULL. */
void dd_jset(dd_jctx *c, json_t *obj, const char *key, json_t *v);
/* obj[key] = s, only when s is non-NULL and non-empty. */
void dd_jset_str(dd_jctx *c, json_t *obj, const char *key, const char *s);
/* arr += v (stolen). */
void dd_jpush(dd_jctx *c, json_t *arr, json_t *v);

/* Dump root with 2-space indentation in insertion order, then "\n", and
 * flush.  DD_EENV naming `what` when the write fails. */
int dd_jdump(FILE *out, const json_t *root, const char *what, dd_error *err);

#endif
