/* libFuzzer target: the Dockerfile FROM parser (src/lineage/dockerfile.c),
 * and, for inputs starting with 'L', layer inference: lines are images,
 * ','-separated words their diffIDs; dd_lineage_infer_all must agree with
 * dd_lineage_infer on every image.  Parsed stages must be consistent:
 * lines in range, parents earlier, bases resting on a root stage's FROM. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lineage/lineage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_dockerfile(const char *text, size_t size)
{
	static const char *const args[] = { "A=x", "TAG=1", "TARGETPLATFORM=linux/arm/v7", "B" };
	dd_dockerfile *df = NULL;
	dd_error e = DD_ERROR_INIT;
	size_t lines = 1;

	for (size_t i = 0; i < size; i++)
		lines += text[i] == '\n';
	if (dd_dockerfile_parse(&df, text, size, args, 4, &e) != 0) {
		if (df || !e.msg[0] || strchr(e.msg, '\n'))
			abort();
		return;
	}
	if (!df || df->n_stages == 0 || dd_dockerfile_target(df, NULL) != (long)df->n_stages - 1)
		abort();
	for (size_t i = 0; i < df->n_stages; i++) {
		const dd_dockerfile_stage *s = &df->stages[i];
		if (!s->from || !*s->from || s->line == 0 || s->line > lines)
			abort();
		if (s->parent >= (long)i || (s->parent >= 0 && s->base != df->stages[s->parent].base))
			abort();
		if (s->parent < 0 && s->base != (dd_dockerfile_is_scratch(s->from) ? NULL : s->from))
			abort();
		if (s->name && dd_dockerfile_target(df, s->name) != (long)i)
			abort();
	}
	dd_dockerfile_free(df);
}

static void check_inference(const char *text, size_t size)
{
	enum { MAXI = 64, MAXL = 32 };
	static char buf[4096];
	static const char *ids[MAXI][MAXL];
	dd_lineage_layers im[MAXI];
	long all[MAXI];
	size_t n = 0;
	dd_error e = DD_ERROR_INIT;

	if (size >= sizeof(buf))
		size = sizeof(buf) - 1;
	memcpy(buf, text, size);
	buf[size] = '\0';
	memset(im, 0, sizeof(im));
	for (char *line = buf, *next; line && n < MAXI; line = next, n++) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		im[n].diff_ids = ids[n];
		for (char *w = line, *c; w && im[n].n < MAXL; w = c) {
			c = strchr(w, ',');
			if (c)
				*c++ = '\0';
			ids[n][im[n].n++] = w;
		}
	}
	if (dd_lineage_infer_all(all, im, n, &e) != 0)
		abort();
	for (size_t i = 0; i < n; i++) {
		long b = dd_lineage_infer(im, n, i);
		if (b != all[i])
			abort();
		if (b >= 0 && (im[b].n >= im[i].n || dd_lineage_shared(&im[i], &im[b]) != im[b].n))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size && data[0] == 'L')
		check_inference((const char *)data + 1, size - 1);
	else
		check_dockerfile((const char *)data, size);
	return 0;
}
