#!/bin/bash
# drydock scan of Debian 11 (bullseye) and 10 (buster) root filesystems whose
# dpkg status holds real packages at older versions
# (tests/data/match/rootfs-*) against real DSA and DLA entries
# (tests/data/match/feeds/debian-dsa, debian-dla: the list blocks for
# openssl, zlib and expat of those releases; the full DSA list from
# ../shared when present); then AlmaLinux 9 against the AlmaLinux OSV.  Matching is by source package and source version, so the
# binary libssl1.1 is matched as openssl, zlib1g as zlib.
. "$DD_ROOT/tests/lib.sh"
jqe() { jq -e "$@" >/dev/null; }
export XDG_CACHE_HOME="$TMP/cache" # scan keeps inventories there (drydock rescan)

D="$DD_ROOT/tests/data/match"
command -v jq >/dev/null || { skip "debian scan" "jq missing"; exit 0; }
DB="$TMP/db.sqlite"
expect_exit 0 "import the bundled DSA subset" "$DRYDOCK" db import --db "$DB" "$D/feeds/debian-dsa/list"

run() { "$DRYDOCK" scan --db "$1" --format json "rootfs:$D/rootfs-bullseye" >"$TMP/out.json" 2>"$TMP/err"; }
if ! run "$DB"; then
	fail "scan the bullseye rootfs" "$(head -c 300 "$TMP/err")"
	exit 0
fi
got=$(jq -r '.findings[] | "\(.package.name) \(.id) \(.fixed_version) \(.matched.name) \(.matched.ecosystem)"' "$TMP/out.json")
want="libssl1.1 CVE-2022-1292 1.1.1n-0+deb11u2 openssl Debian:11
libssl1.1 CVE-2022-2068 1.1.1n-0+deb11u3 openssl Debian:11
libssl1.1 DSA-5103-1 1.1.1k-1+deb11u2 openssl Debian:11
libssl1.1 DSA-5343-1 1.1.1n-0+deb11u4 openssl Debian:11
zlib1g CVE-2022-37434 1:1.2.11.dfsg-2+deb11u2 zlib Debian:11"
if [ "$got" = "$want" ]; then
	ok "bullseye: the DSA findings (by source package and version)"
else
	fail "bullseye: the DSA findings" "$(echo "$got" | head -c 500)"
fi
check "DSA-5139-1 is merged into CVE-2022-1292 as an alias" \
	jqe '[.findings[] | select(.id == "CVE-2022-1292" and .aliases == ["DSA-5139-1"])] | length == 1' "$TMP/out.json"
check "a DSA fixing several CVEs keeps its id and lists them" \
	jqe '[.findings[] | select(.id == "DSA-5343-1" and (.aliases | index("CVE-2023-0286")))] | length == 1' "$TMP/out.json"
check "fixed releases are not findings: zlib deb11u1 (DSA-5111-1) and expat deb11u5 (DSA-5266-1)" \
	jqe '[.findings[] | select(.id == "CVE-2018-25032" or .id == "CVE-2022-43680" or .id == "DSA-5111-1")] | length == 0' "$TMP/out.json"
check "remediation: one upgrade per package, to the highest fix" \
	jqe '.remediation.upgrades == [{"package":"libssl1.1","installed":"1.1.1k-1+deb11u1","upgrade_to":"1.1.1n-0+deb11u4","source_name":"openssl","from_base":null,"fixes":["CVE-2022-1292","CVE-2022-2068","DSA-5103-1","DSA-5343-1"]},{"package":"zlib1g","installed":"1:1.2.11.dfsg-2+deb11u1","upgrade_to":"1:1.2.11.dfsg-2+deb11u2","source_name":"zlib","from_base":null,"fixes":["CVE-2022-37434"]}]' "$TMP/out.json"

if have_shared feeds/debian-security-tracker/salsa-security-tracker/data/DSA/list; then
	DB2="$TMP/full.sqlite"
	"$DRYDOCK" db import --db "$DB2" "$DD_SHARED/feeds/debian-security-tracker/salsa-security-tracker/data/DSA/list" >/dev/null 2>&1
	run "$DB2"
	check "full DSA list: the same five findings" test "$(jq -r '.findings[] | "\(.package.name) \(.id) \(.fixed_version) \(.matched.name) \(.matched.ecosystem)"' "$TMP/out.json")" = "$want"
else
	skip "full DSA list" "../shared not present"
fi

