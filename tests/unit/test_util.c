/* Unit tests for src/util: dd_buf limits, errors, digests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/digest.h"
#include "util/error.h"

static void test_buf_limit_is_sticky(void **state)
{
	(void)state;
	dd_buf b = DD_BUF_INIT_MAX(8);
	assert_int_equal(dd_buf_puts(&b, "1234"), 0);
	assert_int_equal(dd_buf_puts(&b, "56789"), DD_EINPUT);
	assert_int_equal(dd_buf_puts(&b, "x"), DD_EINPUT);
	assert_string_equal(dd_buf_cstr(&b), "1234");
	dd_error e = DD_ERROR_INIT;
	assert_int_equal(dd_buf_error(&b, &e, "manifest"), DD_EINPUT);
	assert_non_null(strstr(e.msg, "manifest"));
	dd_buf_release(&b);
}

static void test_buf_printf_grows(void **state)
{
	(void)state;
	dd_buf b = DD_BUF_INIT;
	for (int i = 0; i < 1000; i++)
		assert_int_equal(dd_buf_printf(&b, "%04d", i), 0);
	assert_int_equal(b.len, 4000);
	assert_memory_equal(b.data + 3996, "0999", 4);
	size_t n;
	char *p = dd_buf_detach(&b, &n);
	assert_int_equal(n, 4000);
	free(p);
	assert_null(b.data);
}

static void test_error_escapes_control_chars(void **state)
{
	(void)state;
	dd_error e;
	dd_error_set(&e, DD_EINPUT, "path '%s'", "a\nb\x1b[31m");
	assert_string_equal(e.msg, "path 'a\\x0ab\\x1b[31m'");
	dd_error_prefix(&e, "layer %d", 2);
	assert_string_equal(e.msg, "layer 2: path 'a\\x0ab\\x1b[31m'");
	assert_int_equal(dd_exit_code(e.code), 3);
	assert_int_equal(dd_exit_code(0), 0);
	assert_int_equal(dd_exit_code(-99), 5);
}

static void test_digest(void **state)
{
	(void)state;
	dd_digest d, p;
	dd_error e;
	assert_int_equal(dd_digest_of(&d, "abc", 3, &e), 0);
	assert_string_equal(d.s, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(dd_digest_parse(&p, d.s, "x", &e), 0);
	assert_true(dd_digest_eq(&d, &p));
	assert_int_equal(dd_digest_parse(&p, "sha512:abcd", "blob", &e), DD_EINPUT);
	assert_non_null(strstr(e.msg, "unsupported digest algorithm"));
	assert_int_equal(dd_digest_parse(&p, "sha256:ABC", "blob", &e), DD_EINPUT);
	assert_int_equal(dd_digest_parse(&p, "sha256:../../../../etc/passwd00000000000000000000000000000000000000000", "blob", &e), DD_EINPUT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_limit_is_sticky),
		cmocka_unit_test(test_buf_printf_grows),
		cmocka_unit_test(test_error_escapes_control_chars),
		cmocka_unit_test(test_digest),
	};
	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
