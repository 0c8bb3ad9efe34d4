/* libFuzzer target: the `drydock scan --ignore-file` parser.  Every parsed
 * rule must have an id, a line number within the input and a valid date
 * when it has an expiry; expiry checks must not crash. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "match/filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dd_ignore *ig = NULL;
	dd_error e = DD_ERROR_INIT;
	if (dd_ignore_parse(&ig, (const char *)data, size, "fuzz", &e) != 0) {
		if (ig || !e.msg[0])
			abort();
		return 0;
	}
	for (size_t i = 0; i < ig->n; i++) {
		const dd_ignore_rule *r = &ig->v[i];
		if (!r->id || !*r->id || r->line == 0 || r->line > size + 1)
			abort();
		if (r->has_expiry && (r->exp_m < 1 || r->exp_m > 12 || r->exp_d < 1 || r->exp_d > 31))
			abort();
		(void)dd_ignore_expired(r, 0);
		(void)dd_ignore_expired(r, 4102444800);
	}
	dd_ignore_free(ig);
	return 0;
}