# Debian 10 (buster) against the DSA and DLA (LTS) lists: the same packages
# at buster versions (tests/data/match/rootfs-buster); DLA-3325-1 is the LTS
# twin of bullseye's DSA-5343-1 (same CVEs, another release).
DB10="$TMP/buster.sqlite"
"$DRYDOCK" db import --db "$DB10" "$D/feeds/debian-dsa/list" "$D/feeds/debian-dla/list" >/dev/null 2>&1
"$DRYDOCK" scan --db "$DB10" --format json "rootfs:$D/rootfs-buster" >"$TMP/buster.json" 2>"$TMP/err"
got=$(jq -r '.findings[] | "\(.package.name) \(.id) \(.fixed_version) \(.data_source)"' "$TMP/buster.json")
want="libexpat1 DSA-5073-1 2.2.6-2+deb10u2 debian-dsa-list
libexpat1 DSA-5085-1 2.2.6-2+deb10u3 debian-dsa-list
libexpat1 DSA-5085-2 2.2.6-2+deb10u4 debian-dsa-list
libssl1.1 CVE-2021-3449 1.1.1d-0+deb10u6 debian-dsa-list
libssl1.1 CVE-2022-1292 1.1.1n-0+deb10u2 debian-dsa-list
libssl1.1 CVE-2022-2068 1.1.1n-0+deb10u3 debian-dsa-list
libssl1.1 DLA-3325-1 1.1.1n-0+deb10u4 debian-dla-list
libssl1.1 DSA-4963-1 1.1.1d-0+deb10u7 debian-dsa-list
libssl1.1 DSA-5103-1 1.1.1d-0+deb10u8 debian-dsa-list
zlib1g CVE-2018-25032 1:1.2.11.dfsg-1+deb10u1 debian-dsa-list
zlib1g CVE-2022-37434 1:1.2.11.dfsg-1+deb10u2 debian-dla-list"
if [ "$got" = "$want" ]; then
	ok "buster: DSA and DLA findings (DSA-4855-1 and DSA-4530-1 are fixed at the installed versions)"
else
	fail "buster: DSA and DLA findings" "$(echo "$got" | head -c 600)"
fi

# The Debian tracker JSON (a real excerpt, tests/data/match/feeds/debian-tracker):
# chromium is end-of-life in buster (kept as that status, no fix), prototypejs'
# CVEs are fixed below the installed version or marked "0" (not affected).
"$DRYDOCK" db import --db "$TMP/tracker.sqlite" "$D/feeds/debian-tracker/vunnel-debian.json" >/dev/null 2>&1
"$DRYDOCK" scan --db "$TMP/tracker.sqlite" --format json "rootfs:$D/rootfs-buster" >"$TMP/tracker.json" 2>"$TMP/err"
check "tracker JSON: chromium CVE-2022-0456 end-of-life in buster, nothing for prototypejs" \
	jqe '[.findings[] | [.package.name, .id, .status, .fixed_version]] == [["chromium","CVE-2022-0456","end-of-life",null]]' "$TMP/tracker.json"
expect_exit 0 "--ignore-unfixed drops the end-of-life finding" "$DRYDOCK" scan --db "$TMP/tracker.sqlite" --ignore-unfixed --fail-on UNKNOWN "rootfs:$D/rootfs-buster"

# RPM family: AlmaLinux 9 packages (as a CycloneDX SBOM with rpm purls)
# against the real AlmaLinux OSV advisories, keyed by binary package name,
# versions compared as rpm EVR with the epoch explicit.
ALMA="$DD_SHARED/feeds/osv/almalinux-osv-database/advisories/almalinux9"
if [ -d "$ALMA" ]; then
	"$DRYDOCK" db import --db "$TMP/alma.sqlite" "$ALMA" >/dev/null 2>&1
	cat >"$TMP/alma.json" <<'X'
{"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": [
 {"type": "operating-system", "name": "almalinux", "version": "9.0"},
 {"type": "library", "name": "openssl-libs", "purl": "pkg:rpm/almalinux/openssl-libs@3.0.1-41.el9_0?arch=x86_64&epoch=1&upstream=openssl-3.0.1-41.el9_0.src.rpm"},
 {"type": "library", "name": "openssl", "purl": "pkg:rpm/almalinux/openssl@3.0.1-43.el9_0?arch=x86_64&epoch=1&upstream=openssl-3.0.1-43.el9_0.src.rpm"},
 {"type": "library", "name": "openssl-devel", "purl": "pkg:rpm/almalinux/openssl-devel@3.0.1-41.el9_0?arch=x86_64&epoch=2"}]}
X
	"$DRYDOCK" scan --db "$TMP/alma.sqlite" --sbom "$TMP/alma.json" -f json >"$TMP/alma.out" 2>"$TMP/err"
	check "almalinux 9: openssl-libs 1:3.0.1-41 has ALSA-2022:7288 (Important, CVE-2022-3602), fixed in 1:3.0.1-43.el9_0" \
		jqe '[.findings[] | select(.package.name == "openssl-libs" and .id == "ALSA-2022:7288" and .fixed_version == "1:3.0.1-43.el9_0" and .severity == "HIGH" and .distro_rating == "Important" and (.related | index("CVE-2022-3602")) and .matched.ecosystem == "AlmaLinux:9")] | length == 1' "$TMP/alma.out"
	check "almalinux 9: openssl at exactly the fixed EVR is not affected by ALSA-2022:7288" \
		jqe '([.findings[] | select(.package.name == "openssl" and .id == "ALSA-2022:7288")] | length == 0) and ([.findings[] | select(.package.name == "openssl")] | length) > 0' "$TMP/alma.out"
	check "almalinux 9: epoch 2 is above every epoch-1 fix (no findings for openssl-devel)" \
		jqe '[.findings[] | select(.package.name == "openssl-devel")] | length == 0' "$TMP/alma.out"
	check "almalinux 9: the source RPM file name becomes the source package name" \
		jqe '[.packages[] | select(.name == "openssl-libs") | .source_name] == ["openssl"]' "$TMP/alma.out"
else
	skip "almalinux 9 against AlmaLinux OSV" "../shared not present"
fi
