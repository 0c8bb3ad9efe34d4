/* Unit tests for src/inventory/dpkg.c: the real Ubuntu 18.04 status file
 * against dpkg-query's own reading of it, and hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inventory/dpkg.h"
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

static const dd_package *find(const dd_pkglist *l, const char *name, const char *arch)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].name, name) == 0 && (!arch || strcmp(l->v[i].arch, arch) == 0))
			return &l->v[i];
	return NULL;
}

static int has_warning(const dd_warnlist *w, const char *a, const char *b)
{
	for (size_t i = 0; i < w->n; i++)
		if (strstr(w->v[i], a) && (!b || strstr(w->v[i], b)))
			return 1;
	return 0;
}

/* 91 packages, each equal to what dpkg-query printed (the .expected file:
 * Package, Version, Architecture, source:Package, source:Version, state). */
static void test_ubuntu1804_matches_dpkg_query(void **state)
{
	(void)state;
	dd_buf data = DD_BUF_INIT, exp = DD_BUF_INIT;
	dd_pkglist l = DD_PKGLIST_INIT;
	dd_warnlist w = DD_WARNLIST_INIT;
	dd_error e = DD_ERROR_INIT;
	size_t lines = 0;

	slurp("ubuntu1804-status", &data);
	slurp("ubuntu1804-status.expected", &exp);
	assert_int_equal(dd_dpkg_parse_status(&l, data.data, data.len, "var/lib/dpkg/status", 0,
					      &w, &e), 0);
	assert_int_equal(l.n, 91);
	assert_int_equal(w.n, 0);
	for (char *line = exp.data, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		char *f[6];
		int k = 0;
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		for (char *p = line; k < 6; k++) {
			f[k] = p;
			char *t = strchr(p, '\t');
			if (!t) {
				k++;
				break;
			}
			*t = '\0';
			p = t + 1;
		}
		assert_int_equal(k, 6);
		const dd_package *p = find(&l, f[0], f[2]);
		if (!p)
			fail_msg("package %s:%s missing", f[0], f[2]);
		assert_string_equal(p->version, f[1]);
		assert_string_equal(p->source_name ? p->source_name : p->name, f[3]);
		assert_string_equal(p->source_version ? p->source_version : p->version, f[4]);
		if (strcmp(f[5], "installed") == 0)
			assert_null(p->status);
		else
			assert_string_equal(p->status, f[5]);
		assert_string_equal(p->db_path, "var/lib/dpkg/status");
		assert_int_equal(p->type, DD_PKG_DEB);
		lines++;
	}
	assert_int_equal(lines, 91);
	const dd_package *fd = find(&l, "fdisk", NULL);
	assert_non_null(fd);
	assert_int_equal(fd->size, 427 * 1024);
	assert_string_equal(fd->multi_arch, "foreign");
	assert_string_equal(fd->description, "collection of partitioning utilities");
	assert_string_equal(fd->maintainer,
			    "Ubuntu Developers <ubuntu-devel-discuss@lists.ubuntu.com>");
	dd_pkglist_release(&l);
	dd_warnlist_release(&w);
	dd_buf_release(&data);
	dd_buf_release(&exp);
}

static size_t parse(const char *text, dd_pkglist *l, dd_warnlist *w, int status_d)
{
	dd_error e = DD_ERROR_INIT;
	assert_int_equal(dd_dpkg_parse_status(l, text, strlen(text), "status", status_d, w, &e), 0);
	return l->n;
}

