/* fuzz_fleet - the fleet file parser of `drydock watch` (dd_fleet_parse);
 * a parsed fleet must satisfy what fleet.h promises.  Seeds:
 * tests/data/watch/ (build-fuzz/fuzz_fleet CORPUS tests/data/watch). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "watch/fleet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const dd_fleet *f)
{
	if (!f->path || !f->n_images)
		__builtin_trap();
	for (size_t i = 0; i < f->n_images; i++) {
		const dd_fleet_image *im = &f->images[i];
		if (!im->name || !im->image || !im->tag || strchr(im->image, '@'))
			__builtin_trap();
		if (dd_fleet_image_named(f, im->name) != im)
			__builtin_trap();
		if (im->build.backend != DD_BUILD_NONE &&
		    (!im->build.dockerfile || !im->build.git_ref || !im->build.timeout))
			__builtin_trap();
		if (im->build.backend == DD_BUILD_BUILDAH && !im->build.context && !im->build.git_url)
			__builtin_trap();
		/* a local context is absolute; one inside a git clone is relative */
		if (im->build.context && (im->build.context[0] == '/') == !!im->build.git_url)
			__builtin_trap();
	}
	for (size_t i = 0; i < f->n_kubectls; i++)
		if (!dd_fleet_image_named(f, f->kubectls[i].image) || !f->kubectls[i].namespace)
			__builtin_trap();
	for (size_t i = 0; i < f->n_registries; i++)
		if (dd_fleet_registry_for(f, f->registries[i].host) != &f->registries[i] ||
		    f->registries[i].jitter_pct > 100 || !f->registries[i].poll_interval)
			__builtin_trap();
	for (size_t i = 0; i < f->n_gits; i++)
		if (!f->gits[i].url || !f->gits[i].branch || !f->gits[i].push_branch)
			__builtin_trap();
	if (f->policy.fail_on < -1 || f->policy.fail_on > 5)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dd_fleet *f = NULL;
	dd_error err = DD_ERROR_INIT;
	int rc = dd_fleet_parse(&f, (const char *)data, size, "fuzz.yaml", "/fuzz", &err);
	if (rc == 0) {
		check(f);
		dd_fleet_free(f);
	} else if (f || !err.msg[0] || strchr(err.msg, '\n')) {
		__builtin_trap();
	}
	/* the duration grammar on a NUL-terminated prefix */
	char s[16];
	size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1;
	memcpy(s, data, n);
	s[n] = '\0';
	long d = dd_fleet_duration(s);
	if (d < -1 || d > 315360000L)
		__builtin_trap();
	return 0;
}
