/* Real builds through dd_build_run(): Debian's docker-registry on loopback,
 * the debootstrapped Debian base (scripts/fixtures/debian-image) pushed as
 * base:12, buildah (vfs store in a temporary directory), and
 * tests/ci/receiver standing in for Jenkins, Azure Pipelines and GitHub.
 *
 * Needs root, buildah, skopeo, docker-registry, git and python3; every test
 * is skipped (visibly) when one is missing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "build/build.h"

static struct {
	int ok;
	char why[256];
	char root[256];   /* DD_ROOT */
	char dir[256];    /* everything of this run */
	char oci[512];    /* the fixture's OCI layout */
	int port;
	long reg_pid;
	char reg[64];     /* "127.0.0.1:PORT" */
	char base1[80];   /* base:12 as first pushed */
} g;

/* Run a shell command (test code), stdout into out (trimmed).  Returns
 * the exit status. */
static int sh_out(char *out, size_t n, const char *fmt, ...) DD_PRINTF(3, 4);
static int sh_out(char *out, size_t n, const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	size_t k = 0;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	if (out && n) {
		k = fread(out, 1, n - 1, p);
		out[k] = '\0';
		while (k && (out[k - 1] == '\n' || out[k - 1] == ' '))
			out[--k] = '\0';
	} else {
		char buf[4096];
		while (fread(buf, 1, sizeof(buf), p) > 0)
			;
	}
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static int have(const char *prog)
{
	return sh_out(NULL, 0, "command -v %s >/dev/null 2>&1", prog) == 0;
}

static void not_ok(const char *why)
{
	snprintf(g.why, sizeof(g.why), "%.200s", why);
	printf("# skipping the real builds: %s\n", why);
}

/* Digest of a tag on the test registry ("" when absent). */
static void digest_of(char *out, size_t n, const char *repo_tag)
{
	if (sh_out(out, n, "skopeo inspect --tls-verify=false --format '{{.Digest}}' docker://%s/%s 2>/dev/null",
		   g.reg, repo_tag))
		out[0] = '\0';
}

static int push_fixture(const char *tag, const char *repo_tag)
{
	return sh_out(NULL, 0, "skopeo copy -q --dest-tls-verify=false oci:%s:%s docker://%s/%s >/dev/null 2>&1",
		      g.oci, tag, g.reg, repo_tag);
}

static json_t *skopeo_json(const char *how, const char *repo_tag)
{
	static char buf[1 << 16];
	if (sh_out(buf, sizeof(buf), "skopeo inspect %s --tls-verify=false docker://%s/%s", how, g.reg, repo_tag))
		return NULL;
	return json_loads(buf, 0, NULL);
}

static int setup(void **state)
{
	char out[1024];
	const char *r = getenv("DD_ROOT"), *tmp = getenv("TMPDIR");

	(void)state;
	snprintf(g.root, sizeof(g.root), "%s", r ? r : ".");
	if (getuid() != 0)
		return not_ok("not root (buildah needs it)"), 0;
	static const char *const progs[] = { "buildah", "skopeo", "docker-registry", "git", "python3" };
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++)
		if (!have(progs[i])) {
			snprintf(out, sizeof(out), "%s not installed", progs[i]);
			return not_ok(out), 0;
		}
	if (sh_out(g.oci, sizeof(g.oci), "%s/scripts/fixtures/debian-image 2>/dev/null | sed -n \"s/^OCI='\\(.*\\)'$/\\1/p\"",
		   g.root) || !g.oci[0])
		return not_ok("the Debian fixture image is unavailable (scripts/fixtures/debian-image)"), 0;
	snprintf(g.dir, sizeof(g.dir), "%s/drydock-build-run.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(g.dir))
		return not_ok("mkdtemp failed"), 0;
	if (sh_out(out, sizeof(out), "%s/tests/registry/start plain %s/reg", g.root, g.dir) ||
	    sscanf(out, "%d %ld", &g.port, &g.reg_pid) != 2)
		return not_ok("the test registry did not start"), 0;
	snprintf(g.reg, sizeof(g.reg), "127.0.0.1:%d", g.port);
	if (push_fixture("base", "base:12"))
		return not_ok("skopeo copy of the base failed"), 0;
	digest_of(g.base1, sizeof(g.base1), "base:12");
	snprintf(out, sizeof(out), "%s/root", g.dir);
	setenv("DRYDOCK_BUILDAH_ROOT", out, 1);
	snprintf(out, sizeof(out), "%s/runroot", g.dir);
	setenv("DRYDOCK_BUILDAH_RUNROOT", out, 1);
	setenv("DRYDOCK_BUILDAH_DRIVER", "vfs", 1);
	setenv("DRYDOCK_BUILD_POLL", "0.3", 1);
	setenv("DD_TEST_REG_PASS", "s3cret-reg", 1);
	g.ok = 1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (g.reg_pid > 0)
		kill((pid_t)g.reg_pid, SIGTERM);
	if (g.dir[0])
		sh_out(NULL, 0, "rm -rf '%s'", g.dir);
	return 0;
}

#define NEED_SETUP()                                   \
	do {                                           \
		if (!g.ok) {                           \
			print_message("%s\n", g.why);  \
			skip();                        \
		}                                      \
	} while (0)

static void write_file(const char *dir, const char *name, const char *fmt, ...) DD_PRINTF(3, 4);
static void write_file(const char *dir, const char *name, const char *fmt, ...)
{
	char path[1024];
	va_list ap;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
}

static char *subdir(const char *name)
{
	static char path[8][600];
	static int k;
	char *p = path[k++ % 8];
	snprintf(p, 600, "%s/%s", g.dir, name);
	mkdir(p, 0755);
	return p;
}

/* Number of entries in a directory (not . and ..). */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static int build_with(dd_fleet_image *im, const dd_fleet_registry *regs, const char *work,
		      const char *prev, dd_build_result *res, dd_error *e)
{
	dd_build_request rq = { 0 };
	static char base_ref[100];

	snprintf(base_ref, sizeof(base_ref), "%s/base:12", g.reg);
	rq.image = im;
	rq.registries = regs;
	rq.n_registries = 1;
	rq.workdir = work;
	rq.change_id = "chg-1";
	rq.base_ref = base_ref;
	rq.base_digest = g.base1;
	rq.previous_digest = prev;
	int rc = dd_build_run(&rq, res, e);
	if (rc)
		print_message("build failed: %s\n---- log tail\n%s\n----\n", e->msg,
			      res->log.len > 1500 ? res->log.data + res->log.len - 1500 : dd_buf_cstr(&res->log));
	/* Secrets never reach the log. */
	assert_null(strstr(dd_buf_cstr(&res->log), "s3cret-reg"));
	assert_null(strstr(dd_buf_cstr(&res->log), "ZHJ5ZG9jazpzM2NyZXQtcmVn"));
	assert_null(strstr(dd_buf_cstr(&res->log), "s3cret pass"));
	assert_null(strstr(dd_buf_cstr(&res->log), "ZHJ5ZG9jazpzM2NyZXQgcGFzcw"));
	assert_null(strstr(e->msg, "s3cret"));
	return rc;
}

static int build(dd_fleet_image *im, const char *work, const char *prev, dd_build_result *res,
		 dd_error *e)
{
	static dd_fleet_registry regs[1];

	memset(regs, 0, sizeof(regs));
	regs[0].host = g.reg;
	regs[0].username = "drydock";
	regs[0].password_env = "DD_TEST_REG_PASS";
	return build_with(im, regs, work, prev, res, e);
}

static dd_fleet_image app_image(const char *repo, dd_fleet_build b)
{
	static char names[8][200];
	static int k;
	char *n = names[k++ % 8];
	dd_fleet_image im;

	snprintf(n, 200, "%s/%s", g.reg, repo);
	memset(&im, 0, sizeof(im));
	im.name = (char *)repo;
	im.image = n;
	im.tag = "1";
	if (!b.timeout)
		b.timeout = 600;
	im.build = b;
	return im;
}

/* The manifest's base annotation and its layers' digests. */
static void check_manifest(const char *repo_tag, const char *base_digest, size_t n_layers,
			   const char *first_layer_of)
{
	json_t *m = skopeo_json("--raw", repo_tag);
	assert_non_null(m);
	json_t *ann = json_object_get(m, "annotations");
	assert_string_equal(json_string_value(json_object_get(ann, "org.opencontainers.image.base.digest")),
			    base_digest);
	json_t *layers = json_object_get(m, "layers");
	assert_int_equal(json_array_size(layers), n_layers);
	if (first_layer_of) {
		json_t *bm = skopeo_json("--raw", first_layer_of);
		assert_non_null(bm);
		json_t *bl = json_object_get(bm, "layers");
		for (size_t i = 0; i < json_array_size(bl); i++)
			assert_string_equal(
				json_string_value(json_object_get(json_array_get(layers, i), "digest")),
				json_string_value(json_object_get(json_array_get(bl, i), "digest")));
		json_decref(bm);
	}
	json_decref(m);
}

static void test_buildah_multistage(void **state)
{
	(void)state;
	NEED_SETUP();
	char *ctx = subdir("ctx1"), *work = subdir("work1"), want[80], base_ref[100];
	dd_fleet_kv args[1];
	dd_fleet_build b;
	dd_build_result res;
	dd_error e = DD_ERROR_INIT;

	write_file(ctx, "Dockerfile",
		   "# syntax=docker/dockerfile:1\n"
		   "ARG BASE=example.invalid/nothing:1\n"
		   "FROM ${BASE} AS build\n"
		   "RUN echo built > /built.txt\n"
		   "FROM $BASE\n"
		   "COPY --from=build /built.txt /built.txt\n"
		   "COPY hello.txt /hello.txt\n"
		   "RUN test \"$(cat /built.txt)\" = built && test -f /hello.txt\n");
	write_file(ctx, "hello.txt", "hello\n");
	snprintf(base_ref, sizeof(base_ref), "%s/base:12", g.reg);
	args[0].key = "BASE";
	args[0].value = base_ref;
	memset(&b, 0, sizeof(b));
	b.backend = DD_BUILD_BUILDAH;
	b.context = ctx;
	b.args = args;
	b.n_args = 1;
	dd_fleet_image im = app_image("app", b);
	double t0 = (double)time(NULL);
	assert_int_equal(build(&im, work, NULL, &res, &e), 0);
	print_message("buildah build (2 stages, pull + bud + push): %.0f s\n", (double)time(NULL) - t0);
	if (getenv("DD_TEST_VERBOSE"))
		fprintf(stderr, "%s", res.log.data);
	digest_of(want, sizeof(want), "app:1");
	assert_string_equal(res.digest, want);
	snprintf(want, sizeof(want), "%s/app:1", g.reg);
	assert_string_equal(res.ref, want);
	/* One distinct external FROM (used by both stages), pinned to the digest
	 * base:12 had. */
	assert_int_equal(res.n_froms, 1);
	assert_string_equal(res.froms[0].ref, base_ref);
	assert_string_equal(res.froms[0].digest, g.base1);
	assert_int_equal(res.froms[0].runtime, 1);
	assert_int_equal(res.froms[0].exact, 1);
	check_manifest("app:1", g.base1, 2, "base:12");
	json_t *info = skopeo_json("", "app:1");
	assert_string_equal(json_string_value(json_object_get(json_object_get(info, "Labels"), "io.drydock.change")),
			    "chg-1");
	json_decref(info);
	/* The log has every step; the workdir is left empty (auth file, digest
	 * file removed). */
	assert_non_null(strstr(res.log.data, "buildah"));
	assert_non_null(strstr(res.log.data, "--authfile"));
	assert_non_null(strstr(res.log.data, "drydock: built "));
	assert_int_equal(count_entries(work), 0);
	dd_build_result_release(&res);
}

static void test_buildah_git_follows_new_base(void **state)
{
	(void)state;
	NEED_SETUP();
	char *src = subdir("gitsrc"), *work = subdir("work2"), repo[700], sha[100], d2[80], want[80];
	dd_fleet_build b;
	dd_build_result res;
	dd_error e = DD_ERROR_INIT;

	/* The base moves: base:12 is now the fixture's `app` (one more layer,
	 * adding /etc/drydock/app.conf). */
	assert_int_equal(push_fixture("app", "base:12"), 0);
	digest_of(d2, sizeof(d2), "base:12");
	assert_string_not_equal(d2, g.base1);
	write_file(src, "Dockerfile", "FROM %s/base:12\nRUN test -f /etc/drydock/app.conf\nCOPY hello.txt /hello.txt\n",
		   g.reg);
	write_file(src, "Dockerfile.fail", "FROM %s/base:12\nRUN echo about-to-fail && false\n", g.reg);
	write_file(src, "hello.txt", "hello from git\n");
	snprintf(repo, sizeof(repo), "%s/app.git", g.dir);
	assert_int_equal(sh_out(sha, sizeof(sha),
				"cd '%s' && git init -q -b main && git add . && "
				"git -c user.name=t -c user.email=t@t commit -q -m app && "
				"git clone -q --bare . '%s' && git rev-parse HEAD", src, repo), 0);
	memset(&b, 0, sizeof(b));
	b.backend = DD_BUILD_BUILDAH;
	b.git_url = repo;
	b.git_ref = sha; /* a commit: clone, then checkout */
	dd_fleet_image im = app_image("gitapp", b);
	assert_int_equal(build(&im, work, NULL, &res, &e), 0);
	digest_of(want, sizeof(want), "gitapp:1");
	assert_string_equal(res.digest, want);
	assert_int_equal(res.n_froms, 1);
	assert_string_equal(res.froms[0].digest, d2);
	check_manifest("gitapp:1", d2, 3, "base:12");
	assert_int_equal(count_entries(work), 0); /* the clone is gone */
	dd_build_result_release(&res);

	/* A failing RUN: DD_EENV naming the step, the output in the log. */
	b.git_ref = "main";
	b.dockerfile = "Dockerfile.fail";
	im = app_image("failapp", b);
	assert_int_equal(build(&im, work, NULL, &res, &e), DD_EENV);
	print_message("failure: %s\n", e.msg);
	assert_non_null(strstr(e.msg, "build failapp: buildah bud exited "));
	assert_non_null(strstr(res.log.data, "about-to-fail"));
	assert_null(res.digest);
	digest_of(want, sizeof(want), "failapp:1");
	assert_string_equal(want, "");
	assert_int_equal(count_entries(work), 0);
	dd_build_result_release(&res);
}

static void test_command_backend(void **state)
{
	(void)state;
	NEED_SETUP();
	char *ctx = subdir("ctx3"), *work = subdir("work3"), cmd[1200], want[160], now[80];
	dd_fleet_build b;
	dd_build_result res;
	dd_error e = DD_ERROR_INIT;

	write_file(ctx, "Dockerfile", "FROM %s/base:12\nCOPY . /src\n", g.reg);
	snprintf(cmd, sizeof(cmd),
		 "test -f {dockerfile} && test {change} = chg-1 && "
		 "skopeo copy -q --dest-tls-verify=false oci:%s:base docker://{ref} && echo pushed {ref}", g.oci);
	memset(&b, 0, sizeof(b));
	b.backend = DD_BUILD_COMMAND;
	b.context = ctx;
	b.command = cmd;
	dd_fleet_image im = app_image("cmdapp", b);
	assert_int_equal(build(&im, work, NULL, &res, &e), 0);
	digest_of(want, sizeof(want), "cmdapp:1");
	assert_string_equal(res.digest, want);
	/* FROMs are recorded, resolved just before the command (not pinned). */
	digest_of(now, sizeof(now), "base:12");
	assert_int_equal(res.n_froms, 1);
	assert_string_equal(res.froms[0].digest, now);
	assert_int_equal(res.froms[0].exact, 0);
	snprintf(want, sizeof(want), "pushed %s/cmdapp:1\n", g.reg);
	assert_non_null(strstr(res.log.data, want));
	dd_build_result_release(&res);
}

/* A registry with TLS (our own CA) and Basic auth: the credentials reach
 * buildah through the auth file, the CA through --cert-dir. */
static void test_buildah_tls_registry_with_credentials(void **state)
{
	(void)state;
	NEED_SETUP();
	char *ctx = subdir("ctx8"), *work = subdir("work8"), out[200], treg[64], ca[600], pass[600];
	char tiny[200], tiny_digest[200], app[200], want[200];
	dd_fleet_registry regs[1];
	dd_fleet_build b;
	dd_build_result res;
	dd_error e = DD_ERROR_INIT;
	int tport = 0;
	long tpid = 0;

	assert_int_equal(sh_out(out, sizeof(out), "%s/tests/registry/start tls %s/tlsreg", g.root, g.dir), 0);
	assert_int_equal(sscanf(out, "%d %ld", &tport, &tpid), 2);
	snprintf(treg, sizeof(treg), "127.0.0.1:%d", tport);
	snprintf(ca, sizeof(ca), "%s/tlsreg/ca.pem", g.dir);
	snprintf(pass, sizeof(pass), "%s/tlsreg/password", g.dir);
	write_file(g.dir, "tlsreg/password", "s3cret pass\n");
	memset(regs, 0, sizeof(regs));
	regs[0].host = treg;
	regs[0].username = "drydock";
	regs[0].ca_file = ca;
	setenv("DD_TEST_BAD_PASS", "not the password", 1);
	regs[0].password_env = "DD_TEST_BAD_PASS";

	write_file(ctx, "Dockerfile", "FROM scratch\nCOPY a.txt /a.txt\n");
	write_file(ctx, "a.txt", "a\n");
	memset(&b, 0, sizeof(b));
	b.backend = DD_BUILD_BUILDAH;
	b.context = ctx;
	b.timeout = 300;
	dd_fleet_image im;
	memset(&im, 0, sizeof(im));
	snprintf(tiny, sizeof(tiny), "%s/tiny", treg);
	im.name = "tiny";
	im.image = tiny;
	im.tag = "1";
	im.build = b;
	/* A wrong password: the push is refused. */
	assert_int_equal(build_with(&im, regs, work, NULL, &res, &e), DD_EENV);
	print_message("wrong password: %s\n", e.msg);
	assert_non_null(strstr(e.msg, "build tiny: buildah push exited"));
	dd_build_result_release(&res);

	/* The right one, from a file. */
	regs[0].password_env = NULL;
	regs[0].password_file = pass;
	assert_int_equal(build_with(&im, regs, work, NULL, &res, &e), 0);
	assert_int_equal(res.n_froms, 0); /* scratch */
	assert_int_equal(sh_out(tiny_digest, sizeof(tiny_digest),
				"skopeo inspect --tls-verify=false --creds 'drydock:s3cret pass' --format '{{.Digest}}' "
				"docker://%s:1", tiny), 0);
	assert_string_equal(res.digest, tiny_digest);
	dd_build_result_release(&res);

	/* Built on it: the base is resolved and pulled with the credentials
	 * and verified TLS. */
	write_file(ctx, "Dockerfile", "FROM %s:1\nCOPY b.txt /b.txt\n", tiny);
	write_file(ctx, "b.txt", "b\n");
	snprintf(app, sizeof(app), "%s/onbase", treg);
	im.name = "onbase";
	im.image = app;
	assert_int_equal(build_with(&im, regs, work, NULL, &res, &e), 0);
	assert_int_equal(res.n_froms, 1);
	assert_string_equal(res.froms[0].digest, tiny_digest);
	assert_non_null(strstr(res.log.data, "--cert-dir"));
	assert_null(strstr(res.log.data, "--tls-verify=false"));
	assert_int_equal(sh_out(want, sizeof(want),
				"skopeo inspect --tls-verify=false --creds 'drydock:s3cret pass' --format '{{.Digest}}' "
				"docker://%s:1", app), 0);
	assert_string_equal(res.digest, want);
	assert_int_equal(count_entries(work), 0); /* auth file and CA directory removed */
	dd_build_result_release(&res);
	kill((pid_t)tpid, SIGTERM);
}

/* ---- CI ---- */

typedef struct rcv {
	int port;
	long pid;
	char log[600];
} rcv;

static void rcv_start(rcv *r, const char *name, const char *extra)
{
	char port[700], out[64];

	snprintf(r->log, sizeof(r->log), "%s/%s.jsonl", g.dir, name);
	snprintf(port, sizeof(port), "%s/%s.port", g.dir, name);
	assert_int_equal(sh_out(out, sizeof(out), "python3 %s/tests/ci/receiver --log '%s' --port-file '%s' %s "
				">'%s.err' 2>&1 & echo $!", g.root, r->log, port, extra, r->log), 0);
	r->pid = strtol(out, NULL, 10);
	for (int i = 0; i < 100; i++) {
		FILE *f = fopen(port, "r");
		if (f) {
			int ok = fscanf(f, "%d", &r->port) == 1;
			fclose(f);
			if (ok)
				return;
		}
		usleep(50000);
	}
	fail_msg("the CI receiver did not start");
}

static void rcv_stop(rcv *r)
{
	if (r->pid > 0)
		kill((pid_t)r->pid, SIGTERM);
}

/* Request k (0-based) the receiver recorded. */
static json_t *rcv_request(const rcv *r, size_t k)
{
	char line[1 << 14];
	FILE *f = fopen(r->log, "r");
	json_t *j = NULL;
	assert_non_null(f);
	for (size_t i = 0; fgets(line, sizeof(line), f); i++)
		if (i == k) {
			j = json_loads(line, 0, NULL);
			break;
		}
	fclose(f);
	assert_non_null(j);
	return j;
}

static const char *hdr(json_t *req, const char *name)
{
	return json_string_value(json_object_get(json_object_get(req, "headers"), name));
}

static void test_ci_jenkins(void **state)
{
	(void)state;
	NEED_SETUP();
	char *work = subdir("work4"), exec[1200], url[200], prev[80], want[80], body[1200];
	dd_fleet_build b;
	dd_build_result res;
	dd_error e = DD_ERROR_INIT;
	rcv r;

	/* The CI "builds" by pushing the fixture's app image to the tag. */
	assert_int_equal(push_fixture("base", "ci-j:1"), 0);
	digest_of(prev, sizeof(prev), "ci-j:1");
	snprintf(exec, sizeof(exec), "--exec 'sleep 0.5; skopeo copy -q --dest-tls-verify=false oci:%s:app docker://%s/ci-j:1'",
		 g.oci, g.reg);
	rcv_start(&r, "jenkins", exec);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/job/team/job/app/", r.port);
	setenv("DD_TEST_JENKINS_TOKEN", "tok-j", 1);
	memset(&b, 0, sizeof(b));
	b.backend = DD_BUILD_JENKINS;
	b.url = url;
	b.user = "bot";
	b.token_env = "DD_TEST_JENKINS_TOKEN";
	b.timeout = 60;
	dd_fleet_image im = app_image("ci-j", b);
	double t0 = (double)time(NULL);
	int rc = build(&im, work, prev, &res, &e);
	rcv_stop(&r);
	assert_int_equal(rc, 0);
	print_message("jenkins trigger + wait: %.0f s\n", (double)time(NULL) - t0);
	digest_of(want, sizeof(want), "ci-j:1");
	assert_string_equal(res.digest, want);
	assert_string_not_equal(res.digest, prev);
	assert_int_equal(res.n_froms, 0);

	json_t *crumb = rcv_request(&r, 0), *post = rcv_request(&r, 1);
	assert_string_equal(json_string_value(json_object_get(crumb, "method")), "GET");
	assert_string_equal(json_string_value(json_object_get(crumb, "path")), "/crumbIssuer/api/json");
	assert_string_equal(hdr(crumb, "authorization"), "Basic Ym90OnRvay1q");
	assert_string_equal(json_string_value(json_object_get(post, "method")), "POST");
	assert_string_equal(json_string_value(json_object_get(post, "path")), "/job/team/job/app/buildWithParameters");
	assert_string_equal(hdr(post, "authorization"), "Basic Ym90OnRvay1q");
	assert_string_equal(hdr(post, "jenkins-crumb"), "c0ffee42");
	assert_string_equal(hdr(post, "content-type"), "application/x-www-form-urlencoded");
	snprintf(body, sizeof(body),
		 "IMAGE=127.0.0.1%%3A%d%%2Fci-j&TAG=1&BASE=127.0.0.1%%3A%d%%2Fbase%%3A12&BASE_DIGEST=sha256%%3A%s"
		 "&DRYDOCK_CHANGE=chg-1", g.port, g.port, g.base1 + 7);
	assert_string_equal(json_string_value(json_object_get(post, "body")), body);
	json_decref(crumb);
	json_decref(post);
	assert_null(strstr(res.log.data, "tok-j"));
	dd_build_result_release(&res);
}

static void test_ci_github(void **state)
{
	(void)state;
	NEED_SETUP();
	char *work = subdir("work5"), exec[1200], url[200], want[80];
	dd_fleet_build b;
	dd_build_result res;
	dd_error e = DD_ERROR_INIT;
	rcv r;

	snprintf(exec, sizeof(exec), "--exec 'skopeo copy -q --dest-tls-verify=false oci:%s:app docker://%s/ci-g:1'",
		 g.oci, g.reg);
	rcv_start(&r, "github", exec);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/repos/acme/app", r.port);
	setenv("DD_TEST_GH_TOKEN", "tok-g", 1);
	memset(&b, 0, sizeof(b));
	b.backend = DD_BUILD_GITHUB;
	b.url = url;
	b.token_env = "DD_TEST_GH_TOKEN";
	b.event_type = "base-changed";
	b.timeout = 60;
	dd_fleet_image im = app_image("ci-g", b);
	int rc = build(&im, work, NULL, &res, &e); /* the tag does not exist yet */
	rcv_stop(&r);
	assert_int_equal(rc, 0);
	digest_of(want, sizeof(want), "ci-g:1");
	assert_string_equal(res.digest, want);

	json_t *post = rcv_request(&r, 0);
	assert_string_equal(json_string_value(json_object_get(post, "path")), "/repos/acme/app/dispatches");
	assert_string_equal(hdr(post, "authorization"), "Bearer tok-g");
	assert_string_equal(hdr(post, "accept"), "application/vnd.github+json");
	assert_string_equal(hdr(post, "x-github-api-version"), "2022-11-28");
	assert_string_equal(hdr(post, "content-type"), "application/json");
	json_t *body = json_loads(json_string_value(json_object_get(post, "body")), 0, NULL);
	assert_non_null(body);
	assert_string_equal(json_string_value(json_object_get(body, "event_type")), "base-changed");
	json_t *p = json_object_get(body, "client_payload");
	assert_string_equal(json_string_value(json_object_get(p, "base_digest")), g.base1);
	assert_string_equal(json_string_value(json_object_get(p, "change")), "chg-1");
	snprintf(want, sizeof(want), "%s/ci-g:1", g.reg);
	assert_string_equal(json_string_value(json_object_get(p, "ref")), want);
	json_decref(body);
	json_decref(post);
	dd_build_result_release(&res);
}

static void test_ci_azure(void **state)
{
	(void)state;
	NEED_SETUP();
	char *work = subdir("work6"), exec[1200], url[200], want[80];
	dd_fleet_build b;
	dd_build_result res;
	dd_error e = DD_ERROR_INIT;
	rcv r;

	snprintf(exec, sizeof(exec), "--exec 'skopeo copy -q --dest-tls-verify=false oci:%s:app docker://%s/ci-a:1'",
		 g.oci, g.reg);
	rcv_start(&r, "azure", exec);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/org/proj/_apis/pipelines/3/runs", r.port);
	setenv("DD_TEST_AZ_TOKEN", "tok-a", 1);
	memset(&b, 0, sizeof(b));
	b.backend = DD_BUILD_AZURE;
	b.url = url;
	b.token_env = "DD_TEST_AZ_TOKEN";
	b.timeout = 60;
	dd_fleet_image im = app_image("ci-a", b);
	int rc = build(&im, work, NULL, &res, &e);
	rcv_stop(&r);
	assert_int_equal(rc, 0);
	digest_of(want, sizeof(want), "ci-a:1");
	assert_string_equal(res.digest, want);

	json_t *post = rcv_request(&r, 0);
	assert_string_equal(json_string_value(json_object_get(post, "path")),
			    "/org/proj/_apis/pipelines/3/runs?api-version=7.1");
	assert_string_equal(hdr(post, "authorization"), "Basic OnRvay1h");
	json_t *body = json_loads(json_string_value(json_object_get(post, "body")), 0, NULL);
	json_t *tp = json_object_get(body, "templateParameters");
	snprintf(want, sizeof(want), "%s/ci-a", g.reg);
	assert_string_equal(json_string_value(json_object_get(tp, "IMAGE")), want);
	assert_string_equal(json_string_value(json_object_get(tp, "TAG")), "1");
	assert_string_equal(json_string_value(json_object_get(tp, "DRYDOCK_CHANGE")), "chg-1");
	json_decref(body);
	json_decref(post);
	dd_build_result_release(&res);
}

static void test_ci_failures(void **state)
{
	(void)state;
	NEED_SETUP();
	char *work = subdir("work7"), url[200], prev[80];
	dd_fleet_build b;
	dd_build_result res;
	dd_error e = DD_ERROR_INIT;
	rcv r;

	/* The CI refuses the trigger. */
	rcv_start(&r, "denied", "--status 403 --no-crumb");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/job/app", r.port);
	setenv("DD_TEST_JENKINS_TOKEN", "tok-j", 1);
	memset(&b, 0, sizeof(b));
	b.backend = DD_BUILD_JENKINS;
	b.url = url;
	b.user = "bot";
	b.token_env = "DD_TEST_JENKINS_TOKEN";
	b.timeout = 30;
	dd_fleet_image im = app_image("ci-j", b);
	int rc = build(&im, work, NULL, &res, &e);
	rcv_stop(&r);
	assert_int_equal(rc, DD_EENV);
	assert_non_null(strstr(e.msg, "build ci-j: jenkins trigger: POST "));
	assert_non_null(strstr(e.msg, "HTTP 403: denied: bad credentials"));
	dd_build_result_release(&res);

	/* Accepted, but nothing is ever pushed: the wait times out. */
	rcv_start(&r, "silent", "");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/org/proj/_apis/pipelines/3/runs", r.port);
	setenv("DD_TEST_AZ_TOKEN", "tok-a", 1);
	memset(&b, 0, sizeof(b));
	b.backend = DD_BUILD_AZURE;
	b.url = url;
	b.token_env = "DD_TEST_AZ_TOKEN";
	b.timeout = 2;
	im = app_image("ci-j", b);
	digest_of(prev, sizeof(prev), "ci-j:1");
	time_t t0 = time(NULL);
	rc = build(&im, work, prev, &res, &e);
	rcv_stop(&r);
	assert_int_equal(rc, DD_EENV);
	assert_true(time(NULL) - t0 <= 5);
	print_message("timeout: %s\n", e.msg);
	assert_non_null(strstr(e.msg, "timed out after"));
	assert_non_null(strstr(e.msg, "(unchanged)"));
	dd_build_result_release(&res);

	/* The Jenkins job fails: noticed from the build's result, long before
	 * the timeout. */
	rcv_start(&r, "failing", "--exec 'sleep 0.3; exit 3'");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/job/app", r.port);
	memset(&b, 0, sizeof(b));
	b.backend = DD_BUILD_JENKINS;
	b.url = url;
	b.user = "bot";
	b.token_env = "DD_TEST_JENKINS_TOKEN";
	b.timeout = 120;
	im = app_image("ci-j", b);
	t0 = time(NULL);
	rc = build(&im, work, prev, &res, &e);
	rcv_stop(&r);
	assert_int_equal(rc, DD_EENV);
	assert_true(time(NULL) - t0 <= 20);
	print_message("failed job: %s\n", e.msg);
	assert_non_null(strstr(e.msg, "build ci-j: Jenkins build #12 finished FAILURE"));
	assert_non_null(strstr(res.log.data, "jenkins: build #12 started"));
	dd_build_result_release(&res);

	/* The Azure run succeeds but pushes nothing: a few more polls, then an
	 * error saying so. */
	rcv_start(&r, "nopush", "--exec 'true'");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/org/proj/_apis/pipelines/3/runs", r.port);
	memset(&b, 0, sizeof(b));
	b.backend = DD_BUILD_AZURE;
	b.url = url;
	b.token_env = "DD_TEST_AZ_TOKEN";
	b.timeout = 120;
	im = app_image("ci-j", b);
	t0 = time(NULL);
	rc = build(&im, work, prev, &res, &e);
	rcv_stop(&r);
	assert_int_equal(rc, DD_EENV);
	assert_true(time(NULL) - t0 <= 20);
	print_message("no push: %s\n", e.msg);
	assert_non_null(strstr(e.msg, "the CI build succeeded but "));
	assert_non_null(strstr(e.msg, "did not change"));
	assert_non_null(strstr(res.log.data, "azure: run 42 completed: succeeded"));
	/* The status was asked with the same credentials, api-version added. */
	json_t *st = rcv_request(&r, 1);
	assert_string_equal(json_string_value(json_object_get(st, "method")), "GET");
	assert_string_equal(json_string_value(json_object_get(st, "path")),
			    "/org/proj/_apis/pipelines/3/runs/42?api-version=7.1");
	assert_string_equal(hdr(st, "authorization"), "Basic OnRvay1h");
	json_decref(st);
	dd_build_result_release(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buildah_multistage),
		cmocka_unit_test(test_buildah_git_follows_new_base),
		cmocka_unit_test(test_command_backend),
		cmocka_unit_test(test_buildah_tls_registry_with_credentials),
		cmocka_unit_test(test_ci_jenkins),
		cmocka_unit_test(test_ci_github),
		cmocka_unit_test(test_ci_azure),
		cmocka_unit_test(test_ci_failures),
	};
	return cmocka_run_group_tests_name("build_run", tests, setup, teardown);
}
