#!/bin/bash
# drydock sbom finds and reads rpm databases at every path rpm uses, in all
# three formats (the real databases of ../shared/corpus/pkgdb/rpm), and
# lists exactly their expected packages.
. "$DD_ROOT/tests/lib.sh"

command -v jq >/dev/null || { skip "rpm sbom" "jq missing (scripts/install-deps)"; exit 0; }
C="$DD_SHARED/corpus/pkgdb/rpm"
if [ ! -d "$C" ]; then skip "rpm sbom" "../shared not present"; exit 0; fi

# run NAME DBFILE DBPATH EXPECTED_TSV OSRELEASE
run() {
	local name=$1 db=$2 at=$3 exp=$4 osr=$5 R="$TMP/$1"
	mkdir -p "$R/$(dirname "$at")" "$R/etc"
	cp "$db" "$R/$at"
	printf '%b' "$osr" >"$R/etc/os-release"
	expect_exit 0 "$name: sbom of $at" "$DRYDOCK" sbom -f json -o "$R.json" "rootfs:$R"
	tail -n +2 "$exp" | cut -f1-6 | LC_ALL=C sort >"$R.exp"
	jq -r '.packages[] | [.name, (.epoch // "" | tostring), .rpmVersion, .rpmRelease, .arch,
		.sourceRPM] | @tsv' "$R.json" | LC_ALL=C sort >"$R.got"
	if [ -s "$R.exp" ] && cmp -s "$R.exp" "$R.got"; then
		ok "$name: $(wc -l <"$R.exp") packages equal the expected list"
	else
		fail "$name: packages" "$(diff "$R.exp" "$R.got" | head -n 6 | tr '\n' ' ')"
	fi
	check "$name: db path recorded" test "$(jq -r '[.packages[].dbPath] | unique | join(",")' "$R.json")" = "$at"
}

run sle15-ndb "$C/sle15-bci/Packages.db" usr/lib/sysimage/rpm/Packages.db \
	"$C/sle15-bci/expected-packages.tsv" 'ID="sles"\nVERSION_ID="15.3"\n'
run mariner-sqlite "$C/cbl-mariner-2.0/rpmdb.sqlite" var/lib/rpm/rpmdb.sqlite \
	"$C/cbl-mariner-2.0/rpm-qa-packages.tsv" 'ID=mariner\nVERSION_ID="2.0"\n'
run rhel-bdb "$C/libuuid/Packages" var/lib/rpm/Packages \
	"$C/libuuid/expected-packages.tsv" 'ID="rhel"\nVERSION_ID="8.8"\n'
check "rhel purl" grep -q '"pkg:rpm/redhat/libuuid@2.32.1-42.el8_8?arch=x86_64&distro=rhel-8.8[&"]' "$TMP/rhel-bdb.json"
check "mariner epoch in purl" grep -q 'pkg:rpm/[a-z]*/ca-certificates[^"]*epoch=1' "$TMP/mariner-sqlite.json"

# A file at an rpm path that is not an rpm database: a warning, exit 0;
# --strict exits 3.
R="$TMP/notrpm"
mkdir -p "$R/var/lib/rpm" "$R/etc"
head -c 5000 /dev/urandom >"$R/var/lib/rpm/Packages"
echo 'ID=centos' >"$R/etc/os-release"
expect_exit 0 "garbage rpm database: exit 0" "$DRYDOCK" sbom -f json -o "$TMP/notrpm.json" "rootfs:$R"
check "garbage rpm database: warning names it" grep -q "var/lib/rpm/Packages" "$TMP/err"
expect_exit 3 "garbage rpm database with --strict: exit 3" "$DRYDOCK" sbom --strict "rootfs:$R"
