/* poll.c - see poll.h. */
#include "watch/poll.h"

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "registry/registry.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/banned.h"


struct client {
	char *key;               /* "domain/path" */
	dd_registry *reg;
	unsigned long used;      /* session tick of the last check */
};

struct dd_poll_session {
	const dd_fleet_registry *regs;
	size_t n_regs;
	struct client clients[DD_POLL_MAX_CLIENTS];
	size_t n_clients;
	unsigned long tick;
	unsigned long requests;  /* of clients already closed */
};

int dd_poll_session_new(dd_poll_session **out, const dd_fleet_registry *registries, size_t n,
			dd_error *err)
{
	dd_poll_session *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return dd_error_oom(err);
	s->regs = registries;
	s->n_regs = registries ? n : 0;
	*out = s;
	return 0;
}

static void client_close(dd_poll_session *s, struct client *c)
{
	if (c->reg)
		s->requests += dd_registry_requests(c->reg);
	dd_registry_free(c->reg);
	free(c->key);
	memset(c, 0, sizeof(*c));
}

void dd_poll_session_free(dd_poll_session *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_clients; i++)
		client_close(s, &s->clients[i]);
	free(s);
}

unsigned long dd_poll_requests(const dd_poll_session *s)
{
	unsigned long n = s->requests;
	for (size_t i = 0; i < s->n_clients; i++)
		n += dd_registry_requests(s->clients[i].reg);
	return n;
}

/* ---- per-registry settings ---- */

static const dd_fleet_registry *settings_for(const dd_poll_session *s, const dd_ref *ref)
{
	for (size_t i = 0; i < s->n_regs; i++) {
		const char *h = s->regs[i].host;
		if (h && (!strcmp(h, ref->domain) || !strcmp(h, dd_ref_api_host(ref)) ||
			  (!strcmp(ref->domain, "docker.io") && !strcmp(h, "index.docker.io"))))
			return &s->regs[i];
	}
	return NULL;
}


static int client_open(dd_poll_session *s, const dd_ref *ref, dd_registry **out, dd_error *err)
{
	const dd_fleet_registry *fr = settings_for(s, ref);
	dd_registry_opts o;
	char *password = NULL;
	int rc;

	dd_registry_opts_init(&o);
	o.max_retries = -1; /* never sleep on a 429: the caller backs off */
	if (fr) {
		o.tls_verify = !fr->insecure;
		o.ca_file = fr->ca_file;
		if (fr->password_env || fr->password_file) {
			if (!fr->username)
				return dd_error_set(err, DD_EINPUT, "registry %s: a password reference "
						    "needs a username", fr->host);
			if ((rc = dd_fleet_password(fr, &password, err)))
				return rc;
			o.username = fr->username;
			o.password = password;
		} else if (fr->username) {
			return dd_error_set(err, DD_EINPUT, "registry %s: username %s without "
					    "password_env or password_file", fr->host, fr->username);
		}
	}
	rc = dd_registry_new(out, ref, &o, err);
	if (password) {
		memset(password, 0, strlen(password));
		free(password);
	}
	return rc;
}

/* The cached client for ref's repository, opened when missing (closing
 * the least recently used one when the cache is full).  *opened: requests
 * the opening made. */
