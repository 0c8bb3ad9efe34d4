/* bench/match_bench.c - times dd_match_inventory (warm) for bench/match.sh.
 * usage: match_bench DB IMAGE ROUNDS
 * Collects IMAGE's inventory once, matches it once to warm the DB pages and
 * statement caches, then ROUNDS more times; prints packages, findings, the
 * best and median ms per match and matches/s of the median. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "image/image.h"
#include "inventory/inventory.h"
#include "match/match.h"
#include "util/log.h"
#include "vulndb/store.h"

static void quiet(enum dd_log_level l, const char *m, void *c)
{
	(void)l;
	(void)m;
	(void)c;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	dd_error e = DD_ERROR_INIT;
	dd_vulndb *db = NULL;
	dd_image *img = NULL;
	dd_inventory *inv = NULL;
	dd_findings *fs = NULL;
	dd_match_opts mo = { -1 };
	int rounds = argc > 3 ? atoi(argv[3]) : 50;
	double *t;

	if (argc < 3 || rounds < 1 || rounds > 100000) {
		fprintf(stderr, "usage: match_bench DB IMAGE [ROUNDS]\n");
		return 2;
	}
	dd_log_set_sink(quiet, NULL);
	if (dd_vulndb_open(&db, argv[1], DD_VULNDB_RDONLY, &e) || dd_image_open(&img, argv[2], NULL, &e) ||
	    dd_inventory_collect(&inv, img, &e) || dd_match_inventory(&fs, inv, db, &mo, &e)) {
		fprintf(stderr, "match_bench: %s\n", e.msg);
		return 4;
	}
	size_t nf = fs->n, checked = fs->checked;
	dd_findings_free(fs);
	if (!(t = calloc((size_t)rounds, sizeof(double))))
		return 4;
	for (int r = 0; r < rounds; r++) {
		double t0 = now_ms();
		if (dd_match_inventory(&fs, inv, db, &mo, &e)) {
			fprintf(stderr, "match_bench: %s\n", e.msg);
			return 4;
		}
		t[r] = now_ms() - t0;
		dd_findings_free(fs);
	}
	qsort(t, (size_t)rounds, sizeof(double), cmp_d);
	printf("packages %zu checked %zu findings %zu best_ms %.3f median_ms %.3f ops_per_s %.1f\n",
	       dd_inventory_package_count(inv), checked, nf, t[0], t[rounds / 2], 1000.0 / t[rounds / 2]);
	free(t);
	dd_inventory_free(inv);
	dd_image_free(img);
	dd_vulndb_close(db);
	return 0;
}
