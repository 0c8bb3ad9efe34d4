#!/bin/bash
# drydock sbom on real debootstrapped Debian images (scripts/fixtures/debian-image):
# the package set (name, version, architecture, source name and version)
# must equal dpkg-query's reading of the same database, and every package
# of the app image (base + one extra layer) is attributed to layer 0.
. "$DD_ROOT/tests/lib.sh"

fmt='${Package}\t${Version}\t${Architecture}\t${source:Package}\t${source:Version}\n'
jq_set='.packages[] | [.name, .version, .arch, .sourceName, .sourceVersion] | @tsv'

if ! command -v jq >/dev/null || ! command -v dpkg-query >/dev/null; then
	skip "debian sbom" "jq or dpkg-query missing (scripts/install-deps)"
	exit 0
fi
if ! env_out=$("$DD_ROOT/scripts/fixtures/debian-image" 2>"$TMP/fixture.err"); then
	skip "debian sbom" "no debootstrap fixture: $(tail -n 1 "$TMP/fixture.err")"
	exit 0
fi
eval "$env_out"

# same_set NAME EXPECTED_FILE ACTUAL_FILE
same_set() {
	LC_ALL=C sort -u "$2" >"$2.s"; LC_ALL=C sort -u "$3" >"$3.s"
	if [ ! -s "$2.s" ]; then fail "$1" "empty expected set"; return; fi
	if cmp -s "$2.s" "$3.s"; then ok "$1 ($(wc -l <"$2.s") packages)"
	else fail "$1" "differs: $(diff "$2.s" "$3.s" | head -n 6 | tr '\n' ' ')"; fi
}

# base: the debootstrap root kept by the fixture is the oracle
dpkg-query --admindir="$ROOTFS/var/lib/dpkg" -W -f "$fmt" >"$TMP/base.exp"
expect_exit 0 "sbom oci base" "$DRYDOCK" sbom --format json -o "$TMP/base.json" "oci:$OCI:base"
jq -r "$jq_set" "$TMP/base.json" >"$TMP/base.got"
same_set "oci:base equals dpkg-query" "$TMP/base.exp" "$TMP/base.got"
check "oci:base OS is debian 12 bookworm" \
	test "$(jq -r '[.os.id, .os.versionID, .os.codename] | join(" ")' "$TMP/base.json")" = "debian 12 bookworm"

expect_exit 0 "sbom rootfs" "$DRYDOCK" sbom --format json -o "$TMP/rootfs.json" "rootfs:$ROOTFS"
jq -r "$jq_set" "$TMP/rootfs.json" >"$TMP/rootfs.got"
same_set "rootfs: equals dpkg-query" "$TMP/base.exp" "$TMP/rootfs.got"

expect_exit 0 "sbom docker-archive base" "$DRYDOCK" sbom -f json -o "$TMP/da.json" "docker-archive:$ARCHIVE_BASE"
jq -r "$jq_set" "$TMP/da.json" >"$TMP/da.got"
same_set "docker-archive:base equals dpkg-query" "$TMP/base.exp" "$TMP/da.got"

# file lists from var/lib/dpkg/info/*.list (multiarch NAME:ARCH.list too)
n_ls=$(jq -r '.packages[] | select(.name=="coreutils") | .files' "$TMP/base.json")
n_exp=$(grep -cv '^/\.$' "$ROOTFS/var/lib/dpkg/info/coreutils.list")
check "coreutils owns its $n_exp listed files" test "$n_ls" = "$n_exp"
n_libc=$(jq -r '.packages[] | select(.name=="libc6") | .files' "$TMP/base.json")
arch=$(jq -r '.packages[] | select(.name=="libc6") | .arch' "$TMP/base.json")
n_libc_exp=$(grep -cv '^/\.$' "$ROOTFS/var/lib/dpkg/info/libc6:$arch.list")
check "libc6 file list from libc6:$arch.list ($n_libc_exp files)" test "$n_libc" = "$n_libc_exp"

# app image: base + one layer that does not touch the package database
expect_exit 0 "sbom oci app" "$DRYDOCK" sbom -f json -o "$TMP/app.json" "oci:$OCI:app"
jq -r "$jq_set" "$TMP/app.json" >"$TMP/app.got"
same_set "oci:app equals the base package set" "$TMP/base.exp" "$TMP/app.got"
layers=$(jq -r '[.packages[].layer.index] | unique | map(tostring) | join(",")' "$TMP/app.json")
check "oci:app: every package attributed to layer 0 (got: $layers)" test "$layers" = "0"
d0=$(jq -r '.image.layers[0].diffID' "$TMP/app.json")
dids=$(jq -r '[.packages[].layer.diffID] | unique | join(",")' "$TMP/app.json")
check "oci:app: layer diffID is layer 0's" test "$dids" = "$d0" -a "$(jq '.image.layers | length' "$TMP/app.json")" = 2

# include image: its own debootstrap with extra packages; the oracle is
# dpkg-query on the database extracted from the layer with tar
man=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]=="include") | .digest' "$OCI/index.json")
layer=$(jq -r '.layers[0].digest' "$OCI/blobs/sha256/${man#sha256:}")
mkdir -p "$TMP/inc"
tar -xzf "$OCI/blobs/sha256/${layer#sha256:}" -C "$TMP/inc" var/lib/dpkg
dpkg-query --admindir="$TMP/inc/var/lib/dpkg" -W -f "$fmt" >"$TMP/inc.exp"
expect_exit 0 "sbom oci include" "$DRYDOCK" sbom -f json -o "$TMP/inc.json" "oci:$OCI:include"
jq -r "$jq_set" "$TMP/inc.json" >"$TMP/inc.got"
same_set "oci:include equals dpkg-query" "$TMP/inc.exp" "$TMP/inc.got"
for p in $INCLUDE_PKGS; do
	check "oci:include lists --include'd $p" grep -q "^$p	" "$TMP/inc.got"
done
expect_exit 0 "sbom docker-archive include" "$DRYDOCK" sbom -f json -o "$TMP/inc-da.json" "docker-archive:$ARCHIVE_INCLUDE"
jq -r "$jq_set" "$TMP/inc-da.json" >"$TMP/inc-da.got"
same_set "docker-archive:include equals dpkg-query" "$TMP/inc.exp" "$TMP/inc-da.got"

# purls and determinism
check "purl of libc6" grep -q '"pkg:deb/debian/libc6@2.36-[^"]*?arch=[a-z0-9]*&distro=debian-12' "$TMP/base.json"
"$DRYDOCK" sbom -f json "oci:$OCI:base" >"$TMP/base2.json" 2>/dev/null
check "json output is byte-identical across runs" cmp -s "$TMP/base.json" "$TMP/base2.json"
"$DRYDOCK" sbom "oci:$OCI:base" >"$TMP/table" 2>"$TMP/table.err"
check "table lists every package" test "$(grep -c '  deb  ' "$TMP/table")" = "$(wc -l <"$TMP/base.exp.s")"
check "no warnings on a clean image" test ! -s "$TMP/table.err"
