/* Unit tests for src/build: shell quoting and templates (run through a real
 * sh), the log tail, CI request bodies, the process runner (exit codes,
 * timeouts killing the whole group) and recipe errors.  The real builds
 * (buildah, registry, CI receiver) are in test_build_run.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "build/build.h"
#include "build/internal.h"
#include "registry/auth.h"

static char tmpdir[] = "/tmp/dd-test-build.XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	dd_build_remove_tree(tmpdir);
	return 0;
}

/* Run sh -c CMD; its stdout into out.  Returns the exit status. */
static int run_sh(const char *cmd, dd_buf *out, double timeout)
{
	const char *argv[] = { "sh", "-c", cmd, NULL };
	dd_buf log = DD_BUF_INIT;
	dd_build_proc p = { 0 };
	dd_error e = DD_ERROR_INIT;
	int st = -1;

	p.argv = argv;
	p.log = &log;
	p.out = out;
	p.deadline = timeout > 0 ? dd_build_now() + timeout : 0;
	int rc = dd_build_spawn(&p, &st, &e);
	dd_buf_release(&log);
	return rc ? rc : st;
}

static void test_shell_quote_round_trips(void **state)
{
	(void)state;
	static const char *const hostile[] = {
		"plain", "", "it's", "''", "a b\tc", "$(touch /tmp/dd-pwned)", "`id`", "x;rm -rf /",
		"new\nline", "back\\slash", "\"dq\"", "{image}", "*?[a]", "~root", "-n",
	};
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		dd_buf cmd = DD_BUF_INIT, out = DD_BUF_INIT;
		dd_buf_puts(&cmd, "printf '%s' ");
		assert_int_equal(dd_build_shell_quote(&cmd, hostile[i]), 0);
		assert_int_equal(run_sh(dd_buf_cstr(&cmd), &out, 10), 0);
		assert_string_equal(dd_buf_cstr(&out), hostile[i]);
		dd_buf_release(&cmd);
		dd_buf_release(&out);
	}
	assert_int_equal(access("/tmp/dd-pwned", F_OK), -1);
}

static void test_template(void **state)
{
	(void)state;
	dd_build_vars v = { "reg:5000/app", "1.2", "reg:5000/app:1.2", "/ctx dir", "/ctx dir/Dockerfile",
			    "reg:5000/base:12", "sha256:abc", "it's-42" };
	dd_buf out = DD_BUF_INIT;
	dd_error e = DD_ERROR_INIT;

	assert_int_equal(dd_build_template(&out, "build {ref} -f {dockerfile} {context} # {unknown} ${HOME} {", &v, &e), 0);
	assert_string_equal(dd_buf_cstr(&out),
			    "build 'reg:5000/app:1.2' -f '/ctx dir/Dockerfile' '/ctx dir' # {unknown} ${HOME} {");
	dd_buf_reset(&out);
	v.base = NULL;
	assert_int_equal(dd_build_template(&out, "{base}{base_digest}{change}{image}{tag}", &v, &e), 0);
	assert_string_equal(dd_buf_cstr(&out), "'''sha256:abc''it'\\''s-42''reg:5000/app''1.2'");
	/* The shell sees exactly the values. */
	dd_buf_reset(&out);
	assert_int_equal(dd_build_template(&out, "printf '%s|' {context} {change} {base}", &v, &e), 0);
	dd_buf got = DD_BUF_INIT;
	assert_int_equal(run_sh(dd_buf_cstr(&out), &got, 10), 0);
	assert_string_equal(dd_buf_cstr(&got), "/ctx dir|it's-42||");
	dd_buf_release(&got);
	/* Overflow is an error, not a truncated command. */
	dd_buf small = DD_BUF_INIT_MAX(8);
	assert_int_equal(dd_build_template(&small, "echo {ref}", &v, &e), DD_EINPUT);
	dd_buf_release(&small);
	dd_buf_release(&out);
}

