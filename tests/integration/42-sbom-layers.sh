#!/bin/bash
# Provenance across layers, OS detection paths and bad package data, on
# small images built here (tests/data/inventory/mkoci.py writes OCI layouts;
# rootfs: trees are made with mkdir/printf).
. "$DD_ROOT/tests/lib.sh"

command -v jq >/dev/null || { skip "sbom layers" "jq missing (scripts/install-deps)"; exit 0; }
command -v python3 >/dev/null || { skip "sbom layers" "python3 missing"; exit 0; }
MKOCI="$DD_ROOT/tests/data/inventory/mkoci.py"

st() { # st NAME VERSION [STATUS]: one dpkg status stanza
	printf 'Package: %s\nStatus: %s\nArchitecture: amd64\nVersion: %s\nDescription: %s\n\n' \
		"$1" "${3:-install ok installed}" "$2" "$1"
}
jstr() { python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))'; }

# Layers: 0 a1 b1 c1 | 1 unrelated | 2 a1 b2 c1 d1 | 3 a1 b2 d1 (c removed)
#         | 4 a1 b2 c1 d1 (c installed again)
s0=$( { st a 1.0; st b 1.0; st c 1.0; } | jstr)
s2=$( { st a 1.0; st b 2.0; st c 1.0; st d 1.0; } | jstr)
s3=$( { st a 1.0; st b 2.0; st d 1.0; } | jstr)
s4=$( { st a 1.0; st b 2.0; st c 1.0; st d 1.0; } | jstr)
cat >"$TMP/prov.json" <<JSON
{"tag": "prov", "layers": [
 [{"path": "usr/lib/os-release", "data": "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n"},
  {"path": "etc/os-release", "link": "../usr/lib/os-release"},
  {"path": "var/lib/dpkg/status", "data": $s0},
  {"path": "var/lib/dpkg/info/a.list", "data": "/.\n/usr\n/usr/bin/a\n"}],
 [{"path": "srv/app", "data": "x"}],
 [{"path": "var/lib/dpkg/status", "data": $s2}],
 [{"path": "var/lib/dpkg/status", "data": $s3}],
 [{"path": "var/lib/dpkg/status", "data": $s4}]
]}
JSON
python3 "$MKOCI" "$TMP/prov" "$TMP/prov.json"
expect_exit 0 "sbom of a 5-layer image" "$DRYDOCK" sbom -f json -o "$TMP/prov.out" "oci:$TMP/prov:prov"
got=$(jq -r '[.packages[] | "\(.name)=\(.version)@\(.layer.index)"] | join(" ")' "$TMP/prov.out")
check "provenance: a@0 (unchanged), b@2 (upgraded), c@4 (reinstalled), d@2 (got: $got)" \
	test "$got" = "a=1.0@0 b=2.0@2 c=1.0@4 d=1.0@2"
d2=$(jq -r '.image.layers[2].diffID' "$TMP/prov.out")
check "provenance diffID is that layer's" \
	test "$(jq -r '.packages[] | select(.name=="b") | .layer.diffID' "$TMP/prov.out")" = "$d2"
check "os-release through the etc/os-release symlink" \
	test "$(jq -r '.os.source + " " + .os.id + " " + .os.versionID' "$TMP/prov.out")" = "usr/lib/os-release debian 12"
check "file list of a kept" test "$(jq -r '.packages[] | select(.name=="a") | .files' "$TMP/prov.out")" = 2

# A later layer deletes the database (whiteout): no packages.
cat >"$TMP/gone.json" <<JSON
{"tag": "gone", "layers": [
 [{"path": "etc/os-release", "data": "ID=debian\n"}, {"path": "var/lib/dpkg/status", "data": $s0}],
 [{"path": "var/lib/dpkg/.wh.status"}]
]}
JSON
python3 "$MKOCI" "$TMP/gone" "$TMP/gone.json"
expect_exit 0 "sbom of an image whose database was deleted" "$DRYDOCK" sbom -f json -o "$TMP/gone.out" "oci:$TMP/gone:gone"
check "whited-out database: no packages" test "$(jq '.packages | length' "$TMP/gone.out")" = 0

# Unknown OS: said plainly.
mkdir -p "$TMP/empty/bin"
printf 'x' >"$TMP/empty/bin/app"
expect_exit 0 "sbom of an image with no OS" "$DRYDOCK" sbom -f json -o "$TMP/empty.out" "rootfs:$TMP/empty"
check "unknown OS in json" test "$(jq -r '.os.id + " " + (.os.unknown|tostring)' "$TMP/empty.out")" = "unknown true"
check "unknown OS warned about" grep -q "operating system unknown" "$TMP/err"
"$DRYDOCK" sbom "rootfs:$TMP/empty" >"$TMP/empty.table" 2>/dev/null
check "unknown OS in the table" grep -q "^OS: *unknown" "$TMP/empty.table"
expect_exit 0 "an unknown OS alone is not damage for --strict" "$DRYDOCK" sbom --strict "rootfs:$TMP/empty"

