/* test_vulndb_yaml.c - the importers' fast YAML reader (src/vulndb/yamlfast.c)
 * against the libyaml conversion (src/vulndb/yaml.c): the same tree (values,
 * nulls and key order) for what it accepts, a decline for what it must
 * leave to libyaml, and the same result through dd_vimport_yaml_load()
 * either way.  Every *.yaml / *.yml file of ../shared/feeds, when present,
 * must give the same tree, and the fast reader must accept it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/buf.h"
#include "vulndb/import_internal.h"

static char *dump(const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	assert_non_null(s);
	return s;
}

/* Both readers agree; the fast one accepted. */
static void same_tree(const char *what, const char *data, size_t len)
{
	dd_error e = DD_ERROR_INIT;
	json_t *a = dd_vimport_yaml_fast(data, len);
	json_t *b = dd_vimport_yaml_libyaml(data, len, "t.yaml", &e);
	if (!a || !b)
		fail_msg("%s: fast %s, libyaml %s (%s)", what, a ? "ok" : "declined",
			 b ? "ok" : "failed", b ? "" : e.msg);
	char *x = dump(a), *y = dump(b);
	if (!json_equal(a, b) || strcmp(x, y) != 0)
		fail_msg("%s: trees differ:\nfast    %s\nlibyaml %s", what, x, y);
	free(x);
	free(y);
	json_decref(a);
	json_decref(b);
}

/* The expected tree, as JSON text. */
static void yields(const char *doc, const char *json)
{
	same_tree(doc, doc, strlen(doc));
	json_t *a = dd_vimport_yaml_fast(doc, strlen(doc));
	json_t *j = json_loads(json, JSON_DECODE_ANY, NULL);
	assert_non_null(j);
	if (!json_equal(a, j)) {
		char *x = dump(a);
		fail_msg("%s: got %s, want %s", doc, x, json);
	}
	json_decref(a);
	json_decref(j);
}

