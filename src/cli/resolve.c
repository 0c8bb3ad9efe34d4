/*
 * resolve.c - `drydock resolve REF`: the digest a registry reference points
 * to (HEAD /v2/<name>/manifests/<ref>), optionally the digest of one
 * platform's manifest inside a multi-platform index; `--tags` lists the
 * repository's tags instead.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "image/image.h"
#include "registry/ref.h"
#include "registry/registry.h"
#include "util/banned.h"

static struct {
	const char *platform, *artifact_type;
	int tags, referrers;
	struct dd_registry_cli reg;
} o;

static const struct dd_opt opts[] = {
	{ "platform", 0, DD_OPT_STR, &o.platform, "OS/ARCH[/VARIANT]",
	  "print the digest of this platform's manifest when REF is an index" },
	{ "tags", 0, DD_OPT_FLAG, &o.tags, NULL, "list the repository's tags instead" },
	{ "referrers", 0, DD_OPT_FLAG, &o.referrers, NULL,
	  "list the manifests that refer to REF (signatures, SBOMs, attestations)" },
	{ "artifact-type", 0, DD_OPT_STR, &o.artifact_type, "TYPE", "with --referrers: only this artifact type" },
	DD_REGISTRY_CLI_OPTS(o.reg),
	{ 0 },
};

static const struct dd_cmdspec spec = {
	"resolve", "REF... [options]",
	"Print the digest a registry reference points to.",
	"REF is a registry reference: [docker://]HOST[:PORT]/NAME[:TAG|@DIGEST]\n"
	"(docker.io/library/ is implied as docker does).  Costs one HEAD request\n"
	"(a GET when the registry does not send Docker-Content-Digest).  With several\n"
	"REFs, prints \"REF DIGEST\" lines, reusing one connection per repository.\n"
	"--referrers\n"
	"prints one line per referrer: DIGEST ARTIFACT-TYPE MEDIA-TYPE.",
	opts,
};

static int print_tag(void *ctx, const char *tag)
{
	(void)ctx;
	printf("%s\n", tag);
	return 0;
}

static int print_referrer(void *ctx, const dd_referrer *r)
{
	(void)ctx;
	printf("%s %s %s\n", r->digest.s, r->artifact_type ? r->artifact_type : "-", r->media_type);
	return 0;
}

static int platform_digest(dd_registry *r, const char *reference, const char *want,
			   dd_digest *out, dd_error *err)
{
	dd_platform p;
	dd_buf body = DD_BUF_INIT;
	char *mt = NULL;
	dd_digest d;
	json_t *j = NULL, *m;
	size_t i;
	int rc;

	if ((rc = dd_platform_parse(&p, want, err)))
		return rc;
	if ((rc = dd_registry_get_manifest(r, reference, &body, &mt, &d, err)))
		goto done;
	j = json_loadb(dd_buf_cstr(&body), body.len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_array(json_object_get(j, "manifests"))) {
		*out = d; /* a single-platform manifest: its own digest */
		goto done;
	}
	rc = dd_error_set(err, DD_EINPUT, "%s: the index has no manifest for platform %s", reference, want);
	json_array_foreach(json_object_get(j, "manifests"), i, m) {
		json_t *pl = json_object_get(m, "platform");
		const char *os = json_string_value(json_object_get(pl, "os"));
		const char *arch = json_string_value(json_object_get(pl, "architecture"));
		const char *var = json_string_value(json_object_get(pl, "variant"));
		if (!os || !arch || strcmp(os, p.os) || strcmp(arch, p.arch))
			continue;
		if (p.variant[0] && (!var || strcmp(var, p.variant)))
			continue;
		rc = dd_digest_parse(out, json_string_value(json_object_get(m, "digest")),
				     "index entry", err);
		break;
	}
done:
	json_decref(j);
	free(mt);
	dd_buf_release(&body);
	return rc;
}

static int resolve_one(dd_registry *r, const dd_ref *ref, const char *shown, int many, dd_error *err)
{
	const char *reference = dd_digest_is_set(&ref->digest) ? ref->digest.s : ref->tag;
	char *mt = NULL;
	dd_digest d;
	int rc;

	if (o.tags)
		return dd_registry_list_tags(r, print_tag, NULL, err);
	rc = o.platform ? platform_digest(r, reference, o.platform, &d, err)
			: dd_registry_resolve(r, reference, &d, &mt, err);
	free(mt);
	if (rc)
		return rc;
	if (o.referrers)
		return dd_registry_referrers(r, &d, o.artifact_type, print_referrer, NULL, err);
	if (many)
		printf("%s %s\n", shown, d.s);
	else
		printf("%s\n", d.s);
	return 0;
}

int dd_cmd_resolve(int argc, char **argv, dd_error *err)
{
	dd_registry_opts ro;
	dd_registry *r = NULL;
	dd_ref ref, cur = { 0 };
	int npos = 0, rc;

	memset(&o, 0, sizeof(o));
	rc = dd_opts_parse(&spec, argc, argv, &npos, err);
	if (rc)
		return rc > 0 ? 0 : rc;
	if (npos < 1)
		return dd_error_set(err, DD_EUSAGE, "resolve: expected a REF (see 'drydock resolve --help')");
	if ((rc = dd_registry_cli_apply(&o.reg, &ro, err)))
		goto done;
	for (int i = 1; i <= npos && !rc; i++) {
		if ((rc = dd_ref_parse(&ref, argv[i], err)))
			break;
		/* one session (connection, token) per repository, reused */
		if (!r || strcmp(ref.domain, cur.domain) || strcmp(ref.path, cur.path)) {
			dd_registry_free(r);
			r = NULL;
			cur = ref;
			if ((rc = dd_registry_new(&r, &ref, &ro, err)))
				break;
		}
		rc = resolve_one(r, &ref, argv[i], npos > 1, err);
	}
done:
	dd_registry_free(r);
	dd_registry_cli_release(&o.reg);
	return rc;
}
