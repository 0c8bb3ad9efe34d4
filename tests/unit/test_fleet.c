/* Unit tests for src/watch/fleet.c: the fleet file of `drydock watch`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "match/match.h"
#include "util/buf.h"
#include "util/reader.h"
#include "watch/fleet.h"

static void slurp(const char *rel, dd_buf *b)
{
	char path[4096];
	const char *root = getenv("DD_ROOT");
	dd_error e = DD_ERROR_INIT;
	snprintf(path, sizeof(path), "%s/%s", root ? root : ".", rel);
	if (dd_file_slurp(path, b, 8 << 20, &e) != 0)
		fail_msg("cannot read %s: %s", path, e.msg);
}

static dd_fleet *parse_ok(const char *text)
{
	dd_fleet *f = NULL;
	dd_error e = DD_ERROR_INIT;
	int rc = dd_fleet_parse(&f, text, strlen(text), "f.yaml", "/etc/fleet", &e);
	if (rc != 0)
		fail_msg("unexpected error %d: %s\n---\n%s", rc, e.msg, text);
	assert_non_null(f);
	return f;
}

#define NEEDS(p, s) assert_string_equal((p), (s))

/* The example in docs/watch.md is tests/data/watch/full.yaml, byte for byte,
 * and every value in it comes out as documented. */