/* The fast reader declines; the full loader gives libyaml's answer. */
static void declined(const char *what, const char *data, size_t len)
{
	dd_error e1 = DD_ERROR_INIT, e2 = DD_ERROR_INIT;
	json_t *a = dd_vimport_yaml_fast(data, len);
	if (a) {
		char *x = dump(a);
		fail_msg("%s: fast reader accepted it: %s", what, x);
	}
	json_t *b = dd_vimport_yaml_libyaml(data, len, "t.yaml", &e1);
	json_t *c = dd_vimport_yaml_load(data, len, "t.yaml", &e2);
	if (!b) {
		assert_null(c);
		assert_string_equal(e1.msg, e2.msg);
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

static void test_structure(void **state)
{
	(void)state;
	yields("a: b\n", "{\"a\":\"b\"}");
	yields("a: b", "{\"a\":\"b\"}");
	yields("a: b\nc: d\n", "{\"a\":\"b\",\"c\":\"d\"}");
	yields("---\na: 1\n", "{\"a\":\"1\"}");
	yields("--- # start\na: 1\n", "{\"a\":\"1\"}");
	yields("# head\n\na: 1 # one\n# mid\nb:   2  \n\n# tail\n", "{\"a\":\"1\",\"b\":\"2\"}");
	yields("a:\n  b: c\n  d:\n    e: f\ng: h\n",
	       "{\"a\":{\"b\":\"c\",\"d\":{\"e\":\"f\"}},\"g\":\"h\"}");
	yields("a:\n- x\n- y\nb: z\n", "{\"a\":[\"x\",\"y\"],\"b\":\"z\"}");
	yields("a:\n  - x\n  - y\nb: z\n", "{\"a\":[\"x\",\"y\"],\"b\":\"z\"}");
	yields("- a\n- b\n", "[\"a\",\"b\"]");
	yields("- a: 1\n  b: 2\n- c: 3\n", "[{\"a\":\"1\",\"b\":\"2\"},{\"c\":\"3\"}]");
	yields("-   a: 1\n    b: 2\n", "[{\"a\":\"1\",\"b\":\"2\"}]");
	yields("- - a\n  - b\n- c\n", "[[\"a\",\"b\"],\"c\"]");
	yields("-\n  a: 1\n-\n- x\n", "[{\"a\":\"1\"},null,\"x\"]");
	yields("a:\n  -\n    b: 1\n", "{\"a\":[{\"b\":\"1\"}]}");
	yields("affected:\n- package:\n    name: django\n  ranges:\n  - type: ECOSYSTEM\n"
	       "    events:\n    - introduced: \"0\"\n    - fixed: \"1.1\"\n  versions:\n  - 1.0.1\n"
	       "id: X\n",
	       "{\"affected\":[{\"package\":{\"name\":\"django\"},\"ranges\":[{\"type\":"
	       "\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"1.1\"}]}],"
	       "\"versions\":[\"1.0.1\"]}],\"id\":\"X\"}");
	yields("a: []\nb: {}\nc: [] # x\n", "{\"a\":[],\"b\":{},\"c\":[]}");
	yields("a: 1\na: 2\n", "{\"a\":\"2\"}"); /* the last one, as libyaml's */
	yields("k.e-y/x+y~: v\n_k: v\n0: zero\n", "{\"k.e-y/x+y~\":\"v\",\"_k\":\"v\",\"0\":\"zero\"}");
	yields("\"0\": x\n'a b': y\n\"\": z\n", "{\"0\":\"x\",\"a b\":\"y\",\"\":\"z\"}");
	yields("- \"0\":\n  - CVE-1\n- 'x'\n", "[{\"0\":[\"CVE-1\"]},\"x\"]");
	yields("a:\n  b:\n  c: 1\n", "{\"a\":{\"b\":null,\"c\":\"1\"}}");
	yields("a:\n  - b:\n  - c\n", "{\"a\":[{\"b\":null},\"c\"]}");
	yields("a:\n  - b:\n    - c\n", "{\"a\":[{\"b\":[\"c\"]}]}");
}

static void test_scalar_types(void **state)
{
	(void)state;
	/* Only plain null-likes and empty values are null; the rest are strings. */
	yields("a: ~\nb: null\nc: Null\nd: NULL\ne:\nf: nUll\n",
	       "{\"a\":null,\"b\":null,\"c\":null,\"d\":null,\"e\":null,\"f\":\"nUll\"}");
	yields("a: 'null'\nb: \"~\"\nc: true\nd: 1.5\ne: 0x1F\nf: -1\ng: yes\n",
	       "{\"a\":\"null\",\"b\":\"~\",\"c\":\"true\",\"d\":\"1.5\",\"e\":\"0x1F\","
	       "\"f\":\"-1\",\"g\":\"yes\"}");
	yields("a: |\n\nb: ''\nc: \"\"\n", "{\"a\":\"\",\"b\":\"\",\"c\":\"\"}");
	yields("- ~\n- null\n-\n", "[null,null,null]");
	yields("null: 1\nNULL: 2\n", "{\"null\":\"1\",\"NULL\":\"2\"}");
	yields("a: nu\n  ll\n", "{\"a\":\"nu ll\"}");
}

static void test_plain(void **state)
{
	(void)state;
	yields("a: one\n  two\n   three\n", "{\"a\":\"one two three\"}");
	yields("a: one\n\n  two\n\n\n  three\nb: x\n", "{\"a\":\"one\\ntwo\\n\\nthree\",\"b\":\"x\"}");
	yields("a: one   \n  two  \n", "{\"a\":\"one two\"}");
	yields("a: x #c\n", "{\"a\":\"x\"}");
	yields("a: x#c\n", "{\"a\":\"x#c\"}");
	yields("a: x\n  # c\nb: y\n", "{\"a\":\"x\",\"b\":\"y\"}");
	yields("a: http://x:80/y?z=1&b=*c\n", "{\"a\":\"http://x:80/y?z=1&b=*c\"}");
	yields("a: -x\nb: ?y\nc: :z\nd: a - b\n",
	       "{\"a\":\"-x\",\"b\":\"?y\",\"c\":\":z\",\"d\":\"a - b\"}");
	yields("a: x:y z::w\n", "{\"a\":\"x:y z::w\"}");
	yields("a: b#c d#e  #f\n", "{\"a\":\"b#c d#e\"}");
	yields("a: x  y   \n\n  z\n", "{\"a\":\"x  y\\nz\"}");
	yields("a: x\n  y #c\nb: z\n", "{\"a\":\"x y\",\"b\":\"z\"}");
	yields("a: x\n  \n  \nb: z\n", "{\"a\":\"x\",\"b\":\"z\"}");
	yields("a: x\n  y\n  ", "{\"a\":\"x y\"}");
	yields("a: x\n  -y\n  ?z\n  ~\n", "{\"a\":\"x -y ?z ~\"}");
	yields("a: x\n  y", "{\"a\":\"x y\"}");
	yields("a: ~ \nb: null # c\n", "{\"a\":null,\"b\":null}");
	yields("a: x\n  - y\n", "{\"a\":\"x - y\"}");
	yields("- a\n  - b\n", "[\"a - b\"]");
	yields("- a b c\n  d e\n- f\n", "[\"a b c d e\",\"f\"]");
	yields("a:\n- one\n two\n", "{\"a\":[\"one two\"]}");
	yields("- a: one\n   two\n", "[{\"a\":\"one two\"}]");
	yields("a: caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n",
	       "{\"a\":\"caf\\u00e9 \\u20ac \\ud83d\\ude00\"}");
}

static void test_quoted(void **state)
{
	(void)state;
	yields("a: 'it''s'\n", "{\"a\":\"it's\"}");
	yields("a: 'back\\slash'\n", "{\"a\":\"back\\\\slash\"}");
	yields("a: 'one\n  two\n\n  three  '\n", "{\"a\":\"one two\\nthree  \"}");
	yields("a: \"tab\\tnl\\nq\\\"bs\\\\\"\n", "{\"a\":\"tab\\tnl\\nq\\\"bs\\\\\"}");
	yields("a: \"\\a\\b\\v\\f\\r\\e\\ \\N\\_\\L\\P\"\n",
	       "{\"a\":\"\\u0007\\b\\u000b\\f\\r\\u001b \\u0085\\u00a0\\u2028\\u2029\"}");
	yields("a: \"\\x41\\u00e9\\u2018\\U0001F600\"\n",
	       "{\"a\":\"A\\u00e9\\u2018\\ud83d\\ude00\"}");
	yields("a: \"one \\\n  \\ two\\\n  three\"\n", "{\"a\":\"one  twothree\"}");
	yields("a: \"one\\\n\n  two\"\n", "{\"a\":\"one\\ntwo\"}");
	yields("a: \"one\n  two   \n\n\n  three\"\n", "{\"a\":\"one two\\n\\nthree\"}");
	yields("a: \"x\" # c\nb: 'y'\n", "{\"a\":\"x\",\"b\":\"y\"}");
	yields("- \"a\"\n- 'b'\n", "[\"a\",\"b\"]");
	yields("a: \"# not: a comment\"\n", "{\"a\":\"# not: a comment\"}");
	yields("a: \"it's\"\nb: 'say \"hi\"'\n", "{\"a\":\"it's\",\"b\":\"say \\\"hi\\\"\"}");
	yields("details: \"A vulnerability in the MindsDB platform, enabling a maliciously uploaded \\u2018inhouse\\u2019 model\\\n"
	       "  \\ to run arbitrary code.\"\n",
	       "{\"details\":\"A vulnerability in the MindsDB platform, enabling a maliciously "
	       "uploaded \\u2018inhouse\\u2019 model to run arbitrary code.\"}");
}

static void test_block(void **state)
{
	(void)state;
	yields("a: |\n  one\n  two\nb: x\n", "{\"a\":\"one\\ntwo\\n\",\"b\":\"x\"}");
	yields("a: |-\n  one\n  two\n\n\nb: x\n", "{\"a\":\"one\\ntwo\",\"b\":\"x\"}");
	yields("a: |+\n  one\n  two\n\n\nb: x\n", "{\"a\":\"one\\ntwo\\n\\n\\n\",\"b\":\"x\"}");
	yields("a: |\n  one\n\n    indented\n  # not a comment\n",
	       "{\"a\":\"one\\n\\n  indented\\n# not a comment\\n\"}");
	yields("a: |2\n    two more\n  base\n", "{\"a\":\"  two more\\nbase\\n\"}");
	yields("a: |2-\n   x\n", "{\"a\":\" x\"}");
	yields("a: |1+\n  x\n\n", "{\"a\":\" x\\n\\n\"}");
	yields("a: | # c\n  x\n", "{\"a\":\"x\\n\"}");
	yields("a: |\n  x", "{\"a\":\"x\"}");
	yields("a: >\n  one\n  two\n\n  three\n   more\n  four\n",
	       "{\"a\":\"one two\\nthree\\n more\\nfour\\n\"}");
	yields("a: >-\n  one\n  two\n", "{\"a\":\"one two\"}");
	yields("- |\n  x\n- y\n", "[\"x\\n\",\"y\"]");
	yields("a:\n- |\n  x\n  y\n", "{\"a\":[\"x\\ny\\n\"]}");
	yields("a:\n  b: |\n    x\n   \n    y\n", "{\"a\":{\"b\":\"x\\n\\ny\\n\"}}");
	yields("a: |\n\n\n  x\n", "{\"a\":\"\\n\\nx\\n\"}");
	yields("a: |\nb: 1\n", "{\"a\":\"\",\"b\":\"1\"}");
}

static void test_declines(void **state)
{
	(void)state;
	/* Outside the subset: libyaml decides (the same tree or its error). */
	declined_s("a: &x 1\nb: *x\n");
	declined_s("a: !!str 1\n");
	declined_s("a: [1, 2]\n");
	declined_s("a: {b: 1}\n");
	declined_s("a: [ ]\n");
	declined_s("%YAML 1.1\n---\na: 1\n");
	declined_s("a: 1\n---\nb: 2\n");
	declined_s("a: 1\n...\n");
	declined_s("\"a\\tb\": 1\n");
	declined_s("'it''s': 1\n");
	declined_s("\"a\nb\": 1\n");
	declined_s("? a\n: 1\n");
	declined_s("a b: 1\n");
	declined_s("a:\tb\n");
	declined_s("a: b\r\nc: d\r\n");
	declined_s("a: \"\\0\"\n");
	declined_s("a: \"\\/\"\n");
	declined_s("a: \"\\'\"\n");
	declined_s("a: \"\\q\"\n");
	declined_s("a: \"\\ud800\"\n");
	declined_s("a: \"\\x4\"\n");
	declined_s("a: \"unterminated\n");
	declined_s("a: 'unterminated\n");
	declined_s("a: \"x\"y\n");
	declined_s("a: 'x' y\n");
	declined_s("a: b: c\n");
	declined_s("a: x #c\n  y\n");
	declined_s("a: x\n  y: z\n");
	declined_s("a: x\n  : y\n");
	declined_s("- x\n- y: z\n  w\n");
	declined_s("a: - b\n");
	declined_s("a:\n  text on the next line\n");
	declined_s("a: 1\n b: 2\n");
	declined_s("a:\n  b: 1\n c: 2\n");
	declined_s("a:\n  - b\n  c: 1\n");
	declined_s("a: [x\n");
	declined_s("- a\nb: 1\n");
	declined_s("a: 1\n- b\n");
	declined_s("just a scalar\n");
	declined_s("a: |0\n  x\n");
	declined_s("a: |x\n  x\n");
	declined_s("a: \"x\ny\"\n");
	declined_s("a: x\n\xef\xbb\xbf b: y\n");
	declined_s("a: \xc2\x85\n");
	declined_s("a: \xe2\x80\xa8\n");
	declined_s("a: \xff\n");
	declined_s("a: \xc0\xaf\n");
	declined_s("a: \x01\n");
	declined_s("a: x\x7f\n");
	declined_s("");
	declined_s("# only a comment\n");
	declined_s(",a: 1\n");
	declined_s("a: ,b\n");
	declined_s("a: @b\n");
	declined_s("a: `b`\n");
	declined_s("a: %b\n");
	declined_s("a: x\n---\n");
	declined("NUL", "a: b\0c\n", 7);
	/* a key of more than 1,000 characters */
	dd_buf b = DD_BUF_INIT;
	for (int i = 0; i < 1100; i++)
		dd_buf_putc(&b, 'k');
	dd_buf_puts(&b, ": v\n");
	declined("long key", b.data, b.len);
	/* nesting deeper than the fast reader goes */
	dd_buf_reset(&b);
	for (int i = 0; i < 70; i++) {
		for (int j = 0; j < i; j++)
			dd_buf_putc(&b, ' ');
		dd_buf_puts(&b, "k:\n");
	}
	declined("deep", b.data, b.len);
	dd_buf_release(&b);
}

/* Every YAML file of ../shared/feeds: the fast reader accepts it and gives
 * libyaml's tree. */
static size_t n_files;

static void walk(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		struct stat st;
		if (stat(path, &st))
			continue;
		if (S_ISDIR(st.st_mode)) {
			walk(path);
			continue;
		}
		size_t n = strlen(de->d_name);
		if (!((n > 5 && strcmp(de->d_name + n - 5, ".yaml") == 0) ||
		      (n > 4 && strcmp(de->d_name + n - 4, ".yml") == 0)))
			continue;
		FILE *f = fopen(path, "rb");
		assert_non_null(f);
		dd_buf b = DD_BUF_INIT;
		char chunk[65536];
		size_t got;
		while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
			dd_buf_append(&b, chunk, got);
		fclose(f);
		assert_false(b.failed);
		/* as the importer does: past a BOM and leading white space */
		size_t off = 0;
		if (b.len >= 3 && memcmp(b.data, "\xef\xbb\xbf", 3) == 0)
			off = 3;
		while (off < b.len && strchr(" \t\r\n", b.data[off]))
			off++;
		same_tree(path, b.data + off, b.len - off);
		dd_buf_release(&b);
		n_files++;
	}
	closedir(d);
}

static void test_shared_feeds(void **state)
{
	(void)state;
	const char *root = getenv("DD_SHARED");
	char feeds[4096];
	snprintf(feeds, sizeof(feeds), "%s/feeds", root && *root ? root : "../shared");
	struct stat st;
	if (stat(feeds, &st) != 0) {
		printf("# SKIP shared feeds: %s not present\n", feeds);
		skip();
	}
	walk(feeds);
	printf("# %zu YAML files of %s: the same tree from both readers\n", n_files, feeds);
	assert_true(n_files >= 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_structure),     cmocka_unit_test(test_scalar_types),
		cmocka_unit_test(test_plain),         cmocka_unit_test(test_quoted),
		cmocka_unit_test(test_block),         cmocka_unit_test(test_declines),
		cmocka_unit_test(test_shared_feeds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
