/* Unit tests for src/deploy/git and src/deploy/kubectl: a real bare git
 * repository (made with the git CLI, checked with it too) and a real
 * kubectl against tests/k8s/fake-apiserver. */
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
#include <sys/wait.h>
#include <unistd.h>

#include "deploy/git.h"
#include "deploy/kubectl.h"
#include "util/log.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"
#define APP "127.0.0.1:5000/app"

static char tmp[256];

static void sh(const char *fmt, ...) DD_PRINTF(1, 2);
static void sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

/* The output of a shell command (trailing newline removed); free it. */
static char *capture(const char *fmt, ...) DD_PRINTF(1, 2);
static char *capture(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	dd_buf b = DD_BUF_INIT;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		dd_buf_append(&b, chunk, n);
	assert_int_equal(pclose(p), 0);
	while (b.len && b.data[b.len - 1] == '\n')
		b.data[--b.len] = '\0';
	return b.data ? dd_buf_detach(&b, NULL) : dd_strdup("");
}

static const char *DEPLOY = "# the app\n"
			    "apiVersion: apps/v1\n"
			    "kind: Deployment\n"
			    "spec:\n"
			    "  template:\n"
			    "    spec:\n"
			    "      containers:\n"
			    "      - name: app\n"
			    "        image: " APP "@" D1 "  # pinned by drydock\n";
static const char *KUST = "resources: [deployment.yaml]\n"
			  "images:\n"
			  "- name: app\n"
			  "  newName: " APP "\n"
			  "  digest: " D1 "\n";