static void test_full_example(void **state)
{
	(void)state;
	dd_buf doc = DD_BUF_INIT, data = DD_BUF_INIT;
	slurp("docs/watch.md", &doc);
	slurp("tests/data/watch/full.yaml", &data);
	const char *h = strstr(dd_buf_cstr(&doc), "## A full example");
	assert_non_null(h);
	const char *y = strstr(h, "```yaml\n");
	assert_non_null(y);
	y += 8;
	const char *end = strstr(y, "```\n");
	assert_non_null(end);
	assert_int_equal((size_t)(end - y), data.len);
	assert_memory_equal(y, data.data, data.len);

	dd_fleet *f = parse_ok(dd_buf_cstr(&data));
	NEEDS(f->path, "f.yaml");

	assert_int_equal(f->n_registries, 3);
	const dd_fleet_registry *r = &f->registries[0];
	NEEDS(r->host, "registry.example.com");
	NEEDS(r->username, "ci-bot");
	NEEDS(r->password_env, "REGISTRY_PASSWORD");
	assert_null(r->password_file);
	assert_int_equal(r->insecure, 0);
	NEEDS(r->ca_file, "/etc/fleet/certs/registry-ca.pem");
	assert_int_equal(r->poll_interval, 120);
	assert_int_equal(r->jitter_pct, 20);
	r = &f->registries[1];
	NEEDS(r->host, "127.0.0.1:5000");
	assert_null(r->username);
	assert_null(r->password_env);
	assert_int_equal(r->insecure, 1);
	assert_null(r->ca_file);
	assert_int_equal(r->poll_interval, 30);
	assert_int_equal(r->jitter_pct, 0);
	r = &f->registries[2];
	NEEDS(r->host, "docker.io");
	NEEDS(r->username, "someone");
	NEEDS(r->password_file, "/run/secrets/dockerhub-token");
	assert_int_equal(r->poll_interval, 3600);
	assert_int_equal(r->jitter_pct, 10);
	assert_ptr_equal(dd_fleet_registry_for(f, "docker.io"), r);
	assert_null(dd_fleet_registry_for(f, "quay.io"));

	assert_int_equal(f->n_images, 7);
	const dd_fleet_image *im = &f->images[0];
	NEEDS(im->name, "debian");
	NEEDS(im->image, "docker.io/library/debian");
	NEEDS(im->tag, "12-slim");
	assert_int_equal(im->n_platforms, 2);
	NEEDS(im->platforms[0], "linux/amd64");
	NEEDS(im->platforms[1], "linux/arm64");
	assert_null(im->base);
	assert_int_equal(im->build.backend, DD_BUILD_NONE);
	assert_null(im->build.dockerfile);

	im = &f->images[1];
	NEEDS(im->name, "base");
	NEEDS(im->image, "registry.example.com/platform/base");
	NEEDS(im->tag, "12");
	assert_int_equal(im->n_platforms, 0);
	NEEDS(im->base, "debian");
	assert_int_equal(im->build.backend, DD_BUILD_BUILDAH);
	NEEDS(im->build.context, "/etc/fleet/base");
	assert_null(im->build.git_url);
	NEEDS(im->build.dockerfile, "Containerfile");
	assert_null(im->build.target);
	assert_int_equal(im->build.n_args, 1);
	NEEDS(im->build.args[0].key, "DEBIAN_TAG");
	NEEDS(im->build.args[0].value, "12-slim");
	assert_int_equal(im->build.timeout, 3600);
	assert_null(im->build.command);
	assert_null(im->build.url);

	im = &f->images[2];
	NEEDS(im->name, "app");
	NEEDS(im->image, "registry.example.com/team/app");
	NEEDS(im->tag, "1");
	assert_int_equal(im->n_platforms, 1);
	NEEDS(im->platforms[0], "linux/amd64");
	assert_null(im->base);
	assert_int_equal(im->build.backend, DD_BUILD_BUILDAH);
	NEEDS(im->build.context, "services/app"); /* inside the clone: not resolved */
	NEEDS(im->build.git_url, "https://git.example.com/team/app.git");
	NEEDS(im->build.git_ref, "main");
	NEEDS(im->build.dockerfile, "docker/Dockerfile");
	NEEDS(im->build.target, "runtime");
	assert_int_equal(im->build.n_args, 2);
	NEEDS(im->build.args[0].key, "VERSION");
	NEEDS(im->build.args[0].value, "1.4.2");
	NEEDS(im->build.args[1].key, "BASE");
	NEEDS(im->build.args[1].value, "registry.example.com/platform/base:12");
	assert_int_equal(im->build.timeout, 1800);

	im = &f->images[3];
	NEEDS(im->name, "worker");
	NEEDS(im->image, "127.0.0.1:5000/worker");
	NEEDS(im->tag, "latest");
	NEEDS(im->base, "registry.example.com/platform/base:12");
	assert_int_equal(im->build.backend, DD_BUILD_COMMAND);
	NEEDS(im->build.context, "/etc/fleet/../worker"); /* not normalised: symlinks */
	NEEDS(im->build.command, "make -C {context} push IMAGE={ref} BASE_DIGEST={base_digest}");
	NEEDS(im->build.dockerfile, "Dockerfile");

	im = &f->images[4];
	NEEDS(im->name, "api");
	NEEDS(im->image, "registry.example.com/team/api");
	NEEDS(im->tag, "2");
	NEEDS(im->base, "base");
	assert_int_equal(im->build.backend, DD_BUILD_JENKINS);
	NEEDS(im->build.url, "https://jenkins.example.com/job/api");
	NEEDS(im->build.user, "drydock");
	NEEDS(im->build.token_env, "JENKINS_TOKEN");
	assert_int_equal(im->build.timeout, 3600);
	assert_null(im->build.event_type);

	im = &f->images[5];
	NEEDS(im->name, "web");
	assert_int_equal(im->build.backend, DD_BUILD_AZURE);
	NEEDS(im->build.url, "https://dev.azure.com/acme/web/_apis/pipelines/12/runs?api-version=7.1");
	NEEDS(im->build.token_env, "AZURE_DEVOPS_TOKEN");
	assert_null(im->build.user);

	im = &f->images[6];
	NEEDS(im->name, "docs");
	NEEDS(im->tag, "stable");
	assert_int_equal(im->build.backend, DD_BUILD_GITHUB);
	NEEDS(im->build.url, "https://api.github.com/repos/acme/docs");
	NEEDS(im->build.token_env, "GITHUB_TOKEN");
	NEEDS(im->build.event_type, "base-image-updated");
	NEEDS(dd_build_backend_name(im->build.backend), "github");

	assert_ptr_equal(dd_fleet_image_named(f, "web"), &f->images[5]);
	assert_ptr_equal(dd_fleet_image_named(f, "debian"), &f->images[0]);
	assert_null(dd_fleet_image_named(f, "nope"));

	assert_int_equal(f->n_gits, 2);
	const dd_fleet_git *g = &f->gits[0];
	NEEDS(g->url, "https://git.example.com/ops/cluster.git");
	NEEDS(g->branch, "main");
	NEEDS(g->push_branch, "drydock/updates");
	assert_int_equal(g->n_paths, 2);
	NEEDS(g->paths[0], "apps/app");
	NEEDS(g->paths[1], "apps/api/values.yaml");
	NEEDS(g->author_name, "drydock bot");
	NEEDS(g->author_email, "drydock@example.com");
	g = &f->gits[1];
	NEEDS(g->url, "/etc/fleet/gitops");
	NEEDS(g->branch, "main");
	NEEDS(g->push_branch, "main");
	assert_int_equal(g->n_paths, 0);
	NEEDS(g->author_name, "drydock");
	NEEDS(g->author_email, "drydock@localhost");

	assert_int_equal(f->n_kubectls, 1);
	const dd_fleet_kubectl *k = &f->kubectls[0];
	NEEDS(k->image, "worker");
	NEEDS(k->resource, "deployment/worker");
	NEEDS(k->container, "worker");
	NEEDS(k->namespace, "jobs");
	NEEDS(k->context, "prod-cluster");
	NEEDS(k->kubeconfig, "/etc/fleet/kube/config");

	assert_int_equal(f->policy.fail_on, DD_SEV_CRITICAL);
	assert_int_equal(f->policy.fail_on_new, 1);
	assert_int_equal(f->policy.n_ignore, 2);
	NEEDS(f->policy.ignore[0], "CVE-2023-4911");
	NEEDS(f->policy.ignore[1], "GHSA-2c8f-9q3j-3w5m");
	NEEDS(f->policy.db, "/var/lib/drydock/vuln.db");

	NEEDS(f->watch.state, "/etc/fleet/state/watch.db");
	NEEDS(f->watch.listen, "127.0.0.1:9095");
	NEEDS(f->watch.webhook_secret_env, "DRYDOCK_WEBHOOK_SECRET");
	assert_int_equal(f->watch.debounce, 30);
	NEEDS(f->watch.notify_url, "https://hooks.example.com/drydock");

	dd_fleet_free(f);
	dd_buf_release(&doc);
	dd_buf_release(&data);
}

