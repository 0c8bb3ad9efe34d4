/* libFuzzer target: the Alpine secdb importer: the input is the packages array.
 * Imports into an in-memory vulnerability DB, then checks that a lookup
 * still works (rows are well-formed) and that failures left nothing. */
#include "vulndb_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "npm", "x", "Alpine:v3.10", "x", "Debian:12", "pkg",
					    NULL };
	fuzz_import("fuzz.json", "{\"distroversion\":\"v3.10\",\"reponame\":\"main\",\"packages\":", data, size, "}");
	fuzz_lookups(keys);
	return 0;
}
