#!/bin/bash
# bench/vulndb.sh - vulnerability DB import throughput and size.
#
#  (a) OSV records/second importing the largest real OSV set of
#      ../shared/feeds (golang/vulndb, 4,291 records), and every OSV set there
#      as one source (JSON and PyPA YAML, ~8,900 records), and the PyPA YAML
#      records alone (2,661): best of ROUNDS.
#      Reported per CPU second of the import process (user+sys, "one core";
#      the machine may be shared) and per wall second,
#      and as a ratio to the target, >= 20,000/s.  BENCH_VULNDB_BASE=path of
#      an older drydock adds the speed-up against it.
#  (b) the DB file size against the raw size of the feed files it holds:
#      the OSV records (JSON and YAML), and every feed of ../shared/feeds
#      drydock reads (OSV, secdb, Debian tracker JSON and DSA/DLA lists,
#      Ubuntu CVE Tracker).
#
# Run by `make bench` through bench/run (or directly: BUILD=build bench/vulndb.sh).
set -u
cd "$(dirname "$0")/.." || exit 4
. bench/lib.sh
BUILD=${BUILD:-build}
DRYDOCK=${DRYDOCK:-$PWD/$BUILD/drydock}
ROUNDS=${BENCH_ROUNDS:-3}
F=${DD_SHARED:-$PWD/../shared}/feeds

[ -x "$DRYDOCK" ] || { echo "bench/vulndb: $DRYDOCK is not built" >&2; exit 4; }
if [ ! -d "$F/osv/go-vulndb" ]; then
	echo "vulndb: skipped (../shared/feeds not present)"
	exit 0
fi
grep -q __asan_init "$DRYDOCK" 2>/dev/null &&
	echo "bench/vulndb: warning: $DRYDOCK is an ASan build; numbers mean little" >&2

T=$(mktemp -d "${TMPDIR:-/tmp}/dd-bench-vulndb.XXXXXX")
trap 'rm -rf "$T"' EXIT

# cpu_run OUTFILE ERRFILE cmd... -> prints "CPU WALL" in seconds.  CPU is
# user + system of the command as bash's `times` reports it for a subshell
# whose only child is the command (millisecond resolution; GNU time has 10).
cpu_run() {
	local out=$1 err=$2 t0 t1 tm
	shift 2
	t0=$(now_ns)
	tm=$( ("$@" >"$out" 2>"$err" || exit 99; times) | tail -n 1) || return 1
	t1=$(now_ns)
	[ -n "$tm" ] || return 1
	awk -v tm="$tm" -v ns=$((t1 - t0)) 'BEGIN {
		n = split(tm, f, /[ ]+/); cpu = 0
		for (i = 1; i <= n; i++) { split(f[i], ms, /[ms]/); cpu += ms[1] * 60 + ms[2] }
		printf "%.3f %.3f\n", cpu, ns / 1e9 }'
}

