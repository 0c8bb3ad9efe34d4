/*
 * fuzz_version.c - libFuzzer target for src/version: the first byte picks
 * the ecosystem, the rest splits at the first NUL (or newline) into two
 * versions.  Checks reflexivity (cmp(a,a) == 0 for a valid a), antisymmetry
 * (sign(cmp(a,b)) == -sign(cmp(b,a))) and that validity agrees between
 * dd_version_valid() and dd_version_cmp(); abort() on a violation.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "version/version.h"

static int sgn(int v) { return (v > 0) - (v < 0); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum dd_ecosystem eco;
	char *a, *b;
	size_t split;
	int r1 = 0, r2 = 0, r0 = 0, ea, eb, va, vb;

	if (size < 1 || size > 4096)
		return 0;
	eco = (enum dd_ecosystem)(data[0] % DD_ECO_COUNT);
	data++, size--;
	for (split = 0; split < size && data[split] != 0 && data[split] != '\n'; split++)
		;
	a = malloc(split + 1);
	b = malloc(size - split + 1);
	if (!a || !b)
		abort();
	memcpy(a, data, split);
	a[split] = '\0';
	if (split < size)
		split++;
	memcpy(b, data + split, size - split);
	b[size - split] = '\0';
	/* the versions end at an embedded NUL, as C strings do */

	va = dd_version_valid(eco, a, NULL);
	vb = dd_version_valid(eco, b, NULL);
	ea = dd_version_cmp(eco, a, b, &r1, NULL);
	eb = dd_version_cmp(eco, b, a, &r2, NULL);
	if ((ea == 0) != (eb == 0))
		abort(); /* rejection must not depend on the order */
	if (ea == 0 && sgn(r1) != -sgn(r2))
		abort(); /* antisymmetry */
	if (dd_version_cmp(eco, a, a, &r0, NULL) == 0 && r0 != 0)
		abort(); /* reflexivity */
	/* apk compares malformed versions like apk-tools; others reject them */
	if (eco != DD_ECO_APK && ea == 0 && (va || vb))
		abort();
	if (eco != DD_ECO_APK && ea != 0 && !va && !vb)
		abort();
	free(a);
	free(b);
	return 0;
}
