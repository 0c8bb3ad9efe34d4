#!/bin/bash
# drydock sbom on root filesystems holding rpm databases:
#  - a root where `rpm --root R -i` installed packages built by rpmbuild
#    (scripts/fixtures/rpmdb): the packages equal a live `rpm --root R -qa`
#    (less the gpg-pubkey entry of an imported key);
#  - BerkeleyDB `Packages` files written by Berkeley DB itself (both byte
#    orders, 64 KiB pages, page checksums, 200 records): equal rpm's listing;
#  - the real NDB, SQLite and BerkeleyDB databases of tests/data/rpm: equal
#    their expected lists;
#  - damaged databases: a warning naming the file and record, the rest of
#    the inventory still reported, exit 0, and exit 3 with --strict.
. "$DD_ROOT/tests/lib.sh"

DATA="$DD_ROOT/tests/data/rpm"
# name, epoch, version, release, arch, sourcerpm, license, vendor, size, modularity label, packager
jq_full='.packages[] | select(.type=="rpm") | [.name, (.epoch // "" | tostring), .rpmVersion, .rpmRelease,
	(.arch // ""), (.sourceRPM // ""), (.license // ""), (.vendor // ""), (.installedSize // 0 | tostring),
	(.modularityLabel // ""), (.maintainer // "")] | @tsv'
jq_short='.packages[] | select(.type=="rpm") | [.name, (.epoch // "" | tostring), .rpmVersion, .rpmRelease,
	(.arch // ""), (.sourceRPM // "")] | @tsv'
QF='%{NAME}\t%|EPOCH?{%{EPOCH}}:{}|\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%|SOURCERPM?{%{SOURCERPM}}:{}|\t%|LICENSE?{%{LICENSE}}:{}|\t%|VENDOR?{%{VENDOR}}:{}|\t%{SIZE}\t%|MODULARITYLABEL?{%{MODULARITYLABEL}}:{}|\t%|PACKAGER?{%{PACKAGER}}:{}|\n'

if ! command -v jq >/dev/null; then
	skip "rpm sbom" "jq missing (scripts/install-deps)"
	exit 0
fi

# same_set NAME EXPECTED ACTUAL: equal as sets of lines (sbom output is sorted)
same_set() {
	LC_ALL=C sort "$2" >"$2.s"; LC_ALL=C sort "$3" >"$3.s"
	if [ ! -s "$2.s" ]; then fail "$1" "empty expected set"; return; fi
	if cmp -s "$2.s" "$3.s"; then ok "$1 ($(wc -l <"$2.s") packages)"
	else fail "$1" "differs: $(diff "$2.s" "$3.s" | head -n 8 | tr '\n' ' ')"; fi
}

# sbom ROOT OUT.json [args]: run drydock sbom --format json on rootfs:ROOT
sbom() {
	local root=$1 out=$2; shift 2
	"$DRYDOCK" sbom --format json -o "$out" "$@" "rootfs:$root" 2>"$out.err"
}

# ---- the real databases of tests/data/rpm ----
mkroot() { # mkroot NAME DBPATH GZ: a root holding one decompressed database
	mkdir -p "$TMP/$1/$(dirname "$2")"
	gzip -dc "$3" >"$TMP/$1/$2"
}
mkroot sle usr/lib/sysimage/rpm/Packages.db "$DATA/sle15-bci/Packages.db.gz"
mkroot mariner var/lib/rpm/rpmdb.sqlite "$DATA/cbl-mariner-2.0/rpmdb.sqlite.gz"
mkroot uuid var/lib/rpm/Packages "$DATA/libuuid/Packages.gz"
for c in sle:sle15-bci/expected-packages.tsv mariner:cbl-mariner-2.0/rpm-qa-packages.tsv \
	uuid:libuuid/expected-packages.tsv; do
	n=${c%%:*} exp=$DATA/${c#*:}
	if sbom "$TMP/$n" "$TMP/$n.json"; then
		tail -n +2 "$exp" >"$TMP/$n.exp"
		jq -r "$jq_short" "$TMP/$n.json" >"$TMP/$n.got"
		same_set "sbom of the real $n rpmdb equals its expected list" "$TMP/$n.exp" "$TMP/$n.got"
	else
		fail "sbom of the real $n rpmdb" "exit $?: $(head -c 300 "$TMP/$n.json.err")"
	fi
done
check "sle: the NDB packages are found at usr/lib/sysimage/rpm/Packages.db" \
	test "$(jq -r '[.packages[].dbPath] | unique | join(",")' "$TMP/sle.json")" = "usr/lib/sysimage/rpm/Packages.db"
check "uuid: libuuid's source package is util-linux 2.32.1-42.el8_8" \
	test "$(jq -r '.packages[] | select(.name=="libuuid") | [.sourceName, .sourceVersion] | join(" ")' "$TMP/uuid.json")" = \
	"util-linux 2.32.1-42.el8_8"
check "mariner: ca-certificates-base has epoch 1" \
	test "$(jq -r '.packages[] | select(.name=="ca-certificates-base") | .version' "$TMP/mariner.json")" = "1:2.0.0-1.cm2"

# ---- damaged databases: warn, keep the rest, --strict exits 3 ----
mkroot bad usr/lib/sysimage/rpm/Packages.db "$DATA/sle15-bci/Packages.db.gz"
# slot 2 (package 1) points its blob past the end of the file
printf '\xff\xff\xff\x0f' | dd of="$TMP/bad/usr/lib/sysimage/rpm/Packages.db" bs=1 seek=40 conv=notrunc status=none
expect_exit 0 "damaged NDB: exit 0" "$DRYDOCK" sbom -f json -o "$TMP/bad.json" "rootfs:$TMP/bad"
if grep -q 'usr/lib/sysimage/rpm/Packages.db: slot 2 (package 1): skipped' "$TMP/err"; then
	ok "damaged NDB: the warning names the file and the slot"
else fail "damaged NDB: the warning names the file and the slot" "stderr: $(head -c 400 "$TMP/err")"; fi
check "damaged NDB: the other 34 packages are reported" test "$(jq '.packages | length' "$TMP/bad.json")" = 34
expect_exit 3 "damaged NDB: --strict exits 3" "$DRYDOCK" sbom -f json --strict -o "$TMP/bad2.json" "rootfs:$TMP/bad"

mkdir -p "$TMP/junk/var/lib/rpm"
{ printf 'SQLite format 3\0'; head -c 8192 /dev/urandom; } >"$TMP/junk/var/lib/rpm/rpmdb.sqlite"
expect_exit 0 "junk rpmdb.sqlite: exit 0" "$DRYDOCK" sbom -f json -o "$TMP/junk.json" "rootfs:$TMP/junk"
if grep -q 'var/lib/rpm/rpmdb.sqlite' "$TMP/err"; then ok "junk rpmdb.sqlite: the warning names the file"
else fail "junk rpmdb.sqlite: the warning names the file" "stderr: $(head -c 400 "$TMP/err")"; fi
expect_exit 3 "junk rpmdb.sqlite: --strict exits 3" "$DRYDOCK" sbom -f json --strict -o "$TMP/junk2.json" "rootfs:$TMP/junk"

# ---- databases built for real ----
if ! env_out=$("$DD_ROOT/scripts/fixtures/rpmdb" 2>"$TMP/fixture.err"); then
	skip "rpm sbom of built databases" "no rpmdb fixture: $(tail -n 1 "$TMP/fixture.err")"
	exit 0
fi
eval "$env_out"

# The installed root, against a live `rpm --root -qa` on a copy (rpm
# writes -shm/-wal files beside the database).
cp -a "$RPMDB_ROOT" "$TMP/root"
if rpm --root "$TMP/root" --dbpath /var/lib/rpm -qa --qf "$QF" >"$TMP/root.all" 2>"$TMP/rpm.err"; then
	# rpm lists the imported signing key as a package; drydock does not.
	grep -v '^gpg-pubkey	' "$TMP/root.all" >"$TMP/root.exp"
	check "rpm -qa lists one gpg-pubkey" test "$(grep -c '^gpg-pubkey	' "$TMP/root.all")" = 1
	rm -f "$TMP/root/var/lib/rpm/rpmdb.sqlite-shm" "$TMP/root/var/lib/rpm/rpmdb.sqlite-wal" \
		"$TMP/root/var/lib/rpm/.rpm.lock"
	if sbom "$TMP/root" "$TMP/root.json"; then
		jq -r "$jq_full" "$TMP/root.json" >"$TMP/root.got"
		same_set "rpmbuild + rpm -i root: sbom equals rpm --root -qa" "$TMP/root.exp" "$TMP/root.got"
	else
		fail "sbom of the rpm -i root" "$(head -c 300 "$TMP/root.json.err")"
	fi
else
	fail "rpm --root -qa on the fixture root" "$(head -c 300 "$TMP/rpm.err")"
fi

# Each BerkeleyDB flavour in a root of its own.
for c in $RPMDB_CASES; do
	[ "$c" = sqlite ] && continue
	mkdir -p "$TMP/$c/var/lib/rpm"
	cp "$RPMDB_DIR/$c/Packages" "$TMP/$c/var/lib/rpm/Packages"
	if sbom "$TMP/$c" "$TMP/$c.json"; then
		jq -r "$jq_full" "$TMP/$c.json" >"$TMP/$c.got"
		grep -v '^gpg-pubkey	' "$RPMDB_DIR/$c/expected.tsv" >"$TMP/$c.exp"
		same_set "BerkeleyDB $c: sbom equals rpm -qa" "$TMP/$c.exp" "$TMP/$c.got"
	else
		fail "sbom of BerkeleyDB $c" "$(head -c 300 "$TMP/$c.json.err")"
	fi
done

# A root with a converted database: rpmdb.sqlite wins over a stale Packages.
mkdir -p "$TMP/both/var/lib/rpm"
cp "$RPMDB_DIR/sqlite/rpmdb.sqlite" "$TMP/both/var/lib/rpm/"
gzip -dc "$DATA/libuuid/Packages.gz" >"$TMP/both/var/lib/rpm/Packages"
if sbom "$TMP/both" "$TMP/both.json"; then
	check "sqlite and BerkeleyDB side by side: the sqlite one is read" \
		test "$(jq -r '[.packages[].dbPath] | unique | join(",")' "$TMP/both.json")" = "var/lib/rpm/rpmdb.sqlite"
else
	fail "sbom of a root with two rpmdbs" "$(head -c 300 "$TMP/both.json.err")"
fi
