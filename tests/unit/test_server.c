/* Unit tests for src/watch/server.c: a real listener on a free loopback
 * port, driven with libcurl: webhooks in, events out of dd_server_wait(),
 * the secret, size limits, /metrics in exposition format, 8 concurrent
 * posters, interrupts, restarts; and, when Debian's docker-registry and
 * skopeo are installed, a real registry notifying the server of a push. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/reader.h"
#include "watch/metrics.h"
#include "watch/server.h"

static const char *root(void)
{
	const char *r = getenv("DD_ROOT");
	return r ? r : ".";
}

static void slurp(const char *rel, dd_buf *b)
{
	char path[4096];
	dd_error e = DD_ERROR_INIT;
	snprintf(path, sizeof(path), "%s/tests/data/watch/webhooks/%s", root(), rel);
	if (dd_file_slurp(path, b, 4 << 20, &e) != 0)
		fail_msg("cannot read %s: %s", path, e.msg);
}

/* ---- a small libcurl client ---- */

typedef struct resp {
	long status;
	dd_buf body;
	char ctype[160];
	char wwwauth[160];
} resp;

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
	resp *r = ud;
	dd_buf_append(&r->body, p, sz * n);
	return sz * n;
}

static void copy_header(char *dst, size_t dn, const char *line, size_t len, const char *name)
{
	size_t nl = strlen(name);
	if (len > nl && strncasecmp(line, name, nl) == 0) {
		const char *v = line + nl;
		size_t vl = len - nl;
		while (vl && (*v == ' '))
			v++, vl--;
		while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n'))
			vl--;
		if (vl >= dn)
			vl = dn - 1;
		memcpy(dst, v, vl);
		dst[vl] = '\0';
	}
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
	resp *r = ud;
	copy_header(r->ctype, sizeof(r->ctype), p, sz * n, "Content-Type:");
	copy_header(r->wwwauth, sizeof(r->wwwauth), p, sz * n, "WWW-Authenticate:");
	return sz * n;
}

/* A chunked upload of `left` bytes of 'x'. */
typedef struct chunky {
	size_t left;
} chunky;

static size_t on_read(char *p, size_t sz, size_t n, void *ud)
{
	chunky *c = ud;
	size_t k = sz * n < c->left ? sz * n : c->left;
	memset(p, ' ', k);
	c->left -= k;
	return k;
}

/* One request.  body NULL: GET (or the method given); chunked > 0: a
 * chunked POST of that many bytes.  curl may be a reused handle or NULL. */
