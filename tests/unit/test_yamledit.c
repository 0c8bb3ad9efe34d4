/* Unit tests for src/deploy/yamledit: image references rewritten to digests
 * in Kubernetes manifests, kustomizations and Helm values, every other byte
 * kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deploy/yamledit.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define APP "127.0.0.1:5000/app"

static const dd_image_update UPD[] = {
	{ APP, D2 },
	{ "docker.io/library/nginx", D2 },
};

/* Apply UPD to in; returns the result (free it) and the change count.  A
 * second apply must change nothing and give the same bytes. */
static char *apply_n(const char *in, const char *name, const dd_image_update *u, size_t n,
		     size_t *changes)
{
	dd_buf out = DD_BUF_INIT, again = DD_BUF_INIT;
	dd_error err = DD_ERROR_INIT;
	size_t c2 = 99;
	int rc = dd_yamledit_apply(in, strlen(in), name, u, n, &out, changes, &err);
	if (rc)
		fail_msg("apply: %s", err.msg);
	assert_int_equal(dd_yamledit_apply(out.data, out.len, name, u, n, &again, &c2, &err), 0);
	assert_int_equal(c2, 0);
	assert_int_equal(again.len, out.len);
	assert_memory_equal(again.data, out.data, out.len);
	dd_buf_release(&again);
	return dd_buf_detach(&out, NULL);
}

static char *apply(const char *in, const char *name, size_t *changes)
{
	return apply_n(in, name, UPD, 2, changes);
}

static void expect(const char *in, const char *name, const char *want, size_t want_changes)
{
	size_t c = 99;
	char *got = apply(in, name, &c);
	assert_string_equal(got, want);
	assert_int_equal(c, want_changes);
	free(got);
}

static void test_deployment(void **state)
{
	(void)state;
	expect("# the app\n"
	       "apiVersion: apps/v1\n"
	       "kind: Deployment\n"
	       "metadata: {name: app}   # inline\n"
	       "spec:\n"
	       "  template:\n"
	       "    spec:\n"
	       "      containers:\n"
	       "        - name: app\n"
	       "          image: 127.0.0.1:5000/app:1   # pinned by drydock\n"
	       "          ports: [{containerPort: 80}]\n"
	       "        - name: sidecar\n"
	       "          image: quay.io/other/sidecar:2\n",
	       "deploy.yaml",
	       "# the app\n"
	       "apiVersion: apps/v1\n"
	       "kind: Deployment\n"
	       "metadata: {name: app}   # inline\n"
	       "spec:\n"
	       "  template:\n"
	       "    spec:\n"
	       "      containers:\n"
	       "        - name: app\n"
	       "          image: 127.0.0.1:5000/app:1@" D2 "   # pinned by drydock\n"
	       "          ports: [{containerPort: 80}]\n"
	       "        - name: sidecar\n"
	       "          image: quay.io/other/sidecar:2\n",
	       1);
}

static void test_digest_replaced_tag_kept(void **state)
{
	(void)state;
	expect("image: 127.0.0.1:5000/app@" D1 "\n", "a.yaml", "image: 127.0.0.1:5000/app@" D2 "\n", 1);
	expect("image: 127.0.0.1:5000/app:v2@" D1 "\n", "a.yaml",
	       "image: 127.0.0.1:5000/app:v2@" D2 "\n", 1);
	/* no tag, no digest: pinned without inventing a tag */
	expect("image: 127.0.0.1:5000/app\n", "a.yaml", "image: 127.0.0.1:5000/app@" D2 "\n", 1);
	/* a different repository on the same registry, a longer path, a prefix */
	const char *other = "a: {image: 127.0.0.1:5000/app2:1}\n"
			    "b: {image: 127.0.0.1:5000/team/app:1}\n"
			    "c: {image: 127.0.0.1:5001/app:1}\n"
			    "d: {image: \"not a reference\"}\n"
			    "e: {image: $IMAGE}\n";
	expect(other, "a.yaml", other, 0);
}

