/*
 * ls.c - `drydock ls IMAGE [PATH...]`: the image's squashed file system
 * (whiteouts applied), with the layer each visible entry comes from.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "image/image.h"
#include "layer/walker.h"
#include "util/banned.h"

static struct {
	const char *format, *output;
	struct dd_image_cli img;
} o;

static const struct dd_opt opts[] = {
	{ "format", 'f', DD_OPT_STR, &o.format, "FORMAT", "output format: table (default) or json" },
	{ "output", 'o', DD_OPT_STR, &o.output, "FILE", "write to FILE instead of standard output" },
	DD_IMAGE_CLI_OPTS(o.img),
	{ 0 },
};

static const struct dd_cmdspec spec = {
	"ls", "IMAGE [PATH...] [options]",
	"List the image's files as a container would see them.",
	"Every layer is read once and the whiteouts applied; each visible entry is\n"
	"listed with its type and mode, size, and the layer it comes from.  PATHs\n"
	"(absolute, in the image) limit the listing to those entries and what is\n"
	"below them.  Table columns: MODE SIZE LAYER PATH (symlinks: PATH -> TARGET\n"
	"in JSON only, so that PATH is always the last column).",
	opts,
};

static char type_char(enum dd_ftype t)
{
	switch (t) {
	case DD_FT_DIR: return 'd';
	case DD_FT_SYMLINK: return 'l';
	case DD_FT_CHAR: return 'c';
	case DD_FT_BLOCK: return 'b';
	case DD_FT_FIFO: return 'p';
	default: return '-';
	}
}

static void mode_string(char out[11], const dd_fsentry *e)
{
	static const char rwx[] = "rwxrwxrwx";
	out[0] = type_char(e->type);
	for (int i = 0; i < 9; i++)
		out[1 + i] = (e->mode & (0400u >> i)) ? rwx[i] : '-';
	if (e->mode & 04000)
		out[3] = out[3] == 'x' ? 's' : 'S';
	if (e->mode & 02000)
		out[6] = out[6] == 'x' ? 's' : 'S';
	if (e->mode & 01000)
		out[9] = out[9] == 'x' ? 't' : 'T';
	out[10] = '\0';
}

/* Is path (relative) at or under one of the wanted prefixes? */
static int selected(const char *path, char **want, int nwant)
{
	if (!nwant)
		return 1;
	for (int i = 0; i < nwant; i++) {
		const char *w = want[i];
		size_t n;
		while (*w == '/')
			w++;
		n = strlen(w);
		while (n && w[n - 1] == '/')
			n--;
		if (!n || (!strncmp(path, w, n) && (path[n] == '\0' || path[n] == '/')))
			return 1;
	}
	return 0;
}

int dd_cmd_ls(int argc, char **argv, dd_error *err)
{
	dd_image_opts io;
	dd_image *img = NULL;
	dd_walker *w = NULL;
	dd_output out = { 0 };
	json_t *arr = NULL;
	int npos = 0, rc, json;

	memset(&o, 0, sizeof(o));
	rc = dd_opts_parse(&spec, argc, argv, &npos, err);
	if (rc)
		return rc > 0 ? 0 : rc;
	if (npos < 1)
		return dd_error_set(err, DD_EUSAGE, "ls: expected an IMAGE (see 'drydock ls --help')");
	if (o.format && strcmp(o.format, "json") && strcmp(o.format, "table"))
		return dd_error_set(err, DD_EUSAGE, "ls: unknown format '%s' (table, json)", o.format);
	json = o.format && !strcmp(o.format, "json");
	dd_image_opts_init(&io);
	if ((rc = dd_image_cli_apply(&o.img, &io, err)))
		goto done;
	io.cache = NULL; /* ls reads the image itself */
	if ((rc = dd_image_open(&img, argv[1], &io, err)) || (rc = dd_walker_new(&w, &io.limits, err)) ||
	    (rc = dd_image_walk(img, w, err)) || (rc = dd_output_open(&out, o.output, err)))
		goto done;
	if (json && !(arr = json_array())) {
		rc = dd_error_oom(err);
		goto done;
	}
	for (size_t i = 0; i < dd_walker_count(w); i++) {
		const dd_fsentry *e = dd_walker_entry(w, i);
		char mode[11];
		if (!selected(e->path, argv + 2, npos - 1))
			continue;
		mode_string(mode, e);
		if (json) {
			json_t *x = json_pack("{s:s, s:s, s:s, s:I, s:i}", "path", e->path, "type",
					      dd_ftype_name(e->type), "mode", mode, "size", (json_int_t)e->size,
					      "layer", e->layer);
			if (x && e->link)
				json_object_set_new(x, "link", json_string(e->link));
			json_array_append_new(arr, x);
		} else {
			fprintf(out.fp, "%s %12llu %3d /%s\n", mode, (unsigned long long)e->size, e->layer, e->path);
		}
	}
	if (json) {
		json_dumpf(arr, out.fp, JSON_INDENT(2));
		fputc('\n', out.fp);
	}
	rc = dd_output_close(&out, 0, err);
done:
	json_decref(arr);
	dd_walker_free(w);
	dd_image_free(img);
	return rc;
}
