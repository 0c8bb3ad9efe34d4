#!/bin/bash
# bench/watch.sh - `drydock watch` (issue 7), run by `make bench` through
# bench/run (or directly: BUILD=build bench/watch.sh).  Ratios, not times:
#
#  (a) lineage graph of 10,000 images: bases inferred from the diffID lists
#      (dd_lineage_infer_all) plus the topological order
#      (dd_lineage_toposort), best of ROUNDS*4 in one process, as a fraction
#      of the 100 ms budget (target <= 1);
#  (b) polling 1,000 tracked tags on a loopback docker-registry: the whole
#      process doing dd_poll_check of every tag (one session, all
#      unchanged: one HEAD each) against curl doing the same 1,000 HEADs
#      sequentially on one connection (the floor for sequential HEADs), as
#      a time ratio, with tags/second;
#  (c) change-detection latency of the `drydock watch` daemon (target:
#      one poll interval + 1 s), as a fraction of that budget.
#
# bench/watch_bench.c is the driver, built here against $BUILD/libdrydock.a
# (the -O2 build under `make bench`).
set -u
cd "$(dirname "$0")/.." || exit 4
. bench/lib.sh
BUILD=${BUILD:-build}
ROUNDS=${BENCH_ROUNDS:-5}

[ -f "$BUILD/libdrydock.a" ] || { echo "bench/watch: $BUILD/libdrydock.a is not built" >&2; exit 4; }
grep -q __asan_init "$BUILD/libdrydock.a" 2>/dev/null &&
	echo "bench/watch: warning: $BUILD is an ASan build; numbers mean little" >&2
