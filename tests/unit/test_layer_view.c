/* Unit tests for src/layer: whiteouts and the squashed view across layers
 * walked in any order, symlink resolution, and the rootfs directory walk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layer_helpers.h"
#include "layer/walker.h"

static const struct tent L0[] = {
	{ "etc/", T_DIR, NULL, 0 },
	{ "etc/a", T_FILE, "a0", 0 },
	{ "etc/b", T_FILE, "b0", 0 },
	{ "opt/x/", T_DIR, NULL, 0 },
	{ "opt/x/1", T_FILE, "1", 0 },
	{ "opt/x/sub/2", T_FILE, "2", 0 },
	{ "usr/dir/sub/file", T_FILE, "f", 0 },
	{ "var/keep", T_FILE, "k", 0 },
	{ "var/gone/deep/file", T_FILE, "g", 0 },
	{ "lnk", T_SYMLINK, "var", 0 },
	{ "dup", T_FILE, "first", 0 },
	{ "dup", T_FILE, "second!", 0 },
};
static const struct tent L1[] = {
	{ "etc/.wh.a", T_FILE, "", 0 },
	{ "etc/c", T_FILE, "c1", 0 },
	{ "opt/x/", T_DIR, NULL, 0 },
	{ "opt/x/.wh..wh..opq", T_FILE, "", 0 },
	{ "opt/x/3", T_FILE, "3", 0 },
	{ "usr/dir", T_FILE, "now a file", 0 },
	{ "var/.wh.gone", T_FILE, "", 0 },
	{ ".wh..wh.plnk", T_DIR, NULL, 0 },
	{ "lnk/", T_DIR, NULL, 0 },
};
static const struct tent L2[] = {
	{ "etc/a", T_FILE, "a2", 0 },
	{ "etc/.wh.c", T_FILE, "", 0 },
	{ "etc/.wh.never-existed", T_FILE, "", 0 },
	{ "opt/x/.wh.3", T_FILE, "", 0 },
	{ "opt/x/4", T_FILE, "4", 0 },
};

static const char *expect_paths[] = { "dup", "etc", "etc/a", "etc/b", "lnk", "opt/x", "opt/x/4",
				      "usr/dir", "var/keep" };

static int count_whiteouts(void *ctx, const dd_file *f, dd_error *err)
{
	(void)err;
	if (strstr(f->path, ".wh."))
		(*(int *)ctx) += 1000;
	(*(int *)ctx)++;
	return 0;
}

static void test_whiteouts_any_order(void **state)
{
	(void)state;
	dd_buf b[3] = { DD_BUF_INIT, DD_BUF_INIT, DD_BUF_INIT };
	const int orders[][3] = { { 0, 1, 2 }, { 2, 0, 1 }, { 1, 2, 0 }, { 2, 1, 0 } };
	mk_tar(&b[0], L0, sizeof(L0) / sizeof(L0[0]), F_GZIP);
	mk_tar(&b[1], L1, sizeof(L1) / sizeof(L1[0]), F_ZSTD);
	mk_tar(&b[2], L2, sizeof(L2) / sizeof(L2[0]), F_NONE);
	for (size_t o = 0; o < 4; o++) {
		dd_walker *w;
		dd_error e = DD_ERROR_INIT;
		int delivered = 0;
		assert_int_equal(dd_walker_new(&w, NULL, &e), 0);
		assert_int_equal(dd_walker_want(w, "**", count_whiteouts, &delivered, &e), 0);
		assert_int_equal(dd_walker_want(w, "*/*", count_whiteouts, &delivered, &e), 0);
		assert_int_equal(dd_walker_want(w, "*/*/*", count_whiteouts, &delivered, &e), 0);
		for (int k = 0; k < 3; k++) {
			int i = orders[o][k];
			dd_mem_reader mr;
			dd_reader r;
			dd_reader_from_mem(&r, &mr, b[i].data, b[i].len);
			if (dd_walker_layer(w, i, &r, NULL, NULL, NULL, NULL, &e))
				fail_msg("%s", e.msg);
		}
		assert_true(delivered > 0 && delivered < 1000); /* whiteouts never delivered */
		assert_int_equal(dd_walker_finish(w, &e), 0);
		size_t n = dd_walker_count(w);
		for (size_t i = 0; i < n; i++)
			if (i >= sizeof(expect_paths) / sizeof(expect_paths[0]) ||
			    strcmp(dd_walker_entry(w, i)->path, expect_paths[i]) != 0)
				fail_msg("order %zu: entry %zu is '%s'", o, i, dd_walker_entry(w, i)->path);
		assert_int_equal(n, sizeof(expect_paths) / sizeof(expect_paths[0]));
		assert_int_equal(dd_walker_lookup(w, "etc/a")->layer, 2);
		assert_int_equal(dd_walker_lookup(w, "etc/b")->layer, 0);
		assert_int_equal(dd_walker_lookup(w, "opt/x")->layer, 1);
		assert_int_equal(dd_walker_lookup(w, "dup")->size, 7); /* the later entry wins */
		assert_int_equal(dd_walker_lookup(w, "usr/dir")->type, DD_FT_REG);
		assert_int_equal(dd_walker_lookup(w, "lnk")->type, DD_FT_DIR);
		assert_null(dd_walker_lookup(w, "etc/c"));
		assert_null(dd_walker_lookup(w, "etc/.wh.c"));
		assert_null(dd_walker_lookup(w, "opt/x/1"));
		assert_null(dd_walker_lookup(w, "opt/x/sub/2"));
		assert_null(dd_walker_lookup(w, "opt/x/3"));
		assert_null(dd_walker_lookup(w, "usr/dir/sub/file"));
		assert_null(dd_walker_lookup(w, "var/gone/deep/file"));
		dd_walker_free(w);
	}
	for (int i = 0; i < 3; i++)
		dd_buf_release(&b[i]);
}