static void test_cronjob_init_containers(void **state)
{
	(void)state;
	expect("apiVersion: batch/v1\n"
	       "kind: CronJob\n"
	       "spec:\n"
	       "  schedule: \"*/5 * * * *\"\n"
	       "  jobTemplate:\n"
	       "    spec:\n"
	       "      template:\n"
	       "        spec:\n"
	       "          initContainers:\n"
	       "          - name: migrate\n"
	       "            image: \"127.0.0.1:5000/app:1\"\n"
	       "          containers:\n"
	       "          - name: job\n"
	       "            image: '127.0.0.1:5000/app:1'\n"
	       "          - name: web\n"
	       "            image: nginx:1.25\n",
	       "cron.yml",
	       "apiVersion: batch/v1\n"
	       "kind: CronJob\n"
	       "spec:\n"
	       "  schedule: \"*/5 * * * *\"\n"
	       "  jobTemplate:\n"
	       "    spec:\n"
	       "      template:\n"
	       "        spec:\n"
	       "          initContainers:\n"
	       "          - name: migrate\n"
	       "            image: \"127.0.0.1:5000/app:1@" D2 "\"\n"
	       "          containers:\n"
	       "          - name: job\n"
	       "            image: '127.0.0.1:5000/app:1@" D2 "'\n"
	       "          - name: web\n"
	       "            image: nginx:1.25@" D2 "\n",
	       3);
}

static void test_multi_document(void **state)
{
	(void)state;
	expect("---\n# first\nimage: 127.0.0.1:5000/app:1\n"
	       "---\n# second: unrelated\nimage: busybox\n"
	       "...\n---\nlist:\n- image: docker.io/nginx   # normalised to library/nginx\n",
	       "m.yaml",
	       "---\n# first\nimage: 127.0.0.1:5000/app:1@" D2 "\n"
	       "---\n# second: unrelated\nimage: busybox\n"
	       "...\n---\nlist:\n- image: docker.io/nginx@" D2 "   # normalised to library/nginx\n",
	       2);
}

static void test_flow_style(void **state)
{
	(void)state;
	/* a plain flow scalar that gains a ':' is quoted for older parsers */
	expect("c: [{name: a, image: nginx}, {image: 127.0.0.1:5000/app:1, name: b}]\n", "f.yaml",
	       "c: [{name: a, image: \"nginx@" D2 "\"}, {image: 127.0.0.1:5000/app:1@" D2
	       ", name: b}]\n",
	       2);
}

static void test_properties_and_block_scalars(void **state)
{
	(void)state;
	expect("image: &img !!str 127.0.0.1:5000/app:1\nb: *img\n", "p.yaml",
	       "image: &img !!str 127.0.0.1:5000/app:1@" D2 "\nb: *img\n", 1);
	expect("image: |-\n  127.0.0.1:5000/app:1\nnext: x\n", "b.yaml",
	       "image: |-\n  127.0.0.1:5000/app:1@" D2 "\nnext: x\n", 1);
}

static void test_quoting_of_new_values(void **state)
{
	(void)state;
	/* a Helm tag is free text: the new value is quoted as its style needs
	 * (found by fuzz_yamledit) */
	expect("web: {repository: nginx, tag: \\.}\n", "values.yaml",
	       "web: {repository: nginx, tag: \"\\\\.@" D2 "\"}\n", 1);
	expect("web:\n  repository: nginx\n  tag: 'it''s'\n", "values.yaml",
	       "web:\n  repository: nginx\n  tag: 'it''s@" D2 "'\n", 1);
	expect("web:\n  repository: nginx\n  tag: \"a\\tb\"\n", "values.yaml",
	       "web:\n  repository: nginx\n  tag: \"a\\x09b@" D2 "\"\n", 1);
	/* a tag, then the value on the next line (after a BOM libyaml skips) */
	expect("image: !!str\n  127.0.0.1:5000/app:1\n", "p.yaml",
	       "image: !!str\n  127.0.0.1:5000/app:1@" D2 "\n", 1);
	expect("image: !!str\r\n\xEF\xBB\xBF  nginx:2\n", "p.yaml",
	       "image: !!str\r\n\xEF\xBB\xBF  nginx:2@" D2 "\n", 1);
}

static void test_unicode_offsets(void **state)
{
	(void)state;
	/* multi-byte characters before the edit, a BOM, CRLF line ends */
	expect("\xEF\xBB\xBF# caf\xC3\xA9 \xF0\x9F\x90\xB3\r\nname: \"\xE2\x98\x83\"\r\n"
	       "image: 127.0.0.1:5000/app:1\r\n",
	       "u.yaml",
	       "\xEF\xBB\xBF# caf\xC3\xA9 \xF0\x9F\x90\xB3\r\nname: \"\xE2\x98\x83\"\r\n"
	       "image: 127.0.0.1:5000/app:1@" D2 "\r\n",
	       1);
}