/* dd_fleet_load: absolute path, relative paths against the file's directory. */
static void test_load(void **state)
{
	(void)state;
	char path[4096], cwd[4096], want[8192];
	const char *root = getenv("DD_ROOT");
	dd_error e = DD_ERROR_INIT;
	dd_fleet *f = NULL;

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	snprintf(path, sizeof(path), "%s/tests/data/watch/full.yaml", root ? root : ".");
	assert_int_equal(dd_fleet_load(&f, path, &e), 0);
	assert_non_null(f);
	assert_true(f->path[0] == '/');
	assert_non_null(strstr(f->path, "/tests/data/watch/full.yaml"));
	/* context "./base" -> DIR/base */
	snprintf(want, sizeof(want), "%.*s/base", (int)(strrchr(f->path, '/') - f->path), f->path);
	NEEDS(f->images[1].build.context, want);
	dd_fleet_free(f);

	f = (dd_fleet *)1;
	assert_int_equal(dd_fleet_load(&f, "/nonexistent/fleet.yaml", &e), DD_EINPUT);
	assert_null(f);
	assert_non_null(strstr(e.msg, "/nonexistent/fleet.yaml"));
	assert_int_equal(dd_fleet_load(&f, "/", &e), DD_EINPUT);
	assert_non_null(strstr(e.msg, "not a regular file"));
}