# Distroless: status.d, one stanza a file, files from .md5sums, no os-release.
R="$TMP/distroless"
mkdir -p "$R/var/lib/dpkg/status.d"
st base-files 12.4+deb12u5 >"$R/var/lib/dpkg/status.d/base-files"
printf 'Package: libssl3\nVersion: 3.0.11-1~deb12u2\nArchitecture: amd64\nSource: openssl\n' \
	>"$R/var/lib/dpkg/status.d/libssl3"
printf '0123456789abcdef0123456789abcdef  usr/lib/x86_64-linux-gnu/libssl.so.3\n' \
	>"$R/var/lib/dpkg/status.d/libssl3.md5sums"
expect_exit 0 "sbom of a distroless root" "$DRYDOCK" sbom -f json -o "$TMP/dl.out" "rootfs:$R"
check "distroless detected" test "$(jq -r '.os.distroless' "$TMP/dl.out")" = true
check "distroless packages from status.d" \
	test "$(jq -r '[.packages[] | .name + "=" + .version] | join(" ")' "$TMP/dl.out")" = "base-files=12.4+deb12u5 libssl3=3.0.11-1~deb12u2"
check "distroless files from .md5sums" \
	test "$(jq -r '.packages[] | select(.name=="libssl3") | .files' "$TMP/dl.out")" = 1
check "distroless source package" \
	test "$(jq -r '.packages[] | select(.name=="libssl3") | .sourceName' "$TMP/dl.out")" = openssl

# Corrupt status: the bad stanza is skipped with a warning naming file and
# line, the rest reported, exit 0; --strict makes it exit 3.
R="$TMP/corrupt"
mkdir -p "$R/etc" "$R/var/lib/dpkg"
printf 'ID=debian\nVERSION_ID=12\n' >"$R/etc/os-release"
{ st good 1.0; printf 'Package: broken\nStatus: install ok installed\ngarbage line\n\n'; st good2 2.0;
  st gone 1.0 'deinstall ok config-files'; } >"$R/var/lib/dpkg/status"
expect_exit 0 "corrupt status: exit 0" "$DRYDOCK" sbom -f json -o "$TMP/c.out" "rootfs:$R"
check "corrupt status: warning names file and line" \
	grep -q "var/lib/dpkg/status line 9: .*broken" "$TMP/err"
check "corrupt status: good packages kept, non-installed marked" \
	test "$(jq -r '[.packages[] | .name + ":" + (.status // "installed")] | join(" ")' "$TMP/c.out")" = "gone:config-files good:installed good2:installed"
check "corrupt status: warning in the json" test "$(jq '.warnings | length' "$TMP/c.out")" = 1
expect_exit 3 "corrupt status with --strict: exit 3" "$DRYDOCK" sbom --strict -f json -o "$TMP/cs.out" "rootfs:$R"
check "--strict still writes the SBOM" test "$(jq '.packages | length' "$TMP/cs.out")" = 3

# apk database with a bad entry + alpine-release fallback (no os-release).
if [ -f "$DD_ROOT/tests/data/inventory/installed-alpine34-with-one-bad-entry" ]; then
	R="$TMP/alpine"
	mkdir -p "$R/lib/apk/db" "$R/etc"
	cp "$DD_ROOT/tests/data/inventory/installed-alpine34-with-one-bad-entry" "$R/lib/apk/db/installed"
	echo 3.4.6 >"$R/etc/alpine-release"
	expect_exit 0 "apk with a bad entry: exit 0" "$DRYDOCK" sbom -f json -o "$TMP/a.out" "rootfs:$R"
	check "apk: 15 good packages" test "$(jq '.packages | length' "$TMP/a.out")" = 15
	check "apk: warning names the bad entry" grep -q "invalidPackageWithoutAVersion" "$TMP/err"
	check "alpine-release fallback" test "$(jq -r '.os.id + " " + .os.versionID + " " + .os.source' "$TMP/a.out")" = "alpine 3.4.6 etc/alpine-release"
fi

# redhat-release fallback
R="$TMP/rh"
mkdir -p "$R/etc"
echo "Red Hat Enterprise Linux release 8.9 (Ootpa)" >"$R/etc/redhat-release"
expect_exit 0 "redhat-release root" "$DRYDOCK" sbom -f json -o "$TMP/rh.out" "rootfs:$R"
check "redhat-release fallback" test "$(jq -r '.os.id + " " + .os.versionID' "$TMP/rh.out")" = "rhel 8.9"

expect_exit 2 "unknown format is a usage error" "$DRYDOCK" sbom -f yaml "rootfs:$R"