static void test_kustomization(void **state)
{
	(void)state;
	/* an existing digest is replaced, a missing one added after the last
	 * key (before a comment line), other entries untouched */
	expect("apiVersion: kustomize.config.k8s.io/v1beta1\n"
	       "kind: Kustomization\n"
	       "resources: [deploy.yaml]\n"
	       "images:\n"
	       "- name: app\n"
	       "  newName: 127.0.0.1:5000/app   # the real one\n"
	       "  digest: " D1 "\n"
	       "- name: 127.0.0.1:5000/app\n"
	       "  newTag: \"1\"  # keep\n"
	       "# trailing comment\n"
	       "- name: other\n"
	       "  newTag: \"2\"\n"
	       "- {name: nginx, newTag: \"1.25\"}\n",
	       "kustomization.yaml",
	       "apiVersion: kustomize.config.k8s.io/v1beta1\n"
	       "kind: Kustomization\n"
	       "resources: [deploy.yaml]\n"
	       "images:\n"
	       "- name: app\n"
	       "  newName: 127.0.0.1:5000/app   # the real one\n"
	       "  digest: " D2 "\n"
	       "- name: 127.0.0.1:5000/app\n"
	       "  newTag: \"1\"  # keep\n"
	       "  digest: " D2 "\n"
	       "# trailing comment\n"
	       "- name: other\n"
	       "  newTag: \"2\"\n"
	       "- {name: nginx, newTag: \"1.25\", digest: \"" D2 "\"}\n",
	       3);
	/* name matches but newName points elsewhere: not ours */
	const char *elsewhere = "images:\n- name: 127.0.0.1:5000/app\n  newName: reg.example.com/fork\n";
	expect(elsewhere, "kustomization.yml", elsewhere, 0);
	/* recognised by apiVersion too; last entry at end of file without '\n' */
	expect("apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nimages:\n"
	       "  - name: 127.0.0.1:5000/app\n    newTag: \"1\"",
	       "overlay.yaml",
	       "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nimages:\n"
	       "  - name: 127.0.0.1:5000/app\n    newTag: \"1\"\n    digest: " D2,
	       1);
	/* an images: list in a file that is not a kustomization is left alone */
	const char *notk = "images:\n- name: 127.0.0.1:5000/app\n";
	expect(notk, "fleet.yaml", notk, 0);
}

static void test_kustomization_crlf(void **state)
{
	(void)state;
	expect("images:\r\n- name: 127.0.0.1:5000/app\r\n  newTag: \"1\"\r\n", "Kustomization",
	       "images:\r\n- name: 127.0.0.1:5000/app\r\n  newTag: \"1\"\r\n  digest: " D2 "\r\n", 1);
	expect("images:\r\n- name: 127.0.0.1:5000/app\r\n  newTag: \"1\" # c\r\n", "Kustomization",
	       "images:\r\n- name: 127.0.0.1:5000/app\r\n  newTag: \"1\" # c\r\n  digest: " D2 "\r\n", 1);
}

static void test_helm_values(void **state)
{
	(void)state;
	/* digest key present (bitnami style, empty): set it */
	expect("image:\n"
	       "  registry: 127.0.0.1:5000\n"
	       "  repository: app\n"
	       "  tag: \"1\"\n"
	       "  digest: \"\"   # set by drydock\n"
	       "  pullPolicy: IfNotPresent\n",
	       "values.yaml",
	       "image:\n"
	       "  registry: 127.0.0.1:5000\n"
	       "  repository: app\n"
	       "  tag: \"1\"\n"
	       "  digest: \"" D2 "\"   # set by drydock\n"
	       "  pullPolicy: IfNotPresent\n",
	       1);
	/* no digest key: the tag carries the digest */
	expect("web:\n  image:\n    repository: nginx\n    tag: 1.25.3\nworker:\n  image:\n"
	       "    repository: 127.0.0.1:5000/app\n    tag: '1@" D1 "'\n",
	       "values.yaml",
	       "web:\n  image:\n    repository: nginx\n    tag: 1.25.3@" D2 "\nworker:\n  image:\n"
	       "    repository: 127.0.0.1:5000/app\n    tag: '1@" D2 "'\n",
	       2);
	/* empty plain digest, flow map */
	expect("image: {repository: 127.0.0.1:5000/app, digest: }\nsidecar:\n  repository: app\n  digest:\n",
	       "values.yaml",
	       "image: {repository: 127.0.0.1:5000/app, digest: \"" D2 "\"}\nsidecar:\n"
	       "  repository: app\n  digest:\n",
	       1);
	/* neither tag nor digest: left alone (a warning says so) */
	const char *none = "image:\n  repository: 127.0.0.1:5000/app\n";
	expect(none, "values.yaml", none, 0);
	/* a chart's repository: URL is not an image */
	const char *chart = "dependencies:\n- name: redis\n  repository: https://charts.example.com\n";
	expect(chart, "Chart.yaml", chart, 0);
}

