/* libFuzzer target: the Debian security tracker importers: the input is
 * one package's CVE map of the tracker JSON, and also, as is, a text list
 * (data/CVE/list, data/DSA/list: inputs starting "CVE-" or "[01 Jan 2020]").
 * Imports into an in-memory vulnerability DB, then checks that a lookup
 * still works (rows are well-formed) and that failures left nothing. */
#include "vulndb_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "npm", "x", "Alpine:v3.10", "x", "Debian:12", "pkg",
	"Debian:sid", "a",
					    NULL };
	fuzz_import("fuzz.json", "{\"pkg\":", data, size, "}");
	fuzz_import("list", "", data, size, "");
	fuzz_lookups(keys);
	return 0;
}
