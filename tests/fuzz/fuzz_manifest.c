/* fuzz_manifest - arbitrary bytes as an OCI/Docker manifest, index and image
 * config through the parsers of src/image/manifest.c. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "image/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *declared[] = { NULL, DD_MT_OCI_INDEX, DD_MT_DOCKER_MANIFEST,
					  "application/vnd.docker.distribution.manifest.v1+json" };
	dd_error err = DD_ERROR_INIT;
	dd_image_config cfg;
	json_t *root = NULL;

	for (size_t i = 0; i < sizeof(declared) / sizeof(declared[0]); i++) {
		dd_doc doc;
		if (dd_doc_parse(&doc, data, size, declared[i], "fuzz", &err) == 0) {
			/* every descriptor was validated: touch them */
			for (size_t k = 0; k < doc.nlayers; k++)
				if (strlen(doc.layers[k].digest.s) != 71)
					__builtin_trap();
			for (size_t k = 0; k < doc.nmanifests; k++) {
				dd_platform want = { "linux", "arm64", "v8" };
				if (doc.manifests[k].has_platform)
					(void)dd_platform_match(&doc.manifests[k].platform, &want);
			}
		}
		dd_doc_release(&doc);
	}
	if (dd_config_parse(&cfg, &root, data, size, "application/x-unknown", "fuzz", &err) == 0) {
		for (size_t k = 0; k < cfg.n_env; k++)
			(void)strlen(cfg.env[k]);
		for (size_t k = 0; k < cfg.n_labels; k++)
			(void)strlen(cfg.label_values[k]);
		dd_config_release(&cfg);
		json_decref(root);
	}
	return 0;
}
