/* Unit tests for src/layer/record.c: a layer record replays exactly what the
 * walk delivered (files, content, squashed view, stats), and a damaged
 * record is refused cleanly at every byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef DD_TEST_DATA
#define DD_TEST_DATA "tests/data"
#endif
#include "layer_helpers.h"
#include "layer/walker.h"

static const struct tent L0[] = {
	{ "etc/", T_DIR, NULL, 0 },
	{ "etc/os-release", T_FILE, "ID=debian\nVERSION_ID=12\n", 0 },
	{ "var/lib/dpkg/status", T_FILE, "Package: a\nVersion: 1\n", 0 },
	{ "var/lib/dpkg/info/a.list", T_FILE, "/usr/bin/a\n", 0 },
	{ "usr/bin/a", T_FILE, "binary", 0 },
	{ "etc/link", T_SYMLINK, "os-release", 0 },
	{ "gone", T_FILE, "x", 0 },
};
static const struct tent L1[] = {
	{ ".wh.gone", T_FILE, "", 0 },
	{ "var/lib/dpkg/status", T_FILE, "Package: a\nVersion: 2\n", 0 },
};

/* What a consumer saw, as one string. */
static int log_cb(void *ctx, const dd_file *f, dd_error *err)
{
	dd_buf *log = ctx, content = DD_BUF_INIT;
	int rc = dd_file_slurp_all(f, &content, err);
	if (rc)
		return rc;
	dd_buf_printf(log, "%d %s %s %s [%s]\n", f->layer, dd_ftype_name(f->type), f->path, f->link ? f->link : "-",
		      dd_buf_cstr(&content));
	dd_buf_release(&content);
	return 0;
}

static dd_walker *walker(dd_buf *log)
{
	dd_walker *w;
	dd_error e;
	assert_int_equal(dd_walker_new(&w, NULL, &e), 0);
	assert_int_equal(dd_walker_want(w, "var/lib/dpkg/status", log_cb, log, &e), 0);
	assert_int_equal(dd_walker_want(w, "etc/*", log_cb, log, &e), 0);
	return w;
}

static void view(dd_walker *w, dd_buf *out)
{
	for (size_t i = 0; i < dd_walker_count(w); i++) {
		const dd_fsentry *e = dd_walker_entry(w, i);
		dd_buf_printf(out, "%s %d %s\n", e->path, e->layer, dd_ftype_name(e->type));
	}
}

static void walk_layer(dd_walker *w, int i, const struct tent *t, size_t n, dd_layer_stats *st)
{
	dd_buf tar = DD_BUF_INIT;
	dd_mem_reader mr;
	dd_reader r;
	dd_error e = DD_ERROR_INIT;
	mk_tar(&tar, t, n, F_GZIP);
	dd_reader_from_mem(&r, &mr, tar.data, tar.len);
	if (dd_walker_layer(w, i, &r, NULL, NULL, "test", st, &e))
		fail_msg("walk: %s", e.msg);
	dd_buf_release(&tar);
}

static void test_replay_equals_walk(void **state)
{
	(void)state;
	dd_buf log1 = DD_BUF_INIT, log2 = DD_BUF_INIT, v1 = DD_BUF_INIT, v2 = DD_BUF_INIT;
	dd_walker *a = walker(&log1), *b = walker(&log2);
	dd_layer_stats s0, s1, r0, r1;
	void *rec0, *rec1;
	size_t n0, n1;
	dd_error e;
	char k1[64], k2[64];

	dd_walker_record(a, 1);
	walk_layer(a, 0, L0, sizeof(L0) / sizeof(L0[0]), &s0);
	assert_int_equal(dd_walker_take_record(a, 0, &rec0, &n0), 0);
	{
		void *again;
		size_t na;
		assert_int_equal(dd_walker_take_record(a, 0, &again, &na), 1); /* handed out once */
	}
	walk_layer(a, 1, L1, sizeof(L1) / sizeof(L1[0]), &s1);
	assert_int_equal(dd_walker_take_record(a, 1, &rec1, &n1), 0);
	assert_int_equal(dd_walker_finish(a, &e), 0);

	dd_walker_want_key(a, k1, sizeof(k1));
	dd_walker_want_key(b, k2, sizeof(k2));
	assert_string_equal(k1, k2);
	/* replayed in the other order, as the cache may */
	assert_int_equal(dd_walker_replay(b, 1, rec1, n1, NULL, &r1, &e), 0);
	assert_int_equal(dd_walker_replay(b, 0, rec0, n0, &s0.diff_id, &r0, &e), 0);
	assert_int_equal(dd_walker_finish(b, &e), 0);

	view(a, &v1);
	view(b, &v2);
	assert_string_equal(dd_buf_cstr(&v1), dd_buf_cstr(&v2));
	assert_null(strstr(dd_buf_cstr(&v2), "gone"));
	/* the same deliveries (order differs with the layer order: compare sets) */
	assert_int_equal(log1.len, log2.len);
	assert_non_null(strstr(dd_buf_cstr(&log2), "0 file var/lib/dpkg/status - [Package: a\nVersion: 1\n]"));
	assert_non_null(strstr(dd_buf_cstr(&log2), "1 file var/lib/dpkg/status - [Package: a\nVersion: 2\n]"));
	assert_non_null(strstr(dd_buf_cstr(&log2), "0 symlink etc/link os-release []"));
	assert_memory_equal(&s0, &r0, sizeof(s0));
	assert_memory_equal(&s1, &r1, sizeof(s1));

	free(rec0);
	free(rec1);
	dd_walker_free(a);
	dd_walker_free(b);
	dd_buf_release(&log1);
	dd_buf_release(&log2);
	dd_buf_release(&v1);
	dd_buf_release(&v2);
}

