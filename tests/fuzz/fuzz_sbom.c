/* libFuzzer target: SBOM writers, package URLs and SPDX license expressions
 * on hostile package metadata.
 *
 * The input is split at '\n' into fields: OS id, VERSION_ID, then per
 * package (at most 4) type, name, version, arch, source name, source
 * version, license, maintainer/vendor.  Properties checked (abort on
 * violation): a purl uses only its allowed characters; a license the
 * classifier accepts re-classifies to itself; both writers succeed and
 * produce JSON that parses, whose SPDXIDs use only [A-Za-z0-9.-]. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inventory/inventory.h"
#include "report/cyclonedx.h"
#include "report/purl.h"
#include "report/sbom.h"
#include "report/spdx.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void quiet(enum dd_log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)msg;
	(void)ctx;
}

static char *field(const char **p, const char *end)
{
	const char *s = *p, *nl;
	if (s >= end)
		return NULL;
	nl = memchr(s, '\n', (size_t)(end - s));
	if (!nl)
		nl = end;
	*p = nl < end ? nl + 1 : end;
	char *r = dd_strndup(s, (size_t)(nl - s));
	if (r && strlen(r) != (size_t)(nl - s)) { /* embedded NUL: keep the prefix */
		char *t = dd_strdup(r);
		free(r);
		r = t;
	}
	return r;
}

static void check_purl(const char *s)
{
	if (strncmp(s, "pkg:", 4) != 0)
		abort();
	for (const char *p = s; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_~%/@?&=:", *p))
			abort();
}

static void check_license(const char *text)
{
	dd_buf a = DD_BUF_INIT, b = DD_BUF_INIT;
	enum dd_license_kind k = dd_license_classify(text, &a);
	if (k == DD_LICENSE_ID || k == DD_LICENSE_EXPR) {
		if (dd_license_classify(dd_buf_cstr(&a), &b) != k || strcmp(dd_buf_cstr(&a), dd_buf_cstr(&b)))
			abort();
	}
	dd_buf_release(&a);
	dd_buf_release(&b);
}

static void check_json(int (*w)(FILE *, const dd_inventory *, dd_error *), const dd_inventory *inv,
		       int spdx)
{
	char *buf = NULL;
	size_t len = 0;
	dd_error e;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return;
	int rc = w(f, inv, &e);
	fclose(f);
	if (rc)
		abort();
	json_t *j = json_loadb(buf, len, 0, NULL);
	if (!j)
		abort();
	if (spdx) {
		json_t *p;
		size_t i;
		json_array_foreach(json_object_get(j, "packages"), i, p) {
			const char *id = json_string_value(json_object_get(p, "SPDXID"));
			if (!id || strncmp(id, "SPDXRef-", 8) != 0)
				abort();
			for (const char *q = id + 8; *q; q++)
				if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-", *q))
					abort();
		}
	}
	json_decref(j);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	dd_inventory *inv = NULL;
	dd_error e;

	dd_log_set_sink(quiet, NULL);
	setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
	if (dd_inventory_new(&inv, &e))
		return 0;
	inv->image.ref = field(&p, end);
	inv->os.id = field(&p, end);
	inv->os.version_id = field(&p, end);
	for (int n = 0; n < 4 && p < end; n++) {
		dd_package *k = dd_pkglist_add(&inv->pkgs);
		char *t = field(&p, end);
		if (!k) {
			free(t);
			break;
		}
		k->type = t && *t ? (enum dd_pkg_type)((unsigned char)*t % 3) : DD_PKG_DEB;
		free(t);
		k->name = field(&p, end);
		k->version = field(&p, end);
		k->arch = field(&p, end);
		k->source_name = field(&p, end);
		k->source_version = field(&p, end);
		k->license = field(&p, end);
		k->maintainer = field(&p, end);
		if (k->type == DD_PKG_RPM && k->maintainer)
			k->vendor = dd_strdup(k->maintainer);
		k->layer = n - 1;
		if (k->license)
			check_license(k->license);
		dd_buf b = DD_BUF_INIT;
		if (dd_purl_format(&b, k, &inv->os, &e) == 0)
			check_purl(dd_buf_cstr(&b));
		dd_buf_release(&b);
	}
	check_json(dd_report_cyclonedx, inv, 0);
	check_json(dd_report_spdx, inv, 1);
	dd_inventory_free(inv);
	return 0;
}