static int client_for(dd_poll_session *s, const dd_ref *ref, dd_registry **out,
		      unsigned long *opened, dd_error *err)
{
	char key[sizeof(ref->domain) + sizeof(ref->path) + 1];
	struct client *c = NULL;
	int rc;

	*opened = 0;
	snprintf(key, sizeof(key), "%s/%s", ref->domain, ref->path);
	s->tick++;
	for (size_t i = 0; i < s->n_clients; i++)
		if (!strcmp(s->clients[i].key, key)) {
			s->clients[i].used = s->tick;
			*out = s->clients[i].reg;
			return 0;
		}
	if (s->n_clients < DD_POLL_MAX_CLIENTS) {
		c = &s->clients[s->n_clients];
	} else {
		c = &s->clients[0];
		for (size_t i = 1; i < s->n_clients; i++)
			if (s->clients[i].used < c->used)
				c = &s->clients[i];
		client_close(s, c);
	}
	c->key = dd_strdup(key);
	if (!c->key)
		return dd_error_oom(err);
	if ((rc = client_open(s, ref, &c->reg, err))) {
		free(c->key);
		c->key = NULL;
		if (c != &s->clients[s->n_clients]) { /* keep the array dense */
			*c = s->clients[s->n_clients - 1];
			memset(&s->clients[--s->n_clients], 0, sizeof(*c));
		}
		return rc;
	}
	if (c == &s->clients[s->n_clients])
		s->n_clients++;
	c->used = s->tick;
	*opened = dd_registry_requests(c->reg);
	*out = c->reg;
	return 0;
}

/* ---- index platforms ---- */

void dd_poll_platforms_free(dd_poll_platform *p, size_t n)
{
	if (!p)
		return;
	for (size_t i = 0; i < n; i++) {
		free(p[i].platform);
		free(p[i].digest);
	}
	free(p);
}

/* An index entry's platform; 0 with *has = 0 when it names none. */
static int entry_platform(json_t *m, size_t i, dd_platform *p, int *has, dd_error *err)
{
	json_t *pl = json_object_get(m, "platform");
	const char *os, *arch, *variant;

	memset(p, 0, sizeof(*p));
	*has = 0;
	if (!pl)
		return 0;
	os = json_string_value(json_object_get(pl, "os"));
	arch = json_string_value(json_object_get(pl, "architecture"));
	variant = json_string_value(json_object_get(pl, "variant"));
	if (!json_is_object(pl) || !os || !arch || (json_object_get(pl, "variant") && !variant))
		return dd_error_set(err, DD_EINPUT, "index: manifests[%zu]: malformed platform", i);
	if (!os[0] || !arch[0] || strlen(os) >= sizeof(p->os) || strlen(arch) >= sizeof(p->arch) ||
	    (variant && strlen(variant) >= sizeof(p->variant)) || strchr(os, '/') || strchr(arch, '/') ||
	    (variant && strchr(variant, '/')))
		return dd_error_set(err, DD_EINPUT, "index: manifests[%zu]: platform '%.40s/%.40s' is "
				    "not a valid os/architecture", i, os, arch);
	memcpy(p->os, os, strlen(os) + 1);
	memcpy(p->arch, arch, strlen(arch) + 1);
	if (variant)
		memcpy(p->variant, variant, strlen(variant) + 1);
	*has = 1;
	return 0;
}

static int add_platform(dd_poll_platform *p, const char *name, const char *digest, dd_error *err)
{
	p->platform = dd_strdup(name);
	p->digest = digest ? dd_strdup(digest) : NULL;
	if (!p->platform || (digest && !p->digest))
		return dd_error_oom(err);
	return 0;
}

