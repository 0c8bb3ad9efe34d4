/* Unit tests for src/lineage/lineage.c: base inference from diffID lists
 * (prefix rules, ties, same image, no base) and the choice of a link. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lineage/lineage.h"

#define L(...) { (const char *const[]){ __VA_ARGS__ }, sizeof((const char *[]){ __VA_ARGS__ }) / sizeof(const char *) }
#define NONE { NULL, 0 }

/* infer and infer_all must agree on every image. */
static void check_all(const dd_lineage_layers *im, size_t n, const long *want)
{
	long *got = calloc(n, sizeof(*got));
	dd_error e = DD_ERROR_INIT;
	assert_non_null(got);
	assert_int_equal(dd_lineage_infer_all(got, im, n, &e), 0);
	for (size_t i = 0; i < n; i++) {
		if (dd_lineage_infer(im, n, i) != want[i] || got[i] != want[i])
			fail_msg("image %zu: infer %ld, infer_all %ld, want %ld", i,
				 dd_lineage_infer(im, n, i), got[i], want[i]);
	}
	free(got);
}

static void test_prefix_chain(void **state)
{
	(void)state;
	/* 0 debian (a) ; 1 python (a b) ; 2 app (a b c d) ; 3 unrelated (x) */
	const dd_lineage_layers im[] = { L("a"), L("a", "b"), L("a", "b", "c", "d"), L("x") };
	const long want[] = { -1, 0, 1, -1 };
	check_all(im, 4, want);
	assert_int_equal(dd_lineage_shared(&im[2], &im[1]), 2);
	assert_int_equal(dd_lineage_shared(&im[2], &im[3]), 0);
}

static void test_not_a_prefix(void **state)
{
	(void)state;
	/* Shares the first layer but diverges: not a base.  Longer: not a base. */
	const dd_lineage_layers im[] = { L("a", "b", "c"), L("a", "z"), L("a", "b", "c", "d", "e"),
					 L("b", "c") };
	const long want[] = { -1, -1, 0, -1 };
	check_all(im, 4, want);
}

static void test_same_image_is_not_a_base(void **state)
{
	(void)state;
	/* 0 and 1 are the same image (two tags); 2 extends both: the tie goes
	 * to the first given. */
	const dd_lineage_layers im[] = { L("a", "b"), L("a", "b"), L("a", "b", "c"), L("a") };
	const long want[] = { 3, 3, 0, -1 };
	check_all(im, 4, want);
	/* Order matters only for ties. */
	const dd_lineage_layers im2[] = { L("a", "b", "c"), L("a", "b"), L("a", "b") };
	const long want2[] = { 1, -1, -1 };
	check_all(im2, 3, want2);
}

static void test_longest_wins(void **state)
{
	(void)state;
	const dd_lineage_layers im[] = { L("a"), L("a", "b", "c"), L("a", "b"), L("a", "b", "c", "d") };
	const long want[] = { -1, 2, 0, 1 };
	check_all(im, 4, want);
}

static void test_empty_and_missing(void **state)
{
	(void)state;
	/* An image without layers (rootfs:) is nobody's base and has none. */
	const dd_lineage_layers im[] = { NONE, L("a"), L("a", "b") };
	const long want[] = { -1, -1, 1 };
	check_all(im, 3, want);
	assert_int_equal(dd_lineage_infer(im, 3, 7), -1);
	long b;
	dd_error e = DD_ERROR_INIT;
	assert_int_equal(dd_lineage_infer_all(&b, im, 0, &e), 0);
}

static void test_many_images(void **state)
{
	(void)state;
	/* 2000 images in chains of 5 over 400 roots; infer_all == infer. */
	enum { N = 2000 };
	static char ids[N][16];
	static const char *lists[N][5];
	dd_lineage_layers *im = calloc(N, sizeof(*im));
	long *want = calloc(N, sizeof(*want));
	assert_non_null(im);
	assert_non_null(want);
	for (size_t i = 0; i < N; i++) {
		size_t root = i / 5, depth = i % 5;
		snprintf(ids[i], sizeof(ids[i]), "sha256:%zu", i);
		for (size_t d = 0; d <= depth; d++)
			lists[i][d] = ids[root * 5 + d];
		im[i].diff_ids = lists[i];
		im[i].n = depth + 1;
		want[i] = depth ? (long)i - 1 : -1;
	}
	long *got = calloc(N, sizeof(*got));
	dd_error e = DD_ERROR_INIT;
	assert_int_equal(dd_lineage_infer_all(got, im, N, &e), 0);
	for (size_t i = 0; i < N; i++)
		assert_int_equal(got[i], want[i]);
	for (size_t i = 0; i < N; i += 97)
		assert_int_equal(dd_lineage_infer(im, N, i), want[i]);
	free(got);
	free(want);
	free(im);
}

/* ---- links ---- */

static const char *D_BASE = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
static const char *D_APP = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
static const char *D_OTHER = "sha256:3333333333333333333333333333333333333333333333333333333333333333";

