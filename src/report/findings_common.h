/*
 * findings_common.h - the writers of `drydock scan` results: table, drydock
 * JSON (docs/json-output.md), SARIF 2.1.0, CycloneDX 1.6 with
 * vulnerabilities, OpenVEX 0.2.0.
 *
 * Every writer reads one dd_findings_report: the inventory (image, OS,
 * packages), the findings of the matcher after the CLI's filters (findings
 * with suppressed_by set were suppressed by the ignore file or VEX and are
 * reported as such, never as open findings), and the scan context.
 *
 * Memory: nothing is retained; the writers only read the report.
 */
#ifndef DD_REPORT_FINDINGS_COMMON_H
#define DD_REPORT_FINDINGS_COMMON_H

#include <stdio.h>
#include <time.h>

#include "inventory/inventory.h"
#include "match/match.h"
#include "util/buf.h"
#include "util/error.h"

typedef struct dd_findings_report {
	const dd_inventory *inv;
	const dd_findings *f;
	const char *db_path;     /* for the report header; may be NULL */
	const char *base_ref;    /* the base image as named (annotation or --base), or NULL */
	const char *base_how;    /* "annotation", "--base", or NULL when unknown */
	time_t now;              /* timestamps (SOURCE_DATE_EPOCH when set) */
	int color;               /* table only: ANSI colours */
	const char *fail_on;     /* the gate, for the summary line; may be NULL */
} dd_findings_report;

/* The package of finding f. */
const dd_package *dd_finding_package(const dd_findings_report *r, const dd_finding *f);
/* Append the purl of package p to out (empty on failure). */
void dd_finding_purl(dd_buf *out, const dd_findings_report *r, const dd_package *p);
/* Open (not suppressed) findings of the report. */
size_t dd_findings_open_count(const dd_findings *f);
/* RFC 3339 UTC time of t into buf (>= 21 bytes). */
const char *dd_findings_time(char *buf, size_t n, time_t t);

int dd_findings_write_table(FILE *out, const dd_findings_report *r, dd_error *err);
int dd_findings_write_json(FILE *out, const dd_findings_report *r, dd_error *err);
int dd_findings_write_sarif(FILE *out, const dd_findings_report *r, dd_error *err);
int dd_findings_write_cyclonedx(FILE *out, const dd_findings_report *r, dd_error *err);
int dd_findings_write_openvex(FILE *out, const dd_findings_report *r, dd_error *err);

#endif
