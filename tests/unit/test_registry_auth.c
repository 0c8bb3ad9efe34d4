/* Unit tests for src/registry/auth.c: WWW-Authenticate challenges, base64
 * (RFC 4648 vectors), and credential lookup from config files written to a
 * temporary directory (auths keys, Docker Hub aliases, precedence of
 * REGISTRY_AUTH_FILE / XDG_RUNTIME_DIR / DOCKER_CONFIG, credential helpers). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "registry/auth.h"

/* ---- challenges ---- */

static void chal(const char *h, int scheme, const char *realm, const char *service, const char *scope)
{
	dd_challenge c;
	dd_error e = DD_ERROR_INIT;
	if (dd_challenge_parse(&c, h, &e))
		fail_msg("'%s' rejected: %s", h, e.msg);
	assert_int_equal(c.scheme, scheme);
	if (realm)
		assert_non_null(c.realm), assert_string_equal(c.realm, realm);
	else
		assert_null(c.realm);
	if (service)
		assert_non_null(c.service), assert_string_equal(c.service, service);
	else
		assert_null(c.service);
	if (scope)
		assert_non_null(c.scope), assert_string_equal(c.scope, scope);
	else
		assert_null(c.scope);
	dd_challenge_release(&c);
}

static void chal_bad(const char *h)
{
	dd_challenge c;
	dd_error e = DD_ERROR_INIT;
	if (dd_challenge_parse(&c, h, &e) != DD_EINPUT)
		fail_msg("'%s' accepted", h);
	assert_true(strlen(e.msg) > 0);
	assert_null(c.realm);
}

static void test_challenge_ok(void **state)
{
	(void)state;
	chal("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
	     "scope=\"repository:library/alpine:pull\"",
	     DD_AUTH_BEARER, "https://auth.docker.io/token", "registry.docker.io",
	     "repository:library/alpine:pull");
	/* case-insensitive scheme and parameter names */
	chal("bearer REALM=\"r\",Service=\"s\"", DD_AUTH_BEARER, "r", "s", NULL);
	chal("BEARER realm=r", DD_AUTH_BEARER, "r", NULL, NULL);
	chal("Basic realm=\"Registry Realm\"", DD_AUTH_BASIC, "Registry Realm", NULL, NULL);
	chal("basic", DD_AUTH_BASIC, NULL, NULL, NULL);
	chal("  BASIC  ", DD_AUTH_BASIC, NULL, NULL, NULL);
	/* commas inside quotes belong to the value */
	chal("Bearer realm=\"https://t/token\",scope=\"repository:a/b:pull,push\"", DD_AUTH_BEARER,
	     "https://t/token", NULL, "repository:a/b:pull,push");
	/* escapes in quoted strings */
	chal("Bearer realm=\"a\\\"b\\\\c\"", DD_AUTH_BEARER, "a\"b\\c", NULL, NULL);
	chal("Bearer realm=\"\\x\"", DD_AUTH_BEARER, "x", NULL, NULL);
	/* unquoted values, blanks around '=' and ',' and empty list items */
	chal("Bearer realm=https://t/token,service=reg", DD_AUTH_BEARER, "https://t/token", "reg", NULL);
	chal("Bearer realm = \"r\" ,  service= s ,,", DD_AUTH_BEARER, "r", "s", NULL);
	/* unknown parameters are ignored, even very long ones */
	chal("Bearer realm=\"r\",error=\"insufficient_scope\"", DD_AUTH_BEARER, "r", NULL, NULL);
	chal("Bearer a_parameter_name_longer_than_thirty_two_chars=\"v\",realm=\"r\"", DD_AUTH_BEARER,
	     "r", NULL, NULL);
	/* a repeated parameter: the last one wins (and nothing leaks) */
	chal("Bearer realm=\"a\",realm=\"b\"", DD_AUTH_BEARER, "b", NULL, NULL);
}

static void test_challenge_bad(void **state)
{
	(void)state;
	chal_bad("");
	chal_bad("   ");
	chal_bad("Digest realm=\"r\"");
	chal_bad("Bearerrealm=\"r\"");
	chal_bad("Negotiate");
	chal_bad("Bearer");                      /* no realm */
	chal_bad("Bearer service=\"s\"");        /* no realm */
	chal_bad("Bearer realm=\"\"");           /* empty realm */
	chal_bad("Bearer realm=\"unterminated");
	chal_bad("Bearer realm=\"r\\");          /* escape at the end */
	chal_bad("Bearer realm");                /* no '=' */
	chal_bad("Bearer realm=\"r\",service");
	chal_bad("Basic realm=\"r\", Bearer realm=\"s\""); /* two challenges: not supported */
}

