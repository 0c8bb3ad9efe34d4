#!/bin/bash
# bench/match.sh - matching speed of `drydock scan` (src/match): one
# 1,000-package inventory matched, warm, against a DB holding every feed of
# ../shared/feeds that drydock imports (OSV sets, Alpine/Wolfi secdb,
# Debian DSA/DLA lists, Ubuntu CVE tracker: ~60,000 affected entries).
#
# Inventory: a rootfs: with Ubuntu 18.04's os-release and a dpkg status
# holding the 91 real packages of ../shared/corpus/pkgdb/dpkg/
# ubuntu1804-dpkg-valid.txtar plus 909 real package stanzas of this
# machine's apt lists (every ~50th of `apt-cache dumpavail`, fixed seed),
# so lookups hit and miss like a real image.  bench/match_bench.c (built
# here against $BUILD/libdrydock.a) collects it once, matches once to warm
# up, then ROUNDS times: best and median ms per match, matches/s.
# Target: under 10 ms.  Then `drydock rescan` of one kept image (target
# under 20 ms for the whole process).
#
# Run by `make bench` through bench/run (or directly: BUILD=build bench/match.sh).
set -u
cd "$(dirname "$0")/.." || exit 4
BUILD=${BUILD:-build}
DRYDOCK=${DRYDOCK:-$PWD/$BUILD/drydock}
ROUNDS=${BENCH_ROUNDS:-5}
S=${DD_SHARED:-$PWD/../shared}
F=$S/feeds

[ -x "$DRYDOCK" ] && [ -f "$BUILD/libdrydock.a" ] || { echo "bench/match: $BUILD is not built" >&2; exit 4; }
if [ ! -d "$F/osv" ] || [ ! -f "$S/corpus/pkgdb/dpkg/ubuntu1804-dpkg-valid.txtar" ]; then
	echo "match: skipped (../shared not present)"
	exit 0
fi
command -v apt-cache >/dev/null || { echo "match: skipped (apt-cache missing)"; exit 0; }
grep -q __asan_init "$DRYDOCK" 2>/dev/null &&
	echo "bench/match: warning: $DRYDOCK is an ASan build; numbers mean little" >&2

T=$(mktemp -d "${TMPDIR:-/tmp}/dd-bench-match.XXXXXX")
trap 'rm -rf "$T"' EXIT

# shellcheck disable=SC2046
cc -std=c11 -D_GNU_SOURCE -O2 -Isrc -o "$T/match_bench" bench/match_bench.c "$BUILD/libdrydock.a" \
	$(pkg-config --libs libarchive libisal libzstd zlib jansson libcrypto sqlite3 yaml-0.1 libcurl) -lpthread ||
	{ echo "bench/match: cannot build bench/match_bench.c" >&2; exit 4; }

t0=$(date +%s.%N)
for p in "$F"/osv/* "$F/alpine-secdb/reconstructed" "$F/wolfi-chainguard/secdb" \
	"$F/debian-security-tracker/salsa-security-tracker/data/DSA/list" \
	"$F/debian-security-tracker/salsa-security-tracker/data/DLA/list" \
	"$F/ubuntu/ubuntu-cve-tracker"; do
	[ -e "$p" ] || continue
	"$DRYDOCK" db import --db "$T/db.sqlite" "$p" >/dev/null 2>>"$T/import.err" ||
		echo "bench/match: import of $p failed: $(tail -n 1 "$T/import.err")" >&2
done
t1=$(date +%s.%N)
aff=$(sqlite3 "$T/db.sqlite" 'SELECT count(*) FROM affected' 2>/dev/null || echo '?')

R="$T/root"
mkdir -p "$R/etc" "$R/var/lib/dpkg"
printf 'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\nPRETTY_NAME="Ubuntu 18.04.6 LTS"\nVERSION_ID="18.04"\nVERSION_CODENAME=bionic\n' >"$R/etc/os-release"
{
	awk 'f { print } /^-- var\/lib\/dpkg\/status --/ { f = 1 }' "$S/corpus/pkgdb/dpkg/ubuntu1804-dpkg-valid.txtar"
	echo
	apt-cache dumpavail | awk -v RS= -v ORS='\n\n' 'BEGIN { srand(42) } rand() < 0.02 {
		sub(/\n/, "\nStatus: install ok installed\n"); print }' | awk -v RS= -v ORS='\n\n' 'NR <= 909'
} >"$R/var/lib/dpkg/status"

out=$("$T/match_bench" "$T/db.sqlite" "rootfs:$R" $((ROUNDS * 20))) || { echo "bench/match: failed" >&2; exit 1; }
# packages N checked N findings N best_ms X median_ms Y ops_per_s Z
set -- $out
printf 'match: %s packages (%s findings) against %s affected entries (import %.1fs): best %s ms, median %s ms per match, %s matches/s (target < 10 ms)\n' \
	"$2" "$6" "$aff" "$(echo "$t1 - $t0" | bc)" "$8" "${10}" "${12}"

# rescan: one kept inventory (alpine-310) re-matched, whole process (start,
# DB open, load, match, write): best of ROUNDS*4 wall times.  Target < 20 ms.
"$DRYDOCK" scan --db "$T/db.sqlite" --inventory-dir "$T/inv" \
	"docker-archive:$PWD/tests/data/image/alpine-310.tar.gz" >/dev/null 2>&1
best=""
for ((r = 0; r < ROUNDS * 4; r++)); do
	a=$(date +%s%N)
	"$DRYDOCK" rescan --db "$T/db.sqlite" --inventory-dir "$T/inv" >/dev/null 2>&1
	b=$(date +%s%N)
	ms=$(( (b - a) / 1000 ))
	[ -z "$best" ] || [ "$ms" -lt "$best" ] && best=$ms
done
printf 'rescan: 1 kept image, whole process: best %d.%03d ms (target < 20 ms)\n' $((best / 1000)) $((best % 1000))