static CURLcode http(CURL *reuse, const char *method, const char *url, const char *body, size_t len,
		     const char *auth, size_t chunked, resp *r)
{
	CURL *c = reuse ? reuse : curl_easy_init();
	struct curl_slist *h = NULL;
	chunky ck = { chunked };
	CURLcode cc;

	memset(r, 0, sizeof(*r));
	dd_buf_init(&r->body, 8 << 20);
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	if (auth)
		h = curl_slist_append(h, auth);
	if (body) {
		h = curl_slist_append(h, "Content-Type: application/vnd.docker.distribution.events.v1+json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	} else if (chunked) {
		h = curl_slist_append(h, "Transfer-Encoding: chunked");
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, &ck);
	}
	if (method)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (method && strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(h);
	if (!reuse)
		curl_easy_cleanup(c);
	return cc;
}

static void url_of(char *buf, size_t n, const dd_server *s, const char *path)
{
	snprintf(buf, n, "http://127.0.0.1:%d%s", dd_server_port(s), path);
}

static dd_server *start(const char *secret, dd_metrics *m)
{
	dd_server *s = NULL;
	dd_error e = DD_ERROR_INIT;
	if (dd_server_start(&s, "127.0.0.1:0", secret, m, &e) != 0)
		fail_msg("dd_server_start: %s", e.msg);
	assert_true(dd_server_port(s) > 0);
	return s;
}

static double metric(dd_server *s, const char *name, const char *labels)
{
	double v = -1;
	if (dd_metrics_get(dd_server_metrics(s), name, labels, &v) != 0)
		return -1;
	return v;
}

/* ---- tests ---- */

static void test_routes(void **state)
{
	dd_server *s = start(NULL, NULL);
	char url[128];
	resp r;
	(void)state;

	url_of(url, sizeof(url), s, "/healthz");
	assert_int_equal(http(NULL, NULL, url, NULL, 0, NULL, 0, &r), CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_string_equal(dd_buf_cstr(&r.body), "ok\n");
	dd_buf_release(&r.body);
	assert_int_equal(http(NULL, "HEAD", url, NULL, 0, NULL, 0, &r), CURLE_OK);
	assert_int_equal(r.status, 200);
	dd_buf_release(&r.body);

	url_of(url, sizeof(url), s, "/nope");
	http(NULL, NULL, url, NULL, 0, NULL, 0, &r);
	assert_int_equal(r.status, 404);
	dd_buf_release(&r.body);
	url_of(url, sizeof(url), s, "/webhookx");
	http(NULL, "POST", url, "{}", 2, NULL, 0, &r);
	assert_int_equal(r.status, 404);
	dd_buf_release(&r.body);

	url_of(url, sizeof(url), s, "/webhook");
	http(NULL, NULL, url, NULL, 0, NULL, 0, &r);
	assert_int_equal(r.status, 405);
	dd_buf_release(&r.body);
	url_of(url, sizeof(url), s, "/metrics");
	http(NULL, "DELETE", url, NULL, 0, NULL, 0, &r);
	assert_int_equal(r.status, 405);
	dd_buf_release(&r.body);
	dd_server_stop(s);
}

static void test_webhook_to_events(void **state)
{
	static const char *const paths[] = { "/webhook", "/webhook/distribution", "/webhook/acr",
					     "/webhook/harbor/" };
	dd_server *s = start(NULL, NULL);
	dd_buf dist = DD_BUF_INIT, acr = DD_BUF_INIT;
	dd_push_event *ev;
	size_t n;
	char url[128];
	resp r;
	(void)state;

	slurp("distribution-push-tag.json", &dist);
	slurp("acr-push.json", &acr);
	/* the path is only a hint: the content decides */
	for (size_t i = 0; i < 4; i++) {
		url_of(url, sizeof(url), s, paths[i]);
		assert_int_equal(http(NULL, NULL, url, dist.data, dist.len, NULL, 0, &r), CURLE_OK);
		assert_int_equal(r.status, 202);
		assert_string_equal(dd_buf_cstr(&r.body), "{\"accepted\":1}");
		assert_string_equal(r.ctype, "application/json");
		dd_buf_release(&r.body);
	}
	url_of(url, sizeof(url), s, "/webhook?unrelated=1");
	http(NULL, NULL, url, acr.data, acr.len, NULL, 0, &r);
	assert_int_equal(r.status, 202);
	dd_buf_release(&r.body);

	assert_int_equal(dd_server_wait(s, 5000, &ev, &n), 5);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < 4; i++) {
		assert_string_equal(ev[i].registry, "127.0.0.1:18778");
		assert_string_equal(ev[i].repository, "library/base");
		assert_string_equal(ev[i].tag, "12");
		assert_string_equal(ev[i].digest,
				    "sha256:2d70659524cd8231243ab412cbb70c505a429a149c993836f38e50aa2194d7b3");
	}
	assert_string_equal(ev[4].source, "acr");
	assert_string_equal(ev[4].registry, "myregistry.azurecr.io");
	assert_string_equal(ev[4].repository, "hello-world");
	dd_push_events_free(ev, n);

	/* an ignored event (a blob push) is accepted with nothing queued */
	{
		dd_buf blob = DD_BUF_INIT;
		slurp("distribution-push-blob.json", &blob);
		url_of(url, sizeof(url), s, "/webhook");
		http(NULL, NULL, url, blob.data, blob.len, NULL, 0, &r);
		assert_int_equal(r.status, 202);
		assert_string_equal(dd_buf_cstr(&r.body), "{\"accepted\":0}");
		dd_buf_release(&r.body);
		dd_buf_release(&blob);
	}
	assert_int_equal(dd_server_wait(s, 50, &ev, &n), 0);
	assert_int_equal(n, 0);
	assert_null(ev);

	assert_true(metric(s, "drydock_webhook_requests_total", "status=202") == 6);
	assert_true(metric(s, "drydock_webhook_events_total", NULL) == 5);
	assert_true(metric(s, "drydock_webhook_queue_events", NULL) == 0);
	dd_buf_release(&dist);
	dd_buf_release(&acr);
	dd_server_stop(s);
}

static void test_bad_payload(void **state)
{
	dd_server *s = start(NULL, NULL);
	char url[128];
	resp r;
	static const char bad[] = "{\"events\":[{\"action\":\"push\",\"target\":{\"repository\":\"../x\",\"tag\":\"v\"}}]}";
	(void)state;

	url_of(url, sizeof(url), s, "/webhook");
	http(NULL, NULL, url, bad, strlen(bad), NULL, 0, &r);
	assert_int_equal(r.status, 400);
	assert_string_equal(dd_buf_cstr(&r.body),
			    "{\"error\":\"webhook (distribution): events[0].target: invalid repository name '../x'\"}");
	dd_buf_release(&r.body);
	http(NULL, NULL, url, "not json", 8, NULL, 0, &r);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(dd_buf_cstr(&r.body), "invalid JSON"));
	dd_buf_release(&r.body);
	http(NULL, NULL, url, "", 0, NULL, 0, &r);
	assert_int_equal(r.status, 400);
	dd_buf_release(&r.body);
	/* a compressed body is refused, not guessed at */
	{
		CURL *c = curl_easy_init();
		struct curl_slist *h = curl_slist_append(NULL, "Content-Encoding: gzip");
		long st = 0;
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "x");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
		memset(&r, 0, sizeof(r));
		assert_int_equal(curl_easy_perform(c), CURLE_OK);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
		assert_int_equal(st, 415);
		dd_buf_release(&r.body);
		curl_slist_free_all(h);
		curl_easy_cleanup(c);
	}
	assert_true(metric(s, "drydock_webhook_requests_total", "status=400") == 3);
	assert_true(metric(s, "drydock_webhook_requests_total", "status=415") == 1);
	dd_server_stop(s);
}