int dd_poll_platforms_of(const char *index, size_t len, const char *const *want, size_t n_want,
			 dd_poll_platform **out, size_t *n_out, dd_error *err)
{
	json_t *j = NULL, *ms, *m;
	dd_platform *wanted = NULL;
	int *score = NULL;
	dd_poll_platform *res = NULL;
	size_t n_res = 0, n_m, i, cap;
	int rc = 0;

	*out = NULL;
	*n_out = 0;
	if (n_want) {
		wanted = dd_calloc(n_want, sizeof(*wanted));
		score = dd_calloc(n_want, sizeof(*score));
		if (!wanted || !score) {
			rc = dd_error_oom(err);
			goto done;
		}
		for (i = 0; i < n_want; i++)
			if ((rc = dd_platform_parse(&wanted[i], want[i], err)))
				goto done;
	}
	j = json_loadb(index, len, JSON_REJECT_DUPLICATES, NULL);
	ms = json_object_get(j, "manifests");
	if (!json_is_array(ms)) {
		rc = dd_error_set(err, DD_EINPUT, "index: not an image index (no manifests array)");
		goto done;
	}
	n_m = json_array_size(ms);
	cap = n_want ? n_want : n_m;
	res = dd_calloc(cap ? cap : 1, sizeof(*res));
	if (!res) {
		rc = dd_error_oom(err);
		goto done;
	}
	if (n_want)
		for (i = 0; i < n_want; i++, n_res++)
			if ((rc = add_platform(&res[i], want[i], NULL, err)))
				goto done;
	json_array_foreach(ms, i, m) {
		dd_digest d;
		dd_platform p;
		int has;
		const char *ds = json_string_value(json_object_get(m, "digest"));
		if (!json_is_object(m) || dd_digest_parse(&d, ds, "index entry", NULL)) {
			rc = dd_error_set(err, DD_EINPUT, "index: manifests[%zu]: missing or malformed digest", i);
			goto done;
		}
		if ((rc = entry_platform(m, i, &p, &has, err)))
			goto done;
		if (!has)
			continue;
		if (!n_want) {
			char name[128];
			if (!strcmp(p.os, "unknown") && !strcmp(p.arch, "unknown"))
				continue; /* attestations (buildx provenance, SBOMs) */
			dd_platform_format(&p, name, sizeof(name));
			if ((rc = add_platform(&res[n_res++], name, d.s, err)))
				goto done;
			continue;
		}
		for (size_t w = 0; w < n_want; w++) {
			int sc = dd_platform_match(&p, &wanted[w]);
			if (sc > score[w]) { /* the first of the best wins */
				score[w] = sc;
				free(res[w].digest);
				if (!(res[w].digest = dd_strdup(d.s))) {
					rc = dd_error_oom(err);
					goto done;
				}
			}
		}
	}
	*out = res;
	*n_out = n_res;
	res = NULL;
done:
	dd_poll_platforms_free(res, n_res);
	json_decref(j);
	free(wanted);
	free(score);
	return rc;
}

/* ---- checks ---- */

void dd_poll_result_release(dd_poll_result *r)
{
	if (!r)
		return;
	free(r->digest);
	free(r->media_type);
	dd_poll_platforms_free(r->platforms, r->n_platforms);
	memset(r, 0, sizeof(*r));
}

static int is_index_type(const char *mt)
{
	return mt && (!strcmp(mt, "application/vnd.oci.image.index.v1+json") ||
		      !strcmp(mt, "application/vnd.docker.distribution.manifest.list.v2+json"));
}

/* Copy what the last response said about waiting into out. */
static void note_wait(dd_poll_result *out, const dd_registry *reg)
{
	long wait = dd_registry_retry_after(reg);
	out->status = dd_registry_last_status(reg);
	if (out->status == 429 || out->status == 503 || wait >= 0) {
		out->throttled = 1;
		out->retry_after = wait > 0 ? wait : 0;
	}
}

static int throttled_error(const dd_poll_result *out, const char *ref, dd_error *err)
{
	if (out->retry_after > 0)
		return dd_error_set(err, DD_EENV, "%s: the registry asked to wait %ld s (HTTP %ld)", ref,
				    out->retry_after, out->status);
	return dd_error_set(err, DD_EENV, "%s: the registry is throttling requests (HTTP %ld)", ref,
			    out->status);
}

/* Does a manifest body look like an index (when no Content-Type said)? */
static int body_is_index(const dd_buf *b)
{
	json_t *j = json_loadb(dd_buf_cstr(b), b->len, 0, NULL);
	int r = json_is_array(json_object_get(j, "manifests"));
	json_decref(j);
	return r;
}

