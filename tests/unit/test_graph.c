/* Unit tests for src/lineage/graph.c: topological order of base links,
 * dependants of changed images, cycles, and 10,000-node random forests
 * checked against a brute-force oracle. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lineage/lineage.h"

/* A deterministic generator (xorshift64*). */
static uint64_t rng = 88172645463325252ULL;
static uint64_t next_rand(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

/* order is a permutation of 0..n-1 with every base placed before its image. */
static void check_order(const long *base, size_t n, const size_t *order)
{
	size_t *pos = malloc((n ? n : 1) * sizeof(*pos));
	assert_non_null(pos);
	for (size_t i = 0; i < n; i++)
		pos[i] = (size_t)-1;
	for (size_t k = 0; k < n; k++) {
		assert_true(order[k] < n);
		if (pos[order[k]] != (size_t)-1)
			fail_msg("image %zu placed twice", order[k]);
		pos[order[k]] = k;
	}
	for (size_t i = 0; i < n; i++)
		if (base[i] >= 0 && pos[base[i]] > pos[i])
			fail_msg("image %zu placed at %zu before its base %ld at %zu", i, pos[i], base[i],
				 pos[base[i]]);
	free(pos);
}

/* Oracle: does image i rest (transitively, strictly) on a changed image?
 * Walks at most n links (the inputs here are acyclic). */
static int oracle_affected(const long *base, size_t n, const unsigned char *changed, size_t i)
{
	long v = base[i];
	for (size_t steps = 0; v >= 0 && steps <= n; steps++, v = base[v])
		if (changed[v])
			return 1;
	return 0;
}

/* Oracle: is v on a cycle? */
static int oracle_on_cycle(const long *base, size_t n, size_t v)
{
	long u = base[v];
	for (size_t steps = 0; u >= 0 && steps <= n; steps++, u = base[u])
		if ((size_t)u == v)
			return 1;
	return 0;
}

static int oracle_has_cycle(const long *base, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (oracle_on_cycle(base, n, i))
			return 1;
	return 0;
}

static void check_dependants(const long *base, size_t n, const unsigned char *changed)
{
	size_t *order = malloc((n ? n : 1) * sizeof(*order)), k = 0, m = 0;
	size_t *pos = malloc((n ? n : 1) * sizeof(*pos));
	dd_error e = DD_ERROR_INIT;
	assert_non_null(order);
	assert_non_null(pos);
	if (dd_lineage_dependants(base, n, changed, order, &m, &e))
		fail_msg("dependants: %s", e.msg);
	for (size_t i = 0; i < n; i++)
		pos[i] = (size_t)-1;
	for (size_t j = 0; j < m; j++) {
		assert_true(order[j] < n);
		if (pos[order[j]] != (size_t)-1)
			fail_msg("image %zu listed twice", order[j]);
		pos[order[j]] = j;
	}
	for (size_t i = 0; i < n; i++) {
		int want = oracle_affected(base, n, changed, i);
		if (want != (pos[i] != (size_t)-1))
			fail_msg("image %zu: oracle says %s, got %s", i, want ? "rebuild" : "no rebuild",
				 want ? "not listed" : "listed");
		k += (size_t)want;
		/* a listed image's listed base comes first */
		if (want && base[i] >= 0 && pos[base[i]] != (size_t)-1 && pos[base[i]] > pos[i])
			fail_msg("image %zu listed before its base %ld", i, base[i]);
	}
	assert_int_equal(k, m);
	free(order);
	free(pos);
}

static void test_chain(void **state)
{
	/* 3 -> 1 -> 4 -> 0 -> 2 (image -> its base); 5 alone */
	long base[] = { 2, 4, -1, 1, 0, -1 };
	size_t order[6], n_order;
	unsigned char changed[6] = { 0 };
	dd_error e = DD_ERROR_INIT;
	(void)state;
	assert_int_equal(dd_lineage_toposort(base, 6, order, &e), 0);
	check_order(base, 6, order);
	/* unrelated images keep their index order; chains come base first */
	size_t want[] = { 2, 0, 4, 1, 3, 5 };
	assert_memory_equal(order, want, sizeof(want));
	changed[4] = 1; /* 4 changed: 1 and 3 rebuild, in that order */
	assert_int_equal(dd_lineage_dependants(base, 6, changed, order, &n_order, &e), 0);
	assert_int_equal(n_order, 2);
	assert_int_equal(order[0], 1);
	assert_int_equal(order[1], 3);
	changed[2] = 1; /* 2 and 4 changed: 0, 4 (rests on 0), 1, 3 */
	assert_int_equal(dd_lineage_dependants(base, 6, changed, order, &n_order, &e), 0);
	assert_int_equal(n_order, 4);
	size_t want2[] = { 0, 4, 1, 3 };
	assert_memory_equal(order, want2, sizeof(want2));
	memset(changed, 0, sizeof(changed));
	changed[3] = 1; changed[5] = 1; /* leaves: nothing to rebuild */
	assert_int_equal(dd_lineage_dependants(base, 6, changed, order, &n_order, &e), 0);
	assert_int_equal(n_order, 0);
	check_dependants(base, 6, changed);
}

static void test_children(void **state)
{
	/* one base (0), three apps on it, one of them a base for two more */
	long base[] = { -1, 0, 0, 0, 2, 2, -1 };
	unsigned char changed[7] = { 1, 0, 0, 0, 0, 0, 0 };
	size_t order[7], n_order;
	dd_error e = DD_ERROR_INIT;
	(void)state;
	assert_int_equal(dd_lineage_toposort(base, 7, order, &e), 0);
	check_order(base, 7, order);
	assert_int_equal(dd_lineage_dependants(base, 7, changed, order, &n_order, &e), 0);
	assert_int_equal(n_order, 5);
	size_t want[] = { 1, 2, 3, 4, 5 };
	assert_memory_equal(order, want, sizeof(want));
	check_dependants(base, 7, changed);
}

static void test_empty(void **state)
{
	size_t order[1], n_order = 99;
	dd_error e = DD_ERROR_INIT;
	(void)state;
	assert_int_equal(dd_lineage_toposort(NULL, 0, order, &e), 0);
	assert_int_equal(dd_lineage_dependants(NULL, 0, NULL, order, &n_order, &e), 0);
	assert_int_equal(n_order, 0);
}

static void test_cycles(void **state)
{
	long self[] = { -1, 1, -1 };             /* 1 is its own base */
	long two[] = { -1, 2, 1, 0 };            /* 1 <-> 2 */
	long tail[] = { 1, 2, 3, 4, 2 };         /* 0 -> 1 -> 2 -> 3 -> 4 -> 2 */
	size_t order[5], n_order;
	unsigned char changed[5] = { 1, 1, 1, 1, 1 };
	dd_error e = DD_ERROR_INIT;
	(void)state;
	assert_int_equal(dd_lineage_toposort(self, 3, order, &e), DD_EINPUT);
	assert_int_equal(order[0], 1);
	assert_non_null(strstr(e.msg, "image 1 is its own base"));
	assert_int_equal(dd_lineage_toposort(two, 4, order, &e), DD_EINPUT);
	assert_true(order[0] == 1 || order[0] == 2);
	assert_int_equal(dd_lineage_toposort(tail, 5, order, &e), DD_EINPUT);
	assert_true(oracle_on_cycle(tail, 5, order[0]));
	assert_true(order[0] >= 2);
	assert_int_equal(dd_lineage_dependants(tail, 5, changed, order, &n_order, &e), DD_EINPUT);
	assert_int_equal(n_order, 0);
}

static void test_bad_index(void **state)
{
	long big[] = { -1, 7 }, neg[] = { -2, -1 };
	size_t order[2];
	dd_error e = DD_ERROR_INIT;
	(void)state;
	assert_int_equal(dd_lineage_toposort(big, 2, order, &e), DD_EINPUT);
	assert_non_null(strstr(e.msg, "image 1 names base 7"));
	assert_int_equal(dd_lineage_toposort(neg, 2, order, &e), DD_EINPUT);
}

/* A random forest: a random permutation, each node's base an earlier node
 * of it (or none). */
static void random_forest(long *base, size_t n, unsigned roots_pct)
{
	size_t *perm = malloc(n * sizeof(*perm));
	assert_non_null(perm);
	for (size_t i = 0; i < n; i++)
		perm[i] = i;
	for (size_t i = n; i > 1; i--) {
		size_t j = next_rand() % i, t = perm[i - 1];
		perm[i - 1] = perm[j];
		perm[j] = t;
	}
	for (size_t k = 0; k < n; k++)
		base[perm[k]] = (k == 0 || next_rand() % 100 < roots_pct) ? -1
			: (long)perm[next_rand() % k];
	free(perm);
}

static void test_random_forests(void **state)
{
	const size_t n = 10000;
	long *base = malloc(n * sizeof(*base));
	size_t *order = malloc(n * sizeof(*order));
	unsigned char *changed = malloc(n);
	dd_error e = DD_ERROR_INIT;
	(void)state;
	assert_non_null(base);
	assert_non_null(order);
	assert_non_null(changed);
	for (int round = 0; round < 8; round++) {
		random_forest(base, n, round == 0 ? 0 : (unsigned)(round * 12));
		if (round == 1) /* a long chain: 0 <- 1 <- 2 ... */
			for (size_t i = 0; i < n; i++)
				base[i] = (long)i - 1;
		if (dd_lineage_toposort(base, n, order, &e))
			fail_msg("round %d: %s", round, e.msg);
		check_order(base, n, order);
		for (int c = 0; c < 3; c++) {
			unsigned pct = c == 0 ? 1 : c == 1 ? 10 : 50;
			for (size_t i = 0; i < n; i++)
				changed[i] = next_rand() % 1000 < pct;
			check_dependants(base, n, changed);
		}
	}
	free(base);
	free(order);
	free(changed);
}

static void test_random_cycles(void **state)
{
	const size_t n = 10000;
	long *base = malloc(n * sizeof(*base));
	size_t *order = malloc(n * sizeof(*order));
	dd_error e = DD_ERROR_INIT;
	(void)state;
	assert_non_null(base);
	assert_non_null(order);
	for (int round = 0; round < 20; round++) {
		random_forest(base, n, 5);
		/* close a cycle through a random node's chain (or not) */
		size_t v = next_rand() % n;
		if (round % 4 != 3) {
			long u = (long)v;
			size_t hops = next_rand() % 5;
			while (hops-- && base[u] >= 0)
				u = base[u];
			base[u] = (long)v; /* u's chain leads to v, v's leads to u */
		}
		int want = oracle_has_cycle(base, n);
		assert_int_equal(want, round % 4 != 3);
		int rc = dd_lineage_toposort(base, n, order, &e);
		if (want) {
			assert_int_equal(rc, DD_EINPUT);
			assert_true(order[0] < n);
			if (!oracle_on_cycle(base, n, order[0]))
				fail_msg("round %d: image %zu is named but is not on a cycle", round, order[0]);
		} else {
			assert_int_equal(rc, 0);
			check_order(base, n, order);
		}
	}
	free(base);
	free(order);
}

static void test_by_name(void **state)
{
	const char *names[] = { "debian", "app", "python", "tool" };
	const char *bases[] = { NULL, "python", "debian", "docker.io/library/alpine:3" };
	const char *dup[] = { "a", "b", "a" };
	const char *none[] = { NULL, NULL, NULL };
	long base[4];
	dd_error e = DD_ERROR_INIT;
	(void)state;
	assert_int_equal(dd_lineage_bases_by_name(base, names, bases, 4, &e), 0);
	assert_int_equal(base[0], -1);
	assert_int_equal(base[1], 2);
	assert_int_equal(base[2], 0);
	assert_int_equal(base[3], -1);
	assert_int_equal(dd_lineage_bases_by_name(base, dup, none, 3, &e), DD_EINPUT);
	assert_non_null(strstr(e.msg, "two images are named 'a' (0 and 2)"));
	assert_int_equal(dd_lineage_bases_by_name(base, none, none, 3, &e), DD_EINPUT);
}

static void test_by_name_many(void **state)
{
	enum { N = 10000 };
	static char buf[N][16];
	static const char *names[N], *bases[N];
	static long want[N], got[N];
	dd_error e = DD_ERROR_INIT;
	(void)state;
	random_forest(want, N, 10);
	for (size_t i = 0; i < N; i++) {
		snprintf(buf[i], sizeof(buf[i]), "img-%zu", i * 7919 % N);
		names[i] = buf[i];
	}
	for (size_t i = 0; i < N; i++)
		bases[i] = want[i] >= 0 ? names[want[i]] : (i % 3 ? "external/base:1" : NULL);
	assert_int_equal(dd_lineage_bases_by_name(got, names, bases, N, &e), 0);
	assert_memory_equal(got, want, sizeof(want));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain),
		cmocka_unit_test(test_children),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_cycles),
		cmocka_unit_test(test_bad_index),
		cmocka_unit_test(test_random_forests),
		cmocka_unit_test(test_random_cycles),
		cmocka_unit_test(test_by_name),
		cmocka_unit_test(test_by_name_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
