/*
 * findings_table.c - `drydock scan` table output: a header naming the image
 * and OS, one block per package (findings highest severity first), a
 * summary line with counts per severity and how many have fixes, and the
 * suppressed findings with their reasons.  ANSI colour only when r->color.
 */
#include <string.h>

#include "report/findings_common.h"
#include "util/banned.h"

static const char *sev_color(enum dd_severity s)
{
	switch (s) {
	case DD_SEV_CRITICAL:
		return "\033[1;31m";
	case DD_SEV_HIGH:
		return "\033[31m";
	case DD_SEV_MEDIUM:
		return "\033[33m";
	case DD_SEV_LOW:
		return "\033[34m";
	default:
		return "\033[2m";
	}
}

/* Print s with control characters replaced (hostile package names). */
static void put_clean(FILE *out, const char *s, int width)
{
	int n = 0;
	for (const char *p = s ? s : "-"; *p; p++, n++)
		fputc(((unsigned char)*p < 0x20 || *p == 0x7f) ? '?' : *p, out);
	for (; n < width; n++)
		fputc(' ', out);
}

int dd_findings_write_table(FILE *out, const dd_findings_report *r, dd_error *err)
{
	const dd_findings *fs = r->f;
	const dd_os *os = dd_inventory_os(r->inv);
	size_t counts[DD_SEV_COUNT] = { 0 }, fixable = 0, nopen = 0, nbase = 0;
	int wp = 7, wi = 13, wv = 9, wf = 5;

	for (size_t i = 0; i < fs->n; i++) {
		const dd_finding *f = &fs->v[i];
		const dd_package *p = dd_finding_package(r, f);
		if (f->suppressed_by)
			continue;
		nopen++;
		counts[f->severity]++;
		fixable += f->fixed_version != NULL;
		nbase += f->from_base == 1;
#define W(w, s)                                                                                   \
	do {                                                                                       \
		int l_ = (int)strlen(s);                                                           \
		if (l_ > w && l_ < 60)                                                             \
			w = l_;                                                                    \
	} while (0)
		W(wp, p->name);
		W(wi, f->id);
		W(wv, p->version);
		if (f->fixed_version)
			W(wf, f->fixed_version);
	}
	fputs(dd_inventory_ref(r->inv) ? dd_inventory_ref(r->inv) : "-", out);
	fprintf(out, " (%s %s)\n", os->id ? os->id : "unknown OS",
		os->version_id ? os->version_id : "");
	fprintf(out, "Total: %zu (", nopen);
	for (int s = DD_SEV_CRITICAL; s >= 0; s--)
		fprintf(out, "%s: %zu%s", dd_severity_name((enum dd_severity)s), counts[s],
			s ? ", " : "");
	fprintf(out, "), fixable: %zu, from base image: %zu", fixable, nbase);
	if (fs->n > nopen)
		fprintf(out, ", suppressed: %zu", fs->n - nopen);
	fputc('\n', out);
	if (r->base_ref) {
		fputs("Base image: ", out);
		put_clean(out, r->base_ref, 0);
		if (fs->base_layers >= 0)
			fprintf(out, " (bottom %ld layer%s)\n", fs->base_layers,
				fs->base_layers == 1 ? "" : "s");
		else
			fputs(" (its layers are unknown: give --base IMAGE)\n", out);
	}
	if (!fs->os_supported || fs->unchecked)
		fprintf(out, "WARNING: %zu packages were NOT checked (no vulnerability data for %s %s)\n",
			fs->unchecked, os->id ? os->id : "this OS",
			os->version_id ? os->version_id : "");
	if (nopen) {
		fputc('\n', out);
		put_clean(out, "PACKAGE", wp + 2);
		put_clean(out, "VULNERABILITY", wi + 2);
		put_clean(out, "SEVERITY", 12);
		put_clean(out, "STATUS", 21);
		put_clean(out, "INSTALLED", wv + 2);
		put_clean(out, "FIXED", wf + 2);
		fputs("LAYER  BASE\n", out);
	}
	size_t last = (size_t)-1;
	for (size_t i = 0; i < fs->n; i++) {
		const dd_finding *f = &fs->v[i];
		const dd_package *p = dd_finding_package(r, f);
		char layer[24];
		if (f->suppressed_by)
			continue;
		put_clean(out, f->pkg == last ? "" : p->name, wp + 2);
		last = f->pkg;
		put_clean(out, f->id, wi + 2);
		if (r->color)
			fputs(sev_color(f->severity), out);
		put_clean(out, dd_severity_name(f->severity), 0);
		if (r->color)
			fputs("\033[0m", out);
		for (int k = (int)strlen(dd_severity_name(f->severity)); k < 12; k++)
			fputc(' ', out);
		put_clean(out, f->status, 21);
		put_clean(out, p->version, wv + 2);
		put_clean(out, f->fixed_version ? f->fixed_version : "", wf + 2);
		snprintf(layer, sizeof(layer), "%d", p->layer);
		put_clean(out, p->layer >= 0 ? layer : "?", 7);
		fputs(f->from_base < 0 ? "?" : f->from_base ? "yes" : "no", out);
		fputc('\n', out);
	}
	if (fs->n > nopen) {
		fputs("\nSuppressed:\n", out);
		for (size_t i = 0; i < fs->n; i++) {
			const dd_finding *f = &fs->v[i];
			if (!f->suppressed_by)
				continue;
			fputs("  ", out);
			put_clean(out, dd_finding_package(r, f)->name, wp + 2);
			put_clean(out, f->id, wi + 2);
			put_clean(out, f->suppressed_by, 0);
			fputs(": ", out);
			put_clean(out, f->suppress_reason ? f->suppress_reason : "-", 0);
			fputc('\n', out);
		}
	}
	if (fflush(out) != 0 || ferror(out))
		return dd_error_set(err, DD_EENV, "writing the scan table failed");
	return 0;
}
