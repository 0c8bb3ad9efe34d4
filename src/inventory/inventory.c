/* inventory.c - the dd_inventory container and its accessors (see
 * inventory.h).  Collecting an inventory from an image is catalog.c. */
#include "inventory/inventory.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/banned.h"

int dd_inventory_new(dd_inventory **out, dd_error *err)
{
	dd_inventory *inv = dd_calloc(1, sizeof(*inv));
	if (!inv)
		return dd_error_oom(err);
	*out = inv;
	return 0;
}

static void image_release(dd_inv_image *im)
{
	free(im->ref);
	for (size_t i = 0; i < im->nlayers; i++)
		free(im->layers[i].media_type);
	free(im->layers);
	memset(im, 0, sizeof(*im));
}

void dd_inventory_free(dd_inventory *inv)
{
	if (!inv)
		return;
	image_release(&inv->image);
	dd_os_release(&inv->os);
	dd_pkglist_release(&inv->pkgs);
	for (size_t i = 0; i < inv->nwarnings; i++)
		free(inv->warnings[i]);
	free(inv->warnings);
	free(inv);
}

int dd_inventory_set_image(dd_inventory *inv, const dd_image *img, dd_error *err)
{
	dd_inv_image im;
	size_t n = dd_image_layer_count(img);

	memset(&im, 0, sizeof(im));
	im.ref = dd_strdup(dd_image_ref(img) ? dd_image_ref(img) : "");
	if (!im.ref)
		goto oom;
	im.transport = dd_image_transport(img);
	if (dd_image_index_digest(img))
		im.index_digest = *dd_image_index_digest(img);
	if (dd_image_manifest_digest(img))
		im.manifest_digest = *dd_image_manifest_digest(img);
	if (dd_image_config_digest(img))
		im.config_digest = *dd_image_config_digest(img);
	if (dd_image_platform(img))
		im.platform = *dd_image_platform(img);
	if (n) {
		im.layers = dd_calloc(n, sizeof(*im.layers));
		if (!im.layers)
			goto oom;
	}
	for (size_t i = 0; i < n; i++) {
		const dd_layer_desc *d = dd_image_layer(img, i);
		dd_inv_layer *l = &im.layers[im.nlayers++];
		if (!d)
			continue;
		l->digest = d->digest;
		l->diff_id = d->diff_id;
		if (!dd_digest_is_set(&l->diff_id) && d->walked)
			l->diff_id = d->stats.diff_id;
		if (!dd_digest_is_set(&l->digest) && d->walked)
			l->digest = d->stats.digest;
		l->size = d->size;
		if (d->media_type && !(l->media_type = dd_strdup(d->media_type)))
			goto oom;
	}
	image_release(&inv->image);
	inv->image = im;
	return 0;
oom:
	image_release(&im);
	return dd_error_oom(err);
}

void dd_inventory_warn(dd_inventory *inv, const char *fmt, ...)
{
	char tmp[DD_ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	dd_warn("%s", tmp);
	if (!inv)
		return;
	char **v = realloc(inv->warnings, (inv->nwarnings + 1) * sizeof(*v));
	if (!v)
		return;
	inv->warnings = v;
	/* Store the escaped form dd_warn prints. */
	dd_error e;
	dd_error_set(&e, 0, "%s", tmp);
	if ((v[inv->nwarnings] = dd_strdup(e.msg)))
		inv->nwarnings++;
}

/* ---- accessors ---- */

static const dd_digest no_digest;

const char *dd_inventory_ref(const dd_inventory *inv)
{
	return inv && inv->image.ref ? inv->image.ref : "";
}

enum dd_transport dd_inventory_transport(const dd_inventory *inv)
{
	return inv ? inv->image.transport : DD_TRANSPORT_OCI;
}

const dd_digest *dd_inventory_manifest_digest(const dd_inventory *inv)
{
	return inv ? &inv->image.manifest_digest : &no_digest;
}

const dd_digest *dd_inventory_config_digest(const dd_inventory *inv)
{
	return inv ? &inv->image.config_digest : &no_digest;
}

const dd_digest *dd_inventory_index_digest(const dd_inventory *inv)
{
	return inv ? &inv->image.index_digest : &no_digest;
}

const dd_platform *dd_inventory_platform(const dd_inventory *inv)
{
	static const dd_platform none;
	return inv ? &inv->image.platform : &none;
}

size_t dd_inventory_layer_count(const dd_inventory *inv)
{
	return inv ? inv->image.nlayers : 0;
}

const dd_inv_layer *dd_inventory_layer(const dd_inventory *inv, size_t i)
{
	return inv && i < inv->image.nlayers ? &inv->image.layers[i] : NULL;
}

const dd_os *dd_inventory_os(const dd_inventory *inv)
{
	static const dd_os none;
	return inv ? &inv->os : &none;
}

int dd_inventory_os_unknown(const dd_inventory *inv)
{
	return !inv || !inv->os.id || !inv->os.id[0];
}

size_t dd_inventory_package_count(const dd_inventory *inv)
{
	return inv ? inv->pkgs.n : 0;
}

const dd_package *dd_inventory_package(const dd_inventory *inv, size_t i)
{
	return inv && i < inv->pkgs.n ? &inv->pkgs.v[i] : NULL;
}

size_t dd_inventory_warning_count(const dd_inventory *inv)
{
	return inv ? inv->nwarnings : 0;
}

const char *dd_inventory_warning(const dd_inventory *inv, size_t i)
{
	return inv && i < inv->nwarnings ? inv->warnings[i] : NULL;
}
