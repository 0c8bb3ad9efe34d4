/* Unit tests for src/watch/webhook.c: every sample payload of
 * tests/data/watch/webhooks parsed field by field (the distribution ones
 * were captured from Debian's docker-registry 2.8), what is ignored, and
 * malformed, hostile and oversized payloads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/reader.h"
#include "watch/webhook.h"

#define DIST_MT "application/vnd.docker.distribution.events.v1+json"

static void slurp(const char *rel, dd_buf *b)
{
	char path[4096];
	const char *root = getenv("DD_ROOT");
	dd_error e = DD_ERROR_INIT;
	snprintf(path, sizeof(path), "%s/tests/data/watch/webhooks/%s", root ? root : ".", rel);
	if (dd_file_slurp(path, b, 4 << 20, &e) != 0)
		fail_msg("cannot read %s: %s", path, e.msg);
}

/* Parse a sample file; returns the events, count in *n. */
static dd_push_event *parse_file(const char *rel, const char *ctype, size_t *n)
{
	dd_buf b = DD_BUF_INIT;
	dd_error e = DD_ERROR_INIT;
	dd_push_event *ev = NULL;
	int rc;

	slurp(rel, &b);
	rc = dd_webhook_parse(b.data, b.len, ctype, &ev, n, &e);
	if (rc != 0)
		fail_msg("%s: %s", rel, e.msg);
	dd_buf_release(&b);
	return ev;
}

static void assert_str_or_null(const char *got, const char *want)
{
	if (!want)
		assert_null(got);
	else
		assert_string_equal(got, want);
}

static void check_event(const dd_push_event *e, const char *source, const char *registry,
			const char *repo, const char *tag, const char *digest, const char *mt)
{
	assert_string_equal(e->source, source);
	assert_str_or_null(e->registry, registry);
	assert_string_equal(e->repository, repo);
	assert_str_or_null(e->tag, tag);
	assert_str_or_null(e->digest, digest);
	assert_str_or_null(e->media_type, mt);
}

/* Parse a literal; returns the code, err filled. */
static int parse_str(const char *s, dd_push_event **ev, size_t *n, dd_error *e)
{
	return dd_webhook_parse(s, strlen(s), NULL, ev, n, e);
}

/* ---- distribution (real payloads from docker-registry 2.8.2) ---- */

static void test_distribution_push_tag(void **state)
{
	size_t n;
	dd_push_event *ev;
	(void)state;

	ev = parse_file("distribution-push-tag.json", DIST_MT, &n);
	assert_int_equal(n, 1);
	check_event(&ev[0], "distribution", "127.0.0.1:18778", "library/base", "12",
		    "sha256:2d70659524cd8231243ab412cbb70c505a429a149c993836f38e50aa2194d7b3",
		    "application/vnd.oci.image.manifest.v1+json");
	dd_push_events_free(ev, n);
}

static void test_distribution_index_and_untagged(void **state)
{
	size_t n;
	dd_push_event *ev;
	(void)state;

	ev = parse_file("distribution-push-index.json", DIST_MT, &n);
	assert_int_equal(n, 1);
	check_event(&ev[0], "distribution", "127.0.0.1:18778", "library/multi", "3.19",
		    "sha256:c149ac6dbb893406c383ab1ea042369d73408e50663d999233e66c9bfef3820b",
		    "application/vnd.oci.image.index.v1+json");
	dd_push_events_free(ev, n);

	/* a child manifest of the index: pushed by digest, no tag */
	ev = parse_file("distribution-push-untagged.json", DIST_MT, &n);
	assert_int_equal(n, 1);
	check_event(&ev[0], "distribution", "127.0.0.1:18778", "library/multi", NULL,
		    "sha256:7e427197147fced08836d797201a1042d1a1f38b7d74eda609d1d399299a9327",
		    "application/vnd.oci.image.manifest.v1+json");
	dd_push_events_free(ev, n);
}

/* `skopeo copy --all` of a 4-manifest index: 13 events, 5 of them
 * manifests (4 children without a tag, then the tagged index). */
