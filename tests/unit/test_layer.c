/* Unit tests for src/layer: decompression, digests, tar safety, limits,
 * wants.  Layers are built in memory with libarchive's write API. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layer_helpers.h"
#include "layer/walker.h"
#include "util/digest.h"

/* ---- helpers ---- */

struct got {
	int calls;
	char paths[16][128];
	int types[16];
	int layers[16];
	char content[16][64];
	dd_digest diff[16];
	int read_limit; /* bytes to read per call, 0: slurp */
	int fail;
};

static int collect(void *ctx, const dd_file *f, dd_error *err)
{
	struct got *g = ctx;
	int i = g->calls < 16 ? g->calls : 15;
	g->calls++;
	snprintf(g->paths[i], sizeof(g->paths[i]), "%s", f->path);
	g->types[i] = f->type;
	g->layers[i] = f->layer;
	g->diff[i] = *f->diff_id;
	if (g->fail)
		return dd_error_set(err, DD_EINPUT, "boom");
	if (g->read_limit) {
		char b[64];
		ssize_t n = dd_file_read(f, b, (size_t)g->read_limit, err);
		if (n < 0)
			return (int)n;
		snprintf(g->content[i], sizeof(g->content[i]), "%.*s", (int)n, b);
	} else {
		dd_buf b = DD_BUF_INIT;
		int rc = dd_file_slurp_all(f, &b, err);
		if (rc) {
			dd_buf_release(&b);
			return rc;
		}
		snprintf(g->content[i], sizeof(g->content[i]), "%s", dd_buf_cstr(&b));
		dd_buf_release(&b);
	}
	return 0;
}

/* Walk one blob as layer `index` with default limits (or l). */
static int walk1(dd_walker *w, int index, const dd_buf *blob, const dd_digest *dg,
		 const dd_digest *diff, dd_layer_stats *st, dd_error *e)
{
	dd_mem_reader mr;
	dd_reader r;
	dd_reader_from_mem(&r, &mr, blob->data, blob->len);
	return dd_walker_layer(w, index, &r, dg, diff, NULL, st, e);
}

/* Walk a single blob in a fresh walker, expect failure, return the message. */
static int walk_err(const dd_buf *blob, const dd_limits *l, const dd_digest *dg,
		    const dd_digest *diff, char *msg, size_t cap)
{
	dd_walker *w;
	dd_error e = DD_ERROR_INIT;
	struct got g = { 0 };
	int rc;
	assert_int_equal(dd_walker_new(&w, l, &e), 0);
	assert_int_equal(dd_walker_want(w, "*", collect, &g, &e), 0);
	rc = walk1(w, 1, blob, dg, diff, NULL, &e);
	snprintf(msg, cap, "%s", e.msg);
	dd_walker_free(w);
	return rc;
}

#define EXPECT_ERR(blob, l, dg, diff, needle)                                            \
	do {                                                                             \
		char m_[DD_ERROR_MSG_MAX];                                               \
		assert_int_equal(walk_err((blob), (l), (dg), (diff), m_, sizeof(m_)), DD_EINPUT); \
		if (!strstr(m_, (needle)))                                               \
			fail_msg("message '%s' lacks '%s'", m_, (needle));               \
		if (strncmp(m_, "layer 1", 7) != 0)                                     \
			fail_msg("message '%s' does not name the layer", m_);             \
	} while (0)

static const struct tent basic[] = {
	{ "etc/", T_DIR, NULL, 0 },
	{ "etc/os-release", T_FILE, "ID=debian\n", 0 },
	{ "./usr//bin/./tool", T_FILE, "#!/bin/sh\n", 0 },
	{ "/abs/file", T_FILE, "abs", 0 },
	{ "bin", T_SYMLINK, "usr/bin", 0 },
	{ "usr/bin/tool2", T_HARDLINK, "usr/bin/tool", 0 },
	{ "dev/null", T_CHAR, NULL, 0 },
	{ "run/fifo", T_FIFO, NULL, 0 },
};
#define NBASIC (sizeof(basic) / sizeof(basic[0]))

/* ---- tests ---- */