/* Every default of fleet.h and docs/watch.md. */
static void test_defaults(void **state)
{
	(void)state;
	dd_buf b = DD_BUF_INIT;
	slurp("tests/data/watch/minimal.yaml", &b);
	dd_fleet *f = parse_ok(dd_buf_cstr(&b));
	assert_int_equal(f->n_registries, 0);
	assert_int_equal(f->n_images, 2);
	NEEDS(f->images[0].name, "base");
	assert_int_equal(f->images[0].build.backend, DD_BUILD_NONE);
	const dd_fleet_build *bd = &f->images[1].build;
	assert_int_equal(bd->backend, DD_BUILD_BUILDAH);
	NEEDS(bd->context, "/etc/fleet/app");
	NEEDS(bd->dockerfile, "Dockerfile");
	NEEDS(bd->git_ref, "HEAD");
	assert_int_equal(bd->timeout, 3600);
	assert_int_equal(bd->n_args, 0);
	assert_null(bd->event_type);
	assert_int_equal(f->n_gits, 0);
	assert_int_equal(f->n_kubectls, 0);
	assert_int_equal(f->policy.fail_on, -1);
	assert_int_equal(f->policy.fail_on_new, 0);
	assert_int_equal(f->policy.n_ignore, 0);
	assert_null(f->policy.db);
	assert_null(f->watch.state);
	assert_null(f->watch.listen);
	assert_null(f->watch.webhook_secret_env);
	assert_null(f->watch.notify_url);
	assert_int_equal(f->watch.debounce, 10);
	dd_fleet_free(f);
	dd_buf_release(&b);

	f = parse_ok("registries:\n"
		     "  - host: r.example\n"
		     "images:\n"
		     "  - image: alpine\n"
		     "  - image: r.example/team/x:2\n"
		     "    build:\n"
		     "      backend: github\n"
		     "      url: https://api.github.com/repos/o/r\n"
		     "deploy:\n"
		     "  git:\n"
		     "    - url: /srv/git/ops.git\n"
		     "      branch: prod\n"
		     "  kubectl:\n"
		     "    - image: docker.io/library/alpine\n"
		     "      resource: deployment/a\n"
		     "      container: a\n"
		     "policy:\n"
		     "watch: ~\n");
	const dd_fleet_registry *r = &f->registries[0];
	assert_int_equal(r->poll_interval, 300);
	assert_int_equal(r->jitter_pct, 10);
	assert_int_equal(r->insecure, 0);
	NEEDS(f->images[0].name, "docker.io/library/alpine");
	NEEDS(f->images[0].image, "docker.io/library/alpine");
	NEEDS(f->images[0].tag, "latest");
	NEEDS(f->images[1].name, "r.example/team/x");
	NEEDS(f->images[1].build.event_type, "drydock-rebuild");
	NEEDS(f->gits[0].push_branch, "prod");
	NEEDS(f->kubectls[0].namespace, "default");
	assert_null(f->kubectls[0].context);
	assert_null(f->kubectls[0].kubeconfig);
	assert_int_equal(f->watch.debounce, 10);
	dd_fleet_free(f);

	/* Empty values are "not given"; yes/no booleans; separate tag:. */
	f = parse_ok("images:\n"
		     "  - image: docker://reg.example:5000/a/b\n"
		     "    tag: v1.2\n"
		     "    platforms:\n"
		     "    base:\n"
		     "registries:\n"
		     "  - host: reg.example:5000\n"
		     "    insecure: Yes\n"
		     "    jitter: 100%\n"
		     "    poll_interval: 90\n"
		     "policy: {fail_on: high, fail_on_new: no}\n");
	NEEDS(f->images[0].image, "reg.example:5000/a/b");
	NEEDS(f->images[0].tag, "v1.2");
	assert_null(f->images[0].base);
	assert_int_equal(f->registries[0].insecure, 1);
	assert_int_equal(f->registries[0].jitter_pct, 100);
	assert_int_equal(f->registries[0].poll_interval, 90);
	assert_int_equal(f->policy.fail_on, DD_SEV_HIGH);
	dd_fleet_free(f);

	/* A multi-line command keeps its newlines; no context needed for it. */
	f = parse_ok("images:\n"
		     "  - image: a/b\n"
		     "    build:\n"
		     "      backend: command\n"
		     "      command: |\n"
		     "        set -e\n"
		     "        make\tpush IMAGE={ref}\n");
	NEEDS(f->images[0].build.command, "set -e\nmake\tpush IMAGE={ref}\n");
	assert_null(f->images[0].build.context);
	dd_fleet_free(f);

	/* An IPv6 loopback registry: the default name is the canonical repository. */
	f = parse_ok("images: [{image: \"[::1]:5000/team/app:7\"}]\n");
	NEEDS(f->images[0].name, "[::1]:5000/team/app");
	NEEDS(f->images[0].tag, "7");
	assert_ptr_equal(dd_fleet_image_named(f, "[::1]:5000/team/app"), &f->images[0]);
	dd_fleet_free(f);

	/* dir NULL: relative paths from the current directory. */
	char cwd[4096], want[8192];
	dd_error e = DD_ERROR_INIT;
	const char *t = "images: [{image: a/b:1, build: {context: ctx}}]\n";
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(dd_fleet_parse(&f, t, strlen(t), NULL, NULL, &e), 0);
	snprintf(want, sizeof(want), "%s/ctx", cwd);
	NEEDS(f->images[0].build.context, want);
	NEEDS(f->path, "<memory>");
	dd_fleet_free(f);
}

struct bad {
	const char *yaml;
	const char *msg; /* expected in the message, after "f.yaml:" */
};

#define IMG "images:\n  - image: r.example/app:1\n"

