#!/bin/bash
# bench/registry.sh - the registry client (issue 6), against Debian's
# docker-registry on loopback:
#  - a cold scan (sbom, no layer cache) of the Debian image from the
#    registry against the same scan from its oci: layout (target <= 1.3);
#  - a warm scan (layer cache filled) from the registry: the ratio to the
#    cold one, and its time against the 30 ms target (manifest round trip
#    included);
#  - `drydock resolve` of 1,000 tags of one repository in one process
#    (connection and token reuse): requests per second, and the ratio to
#    curl's HEAD loop over one connection (the floor for sequential HEADs).
set -u
cd "$(dirname "$0")/.." || exit 4
. bench/lib.sh
: "${DRYDOCK:=$PWD/${BUILD:-build}/drydock}"
ROUNDS=${BENCH_ROUNDS:-5}
for t in docker-registry skopeo curl python3; do
	command -v "$t" >/dev/null || { echo "registry scan ratio: skipped ($t not installed)"; exit 0; }
done
[ -n "${OCI:-}" ] || { echo "registry scan ratio: skipped (no Debian fixture)"; exit 0; }
T=$(mktemp -d) || exit 4
out=$(tests/registry/start plain "$T/reg") || { echo "registry scan ratio: skipped (registry did not start)"; exit 0; }
set -- $out
port=$1 pid=$2
trap 'kill $pid 2>/dev/null; rm -rf "$T"' EXIT
reg=127.0.0.1:$port
"$DRYDOCK" copy -q "oci:$OCI:base" "$reg/bench/debian:base" || exit 4
export XDG_CACHE_HOME=$T/xdg

cold_reg() { DRYDOCK_NO_CACHE=1 "$DRYDOCK" sbom --format json "$reg/bench/debian:base" >/dev/null; }
cold_oci() { DRYDOCK_NO_CACHE=1 "$DRYDOCK" sbom --format json "oci:$OCI:base" >/dev/null; }
warm_reg() { "$DRYDOCK" sbom --format json "$reg/bench/debian:base" >/dev/null; }
cold_reg && cold_oci && warm_reg || exit 4   # fills the page cache and the layer cache
best_of "$ROUNDS" cold_reg cold_oci warm_reg || exit 4
report "registry/oci scan ratio (cold, debian)" "$(ratio "${BEST[0]}" "${BEST[1]}")" "<=" 1.3 \
	"registry ${BEST[0]} s, oci: ${BEST[1]} s; best of $ROUNDS"
report "warm/cold registry scan ratio (layer cache)" "$(ratio "${BEST[2]}" "${BEST[0]}")" "<=" 0.1 \
	"warm ${BEST[2]} s, target under 0.030 s including the manifest round trip"
awk -v w="${BEST[2]}" 'BEGIN { exit !(w < 0.030) }' || echo "warm registry scan: MISSED the 30 ms target (${BEST[2]} s)"

# 1,000 tags: PUT the manifest under each tag over one connection.
python3 - "$reg" <<'PY' || exit 4
import hashlib, http.client, json, sys
reg = sys.argv[1]
c = http.client.HTTPConnection(reg)
c.request("GET", "/v2/bench/debian/manifests/base", headers={"Accept": "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"})
r = c.getresponse(); body = r.read(); mt = r.getheader("Content-Type")
for i in range(1000):
    c.request("PUT", "/v2/bench/debian/manifests/t%d" % i, body=body, headers={"Content-Type": mt})
    r = c.getresponse(); r.read()
    if r.status != 201:
        sys.exit("PUT t%d: %d" % (i, r.status))
PY
refs=()
for i in $(seq 0 999); do refs+=("$reg/bench/debian:t$i"); done
urls=()
for i in $(seq 0 999); do urls+=(-o /dev/null -I "http://$reg/v2/bench/debian/manifests/t$i"); done
resolve_all() { [ "$("$DRYDOCK" resolve "${refs[@]}" | wc -l)" -eq 1000 ]; }
curl_all() { curl -s -H 'Accept: application/vnd.oci.image.manifest.v1+json' "${urls[@]}"; }
best_of 3 resolve_all curl_all || exit 4
rps=$(awk -v t="${BEST[0]}" 'BEGIN { printf "%.0f", 1000 / t }')
report "resolve of 1,000 tags / curl HEAD loop (one connection) time ratio" "$(ratio "${BEST[0]}" "${BEST[1]}")" "<=" 1.1 \
	"$rps requests/s"
