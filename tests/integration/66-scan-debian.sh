#!/bin/bash
# drydock scan of a Debian 11 (bullseye) root filesystem whose dpkg status
# holds real packages at older versions (tests/data/match/rootfs-bullseye)
# against real DSA entries (tests/data/match/feeds/debian-dsa: the DSA list
# blocks for openssl, zlib and expat; the full list from ../shared when
# present).  Matching is by source package and source version, so the
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