static void test_secret(void **state)
{
	dd_server *s = start("s3cret-token", NULL);
	dd_buf dist = DD_BUF_INIT;
	dd_push_event *ev;
	size_t n;
	char url[160];
	resp r;
	(void)state;

	slurp("distribution-push-tag.json", &dist);
	url_of(url, sizeof(url), s, "/webhook");
	http(NULL, NULL, url, dist.data, dist.len, NULL, 0, &r);
	assert_int_equal(r.status, 401);
	assert_string_equal(r.wwwauth, "Bearer realm=\"drydock\"");
	dd_buf_release(&r.body);
	http(NULL, NULL, url, dist.data, dist.len, "Authorization: Bearer s3cret-toke", 0, &r);
	assert_int_equal(r.status, 401);
	dd_buf_release(&r.body);
	http(NULL, NULL, url, dist.data, dist.len, "Authorization: Bearer s3cret-token2", 0, &r);
	assert_int_equal(r.status, 401);
	dd_buf_release(&r.body);
	http(NULL, NULL, url, dist.data, dist.len, "Authorization: Basic czNjcmV0LXRva2Vu", 0, &r);
	assert_int_equal(r.status, 401);
	dd_buf_release(&r.body);
	http(NULL, NULL, url, dist.data, dist.len, "Authorization: Bearer s3cret-token", 0, &r);
	assert_int_equal(r.status, 202);
	dd_buf_release(&r.body);
	http(NULL, NULL, url, dist.data, dist.len, "Authorization: bearer   s3cret-token", 0, &r);
	assert_int_equal(r.status, 202);
	dd_buf_release(&r.body);

	url_of(url, sizeof(url), s, "/webhook/harbor?token=s3cret-token");
	http(NULL, NULL, url, dist.data, dist.len, NULL, 0, &r);
	assert_int_equal(r.status, 202);
	dd_buf_release(&r.body);
	url_of(url, sizeof(url), s, "/webhook?token=wrong");
	http(NULL, NULL, url, dist.data, dist.len, NULL, 0, &r);
	assert_int_equal(r.status, 401);
	dd_buf_release(&r.body);
	/* URL-encoded secrets are decoded */
	dd_server_stop(s);
	s = start("a b&c", NULL);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/webhook?token=a%%20b%%26c", dd_server_port(s));
	http(NULL, NULL, url, dist.data, dist.len, NULL, 0, &r);
	assert_int_equal(r.status, 202);
	dd_buf_release(&r.body);

	/* /metrics and /healthz need no secret */
	url_of(url, sizeof(url), s, "/metrics");
	http(NULL, NULL, url, NULL, 0, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	dd_buf_release(&r.body);
	assert_int_equal(dd_server_wait(s, 1000, &ev, &n), 1);
	dd_push_events_free(ev, n);
	dd_buf_release(&dist);
	dd_server_stop(s);
}

static void test_too_big(void **state)
{
	dd_server *s = start(NULL, NULL);
	size_t big = DD_WEBHOOK_MAX + 1;
	char *p = malloc(big), url[128];
	dd_push_event *ev;
	size_t n;
	resp r;
	(void)state;

	memset(p, ' ', big);
	memcpy(p, "{\"events\":[]}", 13);
	url_of(url, sizeof(url), s, "/webhook");
	assert_int_equal(http(NULL, NULL, url, p, big, NULL, 0, &r), CURLE_OK);
	assert_int_equal(r.status, 413);
	dd_buf_release(&r.body);
	/* chunked, no Content-Length: noticed while reading */
	assert_int_equal(http(NULL, NULL, url, NULL, 0, NULL, 3 * DD_WEBHOOK_MAX, &r), CURLE_OK);
	assert_int_equal(r.status, 413);
	dd_buf_release(&r.body);
	/* exactly 1 MiB is fine, chunked or not */
	assert_int_equal(http(NULL, NULL, url, p, DD_WEBHOOK_MAX, NULL, 0, &r), CURLE_OK);
	assert_int_equal(r.status, 202);
	dd_buf_release(&r.body);
	assert_true(metric(s, "drydock_webhook_requests_total", "status=413") == 2);
	assert_int_equal(dd_server_wait(s, 10, &ev, &n), 0);
	free(p);
	dd_server_stop(s);
}

/* Every line of the exposition: "# HELP n text", "# TYPE n counter|gauge"
 * before the family's samples, samples "name{k="v",...} number". */
static void check_exposition(const char *text)
{
	char fam[128] = "";
	const char *line = text;
	int samples = 0;

	assert_true(strlen(text) > 0 && text[strlen(text) - 1] == '\n');
	while (*line) {
		const char *nl = strchr(line, '\n');
		char buf[1024], name[128], type[16];
		size_t len = (size_t)(nl - line);
		assert_non_null(nl);
		assert_true(len < sizeof(buf));
		memcpy(buf, line, len);
		buf[len] = '\0';
		if (strncmp(buf, "# HELP ", 7) == 0) {
			assert_int_equal(sscanf(buf + 7, "%127s", name), 1);
		} else if (strncmp(buf, "# TYPE ", 7) == 0) {
			assert_int_equal(sscanf(buf + 7, "%127s %15s", fam, type), 2);
			assert_true(strcmp(type, "counter") == 0 || strcmp(type, "gauge") == 0);
		} else {
			size_t i = strspn(buf, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_:0123456789");
			char *end;
			assert_true(i > 0);
			memcpy(name, buf, i);
			name[i] = '\0';
			assert_string_equal(name, fam); /* TYPE came first */
			if (buf[i] == '{') {
				const char *close = strstr(buf + i, "\"} ");
				assert_non_null(close);
				i = (size_t)(close - buf) + 2;
			}
			assert_int_equal(buf[i], ' ');
			(void)strtod(buf + i + 1, &end);
			assert_true(*end == '\0');
			samples++;
		}
		line = nl + 1;
	}
	assert_true(samples > 0);
}

static void test_metrics_endpoint(void **state)
{
	dd_metrics *m;
	dd_error e = DD_ERROR_INIT;
	dd_server *s;
	char url[128];
	resp r;
	(void)state;

	assert_int_equal(dd_metrics_new(&m, &e), 0);
	/* the caller's own metrics sit next to the server's */
	assert_int_equal(dd_metrics_gauge_set(m, "drydock_watch_tracked_images", "Images tracked.", NULL, 3), 0);
	s = start(NULL, m);
	url_of(url, sizeof(url), s, "/webhook");
	http(NULL, NULL, url, "{", 1, NULL, 0, &r);
	dd_buf_release(&r.body);
	url_of(url, sizeof(url), s, "/metrics");
	assert_int_equal(http(NULL, NULL, url, NULL, 0, NULL, 0, &r), CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.ctype, "text/plain; version=0.0.4; charset=utf-8");
	check_exposition(dd_buf_cstr(&r.body));
	assert_non_null(strstr(dd_buf_cstr(&r.body),
			       "# TYPE drydock_webhook_requests_total counter\n"
			       "drydock_webhook_requests_total{status=\"202\"} 0\n"
			       "drydock_webhook_requests_total{status=\"400\"} 1\n"));
	assert_non_null(strstr(dd_buf_cstr(&r.body), "# HELP drydock_webhook_events_total "));
	assert_non_null(strstr(dd_buf_cstr(&r.body), "drydock_webhook_events_total 0\n"));
	assert_non_null(strstr(dd_buf_cstr(&r.body), "# TYPE drydock_webhook_queue_events gauge\n"));
	assert_non_null(strstr(dd_buf_cstr(&r.body), "drydock_watch_tracked_images 3\n"));
	dd_buf_release(&r.body);
	dd_server_stop(s);
	dd_metrics_free(m);
}

/* ---- concurrency ---- */

#define POSTERS 8
#define POSTS 100

typedef struct poster {
	int port, id, failures;
} poster;

static void *post_loop(void *arg)
{
	poster *p = arg;
	CURL *c = curl_easy_init();
	char url[128], body[512];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/webhook", p->port);
	for (int i = 0; i < POSTS; i++) {
		resp r;
		int len = snprintf(body, sizeof(body),
				   "{\"events\":[{\"action\":\"push\",\"target\":{\"mediaType\":"
				   "\"application/vnd.oci.image.manifest.v1+json\",\"repository\":\"load/p%d\","
				   "\"tag\":\"t%d\"},\"request\":{\"host\":\"reg.test:5000\"}}]}",
				   p->id, i);
		if (http(c, NULL, url, body, (size_t)len, "Authorization: Bearer k", 0, &r) != CURLE_OK ||
		    r.status != 202)
			p->failures++;
		dd_buf_release(&r.body);
	}
	curl_easy_cleanup(c);
	return NULL;
}

static void test_concurrent_posters(void **state)
{
	dd_server *s = start("k", NULL);
	pthread_t t[POSTERS];
	poster p[POSTERS];
	unsigned char seen[POSTERS][POSTS];
	size_t total = 0;
	time_t until = time(NULL) + 60;
	(void)state;

	memset(seen, 0, sizeof(seen));
	for (int i = 0; i < POSTERS; i++) {
		p[i] = (poster){ dd_server_port(s), i, 0 };
		assert_int_equal(pthread_create(&t[i], NULL, post_loop, &p[i]), 0);
	}
	/* the watch loop drains while they post */
	while (total < POSTERS * POSTS && time(NULL) < until) {
		dd_push_event *ev;
		size_t n;
		int rc = dd_server_wait(s, 1000, &ev, &n);
		assert_true(rc >= 0);
		for (size_t k = 0; k < n; k++) {
			int pid, i;
			assert_int_equal(sscanf(ev[k].repository, "load/p%d", &pid), 1);
			assert_int_equal(sscanf(ev[k].tag, "t%d", &i), 1);
			assert_true(pid >= 0 && pid < POSTERS && i >= 0 && i < POSTS);
			assert_int_equal(seen[pid][i], 0); /* no duplicates */
			seen[pid][i] = 1;
			assert_string_equal(ev[k].registry, "reg.test:5000");
		}
		total += n;
		dd_push_events_free(ev, n);
	}
	for (int i = 0; i < POSTERS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(p[i].failures, 0);
	}
	assert_int_equal(total, POSTERS * POSTS);
	assert_true(metric(s, "drydock_webhook_events_total", NULL) == POSTERS * POSTS);
	assert_true(metric(s, "drydock_webhook_requests_total", "status=202") == POSTERS * POSTS);
	dd_server_stop(s);
}

/* ---- raw sockets: what curl would never send ---- */

/* Send req (len bytes, then `extra` bytes of padding), read the answer's
 * status line into status (empty when the server closed without one). */
static void raw_request(int port, const char *req, size_t len, size_t extra, char *status, size_t sn)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char buf[4096], pad[65536];
	ssize_t got, total = 0;
	struct timeval tv = { 10, 0 };

	status[0] = '\0';
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (send(fd, req, len, MSG_NOSIGNAL) < 0)
		goto read;
	memset(pad, ' ', sizeof(pad));
	while (extra > 0) {
		size_t k = extra < sizeof(pad) ? extra : sizeof(pad);
		ssize_t w = send(fd, pad, k, MSG_NOSIGNAL);
		if (w <= 0)
			break; /* the server answered and closed: fine */
		extra -= (size_t)w;
	}
read:
	while (total < (ssize_t)sizeof(buf) - 1 && (got = recv(fd, buf + total, sizeof(buf) - 1 - (size_t)total, 0)) > 0)
		total += got;
	buf[total > 0 ? total : 0] = '\0';
	close(fd);
	{
		size_t n = strcspn(buf, "\r\n");
		if (n >= sn)
			n = sn - 1;
		memcpy(status, buf, n);
		status[n] = '\0';
	}
}

static void test_raw_hostile_requests(void **state)
{
	dd_server *s = start("k", NULL);
	int port = dd_server_port(s);
	char st[256], req[512];
	int n;
	(void)state;

	/* a big body without "Expect: 100-continue": answered 413 from the headers */
	n = snprintf(req, sizeof(req),
		     "POST /webhook HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\nContent-Length: %zu\r\n\r\n",
		     (size_t)3 * DD_WEBHOOK_MAX);
	raw_request(port, req, (size_t)n, 3 * DD_WEBHOOK_MAX, st, sizeof(st));
	assert_string_equal(st, "HTTP/1.1 413 Content Too Large");
	/* wrong secret, body following: 401 */
	n = snprintf(req, sizeof(req),
		     "POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n");
	raw_request(port, req, (size_t)n, 100000, st, sizeof(st));
	assert_string_equal(st, "HTTP/1.1 401 Unauthorized");
	/* an absurd Content-Length */
	n = snprintf(req, sizeof(req),
		     "POST /webhook HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n"
		     "Content-Length: 99999999999999999999999\r\n\r\n");
	raw_request(port, req, (size_t)n, 0, st, sizeof(st));
	assert_true(strncmp(st, "HTTP/1.1 4", 10) == 0);
	/* HTTP/1.0 without a body */
	n = snprintf(req, sizeof(req), "POST /webhook HTTP/1.0\r\nAuthorization: Bearer k\r\n\r\n");
	raw_request(port, req, (size_t)n, 0, st, sizeof(st));
	assert_non_null(strstr(st, " 400 Bad Request")); /* the empty payload */
	/* garbage */
	raw_request(port, "\x01\x02 \xff\r\n\r\n", 8, 0, st, sizeof(st));
	assert_true(st[0] == '\0' || strstr(st, " 400 "));
	/* a header flood */
	{
		size_t big = 200000;
		char *flood = malloc(big + 64);
		int k = snprintf(flood, 64, "GET /healthz HTTP/1.1\r\nX-A: ");
		memset(flood + k, 'a', big);
		memcpy(flood + k + big, "\r\n\r\n", 4);
		raw_request(port, flood, (size_t)k + big + 4, 0, st, sizeof(st));
		assert_true(st[0] == '\0' || strstr(st, " 431 ") || strstr(st, " 400 ") || strstr(st, " 413 "));
		free(flood);
	}
	/* still serving */
	raw_request(port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 35, 0, st, sizeof(st));
	assert_string_equal(st, "HTTP/1.1 200 OK");
	assert_true(metric(s, "drydock_webhook_requests_total", "status=413") == 1);
	assert_true(metric(s, "drydock_webhook_requests_total", "status=401") == 1);
	dd_server_stop(s);
}

/* ---- waiting, interrupting, restarting ---- */

static long long ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static dd_server *g_sig_server;

static void on_alarm(int sig)
{
	(void)sig;
	dd_server_interrupt(g_sig_server);
}

static void test_wait_timeout_and_interrupt(void **state)
{
	dd_server *s = start(NULL, NULL);
	dd_push_event *ev;
	size_t n;
	long long t0;
	struct sigaction sa, old;
	(void)state;

	t0 = ms_now();
	assert_int_equal(dd_server_wait(s, 200, &ev, &n), 0);
	assert_true(ms_now() - t0 >= 190);
	assert_true(ms_now() - t0 < 2000);
	assert_int_equal(dd_server_wait(s, 0, &ev, &n), 0);

	/* an interrupt pending before the wait ends it at once */
	dd_server_interrupt(s);
	t0 = ms_now();
	assert_int_equal(dd_server_wait(s, -1, &ev, &n), 0);
	assert_true(ms_now() - t0 < 1000);

	/* from a signal handler, into an unlimited wait */
	g_sig_server = s;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, &old);
	alarm(1);
	t0 = ms_now();
	assert_int_equal(dd_server_wait(s, -1, &ev, &n), 0);
	assert_true(ms_now() - t0 >= 500 && ms_now() - t0 < 5000);
	sigaction(SIGALRM, &old, NULL);
	dd_server_stop(s);
	dd_server_stop(NULL);
}