static int setup(void **state)
{
	(void)state;
	const char *t = getenv("TMPDIR");
	snprintf(tmp, sizeof(tmp), "%s/drydock-deploy.XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmp))
		return -1;
	FILE *f;
	char p[512];
	sh("set -e; cd %s; git init -q --bare -b main origin.git; git init -q -b main seed; "
	   "mkdir -p seed/deploy seed/other", tmp);
	snprintf(p, sizeof(p), "%s/seed/deploy/deployment.yaml", tmp);
	f = fopen(p, "w");
	fputs(DEPLOY, f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/seed/deploy/kustomization.yaml", tmp);
	f = fopen(p, "w");
	fputs(KUST, f);
	fclose(f);
	sh("set -e; cd %s/seed; printf 'image: " APP ":1\\n' > other/values.yaml; "
	   "printf 'a: [\\n' > deploy/broken.yaml; printf 'image: " APP ":1\\n' > deploy/notes.md; "
	   "git add -A; git -c user.name=t -c user.email=t@t commit -q -m init; "
	   "git push -q ../origin.git main", tmp);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (tmp[0])
		sh("rm -rf %s", tmp);
	return 0;
}

static dd_fleet_git repo_cfg(char *url, char **paths, size_t np)
{
	dd_fleet_git g = { 0 };
	g.url = url;
	g.branch = "main";
	g.paths = paths;
	g.n_paths = np;
	g.author_name = "Dry Dock";
	g.author_email = "dd@example.com";
	return g;
}

static int commits(const char *branch)
{
	char *s = capture("git -C %s/origin.git rev-list --count %s", tmp, branch);
	int n = atoi(s);
	free(s);
	return n;
}

static void test_git_commit_and_idempotence(void **state)
{
	(void)state;
	char url[300], wd[300];
	char *paths[] = { "./deploy/" };
	dd_image_update u = { APP, D2 };
	dd_deploy_result r;
	dd_error err = DD_ERROR_INIT;
	snprintf(url, sizeof(url), "%s/origin.git", tmp);
	snprintf(wd, sizeof(wd), "%s/work/cache", tmp);
	dd_fleet_git g = repo_cfg(url, paths, 1);

	if (dd_deploy_git(&g, wd, &u, 1, "drydock: app -> " D2 "\n\nbase debian:12 changed\n",
			  "chg-1", &r, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(r.outcome, DD_DEPLOY_COMMITTED);
	assert_int_equal(r.files, 2);   /* deployment + kustomization; not broken.yaml, not other/ */
	assert_int_equal(r.changes, 2);
	assert_int_equal(strlen(r.commit), 40);
	assert_int_equal(commits("main"), 2);

	char *tip = capture("git -C %s/origin.git rev-parse main", tmp);
	assert_string_equal(tip, r.commit);
	free(tip);
	char *msg = capture("git -C %s/origin.git log -1 --format=%%B main", tmp);
	assert_string_equal(msg, "drydock: app -> " D2 "\n\nbase debian:12 changed\n\nDrydock-Change: chg-1");
	free(msg);
	char *trailer = capture("git -C %s/origin.git log -1 --format='%%(trailers:key=Drydock-Change,valueonly)' main", tmp);
	assert_string_equal(trailer, "chg-1");
	free(trailer);
	char *who = capture("git -C %s/origin.git log -1 --format='%%an <%%ae>' main", tmp);
	assert_string_equal(who, "Dry Dock <dd@example.com>");
	free(who);
	char *dep = capture("git -C %s/origin.git show main:deploy/deployment.yaml", tmp);
	assert_non_null(strstr(dep, "        image: " APP "@" D2 "  # pinned by drydock"));
	assert_non_null(strstr(dep, "# the app\n"));
	free(dep);
	char *k = capture("git -C %s/origin.git show main:deploy/kustomization.yaml", tmp);
	assert_non_null(strstr(k, "  digest: " D2));
	free(k);
	char *other = capture("git -C %s/origin.git diff --stat HEAD~1 HEAD -- other deploy/notes.md deploy/broken.yaml", tmp);
	assert_string_equal(other, "");
	free(other);

	/* the same change again: found by its trailer, nothing new */
	char first[41];
	memcpy(first, r.commit, sizeof(first));
	assert_int_equal(dd_deploy_git(&g, wd, &u, 1, "again", "chg-1", &r, &err), 0);
	assert_int_equal(r.outcome, DD_DEPLOY_ALREADY);
	assert_string_equal(r.commit, first);
	/* a new change id with nothing to change: no commit */
	assert_int_equal(dd_deploy_git(&g, wd, &u, 1, "again", "chg-2", &r, &err), 0);
	assert_int_equal(r.outcome, DD_DEPLOY_NO_CHANGE);
	assert_string_equal(r.commit, "");
	assert_int_equal(commits("main"), 2);
}

static void test_git_crash_retry(void **state)
{
	(void)state;
	char url[300], wd[300];
	dd_image_update u = { APP, D3 };
	dd_deploy_result r;
	dd_error err = DD_ERROR_INIT;
	snprintf(url, sizeof(url), "file://%s/origin.git", tmp);
	snprintf(wd, sizeof(wd), "%s/work/crash", tmp);
	dd_fleet_git g = repo_cfg(url, NULL, 0);
	int before = commits("main");

	assert_int_equal(dd_deploy_git(&g, wd, &u, 1, "to D3", "chg-3", &r, &err), 0);
	assert_int_equal(r.outcome, DD_DEPLOY_COMMITTED);
	/* whole tree: other/values.yaml too (its tag kept) */
	assert_int_equal(r.files, 3);
	char id[41];
	memcpy(id, r.commit, sizeof(id));
	/* the caller crashed before recording the result; its state is gone
	 * (work directory too), and someone pushed on top meanwhile */
	sh("rm -rf %s; set -e; cd %s/seed; git pull -q ../origin.git main; echo x > README; "
	   "git add README; git -c user.name=t -c user.email=t@t commit -q -m other; "
	   "git push -q ../origin.git main", wd, tmp);
	assert_int_equal(dd_deploy_git(&g, wd, &u, 1, "to D3", "chg-3", &r, &err), 0);
	assert_int_equal(r.outcome, DD_DEPLOY_ALREADY);
	assert_string_equal(r.commit, id);
	assert_int_equal(commits("main"), before + 2);
	char *v = capture("git -C %s/origin.git show main:other/values.yaml", tmp);
	assert_string_equal(v, "image: " APP ":1@" D3);
	free(v);
}

static void test_git_push_branch(void **state)
{
	(void)state;
	char url[300], wd[300];
	dd_image_update u = { APP, D1 };
	dd_deploy_result r;
	dd_error err = DD_ERROR_INIT;
	snprintf(url, sizeof(url), "%s/origin.git", tmp);
	snprintf(wd, sizeof(wd), "%s/work/pb", tmp);
	dd_fleet_git g = repo_cfg(url, NULL, 0);
	g.push_branch = "drydock/updates";
	int before = commits("main");

	assert_int_equal(dd_deploy_git(&g, wd, &u, 1, "to D1", "chg-4", &r, &err), 0);
	assert_int_equal(r.outcome, DD_DEPLOY_COMMITTED);
	assert_int_equal(commits("main"), before);
	assert_int_equal(commits("drydock/updates"), before + 1);
	/* the next change builds on the push branch */
	u.digest = D2;
	assert_int_equal(dd_deploy_git(&g, wd, &u, 1, "to D2", "chg-5", &r, &err), 0);
	assert_int_equal(r.outcome, DD_DEPLOY_COMMITTED);
	assert_int_equal(commits("drydock/updates"), before + 2);
	/* a change already on the push branch is found there */
	assert_int_equal(dd_deploy_git(&g, wd, &u, 1, "to D1", "chg-4", &r, &err), 0);
	assert_int_equal(r.outcome, DD_DEPLOY_ALREADY);
	assert_int_equal(commits("main"), before);
}

/* The log line between the two push attempts is where the test makes the
 * remote move: the lock that made the first push fail goes away and
 * someone else's commit lands on main. */
static int moved;
static void move_remote(enum dd_log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)ctx;
	if (!strstr(msg, "fetching and trying again"))
		return;
	moved++;
	sh("set -e; rm %s/origin.git/refs/heads/main.lock; cd %s/seed; git pull -q ../origin.git main; "
	   "echo y > OTHER; git add OTHER; git -c user.name=t -c user.email=t@t commit -q -m concurrent; "
	   "git push -q ../origin.git main", tmp, tmp);
}

static void test_git_retry_after_remote_moved(void **state)
{
	(void)state;
	char url[300], wd[300];
	dd_image_update u = { APP, D1 };
	dd_deploy_result r;
	dd_error err = DD_ERROR_INIT;
	snprintf(url, sizeof(url), "%s/origin.git", tmp);
	snprintf(wd, sizeof(wd), "%s/work/retry", tmp);
	dd_fleet_git g = repo_cfg(url, NULL, 0);
	int before = commits("main");

	sh("touch %s/origin.git/refs/heads/main.lock", tmp);
	dd_log_set_sink(move_remote, NULL);
	dd_log_set_level(DD_LOG_INFO);
	int rc = dd_deploy_git(&g, wd, &u, 1, "to D1", "chg-retry", &r, &err);
	dd_log_set_sink(NULL, NULL);
	dd_log_set_level(DD_LOG_WARN);
	if (rc)
		fail_msg("%s", err.msg);
	assert_int_equal(moved, 1);
	assert_int_equal(r.outcome, DD_DEPLOY_COMMITTED);
	assert_int_equal(commits("main"), before + 2);
	/* ours is on top of the concurrent commit, which is kept */
	char *parent = capture("git -C %s/origin.git log -1 --format=%%s main~1", tmp);
	assert_string_equal(parent, "concurrent");
	free(parent);
	char *other = capture("git -C %s/origin.git show main:OTHER", tmp);
	assert_string_equal(other, "y");
	free(other);
	char *dep = capture("git -C %s/origin.git show main:deploy/deployment.yaml", tmp);
	assert_non_null(strstr(dep, APP "@" D1));
	free(dep);
}

static void test_git_errors(void **state)
{
	(void)state;
	char url[300], wd[300], bad[300];
	dd_image_update u = { APP, D1 };
	dd_deploy_result r;
	dd_error err = DD_ERROR_INIT;
	snprintf(url, sizeof(url), "%s/origin.git", tmp);
	snprintf(wd, sizeof(wd), "%s/work/err", tmp);
	dd_fleet_git g = repo_cfg(url, NULL, 0);

	g.branch = "nope";
	assert_int_equal(dd_deploy_git(&g, wd, &u, 1, "m", "c", &r, &err), DD_EENV);
	assert_non_null(strstr(err.msg, "branch 'nope' not found"));
	g.branch = "main";
	assert_int_equal(dd_deploy_git(&g, wd, &u, 1, "m", "two\nlines", &r, &err), DD_EUSAGE);
	assert_int_equal(dd_deploy_git(&g, wd, &u, 1, "m", "", &r, &err), DD_EUSAGE);
	g.push_branch = "bad..name";
	assert_int_equal(dd_deploy_git(&g, wd, &u, 1, "m", "c", &r, &err), DD_EUSAGE);
	assert_non_null(strstr(err.msg, "bad branch name"));
	g.push_branch = NULL;
	snprintf(bad, sizeof(bad), "%s/seed/deploy", tmp); /* not empty, not a repository */
	assert_int_equal(dd_deploy_git(&g, bad, &u, 1, "m", "c", &r, &err), DD_EENV);
	assert_non_null(strstr(err.msg, "not a git repository"));
	g.url = "/nonexistent/repo.git";
	assert_int_equal(dd_deploy_git(&g, wd, &u, 1, "m", "c", &r, &err), DD_EENV);
	assert_non_null(strstr(err.msg, "/nonexistent/repo.git"));
	assert_null(strchr(err.msg, '\n'));
	/* a push that keeps failing (the remote's branch is locked): fetched
	 * and retried once, then an error; nothing committed */
	g.url = url;
	int before = commits("main");
	dd_image_update d2 = { APP, D2 };
	sh("touch %s/origin.git/refs/heads/main.lock", tmp);
	assert_int_equal(dd_deploy_git(&g, wd, &d2, 1, "m", "c-locked", &r, &err), DD_EENV);
	assert_non_null(strstr(err.msg, "failed twice"));
	assert_string_equal(r.commit, "");
	sh("rm %s/origin.git/refs/heads/main.lock", tmp);
	assert_int_equal(commits("main"), before);
	dd_image_update badu = { APP ":1", D1 };
	assert_int_equal(dd_deploy_git(&g, wd, &badu, 1, "m", "c6", &r, &err), DD_EUSAGE);
}

/* ---- kubectl ------------------------------------------------------------ */

static int have_program(const char *name)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", name);
	return system(cmd) == 0;
}

static void test_kubectl_set_image(void **state)
{
	(void)state;
	if (!have_program("kubectl") || !have_program("python3")) {
		skip(); /* reported as SKIP by tests/run */
		return;
	}
	const char *root = getenv("DD_ROOT");
	char server[512], pf[300], rec[300], kc[300];
	snprintf(server, sizeof(server), "%s/tests/k8s/fake-apiserver", root && *root ? root : ".");
	snprintf(pf, sizeof(pf), "%s/port", tmp);
	snprintf(rec, sizeof(rec), "%s/patches.jsonl", tmp);
	snprintf(kc, sizeof(kc), "%s/kubeconfig", tmp);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execlp("python3", "python3", server, "--port-file", pf, "--record", rec, "--deployment",
		       "prod/app=app=" APP ":1", "--deployment", "prod/app=sidecar=nginx:1", (char *)NULL);
		_exit(127);
	}
	int port = 0;
	for (int i = 0; i < 200 && !port; i++) {
		FILE *f = fopen(pf, "r");
		if (f) {
			if (fscanf(f, "%d", &port) != 1)
				port = 0;
			fclose(f);
		}
		if (!port)
			usleep(50000);
	}
	if (!port) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		fail_msg("fake-apiserver did not start");
	}
	FILE *f = fopen(kc, "w");
	fprintf(f, "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster: {server: "
		   "\"http://127.0.0.1:%d\"}\nusers:\n- name: u\n  user: {token: x}\ncontexts:\n"
		   "- name: fake\n  context: {cluster: fake, user: u}\ncurrent-context: other\n", port);
	fclose(f);

	dd_fleet_kubectl k = { "app", "fake", kc, "prod", "deployment/app", "app" };
	dd_image_update u = { APP, D2 };
	dd_buf log = DD_BUF_INIT;
	dd_error err = DD_ERROR_INIT;
	int rc = dd_deploy_kubectl(&k, &u, NULL, 60, &log, &err);
	if (rc)
		fail_msg("%s (log: %s)", err.msg, dd_buf_cstr(&log));
	assert_non_null(strstr(dd_buf_cstr(&log), "deployment.apps/app image updated"));

	/* the PATCH sets the container's image to the digest reference */
	json_error_t je;
	json_t *line = json_load_file(rec, JSON_DISABLE_EOF_CHECK, &je);
	assert_non_null(line);
	assert_string_equal(json_string_value(json_object_get(line, "path")),
			    "/apis/apps/v1/namespaces/prod/deployments/app");
	json_t *cs = json_object_get(json_object_get(json_object_get(json_object_get(
		json_object_get(line, "patch"), "spec"), "template"), "spec"), "containers");
	assert_int_equal(json_array_size(cs), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(cs, 0), "name")), "app");
	assert_string_equal(json_string_value(json_object_get(json_array_get(cs, 0), "image")),
			    APP "@" D2);
	json_decref(line);

	/* errors: a missing deployment, a missing program, a bad target */
	dd_fleet_kubectl missing = k;
	missing.resource = "deployment/nope";
	dd_buf_reset(&log);
	assert_int_equal(dd_deploy_kubectl(&missing, &u, NULL, 60, &log, &err), DD_EENV);
	assert_non_null(strstr(err.msg, "exit status 1"));
	assert_non_null(strstr(err.msg, "not found"));
	assert_int_equal(dd_deploy_kubectl(&k, &u, "/nonexistent/kubectl", 60, &log, &err), DD_EENV);
	assert_non_null(strstr(err.msg, "cannot run"));
	dd_fleet_kubectl badc = k;
	badc.container = "a=b";
	assert_int_equal(dd_deploy_kubectl(&badc, &u, NULL, 60, &log, &err), DD_EUSAGE);
	dd_image_update badu = { APP, "sha256:xyz" };
	assert_int_equal(dd_deploy_kubectl(&k, &badu, NULL, 60, &log, &err), DD_EUSAGE);

	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	dd_buf_release(&log);
}