/* GET the index by digest and read its platforms. */
static int read_platforms(dd_registry *reg, const dd_poll_target *t, const char *digest,
			  dd_poll_result *out, dd_error *err)
{
	dd_buf body = DD_BUF_INIT;
	dd_digest got;
	char *mt = NULL;
	int rc;

	rc = dd_registry_get_manifest(reg, digest, &body, &mt, &got, err);
	note_wait(out, reg);
	if (rc) {
		if (out->status == 429 || out->status == 503)
			rc = throttled_error(out, t->registry_ref, err);
		goto done;
	}
	if (!out->media_type && mt) {
		out->media_type = mt;
		mt = NULL;
	}
	out->is_index = out->media_type ? is_index_type(out->media_type) : body_is_index(&body);
	if (out->is_index &&
	    (rc = dd_poll_platforms_of(dd_buf_cstr(&body), body.len, t->platforms, t->n_platforms,
				       &out->platforms, &out->n_platforms, err)))
		dd_error_prefix(err, "%s", t->registry_ref);
done:
	free(mt);
	dd_buf_release(&body);
	return rc;
}

int dd_poll_check(dd_poll_session *s, const dd_poll_target *t, dd_poll_result *out, dd_error *err)
{
	dd_registry *reg = NULL;
	dd_digest d;
	dd_ref ref;
	unsigned long before, opened;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!t->registry_ref)
		return dd_error_set(err, DD_EUSAGE, "poll: no image reference");
	if ((rc = dd_ref_parse(&ref, t->registry_ref, err)))
		return rc;
	if (!ref.tag[0])
		return dd_error_set(err, DD_EUSAGE, "%s: polling needs a tag (a digest never changes)",
				    t->registry_ref);
	if ((rc = client_for(s, &ref, &reg, &opened, err)))
		return dd_error_prefix(err, "%s", t->registry_ref);
	before = dd_registry_requests(reg);
	rc = dd_registry_resolve(reg, ref.tag, &d, &out->media_type, err);
	note_wait(out, reg);
	if (rc) {
		if (out->status == 429 || out->status == 503)
			rc = throttled_error(out, t->registry_ref, err);
		goto done;
	}
	out->digest = dd_strdup(d.s);
	if (!out->digest) {
		rc = dd_error_oom(err);
		goto done;
	}
	out->is_index = is_index_type(out->media_type);
	out->changed = !t->known_digest || strcmp(t->known_digest, d.s) != 0;
	if (out->changed && (out->is_index || !out->media_type))
		rc = read_platforms(reg, t, d.s, out, err);
done:
	out->requests = (unsigned)(opened + dd_registry_requests(reg) - before);
	return rc;
}

/* ---- decisions ---- */

static const dd_poll_platform *find_platform(const dd_poll_platform *p, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (p[i].platform && !strcmp(p[i].platform, name))
			return &p[i];
	return NULL;
}

int dd_poll_needs_rebuild(const dd_poll_result *r, const dd_poll_platform *known, size_t n_known)
{
	if (!r->changed)
		return 0;
	if (!r->is_index || !n_known)
		return 1;
	for (size_t i = 0; i < r->n_platforms; i++) {
		const dd_poll_platform *k = find_platform(known, n_known, r->platforms[i].platform);
		if (!k || !k->digest || !r->platforms[i].digest)
			continue; /* appeared or disappeared: no rebuild by itself */
		if (strcmp(k->digest, r->platforms[i].digest))
			return 1;
	}
	return 0;
}

/* ---- scheduling ---- */

double dd_poll_next_delay(unsigned interval_s, unsigned jitter_pct, unsigned long seed)
{
	uint64_t z = (uint64_t)seed + 0x9e3779b97f4a7c15ULL; /* splitmix64 */
	double u, pct = (jitter_pct > 100 ? 100 : jitter_pct) / 100.0, d;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	u = (double)(z >> 11) / 9007199254740992.0; /* [0, 1) */
	d = interval_s * (1.0 + pct * (2.0 * u - 1.0));
	return d < 0 ? 0 : d;
}
