#!/bin/bash
# bench/scan.sh - a full cold `drydock scan` (every layer read, no layer
# cache, matched against a DB of the bundled feeds) of the debootstrapped
# Debian image (OCI, gzip) against `igzip -dc` of its layer blobs, in one
# run, best of BENCH_ROUNDS each (target <= 1.25); and the warm scan (layer
# cache filled) against the cold one.
set -u
cd "$(dirname "$0")/.." || exit 4
. bench/lib.sh
: "${DRYDOCK:=$PWD/${BUILD:-build}/drydock}"
ROUNDS=${BENCH_ROUNDS:-5}
[ -n "${OCI:-}" ] || { echo "scan/igzip ratio: skipped (no Debian fixture)"; exit 0; }
command -v igzip >/dev/null || { echo "scan/igzip ratio: skipped (igzip not installed)"; exit 0; }
T=$(mktemp -d) || exit 4
trap 'rm -rf "$T"' EXIT
export XDG_CACHE_HOME=$T/xdg
"$DRYDOCK" db import --db "$T/db.sqlite" tests/data/match/feeds/* >/dev/null 2>&1 || exit 4
img="oci:$OCI:base"
dir=${img#oci:}
dir=${dir%:*}
mapfile -t blobs < <("$DRYDOCK" inspect --format json "$img" | jq -r '.layers[].digest | .[7:]' |
	sed "s|^|$dir/blobs/sha256/|")
cold() { DRYDOCK_NO_CACHE=1 "$DRYDOCK" scan --db "$T/db.sqlite" --format json "$img" >/dev/null 2>&1; [ $? -le 1 ]; }
warm() { "$DRYDOCK" scan --db "$T/db.sqlite" --format json "$img" >/dev/null 2>&1; [ $? -le 1 ]; }
floor() { for b in "${blobs[@]}"; do igzip -dc "$b" || return 1; done >/dev/null; }
cold && warm && floor || { echo "bench/scan: a command failed" >&2; exit 1; }
best_of "$ROUNDS" cold floor warm || exit 1
report "scan/igzip ratio (cold scan, debian)" "$(ratio "${BEST[0]}" "${BEST[1]}")" "<=" 1.25 \
	"scan ${BEST[0]} s, igzip -dc ${BEST[1]} s; best of $ROUNDS"
report "warm/cold scan ratio (layer cache)" "$(ratio "${BEST[2]}" "${BEST[0]}")" "<=" 0.2 \
	"warm ${BEST[2]} s"
