/* Unit tests for src/inventory/os.c: os-release(5) quoting and the
 * distribution release-file fallbacks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "inventory/os.h"

static void osr(dd_os *os, const char *t)
{
	dd_error e = DD_ERROR_INIT;
	memset(os, 0, sizeof(*os));
	assert_int_equal(dd_osrelease_parse(os, t, strlen(t), &e), 0);
}

static void test_debian(void **state)
{
	(void)state;
	dd_os os;
	osr(&os, "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n"
		 "VERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\n"
		 "ID=debian\nHOME_URL=\"https://www.debian.org/\"\n");
	assert_string_equal(os.id, "debian");
	assert_string_equal(os.version_id, "12");
	assert_string_equal(os.codename, "bookworm");
	assert_string_equal(os.name, "Debian GNU/Linux 12 (bookworm)");
	assert_null(os.id_like);
	dd_os_release(&os);
}

static void test_quoting(void **state)
{
	(void)state;
	dd_os os;
	osr(&os, "# comment\n  \n"
		 "NAME='Single quoted $HOME'\n"
		 "ID=\"ubu\\\"ntu\"\n"
		 "ID_LIKE=\"rhel centos fedora\"\n"
		 "VERSION_ID=9.2 trailing junk\n"
		 "UBUNTU_CODENAME=jammy\n"
		 "BROKEN LINE\n=novalue\nVERSION_CODENAME=\"unterminated\n"
		 "PRETTY_NAME=a\\ b\\\\c\r\n");
	assert_string_equal(os.name, "a b\\c");
	assert_string_equal(os.id, "ubu\"ntu");
	assert_string_equal(os.id_like, "rhel centos fedora");
	assert_string_equal(os.version_id, "9.2");
	assert_string_equal(os.codename, "unterminated");
	dd_os_release(&os);
	/* NAME is used when there is no PRETTY_NAME; empty ID stays unset */
	osr(&os, "NAME=Alpine\nID=\nID=alpine\nVERSION_ID=3.18.4\n");
	assert_string_equal(os.name, "Alpine");
	assert_string_equal(os.id, "alpine");
	dd_os_release(&os);
	osr(&os, "\x00\x01\xff=\n");
	assert_null(os.id);
	dd_os_release(&os);
}

static void rel(dd_os *os, const char *path, const char *t)
{
	dd_error e = DD_ERROR_INIT;
	memset(os, 0, sizeof(*os));
	assert_int_equal(dd_os_parse_release_file(os, path, t, strlen(t), &e), 0);
}

static void test_fallbacks(void **state)
{
	(void)state;
	dd_os os;
	rel(&os, "etc/alpine-release", "3.10.2\n");
	assert_string_equal(os.id, "alpine");
	assert_string_equal(os.version_id, "3.10.2");
	assert_string_equal(os.name, "alpine 3.10.2");
	dd_os_release(&os);
	rel(&os, "etc/debian_version", "  bookworm/sid \n");
	assert_string_equal(os.id, "debian");
	assert_string_equal(os.version_id, "bookworm/sid");
	dd_os_release(&os);
	rel(&os, "etc/redhat-release", "Red Hat Enterprise Linux release 8.9 (Ootpa)\n");
	assert_string_equal(os.id, "rhel");
	assert_string_equal(os.version_id, "8.9");
	dd_os_release(&os);
	rel(&os, "etc/redhat-release", "CentOS Linux release 7.9.2009 (Core)");
	assert_string_equal(os.id, "centos");
	assert_string_equal(os.version_id, "7.9.2009");
	dd_os_release(&os);
	rel(&os, "etc/redhat-release", "Something Else release 1\n");
	assert_null(os.id);
	dd_os_release(&os);
	rel(&os, "etc/SuSE-release",
	    "SUSE Linux Enterprise Server 12 (x86_64)\nVERSION = 12\nPATCHLEVEL = 3\n");
	assert_string_equal(os.id, "sles");
	assert_string_equal(os.version_id, "12.3");
	dd_os_release(&os);
	rel(&os, "etc/SuSE-release", "openSUSE 13.2 (x86_64)\nVERSION = 13.2\nCODENAME = Harlequin\n");
	assert_string_equal(os.id, "opensuse");
	assert_string_equal(os.version_id, "13.2");
	dd_os_release(&os);
	rel(&os, "etc/alpine-release", "");
	assert_null(os.id);
	dd_os_release(&os);
	rel(&os, "usr/lib/os-release", "ID=fedora\nVERSION_ID=39\n");
	assert_string_equal(os.id, "fedora");
	dd_os_release(&os);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_debian),
		cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_fallbacks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
