/* test_vulndb_json.c - the importers' fast JSON reader (src/vulndb/json.c)
 * against jansson's json_loadb(JSON_ALLOW_NUL): the same tree (values and
 * key order) for what it accepts, a decline for what it must not guess at,
 * and the same result through dd_vimport_json_load() either way. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "vulndb/import_internal.h"

/* Both readers agree: same tree, same key order. */
static void same_tree(const char *what, const char *data, size_t len)
{
	json_t *a = dd_vimport_json_fast(data, len);
	json_t *b = json_loadb(data, len, JSON_ALLOW_NUL, NULL);
	if (!a || !b || !json_equal(a, b))
		fail_msg("%s: fast %s, jansson %s, equal %d", what, a ? "ok" : "declined",
			 b ? "ok" : "failed", a && b ? json_equal(a, b) : -1);
	char *x = json_dumps(a, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	char *y = json_dumps(b, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	assert_non_null(x);
	assert_non_null(y);
	if (strcmp(x, y) != 0)
		fail_msg("%s: key order differs:\n%s\n%s", what, x, y);
	free(x);
	free(y);
	json_decref(a);
	json_decref(b);
}

static void same_s(const char *doc)
{
	same_tree(doc, doc, strlen(doc));
}

/* The fast reader declines; the full loader returns what jansson does
 * (NULL with the same message, or jansson's tree). */
static void declined(const char *what, const char *data, size_t len)
{
	json_error_t je1, je2;
	json_t *a = dd_vimport_json_fast(data, len);
	if (a)
		fail_msg("%s: fast reader accepted it", what);
	json_t *b = json_loadb(data, len, JSON_ALLOW_NUL, &je1);
	json_t *c = dd_vimport_json_load(data, len, &je2);
	if (!b) {
		assert_null(c);
		assert_string_equal(je1.text, je2.text);
		assert_int_equal(je1.line, je2.line);
	} else {
		assert_non_null(c);
		assert_true(json_equal(b, c));
	}
	json_decref(b);
	json_decref(c);
}

static void declined_s(const char *doc)
{
	declined(doc, doc, strlen(doc));
}

static void test_values_like_jansson(void **state)
{
	(void)state;
	same_s("{}");
	same_s("[]");
	same_s(" \t\r\n[ ]\n");
	same_s("{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\"}}");
	same_s("[0,-0,1,-1,9223372036854775807,-9223372036854775808]");
	same_s("[0.5,-0.0,1e10,1E-5,2.5e+3,1.7976931348623157e308,5e-324,1e-400]");
	same_s("[\"\",\"plain\",\"tab\\tnl\\ncr\\rq\\\"bs\\\\sl\\/b\\bf\\f\"]");
	same_s("[\"\\u00e9\\u20ac\\ud83d\\ude00\\u0041\"]");
	same_s("[\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbf \xf4\x8f\xbf\xbf\"]");
	same_s("[\"\x7f del is not a control character\"]");
	/* duplicate keys: the last value, at the first key's place */
	same_s("{\"a\":1,\"b\":2,\"a\":3}");
	same_s("{\"z\":1,\"a\":2,\"m\":3}");
	same_s("{\"\":\"empty key\"}");
	same_s("[[[[[[[[[[{\"deep\":[[[]]]}]]]]]]]]]]");
	/* NUL inside a string (JSON_ALLOW_NUL) */
	same_tree("escaped NUL", "[\"a\\u0000b\"]", 12);
	json_t *v = dd_vimport_json_fast("[\"a\\u0000b\"]", 12);
	assert_non_null(v);
	assert_int_equal(json_string_length(json_array_get(v, 0)), 3);
	json_decref(v);
	/* not NUL-terminated: the length is what counts */
	same_tree("length", "[1,2]xyz", 5);
}

static void test_declines_what_jansson_decides(void **state)
{
	(void)state;
	/* syntax errors: jansson's message */
	declined_s("");
	declined_s("   ");
	declined_s("{");
	declined_s("[1,2");
	declined_s("[1,]");
	declined_s("{\"a\":1,}");
	declined_s("{\"a\" 1}");
	declined_s("{a:1}");
	declined_s("[1] x");
	declined_s("[1][2]");
	declined_s("[tru]");
	declined_s("[nul]");
	declined_s("[\"unterminated]");
	declined_s("[01]");
	declined_s("[1.]");
	declined_s("[.5]");
	declined_s("[-]");
	declined_s("[1e]");
	declined_s("[+1]");
	declined_s("[\"\\x\"]");
	declined_s("[\"\\u12\"]");
	declined_s("[\"raw\tTAB\"]");
	/* scalars at the top (no JSON_DECODE_ANY) */
	declined_s("1");
	declined_s("\"s\"");
	declined_s("null");
	/* out of range numbers */
	declined_s("[9223372036854775808]");
	declined_s("[-9223372036854775809]");
	declined_s("[1e400]");
	declined_s("[-1e400]");
	/* bad Unicode */
	declined_s("[\"\\ud800\"]");
	declined_s("[\"\\ud800x\"]");
	declined_s("[\"\\udc00\"]");
	declined_s("[\"\\ud800\\u0041\"]");
	declined_s("[\"\xc0\x80\"]");
	declined_s("[\"\xc3\"]");
	declined_s("[\"\xed\xa0\x80\"]");
	declined_s("[\"\xf4\x90\x80\x80\"]");
	declined_s("[\"\xf8\x88\x80\x80\x80\"]");
	declined_s("[\"\x80\"]");
	declined("raw NUL", "[\"a\0b\"]", 7);
	declined("NUL after", "[1]\0", 4);
	/* accepted by jansson, left to it: escaped keys, very deep nesting */
	declined_s("{\"a\\u0062\":1}");
	declined_s("{\"k\\u0000\":1}");
	{
		dd_buf deep = DD_BUF_INIT;
		for (int i = 0; i < 1500; i++)
			dd_buf_putc(&deep, '[');
		for (int i = 0; i < 1500; i++)
			dd_buf_putc(&deep, ']');
		assert_int_equal(deep.failed, 0);
		declined("1500 deep", deep.data, deep.len);
		dd_buf_reset(&deep);
		for (int i = 0; i < 3000; i++)
			dd_buf_putc(&deep, '[');
		declined("3000 deep", deep.data, deep.len);
		dd_buf_release(&deep);
	}
}

/* Every JSON fixture of the repository, byte for byte. */
static void walk(const char *dir, int *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	assert_non_null(d);
	while ((de = readdir(d))) {
		char path[1024];
		size_t len = strlen(de->d_name);
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (de->d_type == DT_DIR) {
			walk(path, n);
			continue;
		}
		if (len < 5 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		FILE *f = fopen(path, "rb");
		dd_buf b = DD_BUF_INIT;
		char chunk[65536];
		size_t got;
		assert_non_null(f);
		while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
			dd_buf_append(&b, chunk, got);
		fclose(f);
		assert_int_equal(b.failed, 0);
		same_tree(path, b.data ? b.data : "", b.len);
		dd_buf_release(&b);
		(*n)++;
	}
	closedir(d);
}

static void test_feed_fixtures(void **state)
{
	int n = 0;
	(void)state;
	walk("tests/data/vulndb", &n);
	assert_true(n >= 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values_like_jansson),
		cmocka_unit_test(test_declines_what_jansson_decides),
		cmocka_unit_test(test_feed_fixtures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