static const struct bad bad_cases[] = {
	/* 1 */ { "", "f.yaml:1: empty fleet file" },
	{ "# only a comment\n", "f.yaml:1: empty fleet file" },
	{ "- a\n- b\n", "f.yaml:1: the fleet file must be a mapping" },
	{ "images: []\n", "f.yaml:2: no images" },
	{ "imagez:\n  - image: a\n", "f.yaml:1: unknown key 'imagez' in the fleet file" },
	{ IMG "    nmae: x\n", "f.yaml:3: unknown key 'nmae' in an image" },
	{ IMG "registries:\n  - host: r.example\n    password: hunter2\n",
	  "f.yaml:5: an inline 'password' is refused (secrets never go in the fleet file): use password_env" },
	{ IMG "    build:\n      backend: jenkins\n      url: https://j/x\n      token: abc\n",
	  "f.yaml:6: an inline 'token' is refused" },
	{ IMG "    build:\n      context: .\n      args:\n        password: x\n",
	  "f.yaml:6: an inline 'password' is refused" },
	{ IMG "watch:\n  webhook_secret: s\n", "f.yaml:4: an inline 'webhook_secret' is refused" },
	/* 11 */
	{ IMG "    build:\n      git_url: https://x/y.git\n",
	  "f.yaml:4: unknown key 'git_url' in build (write git: {url: ..., ref: ...})" },
	{ IMG "  - image: r.example/app:2\n", "f.yaml:3: duplicate image name 'r.example/app' (also at line 2)" },
	{ "images:\n  - name: a\n    image: x/a\n  - name: a\n    image: x/b\n",
	  "f.yaml:4: duplicate image name 'a' (also at line 2)" },
	{ IMG "    image: r.example/other\n", "f.yaml:3: duplicate key 'image' in an image" },
	{ IMG "    tag: \"2\"\n", "f.yaml:3: image 'r.example/app:1' already has a tag" },
	{ "images:\n  - image: r.example/app@sha256:" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
	  "f.yaml:2: image 'r.example/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef': a digest cannot be watched" },
	{ "images:\n  - image: UPPER/app\n", "f.yaml:2: image reference 'UPPER/app'" },
	{ "images:\n  - image: a/b\n    tag: \"bad tag\"\n", "f.yaml:3: image reference 'a/b:bad tag': invalid tag" },
	{ "images:\n  - name: x\n", "f.yaml:2: an entry of 'images' needs 'image'" },
	{ "images:\n  - image\n", "f.yaml:2: an entry of 'images' must be a mapping" },
	/* 21 */
	{ IMG "    build:\n      dockerfile: D\n", "f.yaml:4: the buildah backend needs 'context' (a directory) or 'git" },
	{ IMG "    build: ~\n", "f.yaml:3: the buildah backend needs 'context'" },
	{ IMG "    build:\n      backend: command\n      context: .\n",
	  "f.yaml:4: the command backend needs 'command'" },
	{ IMG "    build:\n      backend: jenkins\n", "f.yaml:4: the jenkins backend needs 'url'" },
	{ IMG "    build:\n      backend: azure\n      token_env: T\n", "f.yaml:4: the azure backend needs 'url'" },
	{ IMG "    build:\n      backend: github\n", "f.yaml:4: the github backend needs 'url'" },
	{ IMG "    build:\n      backend: bazel\n", "f.yaml:4: unknown backend 'bazel'" },
	{ IMG "    build:\n      context: /srv/app\n      git: {url: https://x/y.git}\n",
	  "f.yaml:4: 'context' '/srv/app' (a directory inside the git repository) must be relative" },
	{ IMG "    build:\n      git: {ref: main}\n", "f.yaml:4: 'git' needs 'url'" },
	{ IMG "    build:\n      git: {url: ./app}\n      context: a/../../..\n",
	  "f.yaml:5: 'context' 'a/../../..' (a directory inside the git repository) must not contain '..'" },
	{ IMG "    build:\n      context: .\n      command: make\n",
	  "f.yaml:5: 'command' is only for the command backend, not buildah" },
	/* 31 */
	{ IMG "    build:\n      backend: azure\n      url: https://a/b\n      user: u\n",
	  "f.yaml:6: 'user' is only for the jenkins backend, not azure" },
	{ IMG "    build:\n      backend: jenkins\n      url: ftp://j/x\n",
	  "f.yaml:5: 'url' must be an http:// or https:// URL" },
	{ IMG "    build:\n      backend: jenkins\n      url: https://u:pw@j/x\n",
	  "f.yaml:5: 'url': a password in the URL is refused" },
	{ IMG "    build:\n      context: .\n      timeout: 5 minutes\n",
	  "f.yaml:5: 'timeout' must be a duration like 90, 30s, 5m, 2h or 1d" },
	{ IMG "    build:\n      context: .\n      timeout: 0\n", "f.yaml:5: 'timeout' must be at least 1s" },
	{ IMG "    build:\n      context: .\n      args: [A, B]\n", "f.yaml:5: 'args' must be a mapping" },
	{ IMG "    build:\n      context: .\n      args:\n        A: 1\n        A: 2\n",
	  "f.yaml:7: duplicate build argument 'A'" },
	{ IMG "    build:\n      context: .\n      args:\n        1A: x\n",
	  "f.yaml:6: build argument '1A' must not start with a digit" },
	{ IMG "    build:\n      git: {url: \"--upload-pack=touch /tmp/x\"}\n", "f.yaml:4: 'url' must not start with '-'" },
	{ IMG "    build:\n      git: {url: \"ext::sh -c touch% /tmp/pwned\"}\n", "f.yaml:4: git url: the ext:: transport is refused" },
	/* 41 */
	{ IMG "    platforms: linux/amd64\n", "f.yaml:3: 'platforms' must be a list" },
	{ IMG "    platforms: [linux]\n", "f.yaml:3: platform 'linux' must be os/arch or os/arch/variant" },
	{ IMG "    platforms: [[linux/amd64]]\n", "f.yaml:3: 'platforms' must be a single value" },
	{ IMG "    base: r.example/app\n", "f.yaml:3: image 'r.example/app' names itself as its base" },
	{ IMG "    name: app\n    base: \"Not A Ref\"\n",
	  "f.yaml:4: base 'Not A Ref' is neither an image name in this file nor a valid reference" },
	{ "images:\n  - {name: a, image: x/a, base: b}\n  - {name: b, image: x/b, base: c}\n"
	  "  - {name: c, image: x/c, base: a}\n",
	  "its bases form a cycle" },
	{ IMG "deploy:\n  kubectl:\n    - image: nope\n      resource: deployment/x\n      container: x\n",
	  "f.yaml:5: kubectl target: no image named 'nope' in 'images'" },
	{ IMG "deploy:\n  kubectl:\n    - image: r.example/app\n      container: x\n",
	  "f.yaml:5: a kubectl target needs 'resource' as KIND/NAME" },
	{ IMG "deploy:\n  kubectl:\n    - image: r.example/app\n      resource: deployment/x\n",
	  "f.yaml:5: a kubectl target needs 'container'" },
	{ IMG "deploy:\n  kubectl:\n    - image: r.example/app\n      resource: deployment/x\n      container: x\n"
	      "      namespace: \"-n kube-system\"\n",
	  "f.yaml:8: 'namespace' holds ' '" },
	/* 51 */
	{ IMG "deploy:\n  git:\n    - branch: main\n", "f.yaml:5: a git deployment needs 'url'" },
	{ IMG "deploy:\n  git:\n    - url: ./x\n      paths: [../../etc/passwd]\n",
	  "f.yaml:6: path '../../etc/passwd' must not contain '..'" },
	{ IMG "deploy:\n  git:\n    - url: ./x\n      paths: [/etc]\n", "f.yaml:6: path '/etc' must be relative" },
	{ IMG "deploy:\n  git:\n    - url: ./x\n      branch: a..b\n", "f.yaml:6: 'branch' is not a valid git branch name" },
	{ IMG "deploy:\n  git:\n    - url: https://u:p@h/r.git\n", "f.yaml:5: git url: a password in the URL is refused" },
	{ IMG "deploy:\n  helm: []\n", "f.yaml:4: unknown key 'helm' in deploy" },
	{ IMG "policy:\n  fail_on: SEVERE\n", "f.yaml:4: 'fail_on' must be CRITICAL, HIGH, MEDIUM, LOW or UNKNOWN, not 'SEVERE'" },
	{ IMG "policy:\n  fail_on_new: maybe\n", "f.yaml:4: 'fail_on_new' must be true or false (or yes/no), not 'maybe'" },
	{ IMG "policy:\n  ignore: CVE-1\n", "f.yaml:4: 'ignore' must be a list" },
	{ IMG "registries:\n  - host: r.example/path\n", "f.yaml:4: 'host' is a registry host" },
	/* 61 */
	{ IMG "registries:\n  - username: u\n", "f.yaml:4: an entry of 'registries' needs 'host'" },
	{ IMG "registries:\n  - host: a\n  - host: a\n", "f.yaml:5: duplicate registry 'a' (also at line 4)" },
	{ IMG "registries:\n  - host: a\n    password_env: A\n    password_file: f\n",
	  "f.yaml:4: registry a: give password_env or password_file, not both" },
	{ IMG "registries:\n  - host: a\n    password_env: \"MY VAR\"\n",
	  "f.yaml:5: 'password_env' must name an environment variable" },
	{ IMG "registries:\n  - host: a\n    jitter: 101\n", "f.yaml:5: 'jitter' must be a percentage 0..100" },
	{ IMG "registries:\n  - host: a\n    poll_interval: -5s\n", "f.yaml:5: 'poll_interval' must be a duration" },
	{ IMG "registries:\n  - host: a\n    insecure: 1\n", "f.yaml:5: 'insecure' must be true or false" },
	{ IMG "watch:\n  listen: localhost\n", "f.yaml:4: 'listen' must be HOST:PORT" },
	{ IMG "watch:\n  listen: 127.0.0.1:70000\n", "f.yaml:4: 'listen': port '70000' is not 1..65535" },
	{ IMG "watch:\n  notify_url: file:///etc/passwd\n", "f.yaml:4: 'notify_url' must be an http:// or https:// URL" },
	/* 71 */
	{ IMG "watch:\n  debounce: 1.5s\n", "f.yaml:4: 'debounce' must be a duration" },
	{ IMG "watch: [1]\n", "f.yaml:3: 'watch' must be a mapping" },
	{ "images:\n  - &b {image: x/a}\n  - *b\n", "f.yaml:3: YAML aliases (*name) are not supported" },
	{ IMG "---\n" IMG, "f.yaml:3: more than one YAML document" },
	{ IMG "  - image: a/b\n   name: x\n", "f.yaml:4: not valid YAML: did not find expected '-' indicator" },
	{ "images:\n\t- image: a\n", "f.yaml:2: not valid YAML" },
	{ IMG "    name: \"a\\0b\"\n", "f.yaml:3: 'name' holds a NUL byte" },
	{ IMG "    name: \"a\\nb\"\n", "f.yaml:3: 'name' holds a control character" },
	{ IMG "    name: \"a b\"\n", "f.yaml:3: image name 'a b' holds ' '" },
	{ IMG "    ? [complex]\n    : key\n", "f.yaml:3: an image: a key must be a plain word" },
	/* 81 */
	{ IMG "    build:\n      context: \"\"\n", "f.yaml:4: 'context' is empty" },
	{ "images:\n  - image: r.example/app:1\n    build:\n      backend: command\n      command: make\n"
	  "      event_type: x\n",
	  "f.yaml:6: 'event_type' is only for the github backend, not command" },
};

