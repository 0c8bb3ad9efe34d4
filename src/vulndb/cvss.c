/* cvss.c - CVSS v3.x and v2 base scores computed from their vectors
 * (FIRST CVSS v3.1 specification section 7, CVSS v2 guide section 3.2.1). */
#include "vulndb/import.h"

#include <string.h>

#include "util/banned.h"

struct metric {
	const char *name;
	const char *values; /* one letter each */
	int required;
};

/* Split "K:V/K:V" and look up each metric; returns the index of each value
 * in its metric's `values` (or -1 if absent) through idx. */
static int parse_vector(const char *v, const struct metric *m, size_t nm, int *idx,
			const char *const *optional, size_t nopt)
{
	for (size_t i = 0; i < nm; i++)
		idx[i] = -1;
	while (*v) {
		const char *colon = strchr(v, ':');
		const char *slash;
		size_t klen, vlen;
		int found = 0;
		if (!colon)
			return -1;
		slash = strchr(colon, '/');
		if (!slash)
			slash = colon + strlen(colon);
		klen = (size_t)(colon - v);
		vlen = (size_t)(slash - colon - 1);
		for (size_t i = 0; i < nm && !found; i++) {
			if (strlen(m[i].name) != klen || memcmp(m[i].name, v, klen) != 0)
				continue;
			const char *p;
			if (vlen != 1 || idx[i] != -1 || !(p = strchr(m[i].values, colon[1])) ||
			    colon[1] == '\0')
				return -1;
			idx[i] = (int)(p - m[i].values);
			found = 1;
		}
		for (size_t i = 0; i < nopt && !found; i++)
			if (strlen(optional[i]) == klen && memcmp(optional[i], v, klen) == 0 &&
			    vlen >= 1)
				found = 1;
		if (!found)
			return -1;
		v = *slash ? slash + 1 : slash;
		if (*v == '\0' && *slash == '/')
			return -1; /* trailing slash */
	}
	for (size_t i = 0; i < nm; i++)
		if (m[i].required && idx[i] < 0)
			return -1;
	return 0;
}

/* No libm: the values here are small and non-negative. */
static double pow15(double x)
{
	double r = 1.0;
	for (int i = 0; i < 15; i++)
		r *= x;
	return r;
}

static double ceil1(double x) /* round up to one decimal */
{
	long long i = (long long)(x * 10.0 - 1e-9);
	if ((double)i < x * 10.0 - 1e-9)
		i++;
	return (double)i / 10.0;
}

static double roundup31(double x)
{
	long long i = (long long)(x * 100000.0 + 0.5);
	if (i % 10000 == 0)
		return (double)i / 100000.0;
	return (double)(i / 10000 + 1) / 10.0;
}

static const char *rating3(double s)
{
	if (s == 0.0)
		return "NONE";
	if (s < 4.0)
		return "LOW";
	if (s < 7.0)
		return "MEDIUM";
	if (s < 9.0)
		return "HIGH";
	return "CRITICAL";
}

int dd_cvss3_score(const char *vector, double *score, const char **rating)
{
	static const struct metric m[] = {
		{ "AV", "NALP", 1 }, { "AC", "LH", 1 }, { "PR", "NLH", 1 }, { "UI", "NR", 1 },
		{ "S", "UC", 1 },    { "C", "HLN", 1 }, { "I", "HLN", 1 },  { "A", "HLN", 1 },
	};
	/* Temporal and environmental metrics are allowed but do not change the
	 * base score. */
	static const char *const opt[] = { "E", "RL", "RC", "CR", "IR", "AR", "MAV", "MAC",
					   "MPR", "MUI", "MS", "MC", "MI", "MA" };
	static const double av[] = { 0.85, 0.62, 0.55, 0.2 }, ac[] = { 0.77, 0.44 },
			    pr_u[] = { 0.85, 0.62, 0.27 }, pr_c[] = { 0.85, 0.68, 0.5 },
			    ui[] = { 0.85, 0.62 }, cia[] = { 0.56, 0.22, 0.0 };
	int idx[8], v31;
	double iss, impact, expl, s;

	if (!vector)
		return -1;
	if (strncmp(vector, "CVSS:3.1/", 9) == 0)
		v31 = 1;
	else if (strncmp(vector, "CVSS:3.0/", 9) == 0)
		v31 = 0;
	else
		return -1;
	if (parse_vector(vector + 9, m, 8, idx, opt, sizeof(opt) / sizeof(opt[0])))
		return -1;
	int changed = idx[4] == 1;
	iss = 1.0 - (1.0 - cia[idx[5]]) * (1.0 - cia[idx[6]]) * (1.0 - cia[idx[7]]);
	if (changed)
		impact = 7.52 * (iss - 0.029) - 3.25 * pow15(iss - 0.02);
	else
		impact = 6.42 * iss;
	expl = 8.22 * av[idx[0]] * ac[idx[1]] * (changed ? pr_c : pr_u)[idx[2]] * ui[idx[3]];
	if (impact <= 0)
		s = 0.0;
	else {
		double raw = changed ? 1.08 * (impact + expl) : impact + expl;
		if (raw > 10.0)
			raw = 10.0;
		s = v31 ? roundup31(raw) : ceil1(raw);
	}
	*score = s;
	*rating = rating3(s);
	return 0;
}

int dd_cvss2_score(const char *vector, double *score, const char **rating)
{
	static const struct metric m[] = {
		{ "AV", "LAN", 1 }, { "AC", "HML", 1 }, { "Au", "MSN", 1 },
		{ "C", "NPC", 1 },  { "I", "NPC", 1 },  { "A", "NPC", 1 },
	};
	static const char *const opt[] = { "E", "RL", "RC", "CDP", "TD", "CR", "IR", "AR" };
	static const double av[] = { 0.395, 0.646, 1.0 }, ac[] = { 0.35, 0.61, 0.71 },
			    au[] = { 0.45, 0.56, 0.704 }, cia[] = { 0.0, 0.275, 0.660 };
	char buf[160];
	int idx[6];
	size_t n;

	if (!vector)
		return -1;
	if (strncmp(vector, "CVSS:2.0/", 9) == 0)
		vector += 9;
	n = strlen(vector);
	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, vector, n + 1);
	if (buf[0] == '(' && n >= 2 && buf[n - 1] == ')') {
		memmove(buf, buf + 1, n - 2);
		buf[n - 2] = '\0';
	}
	if (parse_vector(buf, m, 6, idx, opt, sizeof(opt) / sizeof(opt[0])))
		return -1;
	double impact = 10.41 * (1.0 - (1.0 - cia[idx[3]]) * (1.0 - cia[idx[4]]) *
					   (1.0 - cia[idx[5]]));
	double expl = 20.0 * av[idx[0]] * ac[idx[1]] * au[idx[2]];
	double f = impact == 0.0 ? 0.0 : 1.176;
	double s = ((0.6 * impact) + (0.4 * expl) - 1.5) * f;
	if (s < 0)
		s = 0;
	s = (double)(long long)(s * 10.0 + 0.5 + 1e-9) / 10.0;
	*score = s;
	*rating = s < 4.0 ? "LOW" : s < 7.0 ? "MEDIUM" : "HIGH";
	return 0;
}
