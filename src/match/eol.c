/*
 * eol.c - the end-of-life calendar of the distributions drydock matches:
 * the date after which a release gets no more security fixes (for Debian
 * and Ubuntu the end of standard/LTS security support, for Alpine the end
 * of its main repository's support, for RHEL and its rebuilds the end of
 * maintenance support).  Dates are facts published by each project.
 */
#include "match/match.h"

#include <string.h>
#include <time.h>

#include "util/banned.h"

static const struct eol {
	const char *id, *version, *date;
} calendar[] = {
	{ "debian", "7", "2018-05-31" },   { "debian", "8", "2020-06-30" },
	{ "debian", "9", "2022-06-30" },   { "debian", "10", "2024-06-30" },
	{ "debian", "11", "2026-08-31" },  { "debian", "12", "2028-06-30" },
	{ "ubuntu", "14.04", "2019-04-30" }, { "ubuntu", "16.04", "2021-04-30" },
	{ "ubuntu", "18.04", "2023-05-31" }, { "ubuntu", "20.04", "2025-05-31" },
	{ "ubuntu", "22.04", "2027-06-01" }, { "ubuntu", "24.04", "2029-05-31" },
	{ "alpine", "3.10", "2021-05-01" },  { "alpine", "3.11", "2021-11-01" },
	{ "alpine", "3.12", "2022-05-01" },  { "alpine", "3.13", "2022-11-01" },
	{ "alpine", "3.14", "2023-05-01" },  { "alpine", "3.15", "2023-11-01" },
	{ "alpine", "3.16", "2024-05-23" },  { "alpine", "3.17", "2024-11-22" },
	{ "alpine", "3.18", "2025-05-09" },  { "alpine", "3.19", "2025-11-01" },
	{ "alpine", "3.20", "2026-04-01" },  { "alpine", "3.21", "2026-11-01" },
	{ "alpine", "3.22", "2027-05-01" },
	{ "rhel", "7", "2024-06-30" },     { "rhel", "8", "2029-05-31" },   { "rhel", "9", "2032-05-31" },
	{ "almalinux", "8", "2029-05-31" }, { "almalinux", "9", "2032-05-31" },
	{ "rocky", "8", "2029-05-31" },     { "rocky", "9", "2032-05-31" },
	{ "centos", "7", "2024-06-30" },   { "centos", "8", "2021-12-31" },
};

/* "3.10.4" is release "3.10" (Alpine), "8.9" is "8" (RHEL family),
 * "18.04" stays "18.04" (Ubuntu), "12" stays "12" (Debian). */
static int same_release(const char *id, const char *version_id, const char *release)
{
	size_t n = strlen(release);
	if (strncmp(version_id, release, n))
		return 0;
	if (!version_id[n])
		return 1;
	return version_id[n] == '.' && (strcmp(id, "alpine") == 0 || strchr(release, '.') == NULL);
}

const char *dd_os_eol(const dd_os *os)
{
	if (!os || !os->id || !os->version_id)
		return NULL;
	for (size_t i = 0; i < sizeof(calendar) / sizeof(calendar[0]); i++)
		if (!strcmp(os->id, calendar[i].id) && same_release(os->id, os->version_id, calendar[i].version))
			return calendar[i].date;
	return NULL;
}

int dd_os_is_eol(const dd_os *os)
{
	const char *d = dd_os_eol(os);
	char today[16];
	time_t t = time(NULL);
	struct tm tm;

	if (!d || !gmtime_r(&t, &tm))
		return 0;
	strftime(today, sizeof(today), "%Y-%m-%d", &tm);
	return strcmp(today, d) > 0;
}
