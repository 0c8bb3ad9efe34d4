/* Unit tests for src/report/purl.c: package URLs with exact expected strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "inventory/package.h"
#include "report/purl.h"
#include "util/buf.h"
#include "util/error.h"

/* Build the purl of a package described inline; returns a static string. */
static const char *purl(const dd_package *p, const dd_os *os)
{
	static char res[1024];
	dd_buf b = DD_BUF_INIT;
	dd_error e = DD_ERROR_INIT;
	assert_int_equal(dd_purl_format(&b, p, os, &e), 0);
	assert_true(b.len < sizeof(res));
	memcpy(res, dd_buf_cstr(&b), b.len + 1);
	dd_buf_release(&b);
	return res;
}

static void test_deb(void **state)
{
	(void)state;
	dd_os os = { .id = "debian", .version_id = "12", .codename = "bookworm" };
	dd_package p = { .type = DD_PKG_DEB, .name = "openssl", .version = "3.0.11-1~deb12u2",
			 .arch = "amd64", .source_name = "openssl" };
	assert_string_equal(purl(&p, &os),
			    "pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12");

	/* '+' in names and versions, ':' of an epoch, source differing */
	dd_package q = { .type = DD_PKG_DEB, .name = "libstdc++6", .version = "12.2.0-14",
			 .arch = "amd64", .source_name = "gcc-12" };
	assert_string_equal(purl(&q, &os), "pkg:deb/debian/libstdc%2B%2B6@12.2.0-14"
					   "?arch=amd64&distro=debian-12&upstream=gcc-12");
	dd_package r = { .type = DD_PKG_DEB, .name = "login", .version = "1:4.13+dfsg1-1+b1",
			 .arch = "amd64", .source_name = "shadow", .source_version = "1:4.13+dfsg1-1" };
	assert_string_equal(purl(&r, &os), "pkg:deb/debian/login@1%3A4.13%2Bdfsg1-1%2Bb1"
					   "?arch=amd64&distro=debian-12&upstream=shadow%401%3A4.13%2Bdfsg1-1");
	/* binNMU: same source name, other version */
	dd_package s = { .type = DD_PKG_DEB, .name = "libc6", .version = "2.36-9+b1",
			 .arch = "arm64", .source_name = "libc6", .source_version = "2.36-9" };
	assert_string_equal(purl(&s, &os), "pkg:deb/debian/libc6@2.36-9%2Bb1"
					   "?arch=arm64&distro=debian-12&upstream=libc6%402.36-9");
	/* Ubuntu; deb names are case-insensitive: lowercased */
	dd_os ub = { .id = "ubuntu", .version_id = "22.04" };
	dd_package t = { .type = DD_PKG_DEB, .name = "Foo", .version = "1.0", .arch = "all" };
	assert_string_equal(purl(&t, &ub), "pkg:deb/ubuntu/foo@1.0?arch=all&distro=ubuntu-22.04");
	/* Debian testing: no VERSION_ID, codename instead */
	dd_os sid = { .id = "debian", .codename = "trixie" };
	assert_string_equal(purl(&t, &sid), "pkg:deb/debian/foo@1.0?arch=all&distro=debian-trixie");
}

static void test_apk(void **state)
{
	(void)state;
	dd_os os = { .id = "alpine", .version_id = "3.10.3" };
	dd_package p = { .type = DD_PKG_APK, .name = "musl", .version = "1.1.22-r3",
			 .arch = "x86_64", .source_name = "musl" };
	assert_string_equal(purl(&p, &os),
			    "pkg:apk/alpine/musl@1.1.22-r3?arch=x86_64&distro=alpine-3.10.3");
	dd_package q = { .type = DD_PKG_APK, .name = "libcrypto1.1", .version = "1.1.1d-r0",
			 .arch = "x86_64", .source_name = "openssl" };
	assert_string_equal(purl(&q, &os), "pkg:apk/alpine/libcrypto1.1@1.1.1d-r0"
					   "?arch=x86_64&distro=alpine-3.10.3&upstream=openssl");
	/* unknown OS: the type's usual vendor, no distro */
	assert_string_equal(purl(&p, NULL), "pkg:apk/alpine/musl@1.1.22-r3?arch=x86_64");
	dd_os none = { 0 };
	assert_string_equal(purl(&p, &none), "pkg:apk/alpine/musl@1.1.22-r3?arch=x86_64");
}