static void test_plain_gzip_zstd_digests(void **state)
{
	(void)state;
	dd_buf tar = DD_BUF_INIT, blob = DD_BUF_INIT;
	dd_digest want_diff, want_dg;
	dd_error e = DD_ERROR_INIT;
	mk_tar(&tar, basic, NBASIC, F_NONE);
	assert_int_equal(dd_digest_of(&want_diff, tar.data, tar.len, &e), 0);
	for (int f = F_NONE; f <= F_ZSTD; f++) {
		dd_walker *w;
		dd_layer_stats st;
		mk_tar(&blob, basic, NBASIC, f);
		assert_int_equal(dd_digest_of(&want_dg, blob.data, blob.len, &e), 0);
		assert_int_equal(dd_walker_new(&w, NULL, &e), 0);
		assert_int_equal(walk1(w, 0, &blob, &want_dg, &want_diff, &st, &e), 0);
		assert_int_equal(st.compression, f == F_NONE ? DD_COMP_NONE : f == F_GZIP ? DD_COMP_GZIP : DD_COMP_ZSTD);
		assert_string_equal(st.digest.s, want_dg.s);
		assert_string_equal(st.diff_id.s, want_diff.s);
		assert_int_equal(st.compressed_bytes, blob.len);
		assert_int_equal(st.uncompressed_bytes, tar.len);
		assert_int_equal(st.entries, NBASIC);
		assert_int_equal(dd_walker_finish(w, &e), 0);
		assert_int_equal(dd_walker_count(w), NBASIC);
		assert_string_equal(dd_walker_entry(w, 0)->path, "abs/file");
		assert_non_null(dd_walker_lookup(w, "/usr/bin/tool"));
		assert_non_null(dd_walker_lookup(w, "abs/file"));
		assert_int_equal(dd_walker_lookup(w, "dev/null")->type, DD_FT_CHAR);
		assert_int_equal(dd_walker_lookup(w, "run/fifo")->type, DD_FT_FIFO);
		assert_string_equal(dd_walker_lookup(w, "usr/bin/tool2")->link, "usr/bin/tool");
		assert_int_equal(dd_walker_lookup(w, "etc/os-release")->size, 10);
		dd_walker_free(w);
	}
	dd_buf_release(&tar);
	dd_buf_release(&blob);
}

static void test_wants(void **state)
{
	(void)state;
	dd_buf blob = DD_BUF_INIT;
	dd_walker *w;
	dd_error e = DD_ERROR_INIT;
	dd_digest diff;
	struct got all = { 0 }, one = { 0 }, two = { 0 }, part = { .read_limit = 3 };
	mk_tar(&blob, basic, NBASIC, F_GZIP);
	assert_int_equal(dd_digest_parse(&diff, "sha256:0000000000000000000000000000000000000000000000000000000000000000", "x", &e), 0);
	assert_int_equal(dd_walker_new(&w, NULL, &e), 0);
	assert_int_equal(dd_walker_want(w, "*/*/*", collect, &all, &e), 0);
	assert_int_equal(dd_walker_want(w, "etc/os-release", collect, &one, &e), 0);
	assert_int_equal(dd_walker_want(w, "/etc/os-release", collect, &two, &e), 0);
	assert_int_equal(dd_walker_want(w, "usr/bin/tool", collect, &part, &e), 0);
	/* the diff_id is wrong: delivery happens, the walk then fails */
	assert_int_equal(walk1(w, 3, &blob, NULL, &diff, NULL, &e), DD_EINPUT);
	assert_non_null(strstr(e.msg, "diff_id sha256:0000"));
	assert_int_equal(one.calls, 1);
	assert_int_equal(two.calls, 1);
	assert_string_equal(one.content[0], "ID=debian\n");
	assert_string_equal(two.content[0], "ID=debian\n"); /* both consumers got it all */
	assert_int_equal(one.layers[0], 3);
	assert_string_equal(one.diff[0].s, diff.s);
	assert_int_equal(part.calls, 1);
	assert_string_equal(part.content[0], "#!/");
	/* FNM_PATHNAME: only three-component paths; devices never delivered */
	assert_int_equal(all.calls, 2);
	assert_string_equal(all.paths[0], "usr/bin/tool");
	assert_string_equal(all.paths[1], "usr/bin/tool2");
	assert_int_equal(all.types[1], DD_FT_HARDLINK);
	dd_walker_free(w);

	struct got star = { 0 };
	assert_int_equal(dd_walker_new(&w, NULL, &e), 0);
	assert_int_equal(dd_walker_want(w, "*", collect, &star, &e), 0);
	assert_int_equal(dd_walker_want(w, "dev/null", collect, &star, &e), 0);
	assert_int_equal(walk1(w, 0, &blob, NULL, NULL, NULL, &e), 0);
	assert_int_equal(star.calls, 1); /* "bin" only: not dev/null, not dirs */
	assert_string_equal(star.paths[0], "bin");
	assert_int_equal(star.types[0], DD_FT_SYMLINK);
	assert_string_equal(star.content[0], "");
	dd_walker_free(w);

	struct got pre = { 0 };
	assert_int_equal(dd_walker_new(&w, NULL, &e), 0);
	assert_int_equal(dd_walker_want(w, "usr/bin/t*l", collect, &pre, &e), 0);
	assert_int_equal(dd_walker_want(w, "usr/b[i]n/tool?", collect, &pre, &e), 0);
	assert_int_equal(walk1(w, 0, &blob, NULL, NULL, NULL, &e), 0);
	assert_int_equal(pre.calls, 2);
	assert_string_equal(pre.paths[0], "usr/bin/tool");
	assert_string_equal(pre.paths[1], "usr/bin/tool2");
	dd_walker_free(w);
	dd_buf_release(&blob);
}

