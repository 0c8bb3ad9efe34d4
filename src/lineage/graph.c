/*
 * graph.c - the lineage graph the watcher rebuilds along (see lineage.h):
 * images are nodes, each with at most one base, so the graph is a forest
 * of chains unless a cycle sneaks in through hand-written `base:` entries.
 * Everything here is O(n) in time and memory.
 */
#include "lineage/lineage.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/banned.h"

enum { UNSEEN = 0, ON_PATH = 1, DONE = 2 };

/* Check that every base index is -1 or a node. */
static int check_bases(const long *base, size_t n, dd_error *err)
{
	for (size_t i = 0; i < n; i++)
		if (base[i] < -1 || (base[i] >= 0 && (unsigned long)base[i] >= n))
			return dd_error_set(err, DD_EINPUT, "lineage: image %zu names base %ld, which "
					    "is not one of the %zu images", i, base[i], n);
	return 0;
}

int dd_lineage_toposort(const long *base, size_t n, size_t *order, dd_error *err)
{
	unsigned char *state = NULL;
	size_t *path = NULL, emitted = 0;
	int rc;

	if ((rc = check_bases(base, n, err)))
		return rc;
	if (!n)
		return 0;
	state = calloc(n, 1);
	path = dd_calloc(n, sizeof(*path));
	if (!state || !path) {
		rc = dd_error_oom(err);
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		size_t len = 0;
		long v = (long)i;
		/* Climb from i to the first node already placed (or a root),
		 * remembering the way; meeting the way again is a cycle. */
		while (v >= 0 && state[v] == UNSEEN) {
			state[v] = ON_PATH;
			path[len++] = (size_t)v;
			v = base[v];
		}
		if (v >= 0 && state[v] == ON_PATH) {
			order[0] = (size_t)v;
			rc = dd_error_set(err, DD_EINPUT, "lineage: image %ld is its own base (a cycle of "
					  "base links)", v);
			goto done;
		}
		/* Place the way down: the highest base first. */
		while (len) {
			size_t u = path[--len];
			state[u] = DONE;
			order[emitted++] = u;
		}
	}
done:
	free(state);
	free(path);
	return rc;
}

int dd_lineage_dependants(const long *base, size_t n, const unsigned char *changed, size_t *order,
			  size_t *n_order, dd_error *err)
{
	unsigned char *affected = NULL;
	size_t k = 0;
	int rc;

	*n_order = 0;
	if ((rc = dd_lineage_toposort(base, n, order, err)))
		return rc;
	if (!n)
		return 0;
	affected = calloc(n, 1);
	if (!affected)
		return dd_error_oom(err);
	/* In topological order a node's base is decided before the node, and
	 * the kept prefix of order[] never overtakes the node being read. */
	for (size_t j = 0; j < n; j++) {
		size_t u = order[j];
		long b = base[u];
		if (b >= 0 && (changed[b] || affected[b])) {
			affected[u] = 1;
			order[k++] = u;
		}
	}
	*n_order = k;
	free(affected);
	return 0;
}

/* ---- names to indices ---- */

static uint64_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

int dd_lineage_bases_by_name(long *base, const char *const *names, const char *const *base_names,
			     size_t n, dd_error *err)
{
	size_t cap = 16, mask, bytes;
	long *t = NULL;
	int rc = 0;

	while (cap < n * 2 && cap < ((size_t)1 << 40))
		cap *= 2;
	if (dd_mul_size(&bytes, cap, sizeof(*t)) || !(t = malloc(bytes)))
		return dd_error_oom(err);
	mask = cap - 1;
	for (size_t s = 0; s < cap; s++)
		t[s] = -1;
	for (size_t i = 0; i < n; i++) {
		size_t s;
		if (!names[i]) {
			rc = dd_error_set(err, DD_EINPUT, "lineage: image %zu has no name", i);
			goto done;
		}
		for (s = name_hash(names[i]) & mask; t[s] >= 0; s = (s + 1) & mask)
			if (!strcmp(names[t[s]], names[i])) {
				rc = dd_error_set(err, DD_EINPUT, "lineage: two images are named '%s' "
						  "(%ld and %zu)", names[i], t[s], i);
				goto done;
			}
		t[s] = (long)i;
	}
	for (size_t i = 0; i < n; i++) {
		base[i] = -1;
		if (!base_names[i])
			continue;
		for (size_t s = name_hash(base_names[i]) & mask; t[s] >= 0; s = (s + 1) & mask)
			if (!strcmp(names[t[s]], base_names[i])) {
				base[i] = t[s];
				break;
			}
	}
done:
	free(t);
	return rc;
}