T=$(mktemp -d "${TMPDIR:-/tmp}/dd-bench-watch.XXXXXX") || exit 4
REG_PID=
# shellcheck disable=SC2317 # (called by the trap)
cleanup() { [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

san=
grep -q __asan_init "$BUILD/libdrydock.a" 2>/dev/null && san="-fsanitize=address,undefined"
pkgs=$(sed -n 's/^PKGS := //p' Makefile)
# shellcheck disable=SC2046,SC2086
cc -std=c11 -D_GNU_SOURCE -O2 $san -Isrc -o "$T/watch_bench" bench/watch_bench.c "$BUILD/libdrydock.a" \
	$(pkg-config --libs $pkgs) -lpthread ||
	{ echo "bench/watch: cannot build bench/watch_bench.c" >&2; exit 4; }

# ---- (a) lineage graph ------------------------------------------------------
rc=0
out=$("$T/watch_bench" lineage 10000 $((ROUNDS * 4))) || { echo "bench/watch: lineage failed" >&2; exit 1; }
# shellcheck disable=SC2086
set -- $out # images N layers L best_ms X median_ms Y
report "lineage 10k images (infer bases + toposort) / 100 ms budget" \
	"$(awk -v b="$6" 'BEGIN { printf "%.3f", b / 100 }')" "<=" 1 \
	"best $6 ms, median $8 ms; $2 images, $4 diffIDs in all; best of $((ROUNDS * 4))"

# ---- (b) polling 1,000 tags ---------------------------------------------------
poll_bench() {
	local t out port reg mt known i
	for t in docker-registry skopeo curl python3; do
		command -v "$t" >/dev/null || { echo "poll 1,000 tags: skipped ($t not installed)"; return 0; }
	done
	out=$(tests/registry/start plain "$T/reg") || { echo "poll 1,000 tags: skipped (registry did not start)"; return 0; }
	# shellcheck disable=SC2086
	set -- $out
	port=$1 REG_PID=$2
	reg=127.0.0.1:$port
	scripts/fixtures/multiarch-layout "$T/ma" >/dev/null || return 1
	skopeo copy -q --dest-tls-verify=false "oci:$T/ma:single" "docker://$reg/bench/base:seed" || return 1
	mt=application/vnd.oci.image.manifest.v1+json
	curl -sf -H "Accept: $mt" -o "$T/manifest" "http://$reg/v2/bench/base/manifests/seed" || return 1
	known=sha256:$(sha256sum "$T/manifest" | cut -c1-64)
	# 1,000 tags: the same manifest PUT under each (one curl, 16 in parallel).
	local puts=()
	for ((i = 0; i < 1000; i++)); do puts+=("http://$reg/v2/bench/base/manifests/t$i"); done
	curl -sf -Z --parallel-max 16 -X PUT -H "Content-Type: $mt" --data-binary "@$T/manifest" -o /dev/null "${puts[@]}" 2>/dev/null || return 1
	[ "$(curl -s -o /dev/null -w '%{http_code}' -I -H "Accept: $mt" "http://$reg/v2/bench/base/manifests/t999")" = 200 ] ||
		{ echo "bench/watch: the tags were not created" >&2; return 1; }
	local accept="Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json"
	local heads=()
	for ((i = 0; i < 1000; i++)); do heads+=(-o /dev/null "http://$reg/v2/bench/base/manifests/t$i"); done
	poll_all() { [ "$("$T/watch_bench" poll "$reg/bench/base" 1000 "$known")" = "tags 1000 requests 1001" ]; }
	curl_all() { curl -sf --head -H "$accept" "${heads[@]}"; }
	poll_all || { echo "bench/watch: poll of 1,000 tags failed: $("$T/watch_bench" poll "$reg/bench/base" 1000 "$known" 2>&1)" >&2; return 1; }
	curl_all || return 1
	best_of "$ROUNDS" poll_all curl_all || return 1
	report "poll 1,000 tags (dd_poll_check, HEAD each) / curl HEAD loop (one connection) time ratio" \
		"$(ratio "${BEST[0]}" "${BEST[1]}")" "<=" 1.2 \
		"$(awk -v t="${BEST[0]}" 'BEGIN { printf "%.0f", 1000 / t }') tags/s (1,001 requests: 1 ping + 1,000 HEAD), curl $(awk -v t="${BEST[1]}" 'BEGIN { printf "%.0f", 1000 / t }') HEAD/s; best of $ROUNDS"
}
poll_bench || { echo "bench/watch: polling bench failed" >&2; rc=1; }

# ---- (c) change-detection latency ---------------------------------------------
# `drydock watch` (daemon) tracks one tag with poll_interval 2 s, jitter 0;
# each round pushes a new manifest to the tag (alternating Docker and OCI
# forms of the same image) and measures from the push's return to the log
# line of the change.  Target: within one poll interval + 1 s.
change_latency() {
	local t port pid reg interval=2 r t0 t1 worst=0 sum=0 lat fmt wpid n
	for t in docker-registry skopeo; do
		command -v "$t" >/dev/null || { echo "change detection latency: skipped ($t not installed)"; return 0; }
	done
	[ -x "$BUILD/drydock" ] || { echo "change detection latency: skipped ($BUILD/drydock not built)"; return 0; }
	read -r port pid < <(tests/registry/start plain "$T/reg-lat") || return 1
	reg=127.0.0.1:$port
	gunzip -c tests/data/image/alpine-310.tar.gz >"$T/alpine.tar"
	skopeo copy -q --dest-tls-verify=false "docker-archive:$T/alpine.tar" "docker://$reg/base:1" || return 1
	cat >"$T/lat.yaml" <<EOF
registries:
  - {host: "$reg", insecure: true, poll_interval: ${interval}s, jitter: 0}
images:
  - {name: base, image: "$reg/base:1"}
watch:
  state: $T/lat-state/watch.sqlite
EOF
	XDG_CACHE_HOME=$T/lat-cache "$BUILD/drydock" watch --config "$T/lat.yaml" --log "$T/lat.log" >/dev/null 2>&1 &
	wpid=$!
	for _ in $(seq 100); do grep -q '"event":"baseline"' "$T/lat.log" 2>/dev/null && break; sleep 0.05; done
	for ((r = 1; r <= ROUNDS; r++)); do
		if ((r % 2)); then fmt=oci; else fmt=v2s2; fi
		n=$(grep -c '"event":"change"' "$T/lat.log")
		skopeo copy -q --dest-tls-verify=false --format "$fmt" "docker-archive:$T/alpine.tar" "docker://$reg/base:1" || break
		t0=$(now_ns)
		while [ "$(grep -c '"event":"change"' "$T/lat.log")" -le "$n" ]; do
			sleep 0.02
			(($(now_ns) - t0 > 20000000000)) && break
		done
		t1=$(now_ns)
		lat=$((t1 - t0))
		sum=$((sum + lat))
		((lat > worst)) && worst=$lat
	done
	kill "$wpid" 2>/dev/null
	wait "$wpid" 2>/dev/null
	kill "$pid" 2>/dev/null
	report "change detection latency (worst of $ROUNDS) / (poll interval + 1 s)" \
		"$(awk -v w="$worst" -v b="$((interval + 1))" 'BEGIN { printf "%.2f", w / 1e9 / b }')" "<=" 1 \
		"mean $(awk -v s="$sum" -v n="$ROUNDS" -v b="$((interval + 1))" 'BEGIN { printf "%.2f", s / n / 1e9 / b }') of the budget; poll interval ${interval} s, no jitter"
}
change_latency || { echo "bench/watch: change latency bench failed" >&2; rc=1; }
exit $rc