static void test_kubectl_timeout(void **state)
{
	(void)state;
	char prog[300];
	snprintf(prog, sizeof(prog), "%s/slow-kubectl", tmp);
	FILE *f = fopen(prog, "w");
	fputs("#!/bin/sh\necho \"args: $*\"\nexec sleep 30\n", f);
	fclose(f);
	chmod(prog, 0755);
	dd_fleet_kubectl k = { "app", NULL, NULL, NULL, "deployment/app", "app" };
	dd_image_update u = { APP, D2 };
	dd_buf log = DD_BUF_INIT;
	dd_error err = DD_ERROR_INIT;
	assert_int_equal(dd_deploy_kubectl(&k, &u, prog, 1, &log, &err), DD_EENV);
	assert_non_null(strstr(err.msg, "killed after 1 s"));
	assert_string_equal(dd_buf_cstr(&log),
			    "args: -n default set image deployment/app app=" APP "@" D2 "\n");
	dd_buf_release(&log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_git_commit_and_idempotence),
		cmocka_unit_test(test_git_crash_retry),
		cmocka_unit_test(test_git_push_branch),
		cmocka_unit_test(test_git_retry_after_remote_moved),
		cmocka_unit_test(test_git_errors),
		cmocka_unit_test(test_kubectl_set_image),
		cmocka_unit_test(test_kubectl_timeout),
	};
	return cmocka_run_group_tests_name("deploy", tests, setup, teardown);
}
