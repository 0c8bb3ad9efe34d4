/*
 * watch_bench.c - the benchmark driver of bench/watch.sh (built there
 * against $BUILD/libdrydock.a).
 *
 *   watch_bench lineage N ROUNDS
 *       N synthetic images in a random forest (a random earlier image as
 *       base, or none for ~10%; 2-8 layers for a root, 1-3 more for each
 *       image built on another), each diffID unique; per round: the bases
 *       inferred from the diffID lists (dd_lineage_infer_all) and the
 *       topological order (dd_lineage_toposort); checks both against the
 *       generated forest.  Prints "images N layers L best_ms X median_ms Y".
 *
 *   watch_bench poll HOST/REPO N KNOWN_DIGEST
 *       dd_poll_check of HOST/REPO:t0 .. t(N-1) in one session, each
 *       expected unchanged (KNOWN_DIGEST).  Prints "tags N requests R".
 *       Timed from outside (the whole process, like the curl it is
 *       compared with).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lineage/lineage.h"
#include "watch/poll.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next_rand(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int bench_lineage(size_t n, int rounds)
{
	long *parent = malloc(n * sizeof(*parent)), *base = malloc(n * sizeof(*base));
	size_t *order = malloc(n * sizeof(*order)), *pos = malloc(n * sizeof(*pos)), total = 0, next_layer = 0;
	dd_lineage_layers *imgs = calloc(n, sizeof(*imgs));
	const char ***lists = calloc(n, sizeof(*lists));
	char **layer_names = NULL;
	size_t cap_layers = 0;
	double *ms = calloc((size_t)rounds, sizeof(*ms));
	dd_error e = DD_ERROR_INIT;
	int rc = 1;

	if (!parent || !base || !order || !pos || !imgs || !lists || !ms)
		goto done;
	for (size_t i = 0; i < n; i++) {
		size_t extra, pn;
		parent[i] = (i == 0 || next_rand() % 10 == 0) ? -1 : (long)(next_rand() % i);
		pn = parent[i] >= 0 ? imgs[parent[i]].n : 0;
		extra = parent[i] >= 0 ? 1 + next_rand() % 3 : 2 + next_rand() % 7;
		lists[i] = malloc((pn + extra) * sizeof(**lists));
		if (!lists[i])
			goto done;
		if (pn)
			memcpy(lists[i], lists[parent[i]], pn * sizeof(**lists));
		for (size_t k = 0; k < extra; k++) {
			if (next_layer == cap_layers) {
				cap_layers = cap_layers ? cap_layers * 2 : 1024;
				char **t = realloc(layer_names, cap_layers * sizeof(*t));
				if (!t)
					goto done;
				layer_names = t;
			}
			layer_names[next_layer] = malloc(72);
			if (!layer_names[next_layer])
				goto done;
			snprintf(layer_names[next_layer], 72, "sha256:%016llx%016llx%016llx%016llx",
				 (unsigned long long)next_rand(), (unsigned long long)next_rand(),
				 (unsigned long long)next_rand(), (unsigned long long)next_layer);
			lists[i][pn + k] = layer_names[next_layer++];
		}
		imgs[i].diff_ids = lists[i];
		imgs[i].n = pn + extra;
		total += pn + extra;
	}
	for (int r = 0; r < rounds; r++) {
		double t0 = now_ms();
		if (dd_lineage_infer_all(base, imgs, n, &e) || dd_lineage_toposort(base, n, order, &e)) {
			fprintf(stderr, "watch_bench: %s\n", e.msg);
			goto done;
		}
		ms[r] = now_ms() - t0;
	}
	for (size_t i = 0; i < n; i++)
		if (base[i] != parent[i]) {
			fprintf(stderr, "watch_bench: image %zu: inferred base %ld, built on %ld\n", i, base[i],
				parent[i]);
			goto done;
		}
	for (size_t k = 0; k < n; k++)
		pos[order[k]] = k;
	for (size_t i = 0; i < n; i++)
		if (parent[i] >= 0 && pos[parent[i]] > pos[i]) {
			fprintf(stderr, "watch_bench: image %zu ordered before its base\n", i);
			goto done;
		}
	qsort(ms, (size_t)rounds, sizeof(*ms), cmp_double);
	printf("images %zu layers %zu best_ms %.3f median_ms %.3f\n", n, total, ms[0], ms[rounds / 2]);
	rc = 0;
done:
	for (size_t i = 0; lists && i < n; i++)
		free(lists[i]);
	for (size_t i = 0; i < next_layer; i++)
		free(layer_names[i]);
	free(layer_names);
	free(lists);
	free(imgs);
	free(parent);
	free(base);
	free(order);
	free(pos);
	free(ms);
	return rc;
}

static int bench_poll(const char *repo, size_t n, const char *known)
{
	dd_poll_session *s = NULL;
	dd_error e = DD_ERROR_INIT;
	char ref[600];
	int rc = 1;

	if (dd_poll_session_new(&s, NULL, 0, &e))
		goto fail;
	for (size_t i = 0; i < n; i++) {
		dd_poll_result r;
		dd_poll_target t = { ref, NULL, 0, known };
		snprintf(ref, sizeof(ref), "%s:t%zu", repo, i);
		if (dd_poll_check(s, &t, &r, &e)) {
			dd_poll_result_release(&r);
			goto fail;
		}
		if (r.changed) {
			fprintf(stderr, "watch_bench: %s changed to %s\n", ref, r.digest);
			dd_poll_result_release(&r);
			goto done;
		}
		dd_poll_result_release(&r);
	}
	printf("tags %zu requests %lu\n", n, dd_poll_requests(s));
	rc = 0;
	goto done;
fail:
	fprintf(stderr, "watch_bench: %s\n", e.msg);
done:
	dd_poll_session_free(s);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "lineage"))
		return bench_lineage(strtoul(argv[2], NULL, 10), atoi(argv[3]) > 0 ? atoi(argv[3]) : 1);
	if (argc == 5 && !strcmp(argv[1], "poll"))
		return bench_poll(argv[2], strtoul(argv[3], NULL, 10), argv[4]);
	fprintf(stderr, "usage: watch_bench lineage N ROUNDS | poll HOST/REPO N KNOWN_DIGEST\n");
	return 2;
}