static void test_fields_and_continuations(void **state)
{
	(void)state;
	dd_pkglist l = DD_PKGLIST_INIT;
	dd_warnlist w = DD_WARNLIST_INIT;
	const char *t =
		"package: libc6\n"
		"STATUS: install ok installed\n"
		"Architecture: amd64\n"
		"Source: glibc (2.36-9+deb12u4)\n"
		"Version: 2.36-9+deb12u4\n"
		"Multi-Arch: same\n"
		"Installed-Size: 12\n"
		"Description: GNU C Library: Shared libraries\n"
		" Contains the standard libraries.\n"
		" .\n"
		"Conffiles:\n"
		" /etc/ld.so.conf 0123\n"
		"\n\n \t\n"
		"Package: libc6\n"
		"Status: install ok installed\n"
		"Architecture: i386\n"
		"Source: glibc\n"
		"Version: 2.36-9+deb12u4\n"
		"\r\n"
		"Package: oldpkg\n"
		"Status: deinstall ok config-files\n"
		"Version: 1:1.0-1\n"
		"Architecture: all\n"
		"\n"
		"Package: purged\n"
		"Status: purge ok not-installed\n"
		"Architecture: all\n";
	assert_int_equal(parse(t, &l, &w, 0), 3);
	assert_null(find(&l, "purged", NULL));
	assert_int_equal(w.n, 0);
	const dd_package *a = find(&l, "libc6", "amd64");
	assert_string_equal(a->source_name, "glibc");
	assert_string_equal(a->source_version, "2.36-9+deb12u4");
	assert_string_equal(a->multi_arch, "same");
	assert_int_equal(a->size, 12288);
	assert_string_equal(a->description, "GNU C Library: Shared libraries");
	const dd_package *b = find(&l, "libc6", "i386");
	assert_string_equal(b->source_name, "glibc");
	assert_null(b->source_version);
	const dd_package *c = find(&l, "oldpkg", NULL);
	assert_string_equal(c->status, "config-files");
	assert_string_equal(c->version, "1:1.0-1");
	dd_pkglist_release(&l);
	dd_warnlist_release(&w);
}

/* Each malformed stanza is skipped with a warning naming the file and the
 * line; its neighbours survive. */
static void test_malformed_stanzas_skipped(void **state)
{
	(void)state;
	dd_pkglist l = DD_PKGLIST_INIT;
	dd_warnlist w = DD_WARNLIST_INIT;
	const char *t =
		"Package: good1\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\n\n"
		"Package: nocolon\nStatus: install ok installed\nthis line is junk\nVersion: 1\n\n"
		"Status: install ok installed\nVersion: 2.0\n\n"                         /* line 11 */
		"Package: badver\nStatus: install ok installed\nVersion: 1.0 beta\n\n"
		"Package: dup\nPackage: dup2\nStatus: install ok installed\nVersion: 1\n\n"
		"Package: nostatus\nVersion: 1\n\n"
		"Package: BAD NAME\nStatus: install ok installed\nVersion: 1\n\n"
		"Package: noversion\nStatus: install ok installed\n\n"
		"Package: badstatus\nStatus: installed\nVersion: 1\n\n"
		" leading continuation\nPackage: x\n\n"
		"Package: good2\nStatus: hold ok installed\nVersion: 2:3.4~rc1-1ubuntu1\n"
		"Architecture: arm64\nSource: src";  /* truncated: no final newline */
	assert_int_equal(parse(t, &l, &w, 0), 2);
	assert_non_null(find(&l, "good1", NULL));
	const dd_package *g2 = find(&l, "good2", NULL);
	assert_non_null(g2);
	assert_string_equal(g2->source_name, "src");
	assert_int_equal(w.n, 9);
	assert_true(has_warning(&w, "status line 8:", "nocolon"));
	assert_true(has_warning(&w, "status line 11:", "no Package"));
	assert_true(has_warning(&w, "badver", "invalid Version"));
	assert_true(has_warning(&w, "duplicate field", NULL));
	assert_true(has_warning(&w, "nostatus", "no Status"));
	assert_true(has_warning(&w, "invalid Package name", NULL));
	assert_true(has_warning(&w, "noversion", "without Version"));
	assert_true(has_warning(&w, "badstatus", "invalid Status"));
	assert_true(has_warning(&w, "continuation line without a field", NULL));
	dd_pkglist_release(&l);
	dd_warnlist_release(&w);
}

static void test_status_d_without_status(void **state)
{
	(void)state;
	dd_pkglist l = DD_PKGLIST_INIT;
	dd_warnlist w = DD_WARNLIST_INIT;
	assert_int_equal(parse("Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n",
			       &l, &w, 1), 1);
	assert_null(l.v[0].status);
	dd_pkglist_release(&l);
	dd_warnlist_release(&w);
}