static void test_callback_error(void **state)
{
	(void)state;
	dd_buf blob = DD_BUF_INIT;
	dd_walker *w;
	dd_error e = DD_ERROR_INIT;
	dd_mem_reader mr;
	dd_reader r;
	struct got g = { .fail = 1 };
	mk_tar(&blob, basic, NBASIC, F_ZSTD);
	assert_int_equal(dd_walker_new(&w, NULL, &e), 0);
	assert_int_equal(dd_walker_want(w, "etc/os-release", collect, &g, &e), 0);
	dd_reader_from_mem(&r, &mr, blob.data, blob.len);
	assert_int_equal(dd_walker_layer(w, 2, &r, NULL, NULL, "sha256:abcd", NULL, &e), DD_EINPUT);
	assert_string_equal(e.msg, "layer 2 (sha256:abcd): entry 'etc/os-release': boom");
	/* a failed layer can be walked again */
	g.fail = 0;
	dd_reader_from_mem(&r, &mr, blob.data, blob.len);
	assert_int_equal(dd_walker_layer(w, 2, &r, NULL, NULL, "sha256:abcd", NULL, &e), 0);
	dd_reader_from_mem(&r, &mr, blob.data, blob.len);
	assert_int_equal(dd_walker_layer(w, 2, &r, NULL, NULL, NULL, NULL, &e), DD_EINTERNAL);
	/* a name that starts with "layer " is the whole label */
	g.fail = 1;
	dd_reader_from_mem(&r, &mr, blob.data, blob.len);
	assert_int_equal(dd_walker_layer(w, 5, &r, NULL, NULL, "layer 5 sha256:0123 (blob)", NULL, &e), DD_EINPUT);
	assert_string_equal(e.msg, "layer 5 sha256:0123 (blob): entry 'etc/os-release': boom");
	dd_walker_free(w);
	dd_buf_release(&blob);
}