# run_import BIN NAME PATH... -> sets RECS, CPU (s), WALL (s) of the best round
run_import() {
	local bin=$1 name=$2 r t cpu wall
	shift 2
	CPU="" WALL="" RECS=0
	for ((r = 0; r < ROUNDS; r++)); do
		rm -f "$T/db.sqlite"*
		t=$(cpu_run "$T/out" "$T/err" "$bin" db import --db "$T/db.sqlite" --source "$name" "$@") ||
			{ echo "bench/vulndb: import failed: $(head -c 300 "$T/err")" >&2; exit 4; }
		cpu=${t% *} wall=${t#* }
		RECS=$(sed -n 's/.* \([0-9]*\) records,.*/\1/p' "$T/out")
		if [ -z "$CPU" ] || awk -v a="$cpu" -v b="$CPU" 'BEGIN { exit !(a < b) }'; then CPU=$cpu; fi
		if [ -z "$WALL" ] || awk -v a="$wall" -v b="$WALL" 'BEGIN { exit !(a < b) }'; then WALL=$wall; fi
	done
}

# bench_set LABEL NAME PATH...: records/s per CPU second against the target
# (and against $BENCH_VULNDB_BASE, an older drydock binary, when given).
bench_set() {
	local label=$1 name=$2 rps rpw base=""
	shift 2
	run_import "$DRYDOCK" "$name" "$@"
	rps=$(ratio "$RECS" "$CPU" | cut -d. -f1)
	rpw=$(ratio "$RECS" "$WALL" | cut -d. -f1)
	if [ -n "${BENCH_VULNDB_BASE:-}" ] && [ -x "$BENCH_VULNDB_BASE" ]; then
		local c=$CPU w=$WALL n=$RECS
		run_import "$BENCH_VULNDB_BASE" "$name" "$@"
		base=", $(ratio "$CPU" "$c")x the records/s of $BENCH_VULNDB_BASE ($(ratio "$RECS" "$CPU" | cut -d. -f1)/s)"
		CPU=$c WALL=$w RECS=$n
	fi
	report "vulndb import $label OSV records/s per CPU second" "$rps" ">=" 20000 \
		"$(ratio "$rps" 20000)x the target; $RECS records, ${CPU}s CPU, ${WALL}s wall = $rpw records/s wall$base"
}

bench_set "golang/vulndb" go-vulndb "$F/osv/go-vulndb"
# the YAML records alone (src/vulndb/yamlfast.c, libyaml for what it declines)
bench_set "PyPA (YAML)" pypa "$F/osv/pypa-advisory-database"

osv_dirs=()
for d in "$F"/osv/*/; do osv_dirs+=("$d"); done
bench_set "all OSV sets (JSON+PyPA YAML)" osv-all "${osv_dirs[@]}"

# (b) size.  raw_size PATH... : bytes of the feed files drydock reads there.
raw_size() {
	find "$@" -type f \( -name '*.json' -o -name '*.yaml' -o -name '*.yml' -o -name list \
		-o \( -name 'CVE-*' ! -name '*.*' \) \) ! -name '.*' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'
}
db_size() { # the DB file and its WAL, if any
	echo $(($(stat -c %s "$T/db.sqlite") + $(stat -c %s "$T/db.sqlite-wal" 2>/dev/null || echo 0)))
}
# The DB of the last OSV import (JSON and YAML records only) ...
osv_db=$(db_size)
osv_raw=$(raw_size "${osv_dirs[@]}")
echo "vulndb DB size / raw OSV JSON+YAML size: $(ratio "$osv_db" "$osv_raw")  [DB $osv_db bytes for $osv_raw bytes of OSV records]"
# ... and every feed drydock reads, in one DB.
rm -f "$T/db.sqlite"*
inputs=("${osv_dirs[@]}" "$F/alpine-secdb/alpinelinux-alpine-secdb-yaml" "$F/alpine-secdb/reconstructed"
	"$F/wolfi-chainguard/secdb" "$F/debian-security-tracker/json-fixtures"
	"$F/debian-security-tracker/salsa-security-tracker/data/DSA"
	"$F/debian-security-tracker/salsa-security-tracker/data/DLA" "$F/ubuntu/ubuntu-cve-tracker")
# (the text feeds, DSA lists and UCT files, are denser than JSON: the ratio
# is higher with them than with the JSON feeds alone)
"$DRYDOCK" db import --db "$T/db.sqlite" "${inputs[@]}" >/dev/null 2>"$T/err" ||
	{ echo "bench/vulndb: import failed: $(head -c 300 "$T/err")" >&2; exit 4; }
raw=$(raw_size "${inputs[@]}")
dbsize=$(db_size)
# No target in the issue: reported for tracking.
echo "vulndb DB size / raw feed size (all feeds, text lists included): $(ratio "$dbsize" "$raw")  [DB $dbsize bytes for $raw bytes of feed files]"