static void test_huge_fields_and_junk(void **state)
{
	(void)state;
	dd_pkglist l = DD_PKGLIST_INIT;
	dd_warnlist w = DD_WARNLIST_INIT;
	dd_error e = DD_ERROR_INIT;
	size_t n = 8 << 20;
	char *big = malloc(n + 200);
	assert_non_null(big);
	/* A huge description is kept (sanitised), a huge name is refused. */
	int k = snprintf(big, 200, "Package: a\nStatus: install ok installed\nVersion: 1\nDescription: ");
	memset(big + k, 'x', n);
	memcpy(big + k + n, "\n\nPackage: ", 11);
	memset(big + k + n + 11, 'b', 100);
	assert_int_equal(dd_dpkg_parse_status(&l, big, (size_t)k + n + 111, "status", 0, &w, &e), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(strlen(l.v[0].description), n);
	assert_int_equal(w.n, 1);
	dd_pkglist_release(&l);
	dd_warnlist_release(&w);
	/* Binary junk, NULs and high bytes: no crash, nothing invented. */
	srand(7);
	for (size_t i = 0; i < n; i++)
		big[i] = (char)(rand() & 0xff);
	assert_int_equal(dd_dpkg_parse_status(&l, big, n, "status", 0, &w, &e), 0);
	for (size_t i = 0; i < l.n; i++)
		assert_non_null(l.v[i].version);
	dd_pkglist_release(&l);
	dd_warnlist_release(&w);
	/* Invalid UTF-8 and control characters in text fields are replaced. */
	const char *t = "Package: u\nStatus: install ok installed\nVersion: 1\n"
			"Maintainer: J\xc3\xa9r\xff\x1b[31m\n";
	assert_int_equal(parse(t, &l, &w, 0), 1);
	assert_string_equal(l.v[0].maintainer, "J\xc3\xa9r??[31m");
	dd_pkglist_release(&l);
	dd_warnlist_release(&w);
	free(big);
}

/* A million bad stanzas cost one bounded warning list, not a flood. */
static void test_warning_flood_is_capped(void **state)
{
	(void)state;
	dd_pkglist l = DD_PKGLIST_INIT;
	dd_warnlist w = DD_WARNLIST_INIT;
	dd_error e = DD_ERROR_INIT;
	dd_buf b = DD_BUF_INIT;
	for (int i = 0; i < 1000; i++)
		dd_buf_puts(&b, "Package: x\nbad\n\n");
	dd_buf_puts(&b, "Package: ok\nStatus: install ok installed\nVersion: 1\n");
	assert_int_equal(dd_dpkg_parse_status(&l, b.data, b.len, "status", 0, &w, &e), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(w.n, DD_WARNLIST_MAX);
	assert_int_equal(w.dropped, 1000 - DD_WARNLIST_MAX);
	dd_pkglist_release(&l);
	dd_warnlist_release(&w);
	dd_buf_release(&b);
}

static void test_filelists(void **state)
{
	(void)state;
	char **f = NULL;
	size_t n = 0;
	dd_error e = DD_ERROR_INIT;
	const char *list = "/.\n/usr\n/usr/bin\n/usr/bin/ls\n\n/usr/share/doc/coreutils\n";
	assert_int_equal(dd_dpkg_parse_filelist(&f, &n, list, strlen(list), 0, &e), 0);
	assert_int_equal(n, 4);
	assert_string_equal(f[0], "usr");
	assert_string_equal(f[2], "usr/bin/ls");
	const char *md5 = "d41d8cd98f00b204e9800998ecf8427e  usr/lib/os-release\nbroken\n"
			  "0123  usr/share/zoneinfo/UTC\n";
	assert_int_equal(dd_dpkg_parse_filelist(&f, &n, md5, strlen(md5), 1, &e), 0);
	assert_int_equal(n, 6);
	assert_string_equal(f[4], "usr/lib/os-release");
	assert_string_equal(f[5], "usr/share/zoneinfo/UTC");
	for (size_t i = 0; i < n; i++)
		free(f[i]);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ubuntu1804_matches_dpkg_query),
		cmocka_unit_test(test_fields_and_continuations),
		cmocka_unit_test(test_malformed_stanzas_skipped),
		cmocka_unit_test(test_status_d_without_status),
		cmocka_unit_test(test_huge_fields_and_junk),
		cmocka_unit_test(test_warning_flood_is_capped),
		cmocka_unit_test(test_filelists),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