static void test_traversal_and_names(void **state)
{
	(void)state;
	dd_buf blob = DD_BUF_INIT;
	char longname[5000];
	const struct tent t1[] = { { "ok", T_FILE, "x", 0 }, { "../../etc/passwd", T_FILE, "x", 0 } };
	const struct tent t2[] = { { "a/b/../../../c", T_FILE, "x", 0 } };
	const struct tent t3[] = { { "a", T_FILE, "x", 0 }, { "b", T_HARDLINK, "../a", 0 } };
	const struct tent t4[] = { { "b", T_HARDLINK, "a", 0 }, { "a", T_FILE, "x", 0 } };
	const struct tent t5[] = { { "d/", T_DIR, NULL, 0 }, { "b", T_HARDLINK, "d", 0 } };
	const struct tent t6[] = { { longname, T_FILE, "x", 0 } };
	const struct tent t7[] = { { "etc/.wh.", T_FILE, "", 0 } };

	mk_tar(&blob, t1, 2, F_NONE);
	EXPECT_ERR(&blob, NULL, NULL, NULL, "entry '../../etc/passwd': path traversal");
	mk_tar(&blob, t2, 1, F_GZIP);
	EXPECT_ERR(&blob, NULL, NULL, NULL, "path traversal");
	mk_tar(&blob, t3, 2, F_NONE);
	EXPECT_ERR(&blob, NULL, NULL, NULL, "hardlink target '../a': path traversal");
	mk_tar(&blob, t4, 2, F_NONE);
	EXPECT_ERR(&blob, NULL, NULL, NULL, "not an earlier entry of this layer");
	mk_tar(&blob, t5, 2, F_NONE);
	EXPECT_ERR(&blob, NULL, NULL, NULL, "hardlink to directory");
	memset(longname, 'n', sizeof(longname) - 1);
	for (size_t i = 100; i < sizeof(longname) - 1; i += 100)
		longname[i] = '/';
	longname[sizeof(longname) - 1] = '\0';
	mk_tar(&blob, t6, 1, F_ZSTD);
	EXPECT_ERR(&blob, NULL, NULL, NULL, "PATH_MAX");
	mk_tar(&blob, t7, 1, F_NONE);
	EXPECT_ERR(&blob, NULL, NULL, NULL, "invalid whiteout");
	dd_buf_release(&blob);
}

static void test_non_ascii_and_root_entries(void **state)
{
	(void)state;
	dd_buf blob = DD_BUF_INIT;
	dd_walker *w;
	dd_error e = DD_ERROR_INIT;
	const struct tent t[] = { { "./", T_DIR, NULL, 0 }, { "usr/share/caf\xc3\xa9.txt", T_FILE, "x", 0 },
				  { "lat\xe9", T_FILE, "y", 0 } };
	mk_tar(&blob, t, 3, F_NONE);
	assert_int_equal(dd_walker_new(&w, NULL, &e), 0);
	assert_int_equal(walk1(w, 0, &blob, NULL, NULL, NULL, &e), 0);
	assert_int_equal(dd_walker_finish(w, &e), 0);
	assert_int_equal(dd_walker_count(w), 2);
	assert_non_null(dd_walker_lookup(w, "usr/share/caf\xc3\xa9.txt"));
	dd_walker_free(w);
	dd_buf_release(&blob);
}