static void test_restart_and_listen_errors(void **state)
{
	dd_server *s = NULL, *s2 = NULL;
	dd_error e = DD_ERROR_INIT;
	dd_buf dist = DD_BUF_INIT;
	char addr[64], url[128];
	int port;
	resp r;
	(void)state;

	slurp("distribution-push-tag.json", &dist);
	/* 20 start/stop cycles, events left in the queue freed by stop */
	for (int i = 0; i < 20; i++) {
		s = start(NULL, NULL);
		url_of(url, sizeof(url), s, "/webhook");
		http(NULL, NULL, url, dist.data, dist.len, NULL, 0, &r);
		assert_int_equal(r.status, 202);
		dd_buf_release(&r.body);
		dd_server_stop(s);
	}
	/* the same port again right after a stop */
	s = start(NULL, NULL);
	port = dd_server_port(s);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	assert_int_equal(dd_server_start(&s2, addr, NULL, NULL, &e), DD_EENV);
	assert_null(s2);
	assert_non_null(strstr(e.msg, "Address already in use"));
	assert_non_null(strstr(e.msg, addr));
	dd_server_stop(s);
	assert_int_equal(dd_server_start(&s, addr, NULL, NULL, &e), 0);
	assert_int_equal(dd_server_port(s), port);
	dd_server_stop(s);

	static const char *const bad[] = { "", "9095", "127.0.0.1", "::1:80", "[::1]80", "127.0.0.1:x",
					   "127.0.0.1:70000", "127.0.0.1:" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = (dd_server *)1;
		if (dd_server_start(&s, bad[i], NULL, NULL, &e) != DD_EUSAGE)
			fail_msg("'%s' accepted", bad[i]);
		assert_null(s);
	}
	assert_int_equal(dd_server_start(&s, "no-such-host.invalid:0", NULL, NULL, &e), DD_EENV);

	/* IPv6 loopback, when the host has it */
	if (dd_server_start(&s, "[::1]:0", NULL, NULL, &e) == 0) {
		snprintf(url, sizeof(url), "http://[::1]:%d/healthz", dd_server_port(s));
		assert_int_equal(http(NULL, NULL, url, NULL, 0, NULL, 0, &r), CURLE_OK);
		assert_int_equal(r.status, 200);
		dd_buf_release(&r.body);
		dd_server_stop(s);
	}
	dd_buf_release(&dist);
}

