/*
 * purl.h - package URLs (https://github.com/package-url/purl-spec) for the
 * OS packages of an inventory: deb, apk and rpm.
 *
 *   pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12
 *   pkg:apk/alpine/musl@1.1.22-r3?arch=x86_64&distro=alpine-3.10.3
 *   pkg:rpm/redhat/openssl@3.0.7-1.el9?arch=x86_64&distro=rhel-9.2&epoch=1
 *
 * Rules (docs/sbom-formats.md has the full table):
 * - namespace: the OS id, lowercased (deb: debian, ubuntu; apk: alpine,
 *   wolfi ...); for rpm the vendor's conventional name derived from the OS
 *   id (rhel -> redhat, amzn -> amazon, ol -> oracle, sles -> suse,
 *   opensuse-* -> opensuse, others as is), or from the package's Vendor
 *   when the OS is unknown;
 * - name: percent-encoded, lowercased for deb and apk (case-insensitive
 *   types); version: deb and apk the full version as the package manager
 *   prints it (a deb epoch stays in it: "1%3A2.36"), rpm VERSION-RELEASE
 *   with the epoch as the "epoch" qualifier;
 * - qualifiers, sorted by key: arch, distro ("<os id>-<VERSION_ID>", or
 *   "<os id>-<codename>" without a VERSION_ID), epoch (rpm, only when the
 *   package has one), upstream (the source package when it differs:
 *   "glibc" or "glibc@2.36-9");
 * - every character except A-Z a-z 0-9 . - _ ~ in name, version and
 *   qualifier values is percent-encoded (upper-case hex): '+' is %2B,
 *   ':' is %3A, '@' is %40.
 *
 * Memory: the caller owns `out`; nothing is retained.
 */
#ifndef DD_REPORT_PURL_H
#define DD_REPORT_PURL_H

#include "inventory/package.h"
#include "util/buf.h"
#include "util/error.h"

/* Append the purl of package p (from an image whose OS is os; os may be NULL
 * or have NULL fields when unknown) to out.  Returns 0, DD_EINPUT when p has
 * no name (nothing appended), or the buffer's error code (err filled). */
int dd_purl_format(dd_buf *out, const dd_package *p, const dd_os *os, dd_error *err);

/* Append s percent-encoded the purl way (see above) to out.  Returns 0 or
 * the buffer's error code. */
int dd_purl_encode(dd_buf *out, const char *s);

/* The purl namespace for packages of type t in an image with OS os (and, for
 * rpm with an unknown OS, the package's vendor; may be NULL).  Writes the
 * lowercased namespace into buf (size n, NUL-terminated, truncated if too
 * long) and returns buf. */
const char *dd_purl_namespace(char *buf, size_t n, enum dd_pkg_type t, const dd_os *os,
			      const char *vendor);

#endif