static void test_wants_change_the_key(void **state)
{
	(void)state;
	dd_buf log = DD_BUF_INIT;
	dd_walker *a = walker(&log), *b = walker(&log);
	dd_error e;
	char k1[64], k2[64];
	assert_int_equal(dd_walker_want(b, "lib/apk/db/installed", log_cb, &log, &e), 0);
	dd_walker_want_key(a, k1, sizeof(k1));
	dd_walker_want_key(b, k2, sizeof(k2));
	assert_string_not_equal(k1, k2);
	dd_walker_free(a);
	dd_walker_free(b);
}

static void test_damaged_records_are_refused(void **state)
{
	(void)state;
	dd_buf log = DD_BUF_INIT;
	dd_walker *a = walker(&log);
	dd_layer_stats s0;
	void *rec;
	size_t n;
	dd_error e;

	dd_walker_record(a, 1);
	walk_layer(a, 0, L0, sizeof(L0) / sizeof(L0[0]), &s0);
	assert_int_equal(dd_walker_take_record(a, 0, &rec, &n), 0);
	/* every truncation, and a flipped byte at every position */
	for (size_t cut = 0; cut < n; cut++) {
		dd_walker *b = walker(&log);
		assert_int_equal(dd_walker_replay(b, 0, rec, cut, NULL, NULL, &e), DD_EINPUT);
		assert_int_equal(dd_walker_count(b), 0);
		dd_walker_free(b);
	}
	for (size_t i = 0; i < n; i++) {
		dd_walker *b = walker(&log);
		unsigned char *p = rec;
		p[i] ^= 0x5a;
		int rc = dd_walker_replay(b, 0, rec, n, &s0.diff_id, NULL, &e);
		assert_true(rc == 0 || rc == DD_EINPUT);
		p[i] ^= 0x5a;
		dd_walker_free(b);
	}
	/* a diff_id other than the recorded one is refused */
	{
		dd_walker *b = walker(&log);
		dd_digest other;
		dd_digest_of(&other, "x", 1, &e);
		assert_int_equal(dd_walker_replay(b, 0, rec, n, &other, NULL, &e), DD_EINPUT);
		dd_walker_free(b);
	}
	free(rec);
	dd_walker_free(a);
	dd_buf_release(&log);
}

/* Fuzz finding: a symlink entry without a target made dd_walker_resolve
 * read a NULL link.  Such a record is refused. */
static void test_symlink_without_target(void **state)
{
	(void)state;
	dd_buf rec = DD_BUF_INIT;
	dd_error e;
	dd_walker *w;
	dd_buf log = DD_BUF_INIT;
	FILE *f = fopen(DD_TEST_DATA "/layer/record-seeds/symlink-without-target", "rb");
	char chunk[4096];
	size_t n;

	assert_non_null(f);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		dd_buf_append(&rec, chunk, n);
	fclose(f);
	w = walker(&log);
	assert_int_equal(dd_walker_replay(w, 0, rec.data, rec.len, NULL, NULL, &e), DD_EINPUT);
	assert_int_equal(dd_walker_finish(w, &e), 0);
	assert_null(dd_walker_resolve(w, "etc/link"));
	dd_walker_free(w);
	dd_buf_release(&rec);
	dd_buf_release(&log);
}

static void test_no_record_without_recording(void **state)
{
	(void)state;
	dd_buf log = DD_BUF_INIT;
	dd_walker *a = walker(&log);
	dd_layer_stats s0;
	void *rec;
	size_t n;
	walk_layer(a, 0, L0, sizeof(L0) / sizeof(L0[0]), &s0);
	assert_int_equal(dd_walker_take_record(a, 0, &rec, &n), 1);
	dd_walker_free(a);
	dd_buf_release(&log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay_equals_walk),
		cmocka_unit_test(test_wants_change_the_key),
		cmocka_unit_test(test_damaged_records_are_refused),
		cmocka_unit_test(test_no_record_without_recording),
		cmocka_unit_test(test_symlink_without_target),
	};
	return cmocka_run_group_tests_name("layer_record", tests, NULL, NULL);
}