static void test_truncation_and_corruption(void **state)
{
	(void)state;
	dd_buf tar = DD_BUF_INIT, blob = DD_BUF_INIT;
	const struct tent t[] = { { "a", T_FILE, "hello", 0 }, { "big", T_FILE, NULL, 300000 } };
	mk_tar(&tar, t, 2, F_NONE);
	/* declared size larger than the data */
	dd_buf cut = DD_BUF_INIT;
	dd_buf_append(&cut, tar.data, 3000);
	EXPECT_ERR(&cut, NULL, NULL, NULL, "entry 'big': truncated");
	dd_buf_reset(&blob);
	gz_member(&blob, cut.data, cut.len);
	EXPECT_ERR(&blob, NULL, NULL, NULL, "entry 'big': truncated");

	/* truncated gzip: both inflaters */
	dd_buf_reset(&blob);
	gz_member(&blob, tar.data, tar.len);
	size_t full = blob.len;
	blob.len = full - 20;
	EXPECT_ERR(&blob, NULL, NULL, NULL, "truncated gzip stream at compressed byte");
	setenv("DRYDOCK_INFLATE", "zlib", 1);
	EXPECT_ERR(&blob, NULL, NULL, NULL, "truncated gzip stream at compressed byte");
	unsetenv("DRYDOCK_INFLATE");
	/* corrupt CRC (trailer bytes full-8..full-5) */
	blob.len = full;
	blob.data[full - 7] ^= 0x55;
	EXPECT_ERR(&blob, NULL, NULL, NULL, "CRC mismatch");
	setenv("DRYDOCK_INFLATE", "zlib", 1);
	EXPECT_ERR(&blob, NULL, NULL, NULL, "corrupt gzip data");
	unsetenv("DRYDOCK_INFLATE");
	blob.data[full - 7] ^= 0x55;
	/* corrupt deflate data in the middle */
	blob.data[full / 2] ^= 0xff;
	blob.data[full / 2 + 1] ^= 0xff;
	EXPECT_ERR(&blob, NULL, NULL, NULL, "gzip");
	/* trailing garbage after the member */
	blob.data[full / 2] ^= 0xff;
	blob.data[full / 2 + 1] ^= 0xff;
	dd_buf_puts(&blob, "garbage!");
	EXPECT_ERR(&blob, NULL, NULL, NULL, "corrupt gzip data");

	/* fuzz finding: ISA-L reports garbage avail_in along with this error */
	static const unsigned char bad_lookback[] = {
		0x1f, 0x8b, 0x08, 0x00, 0xea, 0x29, 0x0b, 0x6b, 0x02, 0x7f, 0x72, 0x57, 0xd9, 0x8d, 0xde,
		0xaf, 0xea, 0xfc, 0xe7, 0xc7, 0x0f, 0x78, 0xfe, 0x6b, 0x1e, 0x00, 0x28, 0x00, 0x00 };
	dd_buf_reset(&blob);
	dd_buf_append(&blob, bad_lookback, sizeof(bad_lookback));
	EXPECT_ERR(&blob, NULL, NULL, NULL, "corrupt gzip data at compressed byte");
	setenv("DRYDOCK_INFLATE", "zlib", 1);
	EXPECT_ERR(&blob, NULL, NULL, NULL, "corrupt gzip data at compressed byte");
	unsetenv("DRYDOCK_INFLATE");

	/* truncated zstd */
	dd_buf_reset(&blob);
	zstd_frame(&blob, tar.data, tar.len);
	blob.len -= 10;
	EXPECT_ERR(&blob, NULL, NULL, NULL, "truncated zstd stream");
	blob.len = 100;
	EXPECT_ERR(&blob, NULL, NULL, NULL, "zstd");
	dd_buf_release(&cut);
	dd_buf_release(&tar);
	dd_buf_release(&blob);
}

static ssize_t failing_read(void *ctx, void *buf, size_t n, dd_error *err)
{
	int *calls = ctx;
	if (++*calls > 2)
		return dd_error_set(err, DD_EENV, "blob.tar: read: Input/output error");
	memset(buf, 0, n < 1000 ? n : 1000);
	return n < 1000 ? (ssize_t)n : 1000;
}

static void test_empty_tar_and_reader_error(void **state)
{
	(void)state;
	dd_buf blob = DD_BUF_INIT;
	char zeros[1024] = { 0 };
	dd_walker *w;
	dd_error e = DD_ERROR_INIT;
	dd_layer_stats st;
	int calls = 0;
	dd_reader bad = { failing_read, &calls };
	gz_member(&blob, zeros, sizeof(zeros));
	assert_int_equal(dd_walker_new(&w, NULL, &e), 0);
	assert_int_equal(walk1(w, 0, &blob, NULL, NULL, &st, &e), 0);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.uncompressed_bytes, 1024);
	assert_int_equal(dd_walker_layer(w, 1, &bad, NULL, NULL, NULL, NULL, &e), DD_EENV);
	assert_string_equal(e.msg, "layer 1: blob.tar: read: Input/output error");
	assert_int_equal(dd_walker_finish(w, &e), 0);
	assert_int_equal(dd_walker_count(w), 0);
	dd_walker_free(w);
	dd_buf_release(&blob);
}

