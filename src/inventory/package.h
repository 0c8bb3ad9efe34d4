/*
 * package.h - the package model every cataloger fills and every later step
 * (SBOM writers, matcher, patcher) reads.
 *
 * A dd_package owns all its strings (heap, NUL-terminated, NULL when the
 * package database does not say).  A dd_pkglist owns its packages;
 * dd_pkglist_release() frees them all.  dd_os owns its strings likewise.
 */
#ifndef DD_INVENTORY_PACKAGE_H
#define DD_INVENTORY_PACKAGE_H

#include <stddef.h>
#include <stdint.h>

#include "util/digest.h"
#include "util/error.h"

enum dd_pkg_type { DD_PKG_DEB, DD_PKG_APK, DD_PKG_RPM };
const char *dd_pkg_type_name(enum dd_pkg_type t); /* "deb", "apk", "rpm" (purl types) */

typedef struct dd_package {
	enum dd_pkg_type type;
	char *name;
	/* The full version as the package manager prints it:
	 * deb "1:2.36-9+deb12u4", apk "1.36.1-r5", rpm "[EPOCH:]VERSION-RELEASE". */
	char *version;
	char *arch;
	/* The source package (deb Source:, apk origin, rpm sourcerpm's name);
	 * NULL means the same as name / version. */
	char *source_name;
	char *source_version;
	/* rpm only: the NEVRA parts and header fields. */
	int has_epoch;
	uint32_t epoch;
	char *rpm_version;
	char *rpm_release;
	char *sourcerpm;        /* "openssl-3.0.7-1.el9.src.rpm" */
	char *vendor;
	char *modularitylabel;
	/* common metadata */
	char *license;
	char *maintainer;       /* deb Maintainer, apk m, rpm Packager */
	char *description;      /* first line only */
	char *multi_arch;       /* deb Multi-Arch */
	char *status;           /* dpkg state when not "installed"; NULL = installed */
	char *commit;           /* apk c: the aports commit it was built from */
	int64_t build_time;     /* apk t / rpm BUILDTIME: unix seconds, 0 unknown */
	uint64_t size;          /* installed size in bytes, 0 when unknown */
	char **files;           /* owned paths, relative to the root; may be NULL */
	size_t nfiles;
	/* provenance */
	char *db_path;          /* database it came from: "var/lib/dpkg/status" */
	int layer;              /* layer where installed or last changed; -1 unknown */
	dd_digest diff_id;      /* that layer's diff_id */
} dd_package;

typedef struct dd_pkglist {
	dd_package *v;
	size_t n, cap;
} dd_pkglist;

#define DD_PKGLIST_INIT { NULL, 0, 0 }

/* Append a zeroed package (layer = -1) and return it, or NULL on OOM. */
dd_package *dd_pkglist_add(dd_pkglist *l);
/* Remove the last package (after a parse error for that entry). */
void dd_pkglist_drop_last(dd_pkglist *l);
void dd_package_release(dd_package *p);
void dd_pkglist_release(dd_pkglist *l);
/* Sort by type, name, version, arch (the deterministic output order). */
void dd_pkglist_sort(dd_pkglist *l);

/* The operating system of an image. */
typedef struct dd_os {
	char *id;          /* os-release ID: "debian", "alpine", "rhel", "sles" ... */
	char *version_id;  /* "12", "3.18.4" */
	char *codename;    /* VERSION_CODENAME: "bookworm" */
	char *id_like;
	char *name;        /* PRETTY_NAME or NAME */
	char *source;      /* file it was read from: "etc/os-release" */
	int distroless;    /* no os-release but a dpkg status.d */
} dd_os;

void dd_os_release(dd_os *os);

#endif