static void test_distribution_batch(void **state)
{
	static const char *const children[] = {
		"sha256:a4a09909942f433499ad64440b2fbfc4b800672ce048ee289e99e3ca3bc0a494",
		"sha256:7e427197147fced08836d797201a1042d1a1f38b7d74eda609d1d399299a9327",
		"sha256:305d08ad15f0d171077054c365c792a2d6c1eb412d680db5a647d0b4f9f893c5",
		"sha256:4f467abda6e4214463a196cbe03402a2d270f13d3c626a21cee99bc0f6f6d848",
	};
	size_t n;
	dd_push_event *ev;
	(void)state;

	ev = parse_file("distribution-batch.json", NULL, &n);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < 4; i++)
		check_event(&ev[i], "distribution", "127.0.0.1:18778", "library/multi", NULL, children[i],
			    "application/vnd.oci.image.manifest.v1+json");
	check_event(&ev[4], "distribution", "127.0.0.1:18778", "library/multi", "3.19",
		    "sha256:c149ac6dbb893406c383ab1ea042369d73408e50663d999233e66c9bfef3820b",
		    "application/vnd.oci.image.index.v1+json");
	dd_push_events_free(ev, n);
}

static void test_distribution_ignored(void **state)
{
	static const char *const files[] = { "distribution-push-blob.json", "distribution-mount.json",
					     "distribution-pull-manifest.json", "distribution-delete-tag.json" };
	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		size_t n = 99;
		dd_push_event *ev = parse_file(files[i], DIST_MT, &n);
		if (n != 0)
			fail_msg("%s: %zu events, want 0", files[i], n);
		assert_null(ev);
	}
}

/* Without request.host the registry comes from target.url; a hostile
 * request.host is dropped, not trusted. */
static void test_distribution_host_fallbacks(void **state)
{
	dd_push_event *ev;
	dd_error e = DD_ERROR_INIT;
	size_t n;
	(void)state;

	assert_int_equal(parse_str("{\"events\":[{\"action\":\"push\",\"target\":{\"mediaType\":"
				   "\"application/vnd.docker.distribution.manifest.v2+json\",\"repository\":\"a/b\","
				   "\"url\":\"https://reg.example.com:5000/v2/a/b/manifests/sha256:"
				   "2d70659524cd8231243ab412cbb70c505a429a149c993836f38e50aa2194d7b3\",\"tag\":\"v1\"}}]}",
				   &ev, &n, &e),
			 0);
	assert_int_equal(n, 1);
	check_event(&ev[0], "distribution", "reg.example.com:5000", "a/b", "v1", NULL,
		    "application/vnd.docker.distribution.manifest.v2+json");
	dd_push_events_free(ev, n);

	assert_int_equal(parse_str("{\"events\":[{\"action\":\"push\",\"target\":{\"repository\":\"a\","
				   "\"tag\":\"v1\"},\"request\":{\"host\":\"evil/../x\\n\"}}]}",
				   &ev, &n, &e),
			 0);
	assert_int_equal(n, 1);
	assert_null(ev[0].registry);
	assert_null(ev[0].media_type);
	dd_push_events_free(ev, n);

	/* repositories named like the URL routes: the last segment decides */
	assert_int_equal(parse_str("{\"events\":[{\"action\":\"push\",\"target\":{\"mediaType\":"
				   "\"application/octet-stream\",\"repository\":\"manifests\",\"digest\":\"sha256:"
				   "2d70659524cd8231243ab412cbb70c505a429a149c993836f38e50aa2194d7b3\",\"url\":"
				   "\"http://r:5000/v2/manifests/blobs/sha256:"
				   "2d70659524cd8231243ab412cbb70c505a429a149c993836f38e50aa2194d7b3\"}},"
				   "{\"action\":\"push\",\"target\":{\"mediaType\":\"application/x-unknown\","
				   "\"repository\":\"blobs\",\"digest\":\"sha256:"
				   "2d70659524cd8231243ab412cbb70c505a429a149c993836f38e50aa2194d7b3\",\"url\":"
				   "\"http://r:5000/v2/blobs/manifests/sha256:"
				   "2d70659524cd8231243ab412cbb70c505a429a149c993836f38e50aa2194d7b3?x=/blobs/y\"}}]}",
				   &ev, &n, &e),
			 0);
	assert_int_equal(n, 1);
	check_event(&ev[0], "distribution", "r:5000", "blobs", NULL,
		    "sha256:2d70659524cd8231243ab412cbb70c505a429a149c993836f38e50aa2194d7b3", "application/x-unknown");
	dd_push_events_free(ev, n);

	/* an empty envelope is fine */
	assert_int_equal(parse_str("{\"events\":[]}", &ev, &n, &e), 0);
	assert_int_equal(n, 0);
	assert_null(ev);
}