static void test_not_a_tar(void **state)
{
	(void)state;
	dd_buf blob = DD_BUF_INIT;
	dd_buf_puts(&blob, "BZh91AY&SY and so on");
	EXPECT_ERR(&blob, NULL, NULL, NULL, "unsupported layer compression (bzip2)");
	dd_buf_reset(&blob);
	dd_buf_append(&blob, "\xfd" "7zXZ\0\0\0\0", 10);
	EXPECT_ERR(&blob, NULL, NULL, NULL, "unsupported layer compression (xz)");
	dd_buf_reset(&blob);
	for (int i = 0; i < 100; i++)
		dd_buf_puts(&blob, "this is not a tar archive ");
	EXPECT_ERR(&blob, NULL, NULL, NULL, "not a tar archive");
	dd_buf_reset(&blob);
	EXPECT_ERR(&blob, NULL, NULL, NULL, "empty layer blob");
	/* gzip of something that is not a tar */
	dd_buf junk = DD_BUF_INIT;
	for (int i = 0; i < 100; i++)
		dd_buf_puts(&junk, "not a tar ");
	gz_member(&blob, junk.data, junk.len);
	EXPECT_ERR(&blob, NULL, NULL, NULL, "not a tar archive");
	dd_buf_release(&junk);
	dd_buf_release(&blob);
}

static void test_limits(void **state)
{
	(void)state;
	dd_buf blob = DD_BUF_INIT;
	dd_limits l;
	const struct tent t[] = { { "a", T_FILE, "x", 0 }, { "b", T_FILE, "x", 0 }, { "c", T_FILE, "x", 0 },
				  { "big", T_FILE, NULL, 2000000 } };
	mk_tar(&blob, t, 4, F_GZIP);
	dd_limits_default(&l);
	l.max_entries = 3;
	EXPECT_ERR(&blob, &l, NULL, NULL, "exceeds --max-entries (limit 3)");
	dd_limits_default(&l);
	l.max_file_bytes = 1000000;
	EXPECT_ERR(&blob, &l, NULL, NULL, "entry 'big': size 2000000 exceeds --max-file-size (limit 1000000 bytes)");
	dd_limits_default(&l);
	l.max_total_bytes = 1000000;
	EXPECT_ERR(&blob, &l, NULL, NULL, "exceeds --max-image-size (limit 1000000 bytes)");
	dd_limits_default(&l);
	l.max_read_bytes = 1000;
	EXPECT_ERR(&blob, &l, NULL, NULL, "entry 'big': 'big' is 2000000 bytes, more than the read limit of 1000 bytes");

	/* the total counts across layers */
	dd_walker *w;
	dd_error e = DD_ERROR_INIT;
	dd_limits_default(&l);
	l.max_total_bytes = 3000000;
	assert_int_equal(dd_walker_new(&w, &l, &e), 0);
	assert_int_equal(walk1(w, 0, &blob, NULL, NULL, NULL, &e), 0);
	assert_int_equal(walk1(w, 1, &blob, NULL, NULL, NULL, &e), DD_EINPUT);
	assert_non_null(strstr(e.msg, "--max-image-size"));
	dd_walker_free(w);
	dd_buf_release(&blob);
}

static void test_digest_mismatch(void **state)
{
	(void)state;
	dd_buf blob = DD_BUF_INIT;
	dd_digest good, bad;
	dd_error e = DD_ERROR_INIT;
	mk_tar(&blob, basic, NBASIC, F_GZIP);
	assert_int_equal(dd_digest_of(&good, blob.data, blob.len, &e), 0);
	assert_int_equal(dd_digest_of(&bad, "x", 1, &e), 0);
	EXPECT_ERR(&blob, NULL, &bad, NULL, "blob sha256:2d711642");
	char m[DD_ERROR_MSG_MAX];
	walk_err(&blob, NULL, &bad, NULL, m, sizeof(m));
	assert_non_null(strstr(m, "digest mismatch: got sha256:"));
	assert_non_null(strstr(m, good.s));
	EXPECT_ERR(&blob, NULL, NULL, &bad, "diff_id sha256:2d711642");
	/* a tampered blob that also breaks the stream is reported as a mismatch */
	blob.data[blob.len / 2] ^= 0x20;
	blob.data[blob.len / 2 + 3] ^= 0x20;
	EXPECT_ERR(&blob, NULL, &good, NULL, "digest mismatch");
	dd_buf_release(&blob);
}

/* Bigger content: both inflaters give identical digests and content, across
 * multiple gzip members, odd read sizes and the hash thread. */