/* ---- a real docker-registry notifying the server ---- */

static int have(const char *prog)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", prog);
	return system(cmd) == 0;
}

static int free_port(void)
{
	struct sockaddr_in a;
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	getsockname(fd, (struct sockaddr *)&a, &l);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static pid_t g_registry = -1;
static char g_regdir[64];

/* Teardown: the registry and its directory go even when an assertion failed. */
static int stop_registry(void **state)
{
	char cmd[128];
	(void)state;
	if (g_registry > 0) {
		kill(g_registry, SIGTERM);
		waitpid(g_registry, NULL, 0);
		g_registry = -1;
	}
	if (g_regdir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_regdir);
		if (system(cmd) != 0)
			return -1;
		g_regdir[0] = '\0';
	}
	return 0;
}

static void test_real_registry(void **state)
{
	char dir[] = "/tmp/dd-test-server-XXXXXX", path[512], cmd[2048], url[128];
	dd_server *s;
	pid_t reg;
	int rport, ok = 0, found = 0;
	FILE *f;
	(void)state;

	if (!have("docker-registry") || !have("skopeo") || !have("python3")) {
		skip(); /* cmocka prints the skip; the reason is in docs/webhooks.md */
		return;
	}
	assert_non_null(mkdtemp(dir));
	snprintf(g_regdir, sizeof(g_regdir), "%s", dir);
	s = start("reg-secret", NULL);
	rport = free_port();
	snprintf(path, sizeof(path), "%s/config.yml", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f,
		"version: 0.1\n"
		"log: {level: error, accesslog: {disabled: true}}\n"
		"storage: {filesystem: {rootdirectory: %s/data}}\n"
		"http: {addr: 127.0.0.1:%d}\n"
		"notifications:\n"
		"  endpoints:\n"
		"    - name: drydock\n"
		"      url: http://127.0.0.1:%d/webhook/distribution\n"
		"      headers: {Authorization: [Bearer reg-secret]}\n"
		"      timeout: 2s\n"
		"      threshold: 3\n"
		"      backoff: 1s\n",
		dir, rport, dd_server_port(s));
	fclose(f);
	reg = fork();
	assert_true(reg >= 0);
	g_registry = reg;
	if (reg == 0) {
		snprintf(path, sizeof(path), "%s/registry.log", dir);
		if (!freopen(path, "w", stdout) || !freopen(path, "a", stderr))
			_exit(126);
		snprintf(path, sizeof(path), "%s/config.yml", dir);
		execlp("docker-registry", "docker-registry", "serve", path, (char *)NULL);
		_exit(127);
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v2/", rport);
	for (int i = 0; i < 100 && !ok; i++) {
		resp r;
		ok = http(NULL, NULL, url, NULL, 0, NULL, 0, &r) == CURLE_OK && r.status == 200;
		dd_buf_release(&r.body);
		if (!ok)
			usleep(100000);
	}
	assert_true(ok);
	snprintf(cmd, sizeof(cmd),
		 "python3 %s/scripts/fixtures/multiarch-layout %s/ma >/dev/null && "
		 "skopeo copy -q --all --dest-tls-verify=false oci:%s/ma:multi docker://127.0.0.1:%d/library/multi:3.19",
		 root(), dir, dir, rport);
	assert_int_equal(system(cmd), 0);
	/* the 4 child manifests and then the tagged index arrive (blobs are ignored) */
	for (long long until = ms_now() + 30000; found < 5 && ms_now() < until;) {
		dd_push_event *ev;
		size_t n;
		dd_server_wait(s, 1000, &ev, &n);
		for (size_t k = 0; k < n; k++) {
			assert_string_equal(ev[k].repository, "library/multi");
			snprintf(path, sizeof(path), "127.0.0.1:%d", rport);
			assert_string_equal(ev[k].registry, path);
			assert_non_null(ev[k].digest);
			if (ev[k].tag) {
				assert_string_equal(ev[k].tag, "3.19");
				assert_string_equal(ev[k].media_type, "application/vnd.oci.image.index.v1+json");
			}
			found++;
		}
		dd_push_events_free(ev, n);
	}
	assert_int_equal(found, 5);
	assert_true(metric(s, "drydock_webhook_requests_total", "status=401") <= 0);
	dd_server_stop(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_webhook_to_events),
		cmocka_unit_test(test_bad_payload),
		cmocka_unit_test(test_secret),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_metrics_endpoint),
		cmocka_unit_test(test_concurrent_posters),
		cmocka_unit_test(test_raw_hostile_requests),
		cmocka_unit_test(test_wait_timeout_and_interrupt),
		cmocka_unit_test(test_restart_and_listen_errors),
		cmocka_unit_test_teardown(test_real_registry, stop_registry),
	};
	int rc;

	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests_name("server", tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