static void test_opaque_root_and_resolve(void **state)
{
	(void)state;
	dd_buf b = DD_BUF_INIT;
	dd_walker *w;
	dd_error e = DD_ERROR_INIT;
	const struct tent t0[] = { { "old", T_FILE, "x", 0 } };
	const struct tent t1[] = {
		{ ".wh..wh..opq", T_FILE, "", 0 },
		{ "usr/bin/dash", T_FILE, "ELF", 0 },
		{ "usr/bin/sh", T_SYMLINK, "dash", 0 },
		{ "bin", T_SYMLINK, "usr/bin", 0 },
		{ "etc/real", T_FILE, "r", 0 },
		{ "etc/alt", T_SYMLINK, "/etc/real", 0 },
		{ "escape", T_SYMLINK, "../../../../etc/real", 0 },
		{ "abs-escape", T_SYMLINK, "/../../etc/./real", 0 },
		{ "loop1", T_SYMLINK, "loop2", 0 },
		{ "loop2", T_SYMLINK, "/loop1", 0 },
		{ "lib", T_SYMLINK, "usr/bin/..", 0 },
		{ "dangling", T_SYMLINK, "nowhere", 0 },
		{ "file-as-dir", T_SYMLINK, "etc/real/x", 0 },
	};
	assert_int_equal(dd_walker_new(&w, NULL, &e), 0);
	mk_tar(&b, t1, sizeof(t1) / sizeof(t1[0]), F_NONE);
	{
		dd_mem_reader mr;
		dd_reader r;
		dd_reader_from_mem(&r, &mr, b.data, b.len);
		assert_int_equal(dd_walker_layer(w, 1, &r, NULL, NULL, NULL, NULL, &e), 0);
		mk_tar(&b, t0, 1, F_NONE);
		dd_reader_from_mem(&r, &mr, b.data, b.len);
		assert_int_equal(dd_walker_layer(w, 0, &r, NULL, NULL, NULL, NULL, &e), 0);
	}
	assert_null(dd_walker_lookup(w, "usr/bin/dash")); /* not finished yet */
	assert_int_equal(dd_walker_finish(w, &e), 0);
	assert_null(dd_walker_lookup(w, "old"));
	assert_string_equal(dd_walker_resolve(w, "bin/sh")->path, "usr/bin/dash");
	assert_string_equal(dd_walker_resolve(w, "/bin/../bin/sh")->path, "usr/bin/dash");
	assert_string_equal(dd_walker_lookup(w, "bin/sh") ? "found" : "none", "none");
	assert_string_equal(dd_walker_resolve(w, "etc/alt")->path, "etc/real");
	assert_string_equal(dd_walker_resolve(w, "escape")->path, "etc/real");
	assert_string_equal(dd_walker_resolve(w, "abs-escape")->path, "etc/real");
	assert_string_equal(dd_walker_resolve(w, "../../etc/real")->path, "etc/real");
	assert_string_equal(dd_walker_resolve(w, "lib/bin/dash")->path, "usr/bin/dash");
	assert_string_equal(dd_walker_resolve(w, "usr/bin/dash")->path, "usr/bin/dash");
	assert_null(dd_walker_resolve(w, "loop1"));
	assert_null(dd_walker_resolve(w, "dangling"));
	assert_null(dd_walker_resolve(w, "file-as-dir"));
	assert_null(dd_walker_resolve(w, "/"));
	assert_int_equal(dd_walker_lookup(w, "escape")->type, DD_FT_SYMLINK);
	dd_walker_free(w);
	dd_buf_release(&b);
}

static int slurp_into(void *ctx, const dd_file *f, dd_error *err)
{
	dd_buf *out = ctx;
	dd_buf tmp = DD_BUF_INIT;
	int rc = dd_file_slurp_all(f, &tmp, err);
	if (!rc) {
		dd_buf_printf(out, "[%s:%d:%s:%s]", f->path, f->type, f->link ? f->link : "", dd_buf_cstr(&tmp));
	}
	dd_buf_release(&tmp);
	return rc;
}

static void put(const char *dir, const char *name, const char *content)
{
	char p[512];
	FILE *fp;
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fp = fopen(p, "w");
	assert_non_null(fp);
	fputs(content, fp);
	fclose(fp);
}

