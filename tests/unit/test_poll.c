/* Unit tests for src/watch/poll.c: against Debian's docker-registry on
 * loopback (images pushed with skopeo from the multiarch fixture): an
 * unchanged tag costs one HEAD, a moved tag is reported with its new
 * digest, an index with its per-platform digests, a grown index needs no
 * rebuild; against tests/registry/throttled: 429/503 with Retry-After
 * (seconds and HTTP-date) and rate-limit headers, never retried, and
 * credentials by reference.  Plus the pure parts: index parsing, the
 * rebuild rule and the jittered delay.  Skips visibly when docker-registry,
 * skopeo or python3 are missing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "registry/registry.h"
#include "watch/poll.h"

static char dir[256];
static const char *root;
static int reg_port, reg_pid, thr_port, thr_pid;
static char why_reg[200], why_thr[200];
/* the multiarch fixture's digests */
static char d_index[80], d_amd64[80], d_arm64[80], d_armv7[80], d_attest[80], d_single[80];

static int run(const char *fmt, ...) DD_PRINTF(1, 2);
static int run(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static int have(const char *tool)
{
	return run("command -v %s >/dev/null 2>&1", tool) == 0;
}

static void read_fixture_env(const char *path)
{
	char line[256];
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *eq = strchr(line, '='), *v;
		if (!eq)
			continue;
		*eq = '\0';
		v = eq + 1;
		v[strcspn(v, "\n")] = '\0';
		char *dst = !strcmp(line, "INDEX") ? d_index : !strcmp(line, "AMD64") ? d_amd64
			  : !strcmp(line, "ARM64") ? d_arm64 : !strcmp(line, "ARMV7") ? d_armv7
			  : !strcmp(line, "ATTEST") ? d_attest : !strcmp(line, "SINGLE") ? d_single : NULL;
		if (dst)
			snprintf(dst, 80, "%s", v);
	}
	fclose(f);
}

static void start_registry(void)
{
	char line[128];
	FILE *p;

	if (!have("docker-registry") || !have("skopeo") || !have("curl")) {
		snprintf(why_reg, sizeof(why_reg), "docker-registry, skopeo or curl not installed");
		return;
	}
	p = popen("cd \"$DD_ROOT\" 2>/dev/null; tests/registry/start plain \"$DD_POLL_DIR/reg\"", "r");
	if (!p || !fgets(line, sizeof(line), p) || sscanf(line, "%d %d", &reg_port, &reg_pid) != 2) {
		snprintf(why_reg, sizeof(why_reg), "the registry did not start");
		reg_port = 0;
		if (p)
			pclose(p);
		return;
	}
	pclose(p);
	if (run("cd '%s' && scripts/fixtures/multiarch-layout '%s/ma' >'%s/ma.env'", root, dir, dir) ||
	    run("skopeo copy -q --dest-tls-verify=false oci:%s/ma:single docker://127.0.0.1:%d/poll/app:1",
		dir, reg_port) ||
	    run("skopeo copy -q --all --dest-tls-verify=false oci:%s/ma:multi docker://127.0.0.1:%d/poll/multi:1",
		dir, reg_port) ||
	    run("skopeo copy -q --dest-tls-verify=false oci:%s/ma:single docker://127.0.0.1:%d/poll/multi:single",
		dir, reg_port)) {
		snprintf(why_reg, sizeof(why_reg), "cannot push the multiarch fixture with skopeo");
		return;
	}
	char env[320];
	snprintf(env, sizeof(env), "%s/ma.env", dir);
	read_fixture_env(env);
	if (!d_index[0] || !d_single[0])
		snprintf(why_reg, sizeof(why_reg), "the multiarch fixture printed no digests");
}

static void start_throttled(void)
{
	char path[400];
	FILE *f;

	if (!have("python3")) {
		snprintf(why_thr, sizeof(why_thr), "python3 not installed");
		return;
	}
	mkdir((snprintf(path, sizeof(path), "%s/thr", dir), path), 0700);
	if (run("python3 '%s/tests/registry/throttled' '%s/thr' >'%s/thr/log' 2>&1 &", root, dir, dir)) {
		snprintf(why_thr, sizeof(why_thr), "cannot start tests/registry/throttled");
		return;
	}
	snprintf(path, sizeof(path), "%s/thr/port", dir);
	for (int i = 0; i < 100 && access(path, F_OK); i++)
		usleep(50000);
	if (!(f = fopen(path, "r")) || fscanf(f, "%d", &thr_port) != 1) {
		snprintf(why_thr, sizeof(why_thr), "tests/registry/throttled did not start");
		thr_port = 0;
	}
	if (f)
		fclose(f);
	snprintf(path, sizeof(path), "%s/thr/pid", dir);
	if ((f = fopen(path, "r"))) {
		if (fscanf(f, "%d", &thr_pid) != 1)
			thr_pid = 0;
		fclose(f);
	}
}