/* ---- ACR ---- */

static void test_acr(void **state)
{
	size_t n;
	dd_push_event *ev;
	(void)state;

	ev = parse_file("acr-push.json", "application/json", &n);
	assert_int_equal(n, 1);
	check_event(&ev[0], "acr", "myregistry.azurecr.io", "hello-world", "v1",
		    "sha256:edac8c06268a586c573a5918b7a08fc63fbf598df9c2afb4085697460c90f258",
		    "application/vnd.docker.distribution.manifest.v2+json");
	dd_push_events_free(ev, n);

	ev = parse_file("acr-push-oci-nested.json", "application/json", &n);
	assert_int_equal(n, 1);
	check_event(&ev[0], "acr", "contoso.azurecr.io", "team/base", "12",
		    "sha256:fc3af6f61047f8f86f4d4fdcebce4d4351bbb4b5395d035335cb4e3e65e4de42",
		    "application/vnd.oci.image.index.v1+json");
	dd_push_events_free(ev, n);

	/* chart_push has no request: no registry host */
	ev = parse_file("acr-chart-push.json", "application/json", &n);
	assert_int_equal(n, 1);
	check_event(&ev[0], "acr", NULL, "repo", "wordpress-5.4.0.tgz",
		    "sha256:2438d04e33a87f34237fe9fc81dc2cc208f6f36862faadf21a663b921c71b339",
		    "application/vnd.acr.helm.chart");
	dd_push_events_free(ev, n);

	ev = parse_file("acr-delete.json", "application/json", &n);
	assert_int_equal(n, 0);
	assert_null(ev);
	ev = parse_file("acr-chart-delete.json", "application/json", &n);
	assert_int_equal(n, 0);
	assert_null(ev);
}

/* ---- Harbor ---- */

static void test_harbor(void **state)
{
	size_t n;
	dd_push_event *ev;
	(void)state;

	ev = parse_file("harbor-push-artifact.json", "application/json", &n);
	assert_int_equal(n, 1);
	check_event(&ev[0], "harbor", "harbor.example.com", "library/nginx", "1.25",
		    "sha256:232d91264dc93659e141ca457ce6c1381548f6a680513e99969a94c825f5cbf5", NULL);
	dd_push_events_free(ev, n);

	/* pushed by digest: Harbor repeats the digest in "tag" */
	ev = parse_file("harbor-push-digest.json", "application/json", &n);
	assert_int_equal(n, 1);
	check_event(&ev[0], "harbor", "harbor.example.com:8443", "platform/team/base", NULL,
		    "sha256:e958bbfe2582732150a9a10343414694d8a19917e6e84ef2aa201240cc0abc4a", NULL);
	dd_push_events_free(ev, n);

	ev = parse_file("harbor-cloudevents-push.json", "application/cloudevents+json", &n);
	assert_int_equal(n, 1);
	check_event(&ev[0], "harbor", "core.harbor.domain", "goharbor/harbor-core", "v2.10.0",
		    "sha256:5cc2ff7539ecc581a3b3479643fd58e4c30156213273ed00088d1a76a55726cf", NULL);
	dd_push_events_free(ev, n);

	static const char *const ignored[] = { "harbor-pull-artifact.json", "harbor-delete-artifact.json",
					       "harbor-cloudevents-pull.json" };
	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++) {
		ev = parse_file(ignored[i], NULL, &n);
		if (n != 0)
			fail_msg("%s: %zu events, want 0", ignored[i], n);
	}
}