static void test_rootfs_dir(void **state)
{
	(void)state;
	char root[] = "/tmp/dd-layer-test.XXXXXX", p[600];
	dd_walker *w;
	dd_error e = DD_ERROR_INIT;
	dd_buf got = DD_BUF_INIT;
	dd_layer_stats st;

	assert_non_null(mkdtemp(root));
	snprintf(p, sizeof(p), "%s/etc", root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/usr", root);
	assert_int_equal(mkdir(p, 0755), 0);
	put(root, "etc/os-release", "ID=alpine\n");
	put(root, "usr/other", "other\n");
	snprintf(p, sizeof(p), "%s/etc/passwd", root);
	assert_int_equal(symlink("/etc/passwd", p), 0); /* must not be followed */
	snprintf(p, sizeof(p), "%s/outside", root);
	assert_int_equal(symlink("/etc", p), 0);         /* a symlinked dir: not entered */
	snprintf(p, sizeof(p), "%s/fifo", root);
	assert_int_equal(mkfifo(p, 0600), 0);

	assert_int_equal(dd_walker_new(&w, NULL, &e), 0);
	assert_int_equal(dd_walker_want(w, "etc/*", slurp_into, &got, &e), 0);
	assert_int_equal(dd_walker_want(w, "outside/*", slurp_into, &got, &e), 0);
	assert_int_equal(dd_walker_want(w, "fifo", slurp_into, &got, &e), 0);
	if (dd_walker_dir(w, 0, root, &st, &e))
		fail_msg("%s", e.msg);
	assert_string_equal(dd_buf_cstr(&got), "[etc/os-release:0::ID=alpine\n][etc/passwd:2:/etc/passwd:]");
	assert_int_equal(st.entries, 7);
	assert_int_equal(st.uncompressed_bytes, 16);
	assert_int_equal(dd_walker_finish(w, &e), 0);
	assert_int_equal(dd_walker_count(w), 7);
	assert_int_equal(dd_walker_lookup(w, "fifo")->type, DD_FT_FIFO);
	assert_int_equal(dd_walker_lookup(w, "outside")->type, DD_FT_SYMLINK);
	assert_null(dd_walker_lookup(w, "outside/passwd"));
	assert_null(dd_walker_resolve(w, "etc/passwd")); /* resolves inside the root: itself */
	assert_string_equal(dd_walker_resolve(w, "outside/os-release")->path, "etc/os-release");
	dd_walker_free(w);

	/* limits apply */
	dd_limits l;
	dd_limits_default(&l);
	l.max_entries = 2;
	assert_int_equal(dd_walker_new(&w, &l, &e), 0);
	assert_int_equal(dd_walker_dir(w, 0, root, NULL, &e), DD_EINPUT);
	assert_non_null(strstr(e.msg, "--max-entries"));
	assert_non_null(strstr(e.msg, "layer 0 (rootfs "));
	assert_int_equal(dd_walker_dir(w, 0, "/nonexistent/dir", NULL, &e), DD_EINPUT);
	dd_walker_free(w);

	snprintf(p, sizeof(p), "rm -rf '%s'", root);
	assert_int_equal(system(p), 0);
	dd_buf_release(&got);
}

/* Many entries: metadata only, and the view stays consistent. */
static void test_many_entries(void **state)
{
	(void)state;
	enum { N = 20000 };
	struct tent *t = calloc(N, sizeof(*t));
	char (*names)[32] = calloc(N, 32);
	dd_buf b = DD_BUF_INIT;
	dd_walker *w;
	dd_error e = DD_ERROR_INIT;
	for (int i = 0; i < N; i++) {
		snprintf(names[i], 32, "d%03d/f%05d", i % 500, i);
		t[i] = (struct tent){ names[i], T_FILE, "z", 0 };
	}
	mk_tar(&b, t, N, F_GZIP);
	assert_int_equal(dd_walker_new(&w, NULL, &e), 0);
	{
		dd_mem_reader mr;
		dd_reader r;
		dd_reader_from_mem(&r, &mr, b.data, b.len);
		assert_int_equal(dd_walker_layer(w, 0, &r, NULL, NULL, NULL, NULL, &e), 0);
	}
	assert_int_equal(dd_walker_finish(w, &e), 0);
	assert_int_equal(dd_walker_count(w), N);
	for (size_t i = 1; i < N; i++)
		assert_true(strcmp(dd_walker_entry(w, i - 1)->path, dd_walker_entry(w, i)->path) < 0);
	assert_non_null(dd_walker_lookup(w, "d123/f00123"));
	dd_walker_free(w);
	dd_buf_release(&b);
	free(t);
	free(names);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whiteouts_any_order),
		cmocka_unit_test(test_opaque_root_and_resolve),
		cmocka_unit_test(test_rootfs_dir),
		cmocka_unit_test(test_many_entries),
	};
	return cmocka_run_group_tests_name("layer_view", tests, NULL, NULL);
}