static void test_link_layers_only(void **state)
{
	(void)state;
	dd_lineage_image im[] = {
		{ "oci:x:app", D_APP, NULL, L("a", "b"), NULL, NULL },
		{ "oci:x:base", D_BASE, NULL, L("a"), NULL, NULL },
	};
	dd_lineage_link l;
	assert_int_equal(dd_lineage_link_of(&l, im, 2, 0, 0, NULL, NULL), 1);
	assert_int_equal(l.how, DD_LINEAGE_LAYERS);
	assert_int_equal(l.evidence, DD_LINEAGE_LAYERS);
	assert_int_equal(l.image, 1);
	assert_int_equal(l.shared, 1);
	assert_string_equal(l.base, "oci:x:base");
	assert_string_equal(l.digest, D_BASE);
	assert_int_equal(dd_lineage_link_of(&l, im, 2, 1, 0, NULL, NULL), 0);
	assert_int_equal(l.how, 0);
	assert_string_equal(dd_lineage_how_name(DD_LINEAGE_LAYERS), "layers");
}

static void test_link_annotation(void **state)
{
	(void)state;
	/* The annotation names the base by digest; the layers agree. */
	dd_lineage_image im[] = {
		{ "oci:x:app", D_APP, NULL, L("a", "b"), "debian:12", D_BASE },
		{ "oci:x:base", D_BASE, NULL, L("a"), NULL, NULL },
	};
	dd_lineage_link l;
	assert_int_equal(dd_lineage_link_of(&l, im, 2, 0, 0, NULL, NULL), 1);
	assert_int_equal(l.how, DD_LINEAGE_ANNOTATION);
	assert_int_equal(l.evidence, DD_LINEAGE_ANNOTATION | DD_LINEAGE_LAYERS);
	assert_string_equal(l.base, "debian:12");
	assert_string_equal(l.digest, D_BASE);
	assert_int_equal(l.image, 1);
	/* Alone: the annotation still gives the base, unresolved. */
	assert_int_equal(dd_lineage_link_of(&l, im, 1, 0, 0, NULL, NULL), 1);
	assert_int_equal(l.image, -1);
	assert_int_equal(l.shared, -1);
	assert_string_equal(l.base, "debian:12");
	/* The annotated digest is an older base: still that image, but the
	 * layers no longer agree (the app was built on another base). */
	dd_lineage_image im2[] = {
		{ "oci:x:app", D_APP, NULL, L("a", "b"), "debian:12", D_BASE },
		{ "oci:x:base-new", D_OTHER, NULL, L("a2"), NULL, NULL },
		{ "oci:x:base-old", D_BASE, NULL, L("a0"), NULL, NULL },
	};
	assert_int_equal(dd_lineage_link_of(&l, im2, 3, 0, 0, NULL, NULL), 1);
	assert_int_equal(l.image, 2);
	assert_int_equal(l.evidence, DD_LINEAGE_ANNOTATION);
	assert_int_equal(l.shared, 0);
}

static void test_link_dockerfile(void **state)
{
	(void)state;
	dd_lineage_image im[] = {
		{ "oci:x:app", D_APP, NULL, L("a", "b"), NULL, NULL },
		{ "registry.example.com/debian:12", D_BASE, NULL, L("a"), NULL, NULL },
		{ "oci:x:other", D_OTHER, NULL, L("q"), NULL, NULL },
	};
	dd_lineage_link l;
	/* Matched by normalised name. */
	assert_int_equal(dd_lineage_link_of(&l, im, 3, 0, 1, "registry.example.com/debian:12", NULL), 1);
	assert_int_equal(l.how, DD_LINEAGE_DOCKERFILE);
	assert_int_equal(l.evidence, DD_LINEAGE_DOCKERFILE | DD_LINEAGE_LAYERS);
	assert_int_equal(l.image, 1);
	/* A name that matches nothing: the layers say which image it is. */
	assert_int_equal(dd_lineage_link_of(&l, im, 3, 0, 1, "debian:12", NULL), 1);
	assert_string_equal(l.base, "debian:12");
	assert_int_equal(l.image, 1);
	assert_int_equal(l.shared, 1);
	/* Pinned by digest to an image the layers do not support. */
	char pinned[128];
	snprintf(pinned, sizeof(pinned), "other@%s", D_OTHER);
	assert_int_equal(dd_lineage_link_of(&l, im, 3, 0, 1, pinned, NULL), 1);
	assert_int_equal(l.image, 2);
	assert_string_equal(l.digest, D_OTHER);
	assert_int_equal(l.evidence, DD_LINEAGE_DOCKERFILE);
	/* FROM scratch: no declared base; the layers still may speak. */
	assert_int_equal(dd_lineage_link_of(&l, im, 3, 0, 1, NULL, NULL), 1);
	assert_int_equal(l.how, DD_LINEAGE_LAYERS);
	/* docker.io normalisation: "debian" = docker.io/library/debian:latest. */
	dd_lineage_image hub[] = {
		{ "oci:x:app", D_APP, NULL, L("a", "b"), NULL, NULL },
		{ "docker.io/library/debian:latest", D_BASE, NULL, L("z"), NULL, NULL },
	};
	assert_int_equal(dd_lineage_link_of(&l, hub, 2, 0, 1, "debian", NULL), 1);
	assert_int_equal(l.image, 1);
	assert_int_equal(l.evidence, DD_LINEAGE_DOCKERFILE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefix_chain),
		cmocka_unit_test(test_not_a_prefix),
		cmocka_unit_test(test_same_image_is_not_a_base),
		cmocka_unit_test(test_longest_wins),
		cmocka_unit_test(test_empty_and_missing),
		cmocka_unit_test(test_many_images),
		cmocka_unit_test(test_link_layers_only),
		cmocka_unit_test(test_link_annotation),
		cmocka_unit_test(test_link_dockerfile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
