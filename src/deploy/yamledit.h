/*
 * yamledit.h - rewrite container image references in YAML text to pinned
 * digests, changing nothing else (docs/deploy.md).
 *
 * The text is parsed with libyaml's event parser; only the bytes of the
 * scalars being changed are replaced (plus, for a kustomization entry
 * without one, one inserted `digest:` line), so comments, quoting style,
 * indentation, key order and line endings survive.  Every rewrite is
 * checked by parsing the result again: the new event stream must equal the
 * old one except for the intended values, or nothing is written.
 *
 * Three forms are recognised, in every document of a multi-document file:
 *
 *   image: REF                      any mapping key `image` with a scalar
 *                                   value that is a reference to one of the
 *                                   repositories -> REPO[:TAG]@sha256:NEW
 *                                   (the tag is kept when one was written;
 *                                   the digest is what the runtime pulls)
 *   images: [{name, newName, newTag, digest}]
 *                                   kustomization files (file name
 *                                   kustomization.y[a]ml / Kustomization, or
 *                                   apiVersion kustomize.config.k8s.io/...):
 *                                   matched on newName (else name); the
 *                                   `digest:` value is set, or a `digest:`
 *                                   key added after the entry's last key
 *   {registry, repository, tag, digest}
 *                                   Helm values: any mapping with a scalar
 *                                   `repository` (prefixed by `registry` when
 *                                   present): `digest:` is set when the key
 *                                   exists, else `tag:` becomes TAG@sha256:NEW
 *
 * Repositories compare after docker normalisation (registry/ref.h):
 * "nginx" == "docker.io/library/nginx".  A value already pinned to the new
 * digest is left alone, so a second apply changes nothing.
 *
 * Memory: the caller owns text, the updates and out; nothing is kept.
 */
#ifndef DD_DEPLOY_YAMLEDIT_H
#define DD_DEPLOY_YAMLEDIT_H

#include <stddef.h>

#include "util/buf.h"
#include "util/error.h"

#define DD_YAMLEDIT_MAX ((size_t)16 << 20)  /* largest file edited */
#define DD_YAMLEDIT_MAX_NODES ((size_t)1 << 20)
#define DD_YAMLEDIT_MAX_DEPTH 256

typedef struct dd_image_update {
	const char *repository; /* "127.0.0.1:5000/app": no tag, no digest */
	const char *digest;     /* "sha256:<64 hex>" */
} dd_image_update;

/*
 * Rewrite the references to the n repositories of u in text (len bytes;
 * name is the file name used in messages and to recognise a kustomization).
 * Appends the whole resulting text to out (identical to the input when
 * nothing changed) and sets *changes (may be NULL) to the number of values
 * changed or keys added.
 *
 * Returns 0; DD_EUSAGE for a bad update (repository with a tag, malformed
 * digest); DD_EINPUT with "NAME:LINE: what" for text that is not YAML or is
 * too large or too deep; DD_EINTERNAL when the check of the result failed.
 * On error out is left as it was.
 */
int dd_yamledit_apply(const char *text, size_t len, const char *name,
		      const dd_image_update *u, size_t n, dd_buf *out, size_t *changes,
		      dd_error *err);

#endif
