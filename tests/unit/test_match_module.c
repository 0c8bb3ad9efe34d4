/* Unit tests for the RPM modularity rule of src/match (module streams). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "match/match.h"
#include "vulndb/store.h"

static int applies(const char *label, const char *summary, const char *fixed)
{
	dd_package p;
	dd_vuln_match m;
	memset(&p, 0, sizeof(p));
	memset(&m, 0, sizeof(m));
	p.type = DD_PKG_RPM;
	p.modularitylabel = (char *)label;
	m.summary = summary;
	return dd_match_module_applies(&p, &m, fixed);
}

static void test_module_streams(void **state)
{
	(void)state;
	const char *mod14 = "1:14.21.1-2.module_el8.7.0+3373+a4c18c43";
	const char *mod16 = "1:16.19.1-1.module+el8.7.0+17933+1cba2c07";
	/* a module package: only its own stream's module builds */
	assert_true(applies("nodejs:14:8070020221012124637:ad008a3a", "Moderate: nodejs:14 security update", mod14));
	assert_false(applies("nodejs:16:8070020221020155046:ad008a3a", "Moderate: nodejs:14 security update", mod14));
	assert_true(applies("nodejs:16:8070020221020155046:ad008a3a", "Important: nodejs:16 security update", mod16));
	assert_false(applies("nodejs:16:8070020221020155046:ad008a3a", "Important: nodejs:16 update", "1:16.19.1-1.el8"));
	/* the advisory names no stream: kept */
	assert_true(applies("nodejs:16:1:c", "Important: security update", mod16));
	/* another module named in the summary does not decide for this one */
	assert_true(applies("perl:5.30:1:c", "Moderate: nodejs:14 and perl:5.30 security update", "4:5.30.1-452.module+el8.4.0+1+a"));
	assert_false(applies("perl:5.26:1:c", "Moderate: perl:5.30 security update", "4:5.30.1-452.module+el8.4.0+1+a"));
	/* "nodejs:14" must not match stream "1" or "140" */
	assert_false(applies("nodejs:1:1:c", "Moderate: nodejs:14 security update", mod14));
	assert_false(applies("nodejs:140:1:c", "Moderate: nodejs:14 security update", mod14));
	/* a package outside modules: module builds never fix it */
	assert_false(applies(NULL, "Moderate: nodejs:14 security update", mod14));
	assert_true(applies(NULL, "Important: openssl security update", "1:1.1.1k-7.el8_6"));
	assert_true(applies("", "x", "1:1.1.1k-7.el8_6"));
	/* unfixed entries apply */
	assert_true(applies("nodejs:16:1:c", "nodejs:16", NULL));
	/* other package types are not concerned */
	{
		dd_package p;
		dd_vuln_match m;
		memset(&p, 0, sizeof(p));
		memset(&m, 0, sizeof(m));
		p.type = DD_PKG_DEB;
		assert_true(dd_match_module_applies(&p, &m, mod14));
	}
}

static const char *eol(const char *id, const char *ver)
{
	dd_os os;
	memset(&os, 0, sizeof(os));
	os.id = (char *)id;
	os.version_id = (char *)ver;
	return dd_os_eol(&os);
}

static void test_eol_calendar(void **state)
{
	(void)state;
	assert_string_equal(eol("alpine", "3.10.4"), "2021-05-01");
	assert_null(eol("alpine", "3.1"));
	assert_null(eol("alpine", "3.1.4"));
	assert_string_equal(eol("debian", "12"), "2028-06-30");
	assert_null(eol("debian", "1"));
	assert_string_equal(eol("ubuntu", "18.04"), "2023-05-31");
	assert_null(eol("ubuntu", "18.10"));
	assert_string_equal(eol("rhel", "8.9"), "2029-05-31");
	assert_string_equal(eol("almalinux", "9.3"), "2032-05-31");
	assert_null(eol("fedora", "39"));
	assert_null(eol(NULL, "1"));
	{
		dd_os os;
		memset(&os, 0, sizeof(os));
		os.id = (char *)"debian";
		os.version_id = (char *)"9";
		assert_true(dd_os_is_eol(&os));
		os.version_id = (char *)"99";
		assert_false(dd_os_is_eol(&os));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_module_streams),
		cmocka_unit_test(test_eol_calendar),
	};
	return cmocka_run_group_tests_name("match_module", tests, NULL, NULL);
}