static void test_rpm(void **state)
{
	(void)state;
	dd_os rhel = { .id = "rhel", .version_id = "8.9" };
	dd_package p = { .type = DD_PKG_RPM, .name = "openssl-libs", .version = "1:1.1.1k-9.el8_7",
			 .arch = "x86_64", .has_epoch = 1, .epoch = 1, .rpm_version = "1.1.1k",
			 .rpm_release = "9.el8_7", .source_name = "openssl",
			 .source_version = "1.1.1k-9.el8_7", .vendor = "Red Hat, Inc." };
	assert_string_equal(purl(&p, &rhel), "pkg:rpm/redhat/openssl-libs@1.1.1k-9.el8_7"
					     "?arch=x86_64&distro=rhel-8.9&epoch=1&upstream=openssl");
	/* no epoch: no qualifier; rpm names keep their case; epoch 0 is kept */
	dd_os cbl = { .id = "mariner", .version_id = "2.0" };
	dd_package q = { .type = DD_PKG_RPM, .name = "NetworkManager", .version = "1.2-3.cm2",
			 .arch = "x86_64", .rpm_version = "1.2", .rpm_release = "3.cm2",
			 .source_name = "NetworkManager", .source_version = "1.2-3.cm2" };
	assert_string_equal(purl(&q, &cbl),
			    "pkg:rpm/mariner/NetworkManager@1.2-3.cm2?arch=x86_64&distro=mariner-2.0");
	q.has_epoch = 1;
	q.epoch = 0;
	assert_string_equal(purl(&q, &cbl), "pkg:rpm/mariner/NetworkManager@1.2-3.cm2"
					    "?arch=x86_64&distro=mariner-2.0&epoch=0");
	/* only the printed version: the epoch is split off */
	dd_os sles = { .id = "sles", .version_id = "15.5" };
	dd_package r = { .type = DD_PKG_RPM, .name = "libgcc_s1", .version = "3:13.2.1+git7813-150000.1.6.1",
			 .arch = "x86_64" };
	assert_string_equal(purl(&r, &sles), "pkg:rpm/suse/libgcc_s1@13.2.1%2Bgit7813-150000.1.6.1"
					     "?arch=x86_64&distro=sles-15.5&epoch=3");
	dd_os leap = { .id = "opensuse-leap", .version_id = "15.6" };
	assert_string_equal(purl(&r, &leap), "pkg:rpm/opensuse/libgcc_s1@13.2.1%2Bgit7813-150000.1.6.1"
					     "?arch=x86_64&distro=opensuse-leap-15.6&epoch=3");
	/* gpg-pubkey has arch "(none)": no arch qualifier */
	dd_os fed = { .id = "fedora", .version_id = "40" };
	dd_package g = { .type = DD_PKG_RPM, .name = "gpg-pubkey", .arch = "(none)",
			 .rpm_version = "a15b79cc", .rpm_release = "63d04c2c" };
	assert_string_equal(purl(&g, &fed), "pkg:rpm/fedora/gpg-pubkey@a15b79cc-63d04c2c?distro=fedora-40");
	/* unknown OS: namespace from the Vendor header */
	p.source_name = NULL;
	p.source_version = NULL;
	assert_string_equal(purl(&p, NULL),
			    "pkg:rpm/redhat/openssl-libs@1.1.1k-9.el8_7?arch=x86_64&epoch=1");
	p.vendor = "Acme Widgets, Inc.";
	assert_string_equal(purl(&p, NULL),
			    "pkg:rpm/acmewidgets/openssl-libs@1.1.1k-9.el8_7?arch=x86_64&epoch=1");
	p.vendor = NULL;
	assert_string_equal(purl(&p, NULL), "pkg:rpm/openssl-libs@1.1.1k-9.el8_7?arch=x86_64&epoch=1");
}

static void test_hostile_text_is_encoded(void **state)
{
	(void)state;
	dd_os os = { .id = "Deb/ian?x", .version_id = "1 2&3" };
	dd_package p = { .type = DD_PKG_DEB, .name = "a/b?c#d@e", .version = "1.0 \n%",
			 .arch = "x=y&z" };
	assert_string_equal(purl(&p, &os), "pkg:deb/deb%2Fian%3Fx/a%2Fb%3Fc%23d%40e@1.0%20%0A%25"
					   "?arch=x%3Dy%26z&distro=deb%2Fian%3Fx-1%202%263");
	dd_package u = { .type = DD_PKG_APK, .name = "caf\xc3\xa9", .version = "1" };
	assert_string_equal(purl(&u, NULL), "pkg:apk/alpine/caf%C3%A9@1");
	dd_buf b = DD_BUF_INIT;
	assert_int_equal(dd_purl_encode(&b, "A-z_0.9~+:"), 0);
	assert_string_equal(dd_buf_cstr(&b), "A-z_0.9~%2B%3A");
	dd_buf_release(&b);
}

static void test_errors(void **state)
{
	(void)state;
	dd_buf b = DD_BUF_INIT;
	dd_error e = DD_ERROR_INIT;
	dd_package p = { .type = DD_PKG_DEB, .version = "1" };
	assert_int_equal(dd_purl_format(&b, &p, NULL, &e), DD_EINPUT);
	assert_int_equal(b.len, 0);
	assert_non_null(strstr(e.msg, "name"));
	p.name = "";
	assert_int_equal(dd_purl_format(&b, &p, NULL, &e), DD_EINPUT);
	/* a buffer limit is reported, not overrun */
	dd_buf small = DD_BUF_INIT_MAX(16);
	p.name = "a-rather-long-package-name";
	assert_int_equal(dd_purl_format(&small, &p, NULL, &e), DD_EINPUT);
	assert_true(small.len <= 16);
	dd_buf_release(&small);
	dd_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deb),
		cmocka_unit_test(test_apk),
		cmocka_unit_test(test_rpm),
		cmocka_unit_test(test_hostile_text_is_encoded),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests_name("purl", tests, NULL, NULL);
}
