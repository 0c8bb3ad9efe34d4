/* pathmap.c - arena, path hash map and path normalisation; see internal.h. */
#include "layer/internal.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/banned.h"

#define CHUNK ((size_t)64 << 10)

struct dd_arena_chunk {
	dd_arena_chunk *next;
	char data[];
};

void dd_arena_init(dd_arena *a)
{
	a->head = NULL;
	a->used = a->cap = 0;
	a->total = 0;
}

void dd_arena_release(dd_arena *a)
{
	dd_arena_chunk *c = a->head;
	while (c) {
		dd_arena_chunk *n = c->next;
		free(c);
		c = n;
	}
	dd_arena_init(a);
}

const char *dd_arena_strndup(dd_arena *a, const char *s, size_t n)
{
	char *p;
	size_t need;

	if (dd_add_size(&need, n, 1))
		return NULL;
	if (!a->head || a->cap - a->used < need) {
		size_t cap = need > CHUNK / 4 ? need : CHUNK;
		size_t sz;
		dd_arena_chunk *c;
		if (dd_add_size(&sz, sizeof(*c), cap) || !(c = malloc(sz)))
			return NULL;
		if (cap == CHUNK || !a->head) {
			c->next = a->head;
			a->head = c;
			a->used = 0;
			a->cap = cap;
		} else {
			/* a big string gets its own chunk behind the current one */
			c->next = a->head->next;
			a->head->next = c;
			memcpy(c->data, s, n);
			c->data[n] = '\0';
			a->total += need;
			return c->data;
		}
	}
	p = a->head->data + a->used;
	memcpy(p, s, n);
	p[n] = '\0';
	a->used += need;
	a->total += need;
	return p;
}

/* ---- hash map ---- */

static uint64_t hash_str(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h ^ (h >> 29);
}

void dd_pathmap_init(dd_pathmap *m)
{
	m->keys = NULL;
	m->vals = NULL;
	m->cap = m->n = 0;
}

void dd_pathmap_release(dd_pathmap *m)
{
	free(m->keys);
	free(m->vals);
	dd_pathmap_init(m);
}

static size_t find_slot(const char **keys, size_t cap, const char *key, size_t n)
{
	size_t i = (size_t)hash_str(key, n) & (cap - 1);
	while (keys[i] && !(strncmp(keys[i], key, n) == 0 && keys[i][n] == '\0'))
		i = (i + 1) & (cap - 1);
	return i;
}

static int grow(dd_pathmap *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 64;
	const char **keys;
	size_t *vals;

	if (ncap < m->cap)
		return DD_EENV;
	keys = dd_calloc(ncap, sizeof(*keys));
	vals = dd_calloc(ncap, sizeof(*vals));
	if (!keys || !vals) {
		free(keys);
		free(vals);
		return DD_EENV;
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (m->keys[i]) {
			size_t j = find_slot(keys, ncap, m->keys[i], strlen(m->keys[i]));
			keys[j] = m->keys[i];
			vals[j] = m->vals[i];
		}
	}
	free(m->keys);
	free(m->vals);
	m->keys = keys;
	m->vals = vals;
	m->cap = ncap;
	return 0;
}

int dd_pathmap_put(dd_pathmap *m, const char *key, size_t val)
{
	size_t i;
	if ((m->n + 1) * 4 >= m->cap * 3 && grow(m))
		return DD_EENV;
	i = find_slot(m->keys, m->cap, key, strlen(key));
	if (!m->keys[i]) {
		m->keys[i] = key;
		m->n++;
	}
	m->vals[i] = val;
	return 0;
}

int dd_pathmap_getn(const dd_pathmap *m, const char *key, size_t n, size_t *val)
{
	size_t i;
	if (!m->cap)
		return 0;
	i = find_slot(m->keys, m->cap, key, n);
	if (!m->keys[i])
		return 0;
	if (val)
		*val = m->vals[i];
	return 1;
}

int dd_pathmap_get(const dd_pathmap *m, const char *key, size_t *val)
{
	return dd_pathmap_getn(m, key, strlen(key), val);
}

/* ---- paths ---- */

const char *dd_layer_normpath(const char *in, char *out, size_t cap, int *absolute)
{
	size_t o = 0, inlen = strlen(in);
	const char *p = in;

	*absolute = in[0] == '/';
	out[0] = '\0';
	if (inlen > DD_PATH_MAX)
		return "name longer than PATH_MAX (4096)";
	while (*p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return "path traversal";
		if (n && !(n == 1 && p[0] == '.')) {
			if (o + (o ? 1 : 0) + n + 1 > cap)
				return "name longer than PATH_MAX (4096)";
			if (o)
				out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
		}
		p += n;
		if (*p == '/')
			p++;
	}
	out[o] = '\0';
	return NULL;
}
