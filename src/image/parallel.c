/*
 * parallel.c - read several layers at once.
 *
 * Each worker thread walks whole layers into a walker of its own that has
 * the same wants (with callbacks that do nothing) and records what it
 * learned (layer/record.c); the main thread then replays the records into
 * the real walker in layer order, so consumers see exactly what a
 * sequential walk would have shown them, from one thread.  A record holds
 * only entry metadata and the wanted files, so memory stays small whatever
 * the layer size.  Registry workers use sessions (connections) of their
 * own.
 */
#include "image/internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache/layercache.h"
#include "registry/registry.h"
#include "util/log.h"
#include "util/banned.h"

struct slot {
	void *rec;
	size_t len;
	dd_layer_stats st;
	int rc;        /* 0 recorded, 1 walked but no record, <0 failed */
	dd_error err;
};

struct job {
	dd_image *img;
	const dd_walker *main;
	const unsigned char *skip;
	pthread_mutex_t mu;
	size_t next;
	int stop;
	struct slot *slots;
};

static int nothing(void *ctx, const dd_file *f, dd_error *err)
{
	(void)ctx;
	(void)f;
	(void)err;
	return 0;
}

static size_t claim(struct job *j)
{
	size_t i;
	pthread_mutex_lock(&j->mu);
	while (j->next < j->img->nlayers && j->skip[j->next])
		j->next++;
	i = j->stop ? j->img->nlayers : j->next++;
	pthread_mutex_unlock(&j->mu);
	return i;
}

static int walk_one(struct job *j, size_t i, struct dd_registry **reg, struct slot *s)
{
	dd_image *img = j->img;
	dd_layer_desc *l = &img->layers[i];
	dd_walker *w = NULL;
	dd_layer_blob b = { -1, NULL, NULL };
	dd_reader r;
	char label[64];
	int rc;

	snprintf(label, sizeof(label), "layer %zu %.19s", i, l->digest.s);
	dd_info("reading layer %zu/%zu %.19s (%.1f MiB)", i + 1, img->nlayers, l->digest.s,
		(double)l->size / (1 << 20));
	if ((rc = dd_walker_new(&w, &img->limits, &s->err)))
		goto done;
	for (size_t k = 0; k < dd_walker_want_count(j->main); k++)
		if ((rc = dd_walker_want(w, dd_walker_want_pattern(j->main, k), nothing, NULL, &s->err)))
			goto done;
	dd_walker_record(w, 1);
	rc = img->r.transport == DD_TRANSPORT_OCI ? dd_oci_open_layer(img, i, &b, &r, &s->err)
						  : dd_registry_src_open_layer(img, i, reg, &b, &r, &s->err);
	if (rc) {
		dd_error_prefix(&s->err, "%s", label);
		goto done;
	}
	if ((rc = dd_walker_layer(w, (int)i, &r, &l->digest, &l->diff_id, label, &s->st, &s->err)))
		goto done;
	rc = dd_walker_take_record(w, (int)i, &s->rec, &s->len) ? 1 : 0;
done:
	dd_layer_blob_close(&b);
	dd_walker_free(w);
	return rc;
}

static void *worker(void *arg)
{
	struct job *j = arg;
	struct dd_registry *reg = NULL;
	size_t i;

	while ((i = claim(j)) < j->img->nlayers) {
		struct slot *s = &j->slots[i];
		s->rc = walk_one(j, i, &reg, s);
		if (s->rc < 0) {
			pthread_mutex_lock(&j->mu);
			j->stop = 1;
			pthread_mutex_unlock(&j->mu);
		}
	}
	dd_registry_free(reg);
	return NULL;
}

void dd_layer_blob_close(dd_layer_blob *b)
{
	if (b->fd >= 0)
		close(b->fd);
	free(b->fr);
	dd_http_stream_free(b->s);
	b->fd = -1;
	b->fr = NULL;
	b->s = NULL;
}

int dd_image_walk_parallel(dd_image *img, dd_walker *w, const char *key, const unsigned char *skip,
			   size_t nthreads, dd_error *err)
{
	struct job j = { img, w, skip, PTHREAD_MUTEX_INITIALIZER, 0, 0, NULL };
	pthread_t *th = NULL;
	size_t started = 0;
	int rc = 0;

	j.slots = dd_calloc(img->nlayers, sizeof(*j.slots));
	th = dd_calloc(nthreads, sizeof(*th));
	if (!j.slots || !th) {
		rc = dd_error_oom(err);
		goto done;
	}
	for (; started < nthreads; started++)
		if (pthread_create(&th[started], NULL, worker, &j))
			break;
	if (started == 0)
		worker(&j); /* no threads to be had: do it here */
	for (size_t t = 0; t < started; t++)
		pthread_join(th[t], NULL);
	/* Replay in layer order; the lowest failing layer's error wins. */
	for (size_t i = 0; i < img->nlayers && !rc; i++) {
		struct slot *s = &j.slots[i];
		dd_layer_desc *l = &img->layers[i];
		if (skip[i])
			continue;
		if (s->rc < 0) {
			if (err)
				*err = s->err;
			rc = s->rc;
			break;
		}
		if (s->rc == 1 || !s->rec)
			continue; /* walked, but not recordable: walked again in order */
		if ((rc = dd_walker_replay(w, (int)i, s->rec, s->len, &l->diff_id, &l->stats, err)))
			break;
		l->walked = 1;
		if (img->cache) {
			dd_error e2 = DD_ERROR_INIT;
			if (dd_layercache_put(img->cache, &l->diff_id, key, s->rec, s->len, &e2))
				dd_warn("%s", e2.msg);
		}
	}
done:
	for (size_t i = 0; j.slots && i < img->nlayers; i++)
		free(j.slots[i].rec);
	free(j.slots);
	free(th);
	pthread_mutex_destroy(&j.mu);
	return rc;
}
