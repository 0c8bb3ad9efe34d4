/*
 * schema.h - the ordered list of schema migrations of the vulnerability DB.
 *
 * Migration N brings a DB from user_version N-1 to N; dd_vulndb_open() runs
 * the missing ones, each in its own transaction, records them in the
 * `migrations` table and sets PRAGMA user_version.  Static data, nothing to
 * free.
 */
#ifndef DD_VULNDB_SCHEMA_H
#define DD_VULNDB_SCHEMA_H

#include <stddef.h>

struct dd_vulndb_migration {
	int version;
	const char *description;
	const char *sql;
};

/* The migrations in order; *n receives their count. */
const struct dd_vulndb_migration *dd_vulndb_migrations(size_t *n);

#endif