static void test_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		dd_fleet *f = (dd_fleet *)1;
		dd_error e = DD_ERROR_INIT;
		const char *y = bad_cases[i].yaml;
		int rc = dd_fleet_parse(&f, y, strlen(y), "f.yaml", "/etc/fleet", &e);
		if (rc != DD_EINPUT || f || !strstr(e.msg, bad_cases[i].msg) || strchr(e.msg, '\n'))
			fail_msg("case %zu: rc %d, message\n  %s\nwanted\n  %s\n---\n%s", i + 1, rc, e.msg,
				 bad_cases[i].msg, y);
		if (strncmp(e.msg, "f.yaml:", 7))
			fail_msg("case %zu: message does not start with FILE:LINE: %s", i + 1, e.msg);
	}
}

/* The files tests/data/watch/bad-*.yaml: first line "# expect: TEXT". */
static void test_bad_files(void **state)
{
	(void)state;
	static const char *const files[] = { "bad-inline-password.yaml", "bad-unknown-key.yaml",
					     "bad-kubectl-image.yaml", "bad-alias-bomb.yaml" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char rel[256];
		dd_buf b = DD_BUF_INIT;
		dd_fleet *f = NULL;
		dd_error e = DD_ERROR_INIT;
		snprintf(rel, sizeof(rel), "tests/data/watch/%s", files[i]);
		slurp(rel, &b);
		const char *t = dd_buf_cstr(&b);
		assert_int_equal(strncmp(t, "# expect: ", 10), 0);
		char want[512];
		size_t n = strcspn(t + 10, "\n");
		snprintf(want, sizeof(want), "%s:%.*s", files[i], (int)n, t + 10);
		assert_int_equal(dd_fleet_parse(&f, t, b.len, files[i], "/x", &e), DD_EINPUT);
		if (!strstr(e.msg, want))
			fail_msg("%s: got '%s', wanted '%s'", files[i], e.msg, want);
		assert_null(f);
		dd_buf_release(&b);
	}
}