static int hash_content(void *ctx, const dd_file *f, dd_error *err)
{
	dd_digest *d = ctx;
	dd_sha256 h;
	char buf[10007];
	ssize_t n;
	if (dd_sha256_init(&h, err))
		return DD_EENV;
	while ((n = dd_file_read(f, buf, sizeof(buf), err)) > 0)
		dd_sha256_update(&h, buf, (size_t)n);
	dd_sha256_final(&h, d);
	return n < 0 ? (int)n : 0;
}

static void run_big(const dd_buf *blob, size_t chunk, dd_layer_stats *st, dd_digest *content)
{
	dd_walker *w;
	dd_error e = DD_ERROR_INIT;
	struct chunky c = { (const unsigned char *)blob->data, blob->len, 0, chunk };
	dd_reader r = { chunky_read, &c };
	assert_int_equal(dd_walker_new(&w, NULL, &e), 0);
	assert_int_equal(dd_walker_want(w, "data/big", hash_content, content, &e), 0);
	if (dd_walker_layer(w, 0, &r, NULL, NULL, NULL, st, &e))
		fail_msg("%s", e.msg);
	dd_walker_free(w);
}

static void test_inflaters_members_threads(void **state)
{
	(void)state;
	dd_buf tar = DD_BUF_INIT, blob = DD_BUF_INIT;
	dd_digest diff, dg, content0, content;
	dd_layer_stats st;
	dd_error e = DD_ERROR_INIT;
	const struct tent t[] = { { "data/small", T_FILE, "s", 0 }, { "data/big", T_FILE, NULL, 20000000 },
				  { "data/after", T_FILE, "a", 0 } };
	mk_tar(&tar, t, 3, F_NONE);
	dd_buf_append(&tar, "\0\0\0\0\0\0\0\0", 8); /* junk after the end marker: part of the diff_id */
	assert_int_equal(dd_digest_of(&diff, tar.data, tar.len, &e), 0);
	/* three members, split at odd places */
	size_t cuts[] = { 0, 777, tar.len / 2 + 13, tar.len };
	for (int i = 0; i < 3; i++)
		gz_member(&blob, tar.data + cuts[i], cuts[i + 1] - cuts[i]);
	assert_int_equal(dd_digest_of(&dg, blob.data, blob.len, &e), 0);

	run_big(&tar, 1 << 20, &st, &content0);
	assert_string_equal(st.diff_id.s, diff.s);
	const char *modes[][2] = { { "isal", "1" }, { "zlib", "1" }, { "isal", "0" }, { "zlib", "0" } };
	for (int m = 0; m < 4; m++) {
		setenv("DRYDOCK_INFLATE", modes[m][0], 1);
		setenv("DRYDOCK_HASH_THREAD", modes[m][1], 1);
		for (size_t chunk = 5; chunk < 5000000; chunk *= 1000) {
			memset(&content, 0, sizeof(content));
			run_big(&blob, chunk, &st, &content);
			assert_string_equal(st.diff_id.s, diff.s);
			assert_string_equal(st.digest.s, dg.s);
			assert_string_equal(content.s, content0.s);
			assert_int_equal(st.uncompressed_bytes, tar.len);
		}
	}
	unsetenv("DRYDOCK_INFLATE");
	unsetenv("DRYDOCK_HASH_THREAD");

	/* zstd, two frames */
	dd_buf_reset(&blob);
	zstd_frame(&blob, tar.data, 100000);
	zstd_frame(&blob, tar.data + 100000, tar.len - 100000);
	run_big(&blob, 65536, &st, &content);
	assert_string_equal(st.diff_id.s, diff.s);
	assert_string_equal(content.s, content0.s);
	dd_buf_release(&tar);
	dd_buf_release(&blob);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_gzip_zstd_digests),
		cmocka_unit_test(test_wants),
		cmocka_unit_test(test_callback_error),
		cmocka_unit_test(test_traversal_and_names),
		cmocka_unit_test(test_non_ascii_and_root_entries),
		cmocka_unit_test(test_truncation_and_corruption),
		cmocka_unit_test(test_not_a_tar),
		cmocka_unit_test(test_empty_tar_and_reader_error),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_digest_mismatch),
		cmocka_unit_test(test_inflaters_members_threads),
	};
	return cmocka_run_group_tests_name("layer", tests, NULL, NULL);
}
