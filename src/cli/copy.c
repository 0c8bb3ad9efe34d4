/*
 * copy.c - `drydock copy SRC DST`: copy an image between an OCI layout, a
 * docker-archive and a registry, verifying every blob and preserving
 * digests (what skopeo copy users expect).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "image/copy.h"
#include "image/image.h"
#include "util/banned.h"

static struct {
	int quiet, all;
	struct dd_image_cli img;
	struct dd_registry_cli dst;
	dd_registry_opts dst_opts;
} o;

static const struct dd_opt opts[] = {
	{ "quiet", 'q', DD_OPT_FLAG, &o.quiet, NULL, "print nothing on success" },
	{ "all", 'a', DD_OPT_FLAG, &o.all, NULL,
	  "when SRC is a multi-platform index, copy it whole (every platform's image and the index)" },
	{ "dest-tls-verify", 0, DD_OPT_STR, &o.dst.tls_verify, "BOOL",
	  "verify the destination registry's TLS certificate (default true)" },
	{ "dest-ca-file", 0, DD_OPT_STR, &o.dst.ca_file, "FILE", "trust these CA certificates for the destination" },
	{ "dest-cert-dir", 0, DD_OPT_STR, &o.dst.cert_dir, "DIR", "trust the CA certificates in DIR for the destination" },
	{ "dest-username", 0, DD_OPT_STR, &o.dst.username, "USER", "destination registry user name" },
	{ "dest-password-stdin", 0, DD_OPT_FLAG, &o.dst.password_stdin, NULL,
	  "read the destination registry password from standard input" },
	DD_IMAGE_CLI_OPTS(o.img),
	{ 0 },
};

static const struct dd_cmdspec spec = {
	"copy", "SRC DST [options]",
	"Copy an image between an OCI layout, a docker-archive and a registry.",
	"SRC is any image reference except rootfs:.  DST is oci:PATH[:TAG],\n"
	"docker-archive:PATH[:NAME:TAG] or a registry reference [docker://]HOST/NAME[:TAG].\n"
	"Blobs are copied byte for byte and verified; manifest and config digests are\n"
	"preserved (a docker-archive keeps the config digest and the diff_ids).  Blobs\n"
	"the destination already has are skipped; a registry-to-registry copy on one\n"
	"registry mounts blobs instead of sending them.  The registry options without\n"
	"--dest- apply to the source.",
	opts,
};

int dd_cmd_copy(int argc, char **argv, dd_error *err)
{
	dd_image_opts io;
	dd_copy_opts co = { 0 };
	dd_copy_stats st;
	dd_image *img = NULL;
	int npos = 0, rc;

	memset(&o, 0, sizeof(o));
	rc = dd_opts_parse(&spec, argc, argv, &npos, err);
	if (rc)
		return rc > 0 ? 0 : rc;
	if (npos != 2)
		return dd_error_set(err, DD_EUSAGE, "copy: expected SRC and DST (see 'drydock copy --help')");
	if (o.dst.password_stdin && o.img.reg.password_stdin)
		return dd_error_set(err, DD_EUSAGE,
				    "copy: only one of --password-stdin and --dest-password-stdin can read standard input");
	dd_image_opts_init(&io);
	if ((rc = dd_image_cli_apply(&o.img, &io, err)) ||
	    (rc = dd_registry_cli_apply(&o.dst, &o.dst_opts, err)))
		goto done;
	co.dst_registry = &o.dst_opts;
	io.any_platform = o.all;
	if ((rc = dd_image_open(&img, argv[1], &io, err)))
		goto done;
	if ((rc = (o.all ? dd_image_copy_all : dd_image_copy)(img, argv[2], &co, &st, err)))
		goto done;
	if (!o.quiet)
		fprintf(stderr, "copied %s to %s: %llu blobs (%llu bytes), %llu already there%s%s\n", argv[1],
			argv[2], (unsigned long long)st.blobs_copied, (unsigned long long)st.bytes,
			(unsigned long long)st.blobs_skipped, dd_digest_is_set(&st.manifest_digest) ? "; manifest " : "",
			st.manifest_digest.s);
done:
	dd_image_free(img);
	dd_registry_cli_release(&o.img.reg);
	dd_registry_cli_release(&o.dst);
	return rc;
}