static void test_log_keeps_tail(void **state)
{
	(void)state;
	dd_buf log = DD_BUF_INIT;
	char line[64];
	size_t max = 4096;

	for (int i = 0; i < 2000; i++) {
		int n = snprintf(line, sizeof(line), "line %05d of the build output\n", i);
		dd_build_log_append(&log, line, (size_t)n, max);
		assert_true(log.len <= max);
	}
	assert_true(log.len > max - 100);
	assert_memory_equal(log.data, "line ", 5); /* cut at a line start */
	assert_non_null(strstr(log.data, "line 01999 of the build output\n"));
	assert_null(strstr(log.data, "line 01000 "));
	dd_build_last_line(log.data, log.len, line, sizeof(line));
	assert_string_equal(line, "line 01999 of the build output");
	/* One append larger than the limit keeps its own tail. */
	char big[10000];
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = 'Z';
	dd_build_log_append(&log, big, sizeof(big), max);
	assert_int_equal(log.len, max);
	assert_int_equal(log.data[max - 1], 'Z');
	dd_buf_release(&log);

	dd_build_last_line("a\nb  \r\n\n", 8, line, sizeof(line));
	assert_string_equal(line, "b");
	dd_build_last_line("", 0, line, sizeof(line));
	assert_string_equal(line, "");
	dd_build_last_line("0123456789", 10, line, 5);
	assert_string_equal(line, "6789");
}

static dd_fleet_build ci_recipe(enum dd_build_backend b, const char *url)
{
	dd_fleet_build fb;
	memset(&fb, 0, sizeof(fb));
	fb.backend = b;
	fb.url = (char *)url;
	return fb;
}

static const dd_build_vars ci_vars = { "reg.example:5000/team/app", "1", "reg.example:5000/team/app:1",
				       NULL, NULL, "reg.example:5000/base:12", "sha256:0123",
				       "chg 7&x=1" };

static void test_ci_jenkins_request(void **state)
{
	(void)state;
	dd_fleet_build fb = ci_recipe(DD_BUILD_JENKINS, "https://ci.example/job/team/job/app/?token=T");
	dd_build_ci_request r;
	dd_error e = DD_ERROR_INIT;

	assert_int_equal(dd_build_ci_compose(&r, &fb, &ci_vars, &e), 0);
	assert_string_equal(r.url, "https://ci.example/job/team/job/app/buildWithParameters?token=T");
	assert_string_equal(r.content_type, "application/x-www-form-urlencoded");
	assert_string_equal(r.body, "IMAGE=reg.example%3A5000%2Fteam%2Fapp&TAG=1&BASE=reg.example%3A5000%2Fbase%3A12"
				    "&BASE_DIGEST=sha256%3A0123&DRYDOCK_CHANGE=chg%207%26x%3D1");
	assert_int_equal(r.body_len, strlen(r.body));
	assert_int_equal(r.auth, 1);
	dd_build_ci_request_release(&r);

	char *root = dd_build_jenkins_root("https://ci.example/jenkins/job/team/job/app");
	assert_string_equal(root, "https://ci.example/jenkins");
	free(root);
	assert_null(dd_build_jenkins_root("https://ci.example/other"));
}

static void test_ci_azure_request(void **state)
{
	(void)state;
	dd_fleet_build fb = ci_recipe(DD_BUILD_AZURE, "https://dev.azure.com/org/proj/_apis/pipelines/7/runs");
	dd_build_ci_request r;
	dd_error e = DD_ERROR_INIT;

	assert_int_equal(dd_build_ci_compose(&r, &fb, &ci_vars, &e), 0);
	assert_string_equal(r.url, "https://dev.azure.com/org/proj/_apis/pipelines/7/runs?api-version=7.1");
	assert_string_equal(r.body, "{\"templateParameters\":{\"IMAGE\":\"reg.example:5000/team/app\",\"TAG\":\"1\","
				    "\"BASE\":\"reg.example:5000/base:12\",\"BASE_DIGEST\":\"sha256:0123\","
				    "\"DRYDOCK_CHANGE\":\"chg 7&x=1\"}}");
	assert_int_equal(r.auth, 2);
	dd_build_ci_request_release(&r);
	/* An api-version already there is kept; another parameter is not one. */
	fb.url = "https://dev.azure.com/o/p/_apis/pipelines/7/runs?pipelineVersion=3&api-version=7.1-preview.1";
	assert_int_equal(dd_build_ci_compose(&r, &fb, &ci_vars, &e), 0);
	assert_string_equal(r.url, fb.url);
	dd_build_ci_request_release(&r);
	fb.url = "https://dev.azure.com/o/p/_apis/pipelines/7/runs?xapi-version=1";
	assert_int_equal(dd_build_ci_compose(&r, &fb, &ci_vars, &e), 0);
	assert_string_equal(r.url, "https://dev.azure.com/o/p/_apis/pipelines/7/runs?xapi-version=1&api-version=7.1");
	dd_build_ci_request_release(&r);
}