/* Harbor without repo_full_name: namespace/name, else the resource URL. */
static void test_harbor_repository_fallbacks(void **state)
{
	dd_push_event *ev;
	dd_error e = DD_ERROR_INIT;
	size_t n;
	(void)state;

	assert_int_equal(parse_str("{\"type\":\"PUSH_ARTIFACT\",\"occur_at\":1,\"event_data\":{\"resources\":"
				   "[{\"tag\":\"v1\",\"resource_url\":\"h.example/p/app:v1\"}],"
				   "\"repository\":{\"name\":\"app\",\"namespace\":\"p\"}}}",
				   &ev, &n, &e),
			 0);
	assert_int_equal(n, 1);
	check_event(&ev[0], "harbor", "h.example", "p/app", "v1", NULL, NULL);
	dd_push_events_free(ev, n);

	assert_int_equal(parse_str("{\"type\":\"PUSH_ARTIFACT\",\"occur_at\":1,\"event_data\":{\"resources\":"
				   "[{\"tag\":\"v2\",\"resource_url\":\"https://h.example:8443/p/sub/app:v2\"},"
				   "{\"tag\":\"v3\",\"resource_url\":\"h.example:8443/p/sub/app:v3\"}]}}",
				   &ev, &n, &e),
			 0);
	assert_int_equal(n, 2);
	check_event(&ev[0], "harbor", "h.example:8443", "p/sub/app", "v2", NULL, NULL);
	check_event(&ev[1], "harbor", "h.example:8443", "p/sub/app", "v3", NULL, NULL);
	dd_push_events_free(ev, n);
}

/* ---- malformed and hostile ---- */

