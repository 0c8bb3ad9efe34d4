/* Unit tests for src/registry/http.c: origins (who may receive the
 * Authorization header after a redirect). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "registry/http.h"

static void same(const char *a, const char *b, int want)
{
	int got = dd_http_same_origin(a, b);
	if (got != want)
		fail_msg("same_origin('%s', '%s') = %d, wanted %d", a, b, got, want);
	got = dd_http_same_origin(b, a);
	if (got != want)
		fail_msg("same_origin('%s', '%s') = %d, wanted %d (reversed)", b, a, got, want);
}

static void test_same_origin(void **state)
{
	(void)state;
	same("https://reg.example/v2/", "https://reg.example/v2/x/blobs/sha256:00", 1);
	same("https://reg.example/v2/", "https://reg.example:443/other", 1);  /* default port */
	same("http://reg.example/v2/", "http://reg.example:80/v2/", 1);
	same("https://REG.Example/v2/", "https://reg.example/v2/", 1);        /* host case */
	same("HTTPS://reg.example/", "https://reg.example/", 1);               /* scheme case */
	same("http://127.0.0.1:5000/v2/", "http://127.0.0.1:5000/blob?x=1", 1);
	same("http://[::1]:5000/v2/", "http://[::1]:5000/v2/x", 1);
}

static void test_other_origin(void **state)
{
	(void)state;
	same("https://reg.example/", "http://reg.example/", 0);               /* scheme */
	same("https://reg.example/", "https://reg.example:8443/", 0);         /* port */
	same("https://reg.example:443/", "http://reg.example:443/", 0);
	same("http://reg.example/", "https://reg.example/", 0);               /* 80 vs 443 */
	same("https://reg.example/", "https://storage.example/", 0);          /* host */
	same("https://reg.example/", "https://reg.example.evil.net/", 0);     /* suffix */
	same("https://reg.example/", "https://evil.net/reg.example/", 0);
	same("https://reg.example/", "https://reg.example@evil.net/", 0);     /* userinfo */
	same("http://127.0.0.1:5000/", "http://127.0.0.2:5000/", 0);
	same("http://127.0.0.1:5000/", "http://127.0.0.1:5001/", 0);
	same("http://127.0.0.1:5000/", "http://localhost:5000/", 0);          /* names differ */
	same("http://[::1]:5000/", "http://127.0.0.1:5000/", 0);
}

static void test_garbage(void **state)
{
	(void)state;
	same("not a url", "not a url", 0);
	same("", "", 0);
	same("https://reg.example/", "", 0);
	same("https://reg.example/", "/v2/relative", 0);
	same("https://reg.example/", "ftp://reg.example/", 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_origin),
		cmocka_unit_test(test_other_origin),
		cmocka_unit_test(test_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
