/* Unit tests for src/registry/ref.c: the docker/distribution grammar. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "registry/ref.h"

static void norm(const char *in, const char *want)
{
	dd_ref r;
	dd_error e = DD_ERROR_INIT;
	char buf[600];
	int rc = dd_ref_parse(&r, in, &e);
	if (rc)
		fail_msg("'%s' rejected: %s", in, e.msg);
	dd_ref_format(&r, buf, sizeof(buf));
	if (strcmp(buf, want))
		fail_msg("'%s' -> '%s', wanted '%s'", in, buf, want);
}

static void bad(const char *in)
{
	dd_ref r;
	dd_error e = DD_ERROR_INIT;
	if (dd_ref_parse(&r, in, &e) != DD_EUSAGE)
		fail_msg("'%s' accepted", in);
	assert_true(strlen(e.msg) > 0);
}

static void test_normalisation(void **state)
{
	(void)state;
	norm("alpine", "docker.io/library/alpine:latest");
	norm("alpine:3.18", "docker.io/library/alpine:3.18");
	norm("docker://alpine:3.18", "docker.io/library/alpine:3.18");
	norm("index.docker.io/library/alpine", "docker.io/library/alpine:latest");
	norm("bitnami/nginx:1.25", "docker.io/bitnami/nginx:1.25");
	norm("localhost/app", "localhost/app:latest");
	norm("localhost:5000/team/app:v1.2.3", "localhost:5000/team/app:v1.2.3");
	norm("myregistry.azurecr.io/app:1.4", "myregistry.azurecr.io/app:1.4");
	norm("127.0.0.1:5000/a/b/c:x", "127.0.0.1:5000/a/b/c:x");
	norm("[::1]:5000/app:t", "[::1]:5000/app:t");
	norm("ghcr.io/o/r@sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	     "ghcr.io/o/r@sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	norm("ghcr.io/o/r:1@sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	     "ghcr.io/o/r:1@sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	norm("a/b__c/d-e--f/g.h:_tag", "docker.io/a/b__c/d-e--f/g.h:_tag");
}

static void test_rejects(void **state)
{
	(void)state;
	bad("");
	bad("Alpine");                 /* uppercase repository */
	bad("alpine:");                /* empty tag */
	bad("alpine:-x");              /* tag must not start with '-' */
	bad("a//b");
	bad("a/b/");
	bad("-a/b");
	bad("a___b");
	bad("a/b@sha256:abc");
	bad("a/b@md5:d41d8cd98f00b204e9800998ecf8427e");
	bad("registry.example.com:99999999/a");
	bad("host..com/a");
	bad("a b");
	char longtag[200];
	memset(longtag, 'x', sizeof(longtag));
	memcpy(longtag, "a:", 2);
	longtag[199] = '\0';
	bad(longtag);
}

static void test_loopback_and_remote(void **state)
{
	(void)state;
	dd_ref r;
	dd_error e;
	assert_int_equal(dd_ref_parse(&r, "localhost:5000/x", &e), 0);
	assert_true(dd_ref_is_loopback(&r));
	assert_int_equal(dd_ref_parse(&r, "127.1.2.3:5000/x", &e), 0);
	assert_true(dd_ref_is_loopback(&r));
	assert_int_equal(dd_ref_parse(&r, "[::1]:5000/x", &e), 0);
	assert_true(dd_ref_is_loopback(&r));
	assert_int_equal(dd_ref_parse(&r, "127.example.com/x", &e), 0);
	assert_false(dd_ref_is_loopback(&r));
	assert_int_equal(dd_ref_parse(&r, "localhost.evil.com/x", &e), 0);
	assert_false(dd_ref_is_loopback(&r));
	assert_int_equal(dd_ref_parse(&r, "alpine", &e), 0);
	assert_string_equal(dd_ref_api_host(&r), "registry-1.docker.io");
	assert_true(dd_ref_looks_remote("docker://alpine"));
	assert_true(dd_ref_looks_remote("ghcr.io/a/b:1"));
	assert_false(dd_ref_looks_remote("./dir/x"));
	assert_false(dd_ref_looks_remote("oci:foo"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalisation),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_loopback_and_remote),
	};
	return cmocka_run_group_tests_name("registry_ref", tests, NULL, NULL);
}