/* ---- base64 ---- */

static const char *const vec[][2] = {
	{ "", "" },           { "f", "Zg==" },         { "fo", "Zm8=" },         { "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
};

static void test_base64_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		char *enc = dd_base64_encode(vec[i][0], strlen(vec[i][0]));
		unsigned char *dec;
		size_t n;
		assert_non_null(enc);
		assert_string_equal(enc, vec[i][1]);
		free(enc);
		assert_int_equal(dd_base64_decode(vec[i][1], &dec, &n), 0);
		assert_int_equal(n, strlen(vec[i][0]));
		assert_memory_equal(dec, vec[i][0], n);
		assert_int_equal(dec[n], 0);
		free(dec);
	}
}

static void test_base64_binary(void **state)
{
	unsigned char all[256], *dec;
	size_t n;
	char *enc;
	(void)state;
	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)(255 - i);
	for (size_t len = 0; len <= 256; len += 37) {
		enc = dd_base64_encode(all, len);
		assert_non_null(enc);
		assert_int_equal(strlen(enc), 4 * ((len + 2) / 3));
		assert_int_equal(dd_base64_decode(enc, &dec, &n), 0);
		assert_int_equal(n, len);
		assert_memory_equal(dec, all, len);
		free(dec);
		free(enc);
	}
}

static void test_base64_bad(void **state)
{
	static const char *const bad[] = { "Zm9", "Zg=", "Zm9v!", "Zm9v Zm9v", "====", "Z===", "Zm=v" };
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned char *dec = (unsigned char *)"x";
		size_t n = 0;
		if (dd_base64_decode(bad[i], &dec, &n) == 0) {
			free(dec);
			fail_msg("'%s' decoded", bad[i]);
		}
		assert_null(dec);
	}
}