static void test_no_updates_and_untouched(void **state)
{
	(void)state;
	const char *in = "# nothing\nimage: 127.0.0.1:5000/app:1\n";
	size_t c = 99;
	char *got = apply_n(in, "x.yaml", NULL, 0, &c);
	assert_string_equal(got, in);
	assert_int_equal(c, 0);
	free(got);
	got = apply_n("", "empty.yaml", UPD, 2, &c);
	assert_string_equal(got, "");
	free(got);
}

static void expect_error(const char *in, size_t len, int code, const char *msg)
{
	dd_buf out = DD_BUF_INIT;
	dd_error err = DD_ERROR_INIT;
	size_t c = 99;
	assert_int_equal(dd_yamledit_apply(in, len, "bad.yaml", UPD, 2, &out, &c, &err), code);
	if (!strstr(err.msg, msg))
		fail_msg("message '%s' lacks '%s'", err.msg, msg);
	assert_null(strchr(err.msg, '\n'));
	assert_int_equal(out.len, 0);
	dd_buf_release(&out);
}

static void test_malformed(void **state)
{
	(void)state;
	const char *a = "a: 1\nb:\n  - x\n  y: [\n";
	expect_error(a, strlen(a), DD_EINPUT, "bad.yaml:");
	const char *b = "image: 127.0.0.1:5000/app\n  bad: indentation\n";
	expect_error(b, strlen(b), DD_EINPUT, "bad.yaml:2:");
	expect_error("\xFF\xFEi\0m\0", 6, DD_EINPUT, "UTF-16");
	expect_error("a: \xC3\x28\n", 6, DD_EINPUT, "bad.yaml:");
	char deep[2000];
	memset(deep, '[', sizeof(deep));
	expect_error(deep, sizeof(deep), DD_EINPUT, "nested deeper than");
}

static void test_bad_updates(void **state)
{
	(void)state;
	dd_buf out = DD_BUF_INIT;
	dd_error err = DD_ERROR_INIT;
	dd_image_update tag = { APP ":1", D2 }, dig = { APP, "sha256:12" };
	assert_int_equal(dd_yamledit_apply("a: 1\n", 5, "x", &tag, 1, &out, NULL, &err), DD_EUSAGE);
	assert_non_null(strstr(err.msg, "no tag"));
	assert_int_equal(dd_yamledit_apply("a: 1\n", 5, "x", &dig, 1, &out, NULL, &err), DD_EUSAGE);
	assert_non_null(strstr(err.msg, "bad digest"));
	assert_int_equal(out.len, 0);
	dd_buf_release(&out);
}

static void test_many_edits(void **state)
{
	(void)state;
	dd_buf in = DD_BUF_INIT, want = DD_BUF_INIT;
	for (int i = 0; i < 2000; i++) {
		dd_buf_printf(&in, "- {name: c%d, image: \"" APP ":%d\"}  # %d\n", i, i, i);
		dd_buf_printf(&want, "- {name: c%d, image: \"" APP ":%d@" D2 "\"}  # %d\n", i, i, i);
	}
	size_t c = 0;
	char *got = apply(in.data, "big.yaml", &c);
	assert_int_equal(c, 2000);
	assert_string_equal(got, want.data);
	free(got);
	dd_buf_release(&in);
	dd_buf_release(&want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deployment),
		cmocka_unit_test(test_digest_replaced_tag_kept),
		cmocka_unit_test(test_cronjob_init_containers),
		cmocka_unit_test(test_multi_document),
		cmocka_unit_test(test_flow_style),
		cmocka_unit_test(test_properties_and_block_scalars),
		cmocka_unit_test(test_quoting_of_new_values),
		cmocka_unit_test(test_unicode_offsets),
		cmocka_unit_test(test_kustomization),
		cmocka_unit_test(test_kustomization_crlf),
		cmocka_unit_test(test_helm_values),
		cmocka_unit_test(test_no_updates_and_untouched),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_bad_updates),
		cmocka_unit_test(test_many_edits),
	};
	return cmocka_run_group_tests_name("yamledit", tests, NULL, NULL);
}