static void test_malformed(void **state)
{
	static const struct {
		const char *body, *want;
	} cases[] = {
		{ "", "empty payload" },
		{ "{", "invalid JSON" },
		{ "[{\"action\":\"push\"}]", "Event Grid" },
		{ "42", "invalid JSON" },
		{ "{\"hello\":1}", "not a distribution, ACR or Harbor" },
		{ "{\"events\":{}}", "events: not an array" },
		{ "{\"events\":[1]}", "events[0]: not an object" },
		{ "{\"events\":[{}]}", "events[0]: no action" },
		{ "{\"events\":[{\"action\":7}]}", "events[0].action: not a string" },
		{ "{\"events\":[{\"action\":\"push\"}]}", "events[0]: push without a target" },
		{ "{\"events\":[{\"action\":\"push\",\"target\":[]}]}", "events[0].target: not an object" },
		{ "{\"events\":[{\"action\":\"push\",\"target\":{\"tag\":\"v1\"}}]}", "events[0].target: no repository" },
		{ "{\"events\":[{\"action\":\"push\",\"target\":{\"tag\":5,\"repository\":\"a\"}}]}",
		  "events[0].target.tag: not a string" },
		{ "{\"events\":[{\"action\":\"push\",\"target\":{\"tag\":\"v1\",\"repository\":\"../../etc\"}}]}",
		  "invalid repository name '../../etc'" },
		{ "{\"events\":[{\"action\":\"push\",\"target\":{\"tag\":\"v1\",\"repository\":\"Upper/Case\"}}]}",
		  "invalid repository name" },
		{ "{\"events\":[{\"action\":\"push\",\"target\":{\"tag\":\"v1\\nx\",\"repository\":\"a\"}}]}",
		  "invalid tag 'v1\\x0ax'" },
		{ "{\"events\":[{\"action\":\"push\",\"target\":{\"tag\":\"v\\u0000\",\"repository\":\"a\"}}]}",
		  "is not allowed" },
		{ "{\"events\":[{\"action\":\"push\",\"target\":{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		  "\"repository\":\"a\",\"digest\":\"sha256:abc\"}}]}", "invalid digest 'sha256:abc'" },
		{ "{\"events\":[{\"action\":\"push\",\"target\":{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		  "\"repository\":\"a\"}}]}", "neither a tag nor a digest" },
		{ "{\"events\":[{\"action\":\"push\",\"target\":{\"repository\":\"a\",\"tag\":\"v\"}},"
		  "{\"action\":\"push\",\"target\":{\"repository\":\"a\",\"tag\":\"v\"},\"request\":\"x\"}]}",
		  "events[1].request: not an object" },
		{ "{\"action\":\"push\"}", "target: missing in a push" },
		{ "{\"action\":\"push\",\"target\":{\"repository\":\"r\",\"tag\":\"t\"},\"request\":{\"host\":[]}}",
		  "request.host: not a string" },
		{ "{\"action\":\"\"}", "action: empty" },
		{ "{\"type\":\"PUSH_ARTIFACT\",\"occur_at\":1}", "event_data: missing in a push" },
		{ "{\"type\":\"PUSH_ARTIFACT\",\"event_data\":{\"resources\":{}}}", "event_data.resources: not an array" },
		{ "{\"type\":\"PUSH_ARTIFACT\",\"event_data\":{}}", "a push without resources" },
		{ "{\"type\":\"PUSH_ARTIFACT\",\"event_data\":{\"resources\":[\"x\"]}}", "event_data.resources[0]: not an object" },
		{ "{\"type\":\"PUSH_ARTIFACT\",\"event_data\":{\"resources\":[{\"tag\":\"v\"}]}}", "no repository" },
		{ "{\"specversion\":\"1.0\",\"type\":\"com.example.other\"}", "not a Harbor event" },
		{ "{\"specversion\":\"1.0\",\"type\":\"harbor.artifact.pushed\"}", "data: missing in a push" },
		{ "{\"events\":[],\"events\":[]}", "duplicate" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		dd_error e = DD_ERROR_INIT;
		dd_push_event *ev = (dd_push_event *)1;
		size_t n = 7;
		int rc = parse_str(cases[i].body, &ev, &n, &e);
		if (rc != DD_EINPUT || !strstr(e.msg, cases[i].want))
			fail_msg("case %zu (%s): rc %d, message '%s', want '%s'", i, cases[i].body, rc, e.msg,
				 cases[i].want);
		assert_null(ev);
		assert_int_equal(n, 0);
		assert_null(strchr(e.msg, '\n'));
	}
}

/* Every prefix of every sample either parses or fails cleanly. */
static void test_truncated(void **state)
{
	static const char *const files[] = { "distribution-batch.json", "acr-push.json",
					     "harbor-push-artifact.json", "harbor-cloudevents-push.json" };
	(void)state;
	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		dd_buf b = DD_BUF_INIT;
		slurp(files[f], &b);
		for (size_t len = 0; len < b.len - 1; len++) {
			dd_error e = DD_ERROR_INIT;
			dd_push_event *ev;
			size_t n;
			/* a heap copy of exactly len bytes: ASan sees any over-read */
			char *p = malloc(len ? len : 1);
			memcpy(p, b.data, len);
			int rc = dd_webhook_parse(p, len, NULL, &ev, &n, &e);
			free(p);
			if (rc != DD_EINPUT)
				fail_msg("%s cut at %zu: rc %d", files[f], len, rc);
		}
		dd_buf_release(&b);
	}
}

static void test_size_limit(void **state)
{
	size_t big = DD_WEBHOOK_MAX + 1, n;
	char *p = malloc(big);
	dd_push_event *ev;
	dd_error e = DD_ERROR_INIT;
	(void)state;

	/* a valid envelope padded with whitespace past 1 MiB */
	memset(p, ' ', big);
	memcpy(p, "{\"events\":[]}", 13);
	assert_int_equal(dd_webhook_parse(p, big, NULL, &ev, &n, &e), DD_EINPUT);
	assert_non_null(strstr(e.msg, "over the 1048576 byte limit"));
	/* exactly 1 MiB is accepted */
	assert_int_equal(dd_webhook_parse(p, DD_WEBHOOK_MAX, NULL, &ev, &n, &e), 0);
	assert_int_equal(n, 0);
	free(p);
}