static int setup(void **state)
{
	(void)state;
	root = getenv("DD_ROOT") ? getenv("DD_ROOT") : ".";
	snprintf(dir, sizeof(dir), "/tmp/dd-poll-test.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	setenv("DD_POLL_DIR", dir, 1);
	setenv("DD_ROOT", root, 1);
	/* no docker credentials of this machine leak into the tests */
	char p[400];
	snprintf(p, sizeof(p), "%s/docker", dir);
	mkdir(p, 0700);
	setenv("DOCKER_CONFIG", p, 1);
	unsetenv("REGISTRY_AUTH_FILE");
	start_registry();
	start_throttled();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (reg_pid > 0)
		kill(reg_pid, SIGTERM);
	if (thr_pid > 0)
		kill(thr_pid, SIGTERM);
	return run("rm -rf '%s'", dir) == 0 ? 0 : -1;
}

#define NEED_REGISTRY()                                                     \
	do {                                                                \
		if (!reg_port || why_reg[0]) {                              \
			print_message("skipped: %s\n", why_reg);            \
			skip();                                             \
		}                                                           \
	} while (0)
#define NEED_THROTTLED()                                                    \
	do {                                                                \
		if (!thr_port || why_thr[0]) {                              \
			print_message("skipped: %s\n", why_thr);            \
			skip();                                             \
		}                                                           \
	} while (0)

static int check(dd_poll_session *s, const char *ref, const char *known, const char *const *plats,
		 size_t n_plats, dd_poll_result *out, dd_error *e)
{
	dd_poll_target t = { ref, plats, n_plats, known };
	return dd_poll_check(s, &t, out, e);
}

static const char *platform_digest(const dd_poll_result *r, const char *name)
{
	for (size_t i = 0; i < r->n_platforms; i++)
		if (!strcmp(r->platforms[i].platform, name))
			return r->platforms[i].digest ? r->platforms[i].digest : "(none)";
	return NULL;
}

/* ---- against docker-registry ---- */

static void test_unchanged_one_head(void **state)
{
	dd_poll_session *s = NULL;
	dd_poll_result r;
	dd_error e = DD_ERROR_INIT;
	char ref[128], known[80];
	(void)state;
	NEED_REGISTRY();
	snprintf(ref, sizeof(ref), "127.0.0.1:%d/poll/app:1", reg_port);
	assert_int_equal(dd_poll_session_new(&s, NULL, 0, &e), 0);
	/* first sight: changed, a single manifest, no platforms to read */
	if (check(s, ref, NULL, NULL, 0, &r, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(r.changed, 1);
	assert_int_equal(r.is_index, 0);
	assert_string_equal(r.digest, d_single);
	assert_string_equal(r.media_type, "application/vnd.oci.image.manifest.v1+json");
	assert_int_equal(r.n_platforms, 0);
	assert_int_equal(r.throttled, 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.requests, 2); /* the /v2/ ping of a new client, and the HEAD */
	snprintf(known, sizeof(known), "%s", r.digest);
	dd_poll_result_release(&r);
	unsigned long before = dd_poll_requests(s);
	for (int i = 0; i < 5; i++) {
		if (check(s, ref, known, NULL, 0, &r, &e))
			fail_msg("%s", e.msg);
		assert_int_equal(r.changed, 0);
		assert_string_equal(r.digest, known);
		assert_int_equal(r.requests, 1); /* one HEAD, nothing else */
		dd_poll_result_release(&r);
	}
	assert_int_equal(dd_poll_requests(s) - before, 5);
	/* an unchanged index is one HEAD too */
	snprintf(ref, sizeof(ref), "127.0.0.1:%d/poll/multi:1", reg_port);
	if (check(s, ref, d_index, NULL, 0, &r, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(r.changed, 0);
	assert_int_equal(r.is_index, 1);
	assert_int_equal(r.n_platforms, 0);
	assert_int_equal(r.requests, 2); /* a new repository: its ping, and the HEAD */
	dd_poll_result_release(&r);
	dd_poll_session_free(s);
}

static void test_changed(void **state)
{
	dd_poll_session *s = NULL;
	dd_poll_result r;
	dd_error e = DD_ERROR_INIT;
	char ref[128];
	(void)state;
	NEED_REGISTRY();
	snprintf(ref, sizeof(ref), "127.0.0.1:%d/poll/moving:1", reg_port);
	assert_int_equal(run("skopeo copy -q --dest-tls-verify=false oci:%s/ma:single "
			     "docker://127.0.0.1:%d/poll/moving:1", dir, reg_port), 0);
	assert_int_equal(dd_poll_session_new(&s, NULL, 0, &e), 0);
	if (check(s, ref, d_single, NULL, 0, &r, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(r.changed, 0);
	dd_poll_result_release(&r);
	/* the tag moves to another image (the linux/amd64 one of the index) */
	assert_int_equal(run("skopeo --override-arch amd64 --override-os linux copy -q "
			     "--dest-tls-verify=false oci:%s/ma:multi docker://127.0.0.1:%d/poll/moving:1",
			     dir, reg_port), 0);
	if (check(s, ref, d_single, NULL, 0, &r, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(r.changed, 1);
	assert_string_equal(r.digest, d_amd64);
	assert_int_equal(r.is_index, 0);
	assert_int_equal(r.requests, 1);
	assert_int_equal(dd_poll_needs_rebuild(&r, NULL, 0), 1);
	dd_poll_result_release(&r);
	/* a deleted tag is DD_EINPUT, HTTP 404 */
	snprintf(ref, sizeof(ref), "127.0.0.1:%d/poll/moving:gone", reg_port);
	assert_int_equal(check(s, ref, d_single, NULL, 0, &r, &e), DD_EINPUT);
	assert_int_equal(r.status, 404);
	assert_null(r.digest);
	assert_non_null(strstr(e.msg, "not found"));
	dd_poll_result_release(&r);
	dd_poll_session_free(s);
}

static void test_index_platforms(void **state)
{
	const char *want[] = { "linux/amd64", "linux/arm64", "windows/amd64" };
	dd_poll_session *s = NULL;
	dd_poll_result r;
	dd_error e = DD_ERROR_INIT;
	char ref[128];
	(void)state;
	NEED_REGISTRY();
	snprintf(ref, sizeof(ref), "127.0.0.1:%d/poll/multi:1", reg_port);
	assert_int_equal(dd_poll_session_new(&s, NULL, 0, &e), 0);
	if (check(s, ref, NULL, NULL, 0, &r, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(r.changed, 1);
	assert_int_equal(r.is_index, 1);
	assert_string_equal(r.digest, d_index);
	assert_string_equal(r.media_type, "application/vnd.oci.image.index.v1+json");
	assert_int_equal(r.requests, 3); /* ping, HEAD, GET of the index */
	/* every real platform, the attestation left out */
	assert_int_equal(r.n_platforms, 3);
	assert_string_equal(platform_digest(&r, "linux/amd64"), d_amd64);
	assert_string_equal(platform_digest(&r, "linux/arm64/v8"), d_arm64);
	assert_string_equal(platform_digest(&r, "linux/arm/v7"), d_armv7);
	dd_poll_result_release(&r);
	/* only the wanted ones, as asked, in that order */
	if (check(s, ref, "sha256:0000000000000000000000000000000000000000000000000000000000000000",
		  want, 3, &r, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(r.requests, 2); /* HEAD, GET */
	assert_int_equal(r.n_platforms, 3);
	assert_string_equal(r.platforms[0].platform, "linux/amd64");
	assert_string_equal(r.platforms[0].digest, d_amd64);
	assert_string_equal(r.platforms[1].platform, "linux/arm64");
	assert_string_equal(r.platforms[1].digest, d_arm64);
	assert_string_equal(r.platforms[2].platform, "windows/amd64");
	assert_null(r.platforms[2].digest);
	dd_poll_result_release(&r);
	dd_poll_session_free(s);
}

/* PUT under repo:tag an index of the given manifests of poll/multi:1's
 * index (by digest), plus `extra` (a linux/amd64 manifest) when not NULL. */
static void put_index(const char *tag, const char *const *keep, size_t n_keep, const char *extra,
		      char *digest_out)
{
	dd_registry *reg = NULL;
	dd_registry_opts o;
	dd_error e = DD_ERROR_INIT;
	dd_buf body = DD_BUF_INIT;
	dd_digest d;
	dd_ref ref;
	char refs[128], *mt = NULL, *text;
	json_t *j, *ms, *out_ms = json_array(), *m;
	size_t i;

	snprintf(refs, sizeof(refs), "127.0.0.1:%d/poll/multi:1", reg_port);
	assert_int_equal(dd_ref_parse(&ref, refs, &e), 0);
	dd_registry_opts_init(&o);
	o.push = 1;
	if (dd_registry_new(&reg, &ref, &o, &e) || dd_registry_get_manifest(reg, "1", &body, &mt, &d, &e))
		fail_msg("%s", e.msg);
	j = json_loadb(body.data, body.len, 0, NULL);
	assert_non_null(j);
	ms = json_object_get(j, "manifests");
	json_array_foreach(ms, i, m) {
		const char *dg = json_string_value(json_object_get(m, "digest"));
		for (size_t k = 0; k < n_keep; k++)
			if (!strcmp(dg, keep[k]))
				json_array_append(out_ms, m);
	}
	if (extra) {
		json_t *x = json_pack("{s:s, s:s, s:i, s:{s:s, s:s}}", "mediaType",
				      "application/vnd.oci.image.manifest.v1+json", "digest", extra, "size", 0,
				      "platform", "os", "linux", "architecture", "amd64");
		/* the size must be right: ask the registry */
		dd_buf mb = DD_BUF_INIT;
		char *mmt = NULL;
		dd_digest md;
		if (dd_registry_get_manifest(reg, extra, &mb, &mmt, &md, &e))
			fail_msg("%s", e.msg);
		json_object_set_new(x, "size", json_integer((json_int_t)mb.len));
		json_array_append_new(out_ms, x);
		dd_buf_release(&mb);
		free(mmt);
	}
	json_object_set_new(j, "manifests", out_ms);
	text = json_dumps(j, JSON_COMPACT);
	if (dd_registry_put_manifest(reg, tag, "application/vnd.oci.image.index.v1+json", text, strlen(text), &e))
		fail_msg("%s", e.msg);
	assert_int_equal(dd_digest_of(&d, text, strlen(text), &e), 0);
	snprintf(digest_out, 80, "%s", d.s);
	free(text);
	json_decref(j);
	free(mt);
	dd_buf_release(&body);
	dd_registry_free(reg);
}

static dd_poll_platform *copy_platforms(const dd_poll_result *r)
{
	dd_poll_platform *p = calloc(r->n_platforms + 1, sizeof(*p));
	assert_non_null(p);
	for (size_t i = 0; i < r->n_platforms; i++) {
		p[i].platform = strdup(r->platforms[i].platform);
		p[i].digest = r->platforms[i].digest ? strdup(r->platforms[i].digest) : NULL;
	}
	return p;
}

static void test_grown_index(void **state)
{
	const char *two[] = { d_amd64, d_arm64 }, *three[] = { d_amd64, d_arm64, d_armv7 };
	const char *arms[] = { d_arm64, d_armv7 };
	const char *want[] = { "linux/amd64", "linux/arm64" };
	dd_poll_session *s = NULL;
	dd_poll_result r;
	dd_poll_platform *known;
	size_t n_known;
	dd_error e = DD_ERROR_INIT;
	char ref[128], dg[80];
	(void)state;
	NEED_REGISTRY();
	snprintf(ref, sizeof(ref), "127.0.0.1:%d/poll/multi:grow", reg_port);
	assert_int_equal(dd_poll_session_new(&s, NULL, 0, &e), 0);
	for (int mode = 0; mode < 2; mode++) { /* every platform; then the two wanted */
		const char *const *w = mode ? want : NULL;
		size_t nw = mode ? 2 : 0;
		put_index("grow", two, 2, NULL, dg);
		if (check(s, ref, NULL, w, nw, &r, &e))
			fail_msg("%s", e.msg);
		assert_string_equal(r.digest, dg);
		assert_int_equal(r.n_platforms, 2);
		assert_int_equal(dd_poll_needs_rebuild(&r, NULL, 0), 1); /* nothing known yet */
		known = copy_platforms(&r);
		n_known = r.n_platforms;
		dd_poll_result_release(&r);
		/* linux/arm/v7 added: a new index digest, no rebuild */
		put_index("grow", three, 3, NULL, dg);
		if (check(s, ref, "sha256:1111111111111111111111111111111111111111111111111111111111111111",
			  w, nw, &r, &e))
			fail_msg("%s", e.msg);
		assert_int_equal(r.changed, 1);
		assert_string_equal(r.digest, dg);
		assert_int_equal(r.n_platforms, mode ? 2 : 3);
		assert_int_equal(dd_poll_needs_rebuild(&r, known, n_known), 0);
		dd_poll_result_release(&r);
		/* the linux/amd64 image replaced: rebuild */
		put_index("grow", arms, 2, d_single, dg);
		if (check(s, ref, "sha256:1111111111111111111111111111111111111111111111111111111111111111",
			  w, nw, &r, &e))
			fail_msg("%s", e.msg);
		assert_string_equal(r.digest, dg);
		assert_string_equal(platform_digest(&r, "linux/amd64"), d_single);
		assert_int_equal(dd_poll_needs_rebuild(&r, known, n_known), 1);
		dd_poll_result_release(&r);
		/* linux/amd64 removed (only arm left): no rebuild by itself */
		put_index("grow", arms, 2, NULL, dg);
		if (check(s, ref, "sha256:1111111111111111111111111111111111111111111111111111111111111111",
			  w, nw, &r, &e))
			fail_msg("%s", e.msg);
		assert_int_equal(dd_poll_needs_rebuild(&r, known, n_known), 0);
		dd_poll_result_release(&r);
		dd_poll_platforms_free(known, n_known);
	}
	dd_poll_session_free(s);
}

/* ---- against tests/registry/throttled ---- */

static char *server_log(void)
{
	char cmd[300], *text = calloc(1, 65536);
	FILE *p;
	size_t n;
	assert_non_null(text);
	snprintf(cmd, sizeof(cmd), "curl -s http://127.0.0.1:%d/log", thr_port);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(text, 1, 65535, p);
	text[n] = '\0';
	pclose(p);
	return text;
}

static void clear_log(void)
{
	assert_int_equal(run("curl -s -X DELETE -o /dev/null http://127.0.0.1:%d/log", thr_port), 0);
}

static size_t count_lines(const char *text, const char *line)
{
	size_t n = 0, l = strlen(line);
	for (const char *p = text; (p = strstr(p, line)); p += l)
		if ((p == text || p[-1] == '\n') && p[l] == '\n')
			n++;
	return n;
}

static void test_throttled(void **state)
{
	dd_poll_session *s = NULL;
	dd_poll_result r;
	dd_error e = DD_ERROR_INIT;
	char ref[128], *log;
	(void)state;
	NEED_THROTTLED();
	assert_int_equal(dd_poll_session_new(&s, NULL, 0, &e), 0);
	clear_log();
	/* 429 with Retry-After seconds: DD_EENV at once, no retry */
	snprintf(ref, sizeof(ref), "127.0.0.1:%d/lib/x:limited", thr_port);
	assert_int_equal(check(s, ref, NULL, NULL, 0, &r, &e), DD_EENV);
	assert_int_equal(r.status, 429);
	assert_int_equal(r.throttled, 1);
	assert_int_equal(r.retry_after, 7);
	assert_null(r.digest);
	assert_non_null(strstr(e.msg, "asked to wait 7 s (HTTP 429)"));
	dd_poll_result_release(&r);
	log = server_log();
	assert_int_equal(count_lines(log, "HEAD /v2/lib/x/manifests/limited"), 1);
	assert_int_equal(count_lines(log, "GET /v2/lib/x/manifests/limited"), 0);
	free(log);
	/* 503 with an HTTP-date two minutes ahead */
	snprintf(ref, sizeof(ref), "127.0.0.1:%d/lib/x:busy", thr_port);
	assert_int_equal(check(s, ref, NULL, NULL, 0, &r, &e), DD_EENV);
	assert_int_equal(r.status, 503);
	assert_true(r.retry_after >= 115 && r.retry_after <= 121);
	dd_poll_result_release(&r);
	/* a good answer that used the last request: 0, throttled, reset in 30 s */
	snprintf(ref, sizeof(ref), "127.0.0.1:%d/lib/x:last", thr_port);
	if (check(s, ref, NULL, NULL, 0, &r, &e))
		fail_msg("%s", e.msg);
	assert_non_null(r.digest);
	assert_int_equal(r.throttled, 1);
	assert_true(r.retry_after >= 27 && r.retry_after <= 31);
	dd_poll_result_release(&r);
	/* Docker Hub: 429 with ratelimit-remaining: 0;w=21600 and no Retry-After */
	snprintf(ref, sizeof(ref), "127.0.0.1:%d/lib/x:hub", thr_port);
	assert_int_equal(check(s, ref, NULL, NULL, 0, &r, &e), DD_EENV);
	assert_int_equal(r.retry_after, 21600);
	dd_poll_result_release(&r);
	/* RateLimit: limit=10, remaining=0, reset=42 */
	snprintf(ref, sizeof(ref), "127.0.0.1:%d/lib/x:ietf", thr_port);
	assert_int_equal(check(s, ref, NULL, NULL, 0, &r, &e), 0);
	assert_int_equal(r.throttled, 1);
	assert_int_equal(r.retry_after, 42);
	dd_poll_result_release(&r);
	/* RateLimit: "default";r=0;t=15 (later drafts) on a 429 */
	snprintf(ref, sizeof(ref), "127.0.0.1:%d/lib/x:draft", thr_port);
	assert_int_equal(check(s, ref, NULL, NULL, 0, &r, &e), DD_EENV);
	assert_int_equal(r.retry_after, 15);
	dd_poll_result_release(&r);
	/* requests left: not throttled, whatever the reset says */
	snprintf(ref, sizeof(ref), "127.0.0.1:%d/lib/x:plenty", thr_port);
	assert_int_equal(check(s, ref, NULL, NULL, 0, &r, &e), 0);
	assert_int_equal(r.throttled, 0);
	assert_int_equal(r.retry_after, 0);
	dd_poll_result_release(&r);
	snprintf(ref, sizeof(ref), "127.0.0.1:%d/lib/x:ok", thr_port);
	assert_int_equal(check(s, ref, NULL, NULL, 0, &r, &e), 0);
	assert_int_equal(r.throttled, 0);
	assert_int_equal(r.requests, 1);
	log = server_log();
	/* one client for the repository: one ping for everything above */
	assert_int_equal(count_lines(log, "GET /v2/"), 1);
	free(log);
	/* on the wire: an unchanged tag is one HEAD and nothing else */
	char known[80];
	snprintf(known, sizeof(known), "%s", r.digest);
	dd_poll_result_release(&r);
	clear_log();
	for (int i = 0; i < 3; i++) {
		assert_int_equal(check(s, ref, known, NULL, 0, &r, &e), 0);
		assert_int_equal(r.changed, 0);
		dd_poll_result_release(&r);
	}
	log = server_log();
	assert_int_equal(count_lines(log, "HEAD /v2/lib/x/manifests/ok"), 3);
	assert_int_equal(strlen(log), 3 * strlen("HEAD /v2/lib/x/manifests/ok\n"));
	free(log);
	dd_poll_session_free(s);
}

static void test_many_repositories(void **state)
{
	dd_poll_session *s = NULL;
	dd_poll_result r;
	dd_error e = DD_ERROR_INIT;
	char ref[128];
	const int n = DD_POLL_MAX_CLIENTS + 2;
	(void)state;
	NEED_THROTTLED();
	assert_int_equal(dd_poll_session_new(&s, NULL, 0, &e), 0);
	for (int i = 0; i < n; i++) {
		snprintf(ref, sizeof(ref), "127.0.0.1:%d/team/r%d:ok", thr_port, i);
		if (check(s, ref, NULL, NULL, 0, &r, &e))
			fail_msg("%s", e.msg);
		assert_int_equal(r.requests, 2); /* ping + HEAD: a new client each */
		dd_poll_result_release(&r);
	}
	assert_int_equal(dd_poll_requests(s), 2 * n);
	/* the latest are kept (one HEAD); the two oldest were closed */
	snprintf(ref, sizeof(ref), "127.0.0.1:%d/team/r%d:ok", thr_port, n - 1);
	assert_int_equal(check(s, ref, NULL, NULL, 0, &r, &e), 0);
	assert_int_equal(r.requests, 1);
	dd_poll_result_release(&r);
	snprintf(ref, sizeof(ref), "127.0.0.1:%d/team/r0:ok", thr_port);
	assert_int_equal(check(s, ref, NULL, NULL, 0, &r, &e), 0);
	assert_int_equal(r.requests, 2);
	dd_poll_result_release(&r);
	assert_int_equal(dd_poll_requests(s), 2 * n + 3);
	dd_poll_session_free(s);
}

static void test_credentials(void **state)
{
	dd_fleet_registry regs[1];
	dd_poll_session *s = NULL;
	dd_poll_result r;
	dd_error e = DD_ERROR_INIT;
	char ref[128], host[64], file[400];
	FILE *f;
	(void)state;
	NEED_THROTTLED();
	snprintf(host, sizeof(host), "127.0.0.1:%d", thr_port);
	snprintf(ref, sizeof(ref), "%s/auth/app:ok", host);
	memset(regs, 0, sizeof(regs));
	regs[0].host = host;
	regs[0].username = (char *)"u";
	regs[0].password_env = (char *)"DD_POLL_TEST_PASSWORD";
	/* without credentials: denied */
	assert_int_equal(dd_poll_session_new(&s, NULL, 0, &e), 0);
	assert_int_equal(check(s, ref, NULL, NULL, 0, &r, &e), DD_EENV);
	dd_poll_result_release(&r);
	dd_poll_session_free(s);
	/* the variable is not set */
	unsetenv("DD_POLL_TEST_PASSWORD");
	assert_int_equal(dd_poll_session_new(&s, regs, 1, &e), 0);
	assert_int_equal(check(s, ref, NULL, NULL, 0, &r, &e), DD_EENV);
	assert_non_null(strstr(e.msg, "DD_POLL_TEST_PASSWORD"));
	dd_poll_result_release(&r);
	/* set now: the next check opens the client again and gets in */
	setenv("DD_POLL_TEST_PASSWORD", "pw", 1);
	if (check(s, ref, NULL, NULL, 0, &r, &e))
		fail_msg("%s", e.msg);
	assert_non_null(r.digest);
	dd_poll_result_release(&r);
	/* the token is reused: one HEAD */
	if (check(s, ref, NULL, NULL, 0, &r, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(r.requests, 1);
	dd_poll_result_release(&r);
	dd_poll_session_free(s);
	unsetenv("DD_POLL_TEST_PASSWORD");
	/* from a file, with a trailing newline */
	snprintf(file, sizeof(file), "%s/pw", dir);
	f = fopen(file, "w");
	assert_non_null(f);
	fputs("pw\n", f);
	fclose(f);
	regs[0].password_env = NULL;
	regs[0].password_file = file;
	assert_int_equal(dd_poll_session_new(&s, regs, 1, &e), 0);
	if (check(s, ref, NULL, NULL, 0, &r, &e))
		fail_msg("%s", e.msg);
	dd_poll_result_release(&r);
	dd_poll_session_free(s);
	/* a username without a password reference */
	regs[0].password_file = NULL;
	assert_int_equal(dd_poll_session_new(&s, regs, 1, &e), 0);
	assert_int_equal(check(s, ref, NULL, NULL, 0, &r, &e), DD_EINPUT);
	dd_poll_result_release(&r);
	dd_poll_session_free(s);
}

static void test_bad_refs(void **state)
{
	dd_poll_session *s = NULL;
	dd_poll_result r;
	dd_error e = DD_ERROR_INIT;
	(void)state;
	assert_int_equal(dd_poll_session_new(&s, NULL, 0, &e), 0);
	assert_int_equal(check(s, "127.0.0.1:1/x@sha256:0000000000000000000000000000000000000000000000000000000000000000",
			       NULL, NULL, 0, &r, &e), DD_EUSAGE);
	dd_poll_result_release(&r);
	assert_int_equal(check(s, "UPPER/case:1", NULL, NULL, 0, &r, &e), DD_EUSAGE);
	dd_poll_result_release(&r);
	/* nothing listens there: DD_EENV, and no client is kept */
	assert_int_equal(check(s, "127.0.0.1:1/x:1", NULL, NULL, 0, &r, &e), DD_EENV);
	dd_poll_result_release(&r);
	assert_int_equal(dd_poll_requests(s), 0);
	dd_poll_session_free(s);
}

/* ---- pure parts ---- */

static void test_platforms_of(void **state)
{
	static const char idx[] =
		"{\"schemaVersion\":2,\"manifests\":["
		"{\"digest\":\"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
		"\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v6\"}},"
		"{\"digest\":\"sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\","
		"\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v7\"}},"
		"{\"digest\":\"sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\"},"
		"{\"digest\":\"sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd\","
		"\"platform\":{\"os\":\"unknown\",\"architecture\":\"unknown\"}}]}";
	const char *want[] = { "linux/arm/v7", "linux/arm" };
	const char *bad_want[] = { "linux" };
	dd_poll_platform *p;
	size_t n;
	dd_error e = DD_ERROR_INIT;
	(void)state;
	assert_int_equal(dd_poll_platforms_of(idx, strlen(idx), NULL, 0, &p, &n, &e), 0);
	assert_int_equal(n, 2); /* no platform and unknown/unknown left out */
	assert_string_equal(p[0].platform, "linux/arm/v6");
	assert_string_equal(p[1].platform, "linux/arm/v7");
	dd_poll_platforms_free(p, n);
	assert_int_equal(dd_poll_platforms_of(idx, strlen(idx), want, 2, &p, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(p[0].digest, "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
	assert_string_equal(p[1].platform, "linux/arm");
	assert_non_null(p[1].digest); /* a compatible one, the first of the best */
	dd_poll_platforms_free(p, n);
	assert_int_equal(dd_poll_platforms_of(idx, strlen(idx), bad_want, 1, &p, &n, &e), DD_EUSAGE);
	assert_null(p);

	static const char *bad[] = {
		"",
		"[]",
		"{\"manifests\":{}}",
		"{\"manifests\":[1]}",
		"{\"manifests\":[{\"digest\":\"md5:00\"}]}",
		"{\"manifests\":[{\"digest\":\"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
		"\"platform\":{\"os\":\"linux\"}}]}",
		"{\"manifests\":[{\"digest\":\"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
		"\"platform\":{\"os\":\"linux\",\"architecture\":\"a/b\"}}]}",
		"{\"manifests\":[{\"digest\":\"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
		"\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\",\"variant\":7}}]}",
		"{\"manifests\":[{\"digest\":\"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
		"\"platform\":{\"os\":\"linuxlinuxlinuxlinuxlinuxlinuxlinux\",\"architecture\":\"amd64\"}}]}",
		"{\"manifests\":[],\"manifests\":[]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = dd_poll_platforms_of(bad[i], strlen(bad[i]), NULL, 0, &p, &n, &e);
		if (rc != DD_EINPUT)
			fail_msg("bad index %zu accepted (rc %d): %s", i, rc, bad[i]);
		assert_null(p);
		assert_int_equal(n, 0);
	}
}

static void test_needs_rebuild(void **state)
{
	dd_poll_platform now[] = { { (char *)"linux/amd64", (char *)"sha256:a2" },
				   { (char *)"linux/arm64", (char *)"sha256:b1" } };
	dd_poll_platform was[] = { { (char *)"linux/amd64", (char *)"sha256:a1" },
				   { (char *)"linux/arm64", (char *)"sha256:b1" } };
	dd_poll_result r = { 0 };
	(void)state;
	r.changed = 1;
	r.is_index = 1;
	r.platforms = now;
	r.n_platforms = 2;
	assert_int_equal(dd_poll_needs_rebuild(&r, was, 2), 1);
	assert_int_equal(dd_poll_needs_rebuild(&r, was + 1, 1), 0);  /* amd64 is new */
	assert_int_equal(dd_poll_needs_rebuild(&r, NULL, 0), 1);     /* nothing known */
	r.n_platforms = 1;
	now[0].digest = NULL;                                         /* amd64 vanished */
	assert_int_equal(dd_poll_needs_rebuild(&r, was, 2), 0);
	r.changed = 0;
	assert_int_equal(dd_poll_needs_rebuild(&r, NULL, 0), 0);
	r.changed = 1;
	r.is_index = 0;
	assert_int_equal(dd_poll_needs_rebuild(&r, was, 2), 1);
}

static void test_next_delay(void **state)
{
	double lo = 1e9, hi = 0, sum = 0;
	const int n = 20000;
	(void)state;
	assert_true(dd_poll_next_delay(300, 0, 12345) == 300.0);
	assert_true(dd_poll_next_delay(300, 10, 7) == dd_poll_next_delay(300, 10, 7));
	assert_true(dd_poll_next_delay(300, 10, 7) != dd_poll_next_delay(300, 10, 8));
	for (int i = 0; i < n; i++) {
		double d = dd_poll_next_delay(300, 10, (unsigned long)i);
		if (d < 270.0 || d > 330.0)
			fail_msg("delay %f outside 300 +- 10%%", d);
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
		sum += d;
	}
	/* uniform: reaches near both ends, mean near the interval */
	assert_true(lo < 271.0 && hi > 329.0);
	assert_true(sum / n > 299.0 && sum / n < 301.0);
	for (int i = 0; i < 1000; i++) {
		double d = dd_poll_next_delay(60, 250, (unsigned long)i * 7919);
		assert_true(d >= 0.0 && d <= 120.0);
	}
	assert_true(dd_poll_next_delay(0, 50, 1) == 0.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unchanged_one_head),
		cmocka_unit_test(test_changed),
		cmocka_unit_test(test_index_platforms),
		cmocka_unit_test(test_grown_index),
		cmocka_unit_test(test_throttled),
		cmocka_unit_test(test_many_repositories),
		cmocka_unit_test(test_credentials),
		cmocka_unit_test(test_bad_refs),
		cmocka_unit_test(test_platforms_of),
		cmocka_unit_test(test_needs_rebuild),
		cmocka_unit_test(test_next_delay),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
