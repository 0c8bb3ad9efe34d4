/* json_util.c - jansson helpers for the SBOM writers (see json_util.h). */
#include "report/json_util.h"

#include <errno.h>
#include <string.h>

#include "report/sbom.h"
#include "util/banned.h"

void dd_jctx_init(dd_jctx *c)
{
	c->failed = 0;
	dd_buf_init(&c->tmp, (size_t)16 << 20);
}

void dd_jctx_release(dd_jctx *c)
{
	if (c)
		dd_buf_release(&c->tmp);
}

json_t *dd_jstr(dd_jctx *c, const char *s)
{
	json_t *v;
	dd_buf_reset(&c->tmp);
	if (dd_sbom_utf8(&c->tmp, s ? s : "")) {
		c->failed = 1;
		return NULL;
	}
	v = json_stringn(c->tmp.data ? c->tmp.data : "", c->tmp.len);
	if (!v)
		c->failed = 1;
	return v;
}

json_t *dd_jobj(dd_jctx *c)
{
	json_t *v = json_object();
	if (!v)
		c->failed = 1;
	return v;
}

json_t *dd_jarr(dd_jctx *c)
{
	json_t *v = json_array();
	if (!v)
		c->failed = 1;
	return v;
}

void dd_jset(dd_jctx *c, json_t *obj, const char *key, json_t *v)
{
	if (!obj || !v) {
		json_decref(v);
		c->failed = 1;
		return;
	}
	if (json_object_set_new(obj, key, v))
		c->failed = 1;
}

void dd_jset_str(dd_jctx *c, json_t *obj, const char *key, const char *s)
{
	if (s && *s)
		dd_jset(c, obj, key, dd_jstr(c, s));
}

void dd_jpush(dd_jctx *c, json_t *arr, json_t *v)
{
	if (!arr || !v) {
		json_decref(v);
		c->failed = 1;
		return;
	}
	if (json_array_append_new(arr, v))
		c->failed = 1;
}

int dd_jdump(FILE *out, const json_t *root, const char *what, dd_error *err)
{
	errno = 0;
	if (json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0 ||
	    fputc('\n', out) == EOF || fflush(out) != 0 || ferror(out))
		return dd_error_set(err, DD_EENV, "writing %s: %s", what,
				    errno ? strerror(errno) : "write error");
	return 0;
}
