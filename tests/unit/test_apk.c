/* Unit tests for src/inventory/apk.c: a real Alpine 3.4 database with one
 * bad entry, and hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inventory/apk.h"
#include "util/reader.h"

static void slurp(const char *rel, dd_buf *b)
{
	char path[4096];
	const char *root = getenv("DD_ROOT");
	dd_error e = DD_ERROR_INIT;
	snprintf(path, sizeof(path), "%s/tests/data/inventory/%s", root ? root : ".", rel);
	if (dd_file_slurp(path, b, 64 << 20, &e) != 0)
		fail_msg("cannot read %s: %s", path, e.msg);
}

static const dd_package *find(const dd_pkglist *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].name, name) == 0)
			return &l->v[i];
	return NULL;
}

/* The P:/V: pairs of well-formed entries, counted independently of the
 * parser: every entry that has both. */
static size_t count_pv(const char *s)
{
	size_t n = 0;
	int p = 0, v = 0;
	for (const char *line = s; line && *line;) {
		const char *nl = strchr(line, '\n');
		if (line[0] == '\n' || !nl) {
			if (!nl && line[0] == 'V')
				v = 1;
			n += p && v;
			p = v = 0;
		} else if (strncmp(line, "P:", 2) == 0) {
			p = 1;
		} else if (strncmp(line, "V:", 2) == 0) {
			v = 1;
		}
		line = nl ? nl + 1 : NULL;
	}
	return n + (p && v);
}

static void test_alpine34_one_bad_entry(void **state)
{
	(void)state;
	dd_buf data = DD_BUF_INIT;
	dd_pkglist l = DD_PKGLIST_INIT;
	dd_warnlist w = DD_WARNLIST_INIT;
	dd_error e = DD_ERROR_INIT;

	slurp("installed-alpine34-with-one-bad-entry", &data);
	assert_int_equal(dd_apk_parse_installed(&l, data.data, data.len, "lib/apk/db/installed",
						&w, &e), 0);
	assert_int_equal(l.n, count_pv(data.data));
	assert_int_equal(l.n, 15);
	assert_int_equal(w.n, 1);
	assert_non_null(strstr(w.v[0], "lib/apk/db/installed line 23"));
	assert_non_null(strstr(w.v[0], "invalidPackageWithoutAVersion"));
	assert_null(find(&l, "invalidPackageWithoutAVersion"));
	const dd_package *m = find(&l, "musl");
	assert_non_null(m);
	assert_int_equal(m->type, DD_PKG_APK);
	assert_string_equal(m->version, "1.1.14-r10");
	assert_string_equal(m->arch, "x86_64");
	assert_string_equal(m->source_name, "musl");
	assert_string_equal(m->license, "MIT");
	assert_string_equal(m->maintainer, "Timo Teräs <timo.teras@iki.fi>");
	assert_string_equal(m->commit, "e6c226fbe17bb8f856dce5f0d9bc088b333e6225");
	assert_int_equal(m->build_time, 1466181580);
	assert_int_equal(m->size, 569344);
	assert_int_equal(m->nfiles, 2);
	assert_string_equal(m->files[0], "lib/libc.musl-x86_64.so.1");
	assert_string_equal(m->files[1], "lib/ld-musl-x86_64.so.1");
	const dd_package *b = find(&l, "busybox");
	assert_non_null(b);
	assert_string_equal(b->version, "1.24.2-r9");
	assert_string_equal(b->files[0], "bin/busybox");
	dd_pkglist_release(&l);
	dd_warnlist_release(&w);
	dd_buf_release(&data);
}

static void test_malformed_entries(void **state)
{
	(void)state;
	dd_pkglist l = DD_PKGLIST_INIT;
	dd_warnlist w = DD_WARNLIST_INIT;
	dd_error e = DD_ERROR_INIT;
	const char *t =
		"P:good\nV:1.0-r0\nA:aarch64\nF:usr/bin\nR:a\nR:b\nF:\nR:top\n\n"
		"P:junk\nV:1.0-r0\nthis is not a field\n\n"
		"V:1.0-r0\nA:x86_64\n\n"
		"P:bad name\nV:1\n\n"
		"P:badv\nV:1.0 r0\n\n"
		"P:dupv\nV:1\nV:2\n\n"
		"P:\xff\xfe\nV:1\n\n"
		"P:last\nV:2.0_rc1-r3\nI:notanumber\nt:99999999999999999999999\nT:desc";
	assert_int_equal(dd_apk_parse_installed(&l, t, strlen(t), "installed", &w, &e), 0);
	assert_int_equal(l.n, 2);
	const dd_package *g = find(&l, "good");
	assert_int_equal(g->nfiles, 3);
	assert_string_equal(g->files[0], "usr/bin/a");
	assert_string_equal(g->files[2], "top");
	const dd_package *last = find(&l, "last");
	assert_non_null(last);
	assert_int_equal(last->size, 0);
	assert_int_equal(last->build_time, 0);
	assert_string_equal(last->description, "desc");
	assert_int_equal(w.n, 6);
	for (size_t i = 0; i < w.n; i++)
		assert_non_null(strstr(w.v[i], "installed line "));
	dd_pkglist_release(&l);
	dd_warnlist_release(&w);

	/* random bytes */
	size_t n = 1 << 20;
	char *junk = malloc(n);
	assert_non_null(junk);
	srand(3);
	for (size_t i = 0; i < n; i++)
		junk[i] = (char)("PVAFR:\n\nxo1."[rand() % 13]);
	assert_int_equal(dd_apk_parse_installed(&l, junk, n, "installed", &w, &e), 0);
	for (size_t i = 0; i < l.n; i++) {
		assert_non_null(l.v[i].name);
		assert_non_null(l.v[i].version);
	}
	dd_pkglist_release(&l);
	dd_warnlist_release(&w);
	free(junk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alpine34_one_bad_entry),
		cmocka_unit_test(test_malformed_entries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
