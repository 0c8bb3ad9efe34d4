# shellcheck shell=bash
# bench/lib.sh - timing helpers for bench/run and the peer scripts (source it).
#
#   best_of N fnA fnB ...    run fnA, fnB, ... interleaved N rounds; sets
#                            BEST[i] to the best wall time (seconds) of each
#   ratio A B                A / B with two decimals
#   peak_rss_kib cmd...      run cmd, print its peak resident set in KiB
#   report NAME VALUE OP TARGET [DETAIL]
#                            print "NAME: VALUE (target OP TARGET)" and
#                            "MISSED" when VALUE misses the target
# Measurements go to stdout as ratios; a bare time is never the result.

now_ns() { date +%s%N; }

best_of() {
	local rounds=$1 r i t0 t1 dt
	shift
	BEST=()
	for ((r = 0; r < rounds; r++)); do
		i=0
		for fn in "$@"; do
			t0=$(now_ns)
			"$fn" || { echo "bench: $fn failed" >&2; return 1; }
			t1=$(now_ns)
			dt=$((t1 - t0))
			if [ -z "${BEST[i]:-}" ] || [ "$dt" -lt "${BEST[i]}" ]; then BEST[i]=$dt; fi
			i=$((i + 1))
		done
	done
	for ((i = 0; i < ${#BEST[@]}; i++)); do
		BEST[i]=$(awk -v n="${BEST[i]}" 'BEGIN { printf "%.3f", n / 1e9 }')
	done
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

peak_rss_kib() {
	local f
	f=$(mktemp)
	if ! command time -f %M -o "$f" "$@" >/dev/null 2>&1; then
		echo "bench: '$*' failed" >&2; rm -f "$f"; return 1
	fi
	tail -n 1 "$f"
	rm -f "$f"
}

report() { # report NAME VALUE OP TARGET [DETAIL]
	local verdict=""
	if ! awk -v v="$2" -v t="$4" -v op="$3" 'BEGIN {
		exit !((op == "<=" && v + 0 <= t + 0) || (op == "<" && v + 0 < t + 0) || (op == ">=" && v + 0 >= t + 0)) }'; then
		verdict=" MISSED"
	fi
	echo "$1: $2 (target $3 $4)$verdict${5:+  [$5]}"
}