/* 10,000 events in one envelope (under 1 MiB) all come out in order. */
static void test_many_events(void **state)
{
	dd_buf b = DD_BUF_INIT;
	dd_push_event *ev;
	dd_error e = DD_ERROR_INIT;
	size_t n;
	(void)state;

	dd_buf_puts(&b, "{\"events\":[");
	for (int i = 0; i < 10000; i++)
		dd_buf_printf(&b, "%s{\"action\":\"push\",\"target\":{\"repository\":\"r%d\",\"tag\":\"t\"}}",
			      i ? "," : "", i);
	dd_buf_puts(&b, "]}");
	assert_true(b.len < DD_WEBHOOK_MAX);
	assert_int_equal(dd_webhook_parse(b.data, b.len, NULL, &ev, &n, &e), 0);
	assert_int_equal(n, 10000);
	assert_string_equal(ev[0].repository, "r0");
	assert_string_equal(ev[9999].repository, "r9999");
	dd_push_events_free(ev, n);
	dd_buf_release(&b);
}

static void test_validators(void **state)
{
	(void)state;
	assert_true(dd_webhook_valid_repository("library/base"));
	assert_true(dd_webhook_valid_repository("a__b/c-d/e.f/g--h"));
	assert_false(dd_webhook_valid_repository("a___b"));
	assert_false(dd_webhook_valid_repository("a/"));
	assert_false(dd_webhook_valid_repository("/a"));
	assert_false(dd_webhook_valid_repository("a//b"));
	assert_false(dd_webhook_valid_repository("a/./b"));
	assert_false(dd_webhook_valid_repository("a-"));
	assert_false(dd_webhook_valid_repository(""));
	assert_true(dd_webhook_valid_tag("v1.2.3_rc-1"));
	assert_true(dd_webhook_valid_tag("_x"));
	assert_false(dd_webhook_valid_tag(".x"));
	assert_false(dd_webhook_valid_tag("-x"));
	assert_false(dd_webhook_valid_tag("a:b"));
	{
		char t[130];
		memset(t, 'a', 129);
		t[129] = '\0';
		assert_false(dd_webhook_valid_tag(t));
		t[128] = '\0';
		assert_true(dd_webhook_valid_tag(t));
	}
	assert_true(dd_webhook_valid_digest("sha256:2d70659524cd8231243ab412cbb70c505a429a149c993836f38e50aa2194d7b3"));
	assert_false(dd_webhook_valid_digest("sha256:2D70659524cd8231243ab412cbb70c505a429a149c993836f38e50aa2194d7b3"));
	assert_false(dd_webhook_valid_digest("sha256:2d70"));
	assert_true(dd_webhook_valid_digest("multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8"));
	assert_false(dd_webhook_valid_digest("sha256"));
	assert_false(dd_webhook_valid_digest(":abc"));
	assert_false(dd_webhook_valid_digest("x:a/b"));
	assert_true(dd_webhook_valid_host("registry.example.com"));
	assert_true(dd_webhook_valid_host("127.0.0.1:5000"));
	assert_true(dd_webhook_valid_host("[::1]:5000"));
	assert_true(dd_webhook_valid_host("[fe80::1]"));
	assert_false(dd_webhook_valid_host("a..b"));
	assert_false(dd_webhook_valid_host("a:0"));
	assert_false(dd_webhook_valid_host("a:65536"));
	assert_false(dd_webhook_valid_host("a:"));
	assert_false(dd_webhook_valid_host("user@a"));
	assert_false(dd_webhook_valid_host("a/b"));
	assert_false(dd_webhook_valid_host("[::1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_distribution_push_tag),
		cmocka_unit_test(test_distribution_index_and_untagged),
		cmocka_unit_test(test_distribution_batch),
		cmocka_unit_test(test_distribution_ignored),
		cmocka_unit_test(test_distribution_host_fallbacks),
		cmocka_unit_test(test_acr),
		cmocka_unit_test(test_harbor),
		cmocka_unit_test(test_harbor_repository_fallbacks),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_many_events),
		cmocka_unit_test(test_validators),
	};
	return cmocka_run_group_tests_name("webhook", tests, NULL, NULL);
}
