/* libFuzzer target: OSV JSON/YAML records, and through format detection every
 * other importer that takes raw content (NVD/CVE JSON 5, Ubuntu CVE Tracker).
 * Imports into an in-memory vulnerability DB, then checks that a lookup
 * still works (rows are well-formed) and that failures left nothing. */
#include "vulndb_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "npm", "x", "Alpine:v3.10", "x", "Debian:12", "pkg",
					    NULL };
	fuzz_import("fuzz.json", "", data, size, "");
	fuzz_lookups(keys);
	return 0;
}