static void test_basic_header(void **state)
{
	char *h;
	(void)state;
	/* RFC 7617's example */
	h = dd_auth_basic_header("Aladdin", "open sesame");
	assert_non_null(h);
	assert_string_equal(h, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
	free(h);
	h = dd_auth_basic_header("drydock", "s3cret pass");
	assert_non_null(h);
	assert_string_equal(h, "Basic ZHJ5ZG9jazpzM2NyZXQgcGFzcw==");
	free(h);
}

/* ---- credential lookup ---- */

static char dir[256];

static void write_file(const char *rel, const char *text, int mode)
{
	char p[512];
	FILE *f;
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(p, (mode_t)mode);
}

static int setup(void **state)
{
	char p[512];
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/dd-auth-test.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(p, sizeof(p), "%s/docker", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/xdg", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/xdg/containers", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/bin", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/docker", dir);
	setenv("DOCKER_CONFIG", p, 1);
	snprintf(p, sizeof(p), "%s/xdg", dir);
	setenv("XDG_RUNTIME_DIR", p, 1);
	unsetenv("REGISTRY_AUTH_FILE");
	snprintf(p, sizeof(p), "%s/bin:%s", dir, getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	setenv("PATH", p, 1);
	return 0;
}

static int teardown(void **state)
{
	char cmd[600];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void cred(const char *host, const char *user, const char *pass, const char *token)
{
	dd_cred c;
	dd_error e = DD_ERROR_INIT;
	if (dd_cred_lookup(&c, host, &e))
		fail_msg("lookup %s: %s", host, e.msg);
	if (user) {
		if (!c.username)
			fail_msg("%s: no user, wanted %s", host, user);
		assert_string_equal(c.username, user);
		assert_string_equal(c.password, pass);
	} else if (c.username) {
		fail_msg("%s: found user %s, wanted none", host, c.username);
	}
	if (token)
		assert_non_null(c.identity_token), assert_string_equal(c.identity_token, token);
	else
		assert_null(c.identity_token);
	dd_cred_release(&c);
}

/* base64 of "u1:p1", "hub:hubpw", "u:pa:ss" */
#define A_U1 "dTE6cDE="
#define A_HUB "aHViOmh1YnB3"
#define A_COLON "dTpwYTpzcw=="

static void test_auths_keys(void **state)
{
	(void)state;
	write_file("docker/config.json",
		   "{\"auths\":{"
		   "\"https://myreg.example.com:5000/v1/\":{\"auth\":\"" A_U1 "\"},"
		   "\"http://localhost:5000\":{\"auth\":\"" A_COLON "\"},"
		   "\"quay.io\":{\"username\":\"qu\",\"password\":\"qp\"},"
		   "\"ghcr.io\":{\"identitytoken\":\"refresh-me\"}}}",
		   0600);
	cred("myreg.example.com:5000", "u1", "p1", NULL);
	cred("myreg.example.com", NULL, NULL, NULL);        /* port matters */
	cred("myreg.example.com:50001", NULL, NULL, NULL);
	cred("example.com:5000", NULL, NULL, NULL);
	cred("localhost:5000", "u", "pa:ss", NULL);         /* password holds a colon */
	cred("quay.io", "qu", "qp", NULL);                  /* podman's username/password */
	cred("ghcr.io", NULL, NULL, "refresh-me");          /* docker login's identitytoken */
	cred("docker.io", NULL, NULL, NULL);
}

static void test_docker_hub_aliases(void **state)
{
	static const char *const keys[] = { "https://index.docker.io/v1/", "index.docker.io",
					    "registry-1.docker.io", "docker.io" };
	(void)state;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char text[300];
		snprintf(text, sizeof(text), "{\"auths\":{\"%s\":{\"auth\":\"" A_HUB "\"}}}", keys[i]);
		write_file("docker/config.json", text, 0600);
		cred("docker.io", "hub", "hubpw", NULL);
		cred("index.docker.io", "hub", "hubpw", NULL);
		cred("quay.io", NULL, NULL, NULL);
	}
}

static void test_precedence(void **state)
{
	char p[512];
	(void)state;
	write_file("docker/config.json", "{\"auths\":{\"r.example\":{\"auth\":\"" A_HUB "\"}}}", 0600);
	cred("r.example", "hub", "hubpw", NULL);
	write_file("xdg/containers/auth.json", "{\"auths\":{\"r.example\":{\"auth\":\"" A_U1 "\"}}}", 0600);
	cred("r.example", "u1", "p1", NULL);                 /* XDG auth.json before docker's */
	write_file("regauth.json", "{\"auths\":{\"r.example\":{\"auth\":\"" A_COLON "\"}}}", 0600);
	snprintf(p, sizeof(p), "%s/regauth.json", dir);
	setenv("REGISTRY_AUTH_FILE", p, 1);
	cred("r.example", "u", "pa:ss", NULL);               /* REGISTRY_AUTH_FILE first */
	/* a file without an entry for the host passes on to the next */
	write_file("regauth.json", "{\"auths\":{\"other.example\":{\"auth\":\"" A_COLON "\"}}}", 0600);
	cred("r.example", "u1", "p1", NULL);
	unsetenv("REGISTRY_AUTH_FILE");
	snprintf(p, sizeof(p), "%s/xdg/containers/auth.json", dir);
	unlink(p);
	cred("r.example", "hub", "hubpw", NULL);
}

static void bad_file(const char *text, const char *secret)
{
	dd_cred c;
	dd_error e = DD_ERROR_INIT;
	write_file("docker/config.json", text, 0600);
	if (dd_cred_lookup(&c, "r.example", &e) != DD_EENV)
		fail_msg("'%s' accepted", text);
	assert_non_null(strstr(e.msg, "config.json"));
	if (secret && strstr(e.msg, secret))
		fail_msg("the message shows the secret: %s", e.msg);
}

static void test_malformed_files(void **state)
{
	(void)state;
	bad_file("not json", NULL);
	bad_file("[1,2]", NULL);
	bad_file("{\"auths\":{\"r.example\":{\"auth\":\"bm9jb2xvbg==\"}}}", "nocolon"); /* "nocolon" */
	bad_file("{\"auths\":{\"r.example\":{\"auth\":\"c2VjcmV0!!\"}}}", "c2VjcmV0");
	/* entries of the wrong type are ignored, not fatal */
	write_file("docker/config.json", "{\"auths\":{\"r.example\":\"x\"},\"credsStore\":7}", 0600);
	cred("r.example", NULL, NULL, NULL);
}

static void test_parse_config(void **state)
{
	dd_cred c;
	char *helper;
	dd_error e = DD_ERROR_INIT;
	const char *j = "{\"credsStore\":\"desktop\",\"credHelpers\":{\"gcr.io\":\"gcloud\","
			"\"https://index.docker.io/v1/\":\"hub\"},"
			"\"auths\":{\"gcr.io\":{\"auth\":\"" A_U1 "\"}}}";
	(void)state;
	assert_int_equal(dd_cred_parse_config(&c, &helper, j, strlen(j), "gcr.io", "t", &e), 1);
	assert_string_equal(helper, "gcloud");               /* credHelpers beats credsStore */
	assert_string_equal(c.username, "u1");
	free(helper);
	dd_cred_release(&c);
	assert_int_equal(dd_cred_parse_config(&c, &helper, j, strlen(j), "quay.io", "t", &e), 0);
	assert_string_equal(helper, "desktop");
	assert_null(c.username);
	free(helper);
	assert_int_equal(dd_cred_parse_config(&c, &helper, j, strlen(j), "docker.io", "t", &e), 0);
	assert_string_equal(helper, "hub");
	free(helper);
	assert_int_equal(dd_cred_parse_config(&c, &helper, "{}", 2, "x", "t", &e), 0);
	assert_null(helper);
	assert_int_equal(dd_cred_parse_config(&c, &helper, "{", 1, "x", "t", &e), DD_EENV);
	assert_null(helper);
}

static void test_helpers(void **state)
{
	(void)state;
	/* docker-credential-ddtest: knows r.example and Docker Hub (by its
	 * legacy URL, as docker passes it), "credentials not found" otherwise */
	write_file("bin/docker-credential-ddtest",
		   "#!/bin/sh\n"
		   "[ \"$1\" = get ] || exit 2\n"
		   "read -r h\n"
		   "case $h in\n"
		   "r.example) echo '{\"ServerURL\":\"r.example\",\"Username\":\"hu\",\"Secret\":\"hs\"}' ;;\n"
		   "https://index.docker.io/v1/) echo '{\"ServerURL\":\"x\",\"Username\":\"hubu\",\"Secret\":\"hubs\"}' ;;\n"
		   "t.example) echo '{\"ServerURL\":\"t.example\",\"Username\":\"<token>\",\"Secret\":\"idtok\"}' ;;\n"
		   "*) echo 'credentials not found in native keychain' >&2; exit 1 ;;\n"
		   "esac\n",
		   0700);
	write_file("docker/config.json",
		   "{\"credHelpers\":{\"r.example\":\"ddtest\",\"o.example\":\"ddtest\"},"
		   "\"auths\":{\"o.example\":{\"auth\":\"" A_U1 "\"}}}",
		   0600);
	cred("r.example", "hu", "hs", NULL);
	cred("o.example", "u1", "p1", NULL);     /* helper says not found: the auths entry */
	cred("z.example", NULL, NULL, NULL);     /* no helper for it */
	write_file("docker/config.json", "{\"credsStore\":\"ddtest\"}", 0600);
	cred("r.example", "hu", "hs", NULL);
	cred("docker.io", "hubu", "hubs", NULL);
	cred("t.example", NULL, NULL, "idtok");  /* <token>: an identity token */
	cred("z.example", NULL, NULL, NULL);
	{
		dd_cred c;
		dd_error e = DD_ERROR_INIT;
		write_file("docker/config.json", "{\"credsStore\":\"dd-missing-helper\"}", 0600);
		assert_int_equal(dd_cred_lookup(&c, "r.example", &e), DD_EENV);
		assert_non_null(strstr(e.msg, "docker-credential-dd-missing-helper"));
		write_file("docker/config.json", "{\"credsStore\":\"../evil\"}", 0600);
		assert_int_equal(dd_cred_lookup(&c, "r.example", &e), DD_EENV);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_challenge_ok),
		cmocka_unit_test(test_challenge_bad),
		cmocka_unit_test(test_base64_vectors),
		cmocka_unit_test(test_base64_binary),
		cmocka_unit_test(test_base64_bad),
		cmocka_unit_test(test_basic_header),
		cmocka_unit_test(test_auths_keys),
		cmocka_unit_test(test_docker_hub_aliases),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_malformed_files),
		cmocka_unit_test(test_parse_config),
		cmocka_unit_test(test_helpers),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