static void test_ci_github_request(void **state)
{
	(void)state;
	dd_fleet_build fb = ci_recipe(DD_BUILD_GITHUB, "https://api.github.com/repos/acme/app/");
	dd_build_ci_request r;
	dd_error e = DD_ERROR_INIT;
	dd_build_vars v = ci_vars;

	v.base = NULL;
	assert_int_equal(dd_build_ci_compose(&r, &fb, &v, &e), 0);
	assert_string_equal(r.url, "https://api.github.com/repos/acme/app/dispatches");
	assert_string_equal(r.accept, "application/vnd.github+json");
	json_t *j = json_loads(r.body, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "event_type")), "drydock-rebuild");
	json_t *p = json_object_get(j, "client_payload");
	assert_string_equal(json_string_value(json_object_get(p, "ref")), "reg.example:5000/team/app:1");
	assert_string_equal(json_string_value(json_object_get(p, "base")), "");
	assert_string_equal(json_string_value(json_object_get(p, "change")), "chg 7&x=1");
	assert_true(json_object_size(p) <= 10); /* GitHub's limit */
	json_decref(j);
	dd_build_ci_request_release(&r);
	fb.url = "https://api.github.com/repos/acme/app/dispatches";
	fb.event_type = "base-updated";
	assert_int_equal(dd_build_ci_compose(&r, &fb, &v, &e), 0);
	assert_string_equal(r.url, "https://api.github.com/repos/acme/app/dispatches");
	assert_non_null(strstr(r.body, "\"event_type\":\"base-updated\""));
	dd_build_ci_request_release(&r);

	fb = ci_recipe(DD_BUILD_BUILDAH, "https://x");
	assert_int_equal(dd_build_ci_compose(&r, &fb, &v, &e), DD_EINPUT);
	fb = ci_recipe(DD_BUILD_GITHUB, NULL);
	assert_int_equal(dd_build_ci_compose(&r, &fb, &v, &e), DD_EINPUT);
}

static void test_spawn_status_and_errors(void **state)
{
	(void)state;
	const char *argv[] = { "sh", "-c", "echo first; echo 'it broke here' >&2; exit 3", NULL };
	dd_buf log = DD_BUF_INIT;
	dd_build_proc p = { 0 };
	dd_error e = DD_ERROR_INIT;

	p.argv = argv;
	p.log = &log;
	assert_int_equal(dd_build_spawn_ok(&p, "step", &e), DD_EENV);
	assert_string_equal(e.msg, "step exited 3: it broke here");
	assert_non_null(strstr(log.data, "first\n"));
	assert_non_null(strstr(log.data, "+ sh -c 'echo first;"));

	const char *missing[] = { "dd-no-such-program", NULL };
	p.argv = missing;
	assert_int_equal(dd_build_spawn_ok(&p, "x", &e), DD_EENV);
	assert_non_null(strstr(e.msg, "cannot run dd-no-such-program"));

	/* A killed process reports its signal. */
	const char *sig[] = { "sh", "-c", "kill -9 $$", NULL };
	p.argv = sig;
	assert_int_equal(dd_build_spawn_ok(&p, "k", &e), DD_EENV);
	assert_non_null(strstr(e.msg, "killed by signal 9"));

	/* Extra environment and working directory reach the child. */
	const char *envp[] = { "DD_TEST_VAR=hello there", "PATH=/usr/bin:/bin", NULL };
	const char *show[] = { "sh", "-c", "printf '%s:' \"$DD_TEST_VAR\"; pwd", NULL };
	dd_buf out = DD_BUF_INIT;
	p.argv = show;
	p.env = envp;
	p.cwd = "/usr";
	p.out = &out;
	assert_int_equal(dd_build_spawn_ok(&p, "env", &e), 0);
	assert_string_equal(dd_buf_cstr(&out), "hello there:/usr\n");
	dd_buf_release(&out);
	dd_buf_release(&log);
}