static void test_duration(void **state)
{
	(void)state;
	assert_int_equal(dd_fleet_duration("90"), 90);
	assert_int_equal(dd_fleet_duration("0"), 0);
	assert_int_equal(dd_fleet_duration("30s"), 30);
	assert_int_equal(dd_fleet_duration("5m"), 300);
	assert_int_equal(dd_fleet_duration("2h"), 7200);
	assert_int_equal(dd_fleet_duration("1d"), 86400);
	assert_int_equal(dd_fleet_duration("3650d"), 315360000L);
	assert_int_equal(dd_fleet_duration("3651d"), -1);
	assert_int_equal(dd_fleet_duration("99999999999999999999999"), -1);
	assert_int_equal(dd_fleet_duration("315360001"), -1);
	assert_int_equal(dd_fleet_duration(""), -1);
	assert_int_equal(dd_fleet_duration(NULL), -1);
	assert_int_equal(dd_fleet_duration("s"), -1);
	assert_int_equal(dd_fleet_duration("5ms"), -1);
	assert_int_equal(dd_fleet_duration("5 m"), -1);
	assert_int_equal(dd_fleet_duration(" 5"), -1);
	assert_int_equal(dd_fleet_duration("-5"), -1);
	assert_int_equal(dd_fleet_duration("+5"), -1);
	assert_int_equal(dd_fleet_duration("1.5h"), -1);
	assert_int_equal(dd_fleet_duration("5M"), -1);
	assert_int_equal(dd_fleet_duration("1h30m"), -1);
}

