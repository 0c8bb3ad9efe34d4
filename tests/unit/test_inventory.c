/* Unit tests for src/inventory/inventory.c and catalog.c: the container and
 * its accessors, and dd_inventory_collect() on small rootfs: trees (symlinked
 * release files and databases, several package managers at once). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image.h"
#include "inventory/catalog.h"
#include "inventory/inventory.h"
#include "util/log.h"

static char root[256];

static void put(const char *rel, const char *text)
{
	char p[1024], d[1100];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	snprintf(d, sizeof(d), "mkdir -p \"$(dirname '%s')\"", p);
	assert_int_equal(system(d), 0);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void link_(const char *rel, const char *target)
{
	char p[1024], d[1100];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	snprintf(d, sizeof(d), "mkdir -p \"$(dirname '%s')\"", p);
	assert_int_equal(system(d), 0);
	assert_int_equal(symlink(target, p), 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "%s/dd-inv-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(root));
	return 0;
}

static int teardown(void **state)
{
	char c[600];
	(void)state;
	snprintf(c, sizeof(c), "rm -rf '%s'", root);
	return system(c) == 0 ? 0 : -1;
}

static dd_inventory *collect(void)
{
	char ref[300];
	dd_image *img = NULL;
	dd_inventory *inv = NULL;
	dd_image_opts o;
	dd_error e = DD_ERROR_INIT;
	snprintf(ref, sizeof(ref), "rootfs:%s", root);
	dd_image_opts_init(&o);
	if (dd_image_open(&img, ref, &o, &e))
		fail_msg("open: %s", e.msg);
	if (dd_inventory_collect(&inv, img, &e))
		fail_msg("collect: %s", e.msg);
	dd_image_free(img);
	return inv;
}

static void quiet(enum dd_log_level l, const char *m, void *c)
{
	(void)l;
	(void)m;
	(void)c;
}

static void test_empty_inventory(void **state)
{
	(void)state;
	dd_inventory *inv = NULL;
	assert_int_equal(dd_inventory_new(&inv, NULL), 0);
	assert_true(dd_inventory_os_unknown(inv));
	assert_int_equal(dd_inventory_package_count(inv), 0);
	assert_null(dd_inventory_package(inv, 0));
	assert_null(dd_inventory_layer(inv, 0));
	assert_string_equal(dd_inventory_ref(inv), "");
	assert_false(dd_digest_is_set(dd_inventory_manifest_digest(inv)));
	dd_log_set_sink(quiet, NULL);
	dd_inventory_warn(inv, "bad %s\n", "line");
	dd_log_set_sink(NULL, NULL);
	assert_int_equal(dd_inventory_warning_count(inv), 1);
	assert_string_equal(dd_inventory_warning(inv, 0), "bad line\\x0a");
	assert_null(dd_inventory_warning(inv, 1));
	dd_inventory_free(inv);
	dd_inventory_free(NULL);
	assert_string_equal(dd_transport_name(DD_TRANSPORT_DOCKER_ARCHIVE), "docker-archive");
}

static void test_text_dup(void **state)
{
	(void)state;
	const char *in = "ok \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc0\xaf \xed\xa0\x80 \x7f\t\xe2\x82";
	char *s = dd_text_dup(in, strlen(in));
	assert_string_equal(s, "ok \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 ?? ??? ????");
	free(s);
}

/* One root with dpkg, apk (reached through a symlinked directory) and an
 * os-release symlink: every package once, sorted by type then name. */
static void test_collect_rootfs(void **state)
{
	(void)state;
	put("usr/lib/os-release", "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME='Debian 12'\n");
	link_("etc/os-release", "../usr/lib/os-release");
	put("var/lib/dpkg/status",
	    "Package: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.13-1\n"
	    "Architecture: amd64\nSource: zlib\n\n"
	    "Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b2\n"
	    "Architecture: amd64\n\n"
	    "Package: broken\nStatus: install ok installed\nnonsense\n");
	put("var/lib/dpkg/info/zlib1g:amd64.list", "/.\n/usr/lib/libz.so.1\n");
	put("var/lib/dpkg/info/bash.list", "/bin/bash\n");
	put("usr/lib/apk/db/installed", "P:musl\nV:1.2.4-r2\nA:x86_64\no:musl\nF:lib\nR:ld.so\n");
	link_("lib/apk", "../usr/lib/apk");

	dd_log_set_sink(quiet, NULL);
	dd_inventory *inv = collect();
	dd_log_set_sink(NULL, NULL);
	const dd_os *os = dd_inventory_os(inv);
	assert_string_equal(os->id, "debian");
	assert_string_equal(os->source, "usr/lib/os-release");
	assert_string_equal(os->name, "Debian 12");
	assert_false(os->distroless);
	assert_int_equal(dd_inventory_transport(inv), DD_TRANSPORT_ROOTFS);
	assert_int_equal(dd_inventory_layer_count(inv), 1);
	assert_int_equal(dd_inventory_package_count(inv), 3);
	const dd_package *p0 = dd_inventory_package(inv, 0);
	const dd_package *p1 = dd_inventory_package(inv, 1);
	const dd_package *p2 = dd_inventory_package(inv, 2);
	assert_string_equal(p0->name, "bash");
	assert_int_equal(p0->nfiles, 1);
	assert_string_equal(p0->files[0], "bin/bash");
	assert_string_equal(p1->name, "zlib1g");
	assert_int_equal(p1->nfiles, 1);
	assert_string_equal(p1->files[0], "usr/lib/libz.so.1");
	assert_int_equal(p1->layer, 0);
	assert_string_equal(p2->name, "musl");
	assert_int_equal(p2->type, DD_PKG_APK);
	assert_string_equal(p2->db_path, "usr/lib/apk/db/installed");
	assert_int_equal(inv->ndamaged, 1);
	assert_int_equal(dd_inventory_warning_count(inv), 1);
	assert_non_null(strstr(dd_inventory_warning(inv, 0), "var/lib/dpkg/status line 14"));
	dd_inventory_free(inv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_inventory),
		cmocka_unit_test(test_text_dup),
		cmocka_unit_test_setup_teardown(test_collect_rootfs, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
