/* fuzz_ocilayout - an OCI layout built from the input, opened and walked.
 *
 * The input is split at "\n--\n" into index.json and up to 8 blobs.  In
 * part i, "$j" (j > i) is replaced by the sha256 digest of part j and "#j"
 * by its size, so the fuzzer can build consistent chains of indexes,
 * manifests and configs whose digests verify. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image.h"
#include "util/buf.h"
#include "util/digest.h"

#define PARTS 9

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[128];
static char written[PARTS][256];

static void put(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return;
	fwrite(p, 1, n, f);
	fclose(f);
}

static void expand(dd_buf *out, const char *p, size_t n, int self, dd_buf *parts, dd_digest *dg, int nparts)
{
	for (size_t i = 0; i < n; i++) {
		int j = i + 1 < n ? p[i + 1] - '0' : -1;
		if ((p[i] == '$' || p[i] == '#') && j > self && j < nparts) {
			if (p[i] == '$')
				dd_buf_puts(out, dg[j].s);
			else
				dd_buf_printf(out, "%zu", parts[j].len);
			i++;
		} else {
			dd_buf_putc(out, p[i]);
		}
	}
}

static void try_open(const char *ref, const char *platform)
{
	dd_error err = DD_ERROR_INIT;
	dd_image_opts o;
	dd_image *img = NULL;

	dd_image_opts_init(&o);
	o.platform = platform;
	o.limits.max_total_bytes = 16 << 20;
	if (dd_image_open(&img, ref, &o, &err) == 0) {
		dd_walker *w = NULL;
		(void)dd_image_annotation(img, "org.opencontainers.image.ref.name");
		if (dd_walker_new(&w, &o.limits, &err) == 0)
			(void)dd_image_walk(img, w, &err);
		dd_walker_free(w);
		dd_image_free(img);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *raw[PARTS];
	size_t rawn[PARTS];
	dd_buf parts[PARTS];
	dd_digest dg[PARTS];
	char path[512], ref[256];
	int n = 0;

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/fuzz_ocilayout.%d", (int)getpid());
		mkdir(dir, 0755);
		snprintf(path, sizeof(path), "%s/blobs", dir);
		mkdir(path, 0755);
		snprintf(path, sizeof(path), "%s/blobs/sha256", dir);
		mkdir(path, 0755);
		snprintf(path, sizeof(path), "%s/oci-layout", dir);
		put(path, "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
	}
	/* split */
	for (const char *p = (const char *)data, *end = p + size; n < PARTS;) {
		const char *sep = memmem(p, (size_t)(end - p), "\n--\n", 4);
		raw[n] = p;
		rawn[n++] = sep ? (size_t)(sep - p) : (size_t)(end - p);
		if (!sep)
			break;
		p = sep + 4;
	}
	for (int i = 0; i < PARTS; i++)
		dd_buf_init(&parts[i], 1 << 22);
	for (int i = n - 1; i >= 0; i--) {
		expand(&parts[i], raw[i], rawn[i], i, parts, dg, n);
		dd_digest_of(&dg[i], parts[i].data ? parts[i].data : "", parts[i].len, NULL);
	}
	snprintf(path, sizeof(path), "%s/index.json", dir);
	put(path, parts[0].data ? parts[0].data : "", parts[0].len);
	for (int i = 1; i < n; i++) {
		snprintf(written[i], sizeof(written[i]), "%s/blobs/sha256/%s", dir, dd_digest_hex(&dg[i]));
		put(written[i], parts[i].data ? parts[i].data : "", parts[i].len);
	}
	snprintf(ref, sizeof(ref), "oci:%s", dir);
	try_open(ref, "linux/amd64");
	try_open(ref, "linux/arm64");
	snprintf(ref, sizeof(ref), "oci:%s:latest", dir);
	try_open(ref, NULL);
	for (int i = 1; i < n; i++) {
		unlink(written[i]);
		written[i][0] = '\0';
	}
	for (int i = 0; i < PARTS; i++)
		dd_buf_release(&parts[i]);
	return 0;
}
