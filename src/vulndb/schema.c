/* schema.c - the vulnerability DB schema and its migrations (docs/db-schema.md). */
#include "vulndb/schema.h"

#include <stddef.h>

#include "util/banned.h"

/* Migration 1: the initial schema.  Never edit a released migration: add a
 * new one at the end of the array (and document it in docs/db-schema.md). */
static const char schema_v1[] =
	"CREATE TABLE sources (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  name TEXT NOT NULL UNIQUE,\n"
	"  kind TEXT,\n"
	"  url TEXT,\n"
	"  fetched_at INTEGER,\n"
	"  updated_at INTEGER,\n"
	"  etag TEXT,\n"
	"  last_modified TEXT,\n"
	"  records INTEGER NOT NULL DEFAULT 0,\n"
	"  skipped INTEGER NOT NULL DEFAULT 0,\n"
	"  last_error TEXT\n"
	");\n"
	"CREATE TABLE advisories (\n"
	"  pk INTEGER PRIMARY KEY,\n"
	"  source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,\n"
	"  id TEXT NOT NULL,\n"
	"  published TEXT,\n"
	"  modified TEXT,\n"
	"  withdrawn TEXT,\n"
	"  summary TEXT,\n"
	"  details TEXT,\n"
	"  UNIQUE (source_id, id)\n"
	");\n"
	"CREATE INDEX advisories_id ON advisories(id);\n"
	"CREATE TABLE refs (\n"
	"  advisory_id INTEGER NOT NULL REFERENCES advisories(pk) ON DELETE CASCADE,\n"
	"  type TEXT,\n"
	"  url TEXT NOT NULL\n"
	");\n"

	"CREATE TABLE aliases (\n"
	"  advisory_id INTEGER NOT NULL REFERENCES advisories(pk) ON DELETE CASCADE,\n"
	"  alias TEXT NOT NULL,\n"
	"  kind TEXT NOT NULL DEFAULT 'alias' CHECK (kind IN ('alias','upstream','related'))\n"
	");\n"
	"CREATE UNIQUE INDEX aliases_advisory ON aliases(advisory_id, alias, kind);\n"
	"CREATE INDEX aliases_alias ON aliases(alias);\n"
	"CREATE TABLE affected (\n"
	"  pk INTEGER PRIMARY KEY,\n"
	"  advisory_id INTEGER NOT NULL REFERENCES advisories(pk) ON DELETE CASCADE,\n"
	"  ecosystem TEXT NOT NULL,\n"
	"  package TEXT NOT NULL,\n"
	"  purl TEXT,\n"
	"  status TEXT NOT NULL DEFAULT 'affected' CHECK (status IN ('affected','not-affected',\n"
	"    'will-not-fix','fix-deferred','end-of-life','under-investigation')),\n"
	"  urgency TEXT,\n"
	"  notes TEXT\n"
	");\n"
	"CREATE INDEX affected_package ON affected(ecosystem, package);\n"
	"CREATE INDEX affected_advisory ON affected(advisory_id);\n"
	"CREATE TABLE ranges (\n"
	"  pk INTEGER PRIMARY KEY,\n"
	"  affected_id INTEGER NOT NULL REFERENCES affected(pk) ON DELETE CASCADE,\n"
	"  type TEXT NOT NULL CHECK (type IN ('ECOSYSTEM','SEMVER','GIT')),\n"
	"  repo TEXT\n"
	");\n"
	"CREATE INDEX ranges_affected ON ranges(affected_id);\n"
	"CREATE TABLE range_events (\n"
	"  range_id INTEGER NOT NULL REFERENCES ranges(pk) ON DELETE CASCADE,\n"
	"  seq INTEGER NOT NULL,\n"
	"  kind TEXT NOT NULL CHECK (kind IN ('introduced','fixed','last_affected','limit')),\n"
	"  version TEXT NOT NULL,\n"
	"  PRIMARY KEY (range_id, seq)\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE versions (\n"
	"  affected_id INTEGER PRIMARY KEY REFERENCES affected(pk) ON DELETE CASCADE,\n"
	"  list TEXT NOT NULL  -- JSON array of version strings, in feed order\n"
	");\n"
	"CREATE TABLE severities (\n"
	"  advisory_id INTEGER NOT NULL REFERENCES advisories(pk) ON DELETE CASCADE,\n"
	"  affected_id INTEGER REFERENCES affected(pk) ON DELETE CASCADE,\n"
	"  source TEXT,\n"
	"  type TEXT NOT NULL CHECK (type IN ('distro','CVSS_V2','CVSS_V3','CVSS_V4')),\n"
	"  vector TEXT,\n"
	"  score REAL,\n"
	"  rating TEXT\n"
	");\n"
	"CREATE INDEX severities_advisory ON severities(advisory_id);\n";

static const struct dd_vulndb_migration migrations[] = {
	{ 1, "initial schema: sources, advisories, refs, aliases, affected, ranges, "
	     "range_events, versions, severities", schema_v1 },
	{ 2, "sources: checked_at and update_error (db update)",
	  "ALTER TABLE sources ADD COLUMN checked_at INTEGER;\n"
	  "ALTER TABLE sources ADD COLUMN update_error TEXT;\n" },
	{ 3, "sources: cursor (incremental updates: Red Hat changes.csv)",
	  "ALTER TABLE sources ADD COLUMN cursor TEXT;\n" },
};

const struct dd_vulndb_migration *dd_vulndb_migrations(size_t *n)
{
	*n = sizeof(migrations) / sizeof(migrations[0]);
	return migrations;
}