static void test_spawn_timeout_kills_group(void **state)
{
	(void)state;
	dd_buf out = DD_BUF_INIT;
	double t0 = dd_build_now();
	/* A grandchild in the background, and the child waiting on it. */
	int rc = run_sh("sleep 60 & echo $!; wait", &out, 1.0);
	double took = dd_build_now() - t0;
	assert_int_equal(rc, DD_EENV);
	assert_true(took < 8.0);
	long gpid = strtol(dd_buf_cstr(&out), NULL, 10);
	assert_true(gpid > 1);
	int alive = 1;
	for (int i = 0; i < 100 && alive; i++) {
		alive = kill((pid_t)gpid, 0) == 0;
		if (alive)
			usleep(20000);
	}
	assert_false(alive);
	dd_buf_release(&out);

	/* A child that exits while a grandchild keeps its stdout open does not
	 * hold the build until the grandchild ends. */
	dd_buf out2 = DD_BUF_INIT;
	t0 = dd_build_now();
	assert_int_equal(run_sh("sleep 60 & echo started", &out2, 30), 0);
	assert_true(dd_build_now() - t0 < 10.0);
	assert_string_equal(dd_buf_cstr(&out2), "started\n");
	dd_buf_release(&out2);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static dd_fleet_image image_for(dd_fleet_build b)
{
	dd_fleet_image im;
	memset(&im, 0, sizeof(im));
	im.name = "app";
	im.image = "127.0.0.1:1/app";
	im.tag = "1";
	im.build = b;
	return im;
}

static struct {
	int started, ended;
	long pgid;
	char what[32];
} procs;

static void on_process(void *ctx, long pgid, const char *what, int running)
{
	assert_ptr_equal(ctx, &procs);
	if (running) {
		procs.started++;
		procs.pgid = pgid;
		snprintf(procs.what, sizeof(procs.what), "%s", what);
		assert_int_equal(getpgid((pid_t)pgid), (pid_t)pgid); /* its own group, alive */
	} else {
		procs.ended++;
		assert_int_equal(pgid, procs.pgid);
	}
}

static int run_build(dd_fleet_image *im, dd_build_result *res, dd_error *e)
{
	dd_build_request rq = { 0 };
	memset(&procs, 0, sizeof(procs));
	rq.on_process = on_process;
	rq.on_process_ctx = &procs;
	rq.image = im;
	rq.workdir = tmpdir;
	rq.change_id = "chg-1";
	return dd_build_run(&rq, res, e);
}

static void test_recipe_errors(void **state)
{
	(void)state;
	dd_fleet_build b;
	dd_fleet_image im;
	dd_build_result res;
	dd_error e = DD_ERROR_INIT;
	char ctx[600];

	memset(&b, 0, sizeof(b));
	im = image_for(b);
	assert_int_equal(run_build(&im, &res, &e), DD_EINPUT);
	assert_string_equal(e.msg, "build app: image has no build recipe");
	dd_build_result_release(&res);

	b.backend = DD_BUILD_BUILDAH;
	im = image_for(b);
	assert_int_equal(run_build(&im, &res, &e), DD_EINPUT);
	assert_non_null(strstr(e.msg, "neither a context directory nor a git URL"));
	dd_build_result_release(&res);

	snprintf(ctx, sizeof(ctx), "%s/ctx", tmpdir);
	mkdir(ctx, 0755);
	b.context = ctx;
	im = image_for(b);
	assert_int_equal(run_build(&im, &res, &e), DD_EINPUT);
	assert_non_null(strstr(e.msg, "/ctx/Dockerfile: No such file"));
	dd_build_result_release(&res);

	write_file(ctx, "Dockerfile", "FROM scratch AS a\nCOPY x /x\nFROM Bad:Ref\n");
	assert_int_equal(run_build(&im, &res, &e), DD_EINPUT);
	assert_non_null(strstr(e.msg, "build app: "));
	assert_non_null(strstr(e.msg, "Dockerfile:3: FROM"));
	dd_build_result_release(&res);

	b.target = "nosuch";
	write_file(ctx, "Dockerfile", "FROM scratch\n");
	im = image_for(b);
	assert_int_equal(run_build(&im, &res, &e), DD_EINPUT);
	assert_non_null(strstr(e.msg, "no stage named 'nosuch'"));
	dd_build_result_release(&res);

	b.target = NULL;
	b.backend = DD_BUILD_COMMAND;
	im = image_for(b);
	assert_int_equal(run_build(&im, &res, &e), DD_EINPUT);
	assert_non_null(strstr(e.msg, "no command"));
	dd_build_result_release(&res);

	b.backend = DD_BUILD_JENKINS;
	b.url = "http://ci.example.com/job/app";
	b.token_env = "DD_TEST_TOKEN";
	b.user = "bot";
	im = image_for(b);
	assert_int_equal(run_build(&im, &res, &e), DD_EINPUT);
	assert_non_null(strstr(e.msg, "refusing to send the CI token to ci.example.com over http"));
	dd_build_result_release(&res);

	b.url = "https://ci.example.com/job/app";
	unsetenv("DD_TEST_TOKEN");
	im = image_for(b);
	assert_int_equal(run_build(&im, &res, &e), DD_EENV);
	assert_non_null(strstr(e.msg, "environment variable DD_TEST_TOKEN (the token) is not set"));
	dd_build_result_release(&res);
}

static void test_command_backend(void **state)
{
	(void)state;
	dd_fleet_build b;
	dd_fleet_image im;
	dd_build_result res;
	dd_error e = DD_ERROR_INIT;
	char ctx[600];

	snprintf(ctx, sizeof(ctx), "%s/cmdctx", tmpdir);
	mkdir(ctx, 0755);
	memset(&b, 0, sizeof(b));
	b.backend = DD_BUILD_COMMAND;
	b.context = ctx;
	/* The digest comes from the last stdout line; stderr after it does not
	 * matter; the placeholders and DRYDOCK_* variables agree. */
	b.command = "test {change} = \"$DRYDOCK_CHANGE\" && test \"$PWD\" = {context} && "
		    "echo building {ref} && printf 'sha256:%064d\\n' 7 && echo noise >&2";
	im = image_for(b);
	assert_int_equal(run_build(&im, &res, &e), 0);
	assert_string_equal(res.digest, "sha256:0000000000000000000000000000000000000000000000000000000000000007");
	assert_string_equal(res.ref, "127.0.0.1:1/app:1");
	assert_int_equal(res.n_froms, 0);
	assert_non_null(strstr(res.log.data, "building 127.0.0.1:1/app:1\n"));
	assert_int_equal(procs.started, 1);
	assert_int_equal(procs.ended, 1);
	assert_string_equal(procs.what, "sh");
	assert_true(procs.pgid > 1);
	dd_build_result_release(&res);

	b.command = "echo step one; echo 'the real reason' >&2; exit 4";
	im = image_for(b);
	assert_int_equal(run_build(&im, &res, &e), DD_EENV);
	assert_string_equal(e.msg, "build app: command exited 4: the real reason");
	assert_non_null(strstr(res.log.data, "drydock: failed: build app: command exited 4"));
	dd_build_result_release(&res);

	/* Timeout: the recipe's, for the whole build. */
	b.command = "sleep 30";
	b.timeout = 1;
	im = image_for(b);
	double t0 = dd_build_now();
	assert_int_equal(run_build(&im, &res, &e), DD_EENV);
	assert_true(dd_build_now() - t0 < 8.0);
	assert_non_null(strstr(e.msg, "timed out"));
	dd_build_result_release(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shell_quote_round_trips),
		cmocka_unit_test(test_template),
		cmocka_unit_test(test_log_keeps_tail),
		cmocka_unit_test(test_ci_jenkins_request),
		cmocka_unit_test(test_ci_azure_request),
		cmocka_unit_test(test_ci_github_request),
		cmocka_unit_test(test_spawn_status_and_errors),
		cmocka_unit_test(test_spawn_timeout_kills_group),
		cmocka_unit_test(test_recipe_errors),
		cmocka_unit_test(test_command_backend),
	};
	return cmocka_run_group_tests_name("build", tests, setup, teardown);
}