/* Size and count limits; many images stay fast (sorted name index). */
static void test_limits(void **state)
{
	(void)state;
	dd_fleet *f = NULL;
	dd_error e = DD_ERROR_INIT;
	dd_buf b = DD_BUF_INIT;

	/* larger than DD_FLEET_MAX */
	char *big = malloc(DD_FLEET_MAX + 2);
	assert_non_null(big);
	memset(big, '#', DD_FLEET_MAX + 1);
	big[DD_FLEET_MAX + 1] = '\0';
	assert_int_equal(dd_fleet_parse(&f, big, DD_FLEET_MAX + 1, "big.yaml", "/", &e), DD_EINPUT);
	assert_non_null(strstr(e.msg, "big.yaml: 4194305 bytes is larger than the limit"));
	/* deep nesting: refused at the first level the schema does not expect */
	memset(big, '[', 100000);
	big[100000] = '\0';
	assert_int_equal(dd_fleet_parse(&f, big, 100000, "deep.yaml", "/", &e), DD_EINPUT);
	assert_non_null(strstr(e.msg, "deep.yaml:1: "));
	free(big);

	/* 20000 images, each based on the previous: parses, names indexed */
	dd_buf_puts(&b, "images:\n");
	for (int i = 0; i < 20000; i++) {
		dd_buf_printf(&b, "  - {name: i%d, image: r.example/i%d", i, i);
		if (i)
			dd_buf_printf(&b, ", base: i%d, build: {context: c%d}", i - 1, i);
		dd_buf_puts(&b, "}\n");
	}
	assert_int_equal(b.failed, 0);
	assert_int_equal(dd_fleet_parse(&f, b.data, b.len, "many.yaml", "/", &e), 0);
	assert_int_equal(f->n_images, 20000);
	assert_ptr_equal(dd_fleet_image_named(f, "i12345"), &f->images[12345]);
	NEEDS(f->images[19999].base, "i19998");
	dd_fleet_free(f);

	/* one more link at the end of the long chain */
	dd_buf_printf(&b, "  - {name: loop, image: r.example/loop, base: i19999}\n");
	assert_int_equal(dd_fleet_parse(&f, b.data, b.len, "many.yaml", "/", &e), 0);
	dd_fleet_free(f);
	dd_buf_reset(&b);
	dd_buf_puts(&b, "images:\n  - {name: i0, image: r.example/i0, base: i2}\n"
			"  - {name: i1, image: r.example/i1, base: i0}\n"
			"  - {name: i2, image: r.example/i2, base: i1}\n");
	assert_int_equal(dd_fleet_parse(&f, b.data, b.len, "c.yaml", "/", &e), DD_EINPUT);
	assert_non_null(strstr(e.msg, "its bases form a cycle"));

	/* too many platforms */
	dd_buf_reset(&b);
	dd_buf_puts(&b, "images:\n  - image: a/b\n    platforms:\n");
	for (int i = 0; i < 65; i++)
		dd_buf_printf(&b, "      - linux/arch%d\n", i);
	assert_int_equal(dd_fleet_parse(&f, b.data, b.len, "p.yaml", "/", &e), DD_EINPUT);
	assert_non_null(strstr(e.msg, "p.yaml:68: more than 64 entries in 'platforms'"));
	dd_buf_release(&b);

	/* a very long key is cut in the message */
	char key[1000];
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	char *t = NULL;
	size_t tl = 0;
	FILE *m = open_memstream(&t, &tl);
	assert_non_null(m);
	fprintf(m, "images: [{image: a/b}]\n%s: 1\n", key);
	fclose(m);
	assert_int_equal(dd_fleet_parse(&f, t, tl, "k.yaml", "/", &e), DD_EINPUT);
	assert_non_null(strstr(e.msg, "k.yaml:2: unknown key 'kkkk"));
	assert_true(strlen(e.msg) < 200);
	free(t);
}

/* Invalid UTF-8 is a YAML error with a line number, not a crash. */
static void test_encoding(void **state)
{
	(void)state;
	dd_fleet *f = NULL;
	dd_error e = DD_ERROR_INIT;
	const char t[] = "images:\n  - image: a/b\n    name: \"\xff\xfe\"\n";
	assert_int_equal(dd_fleet_parse(&f, t, sizeof(t) - 1, "u.yaml", "/", &e), DD_EINPUT);
	assert_non_null(strstr(e.msg, "u.yaml:3: not valid YAML"));
	const char z[] = "images:\n  - image: a/b\0\n";
	assert_int_equal(dd_fleet_parse(&f, z, sizeof(z) - 1, "z.yaml", "/", &e), DD_EINPUT);
	assert_non_null(strstr(e.msg, "z.yaml:2: not valid YAML"));
	assert_int_equal(dd_fleet_parse(&f, NULL, 0, "n.yaml", "/", &e), DD_EINPUT);
	assert_null(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_example), cmocka_unit_test(test_load),
		cmocka_unit_test(test_defaults),     cmocka_unit_test(test_errors),
		cmocka_unit_test(test_bad_files),    cmocka_unit_test(test_duration),
		cmocka_unit_test(test_limits),       cmocka_unit_test(test_encoding),
	};
	return cmocka_run_group_tests_name("fleet", tests, NULL, NULL);
}
