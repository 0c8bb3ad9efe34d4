#!/bin/bash
# drydock scan of the real alpine 3.10 and 3.11 images against the Alpine
# secdb of their release (bundled copies in tests/data/match/feeds):
#  - the findings equal the golden files (each checked by hand once);
#  - independently, per package, the number of findings equals the number
#    of distinct CVEs the secdb lists for its origin with a fixed version
#    above the installed one (computed here with jq + drydock version-cmp apk);
#  - "0" (not affected) secfixes never produce a finding;
#  - an image whose release the DB lacks gets a loud warning, not a clean result.
. "$DD_ROOT/tests/lib.sh"
jqe() { jq -e "$@" >/dev/null; }
export XDG_CACHE_HOME="$TMP/cache" # scan keeps inventories there (drydock rescan)

D="$DD_ROOT/tests/data/match"
if ! command -v jq >/dev/null; then
	skip "alpine scan" "jq missing (scripts/install-deps)"
	exit 0
fi
DB="$TMP/db.sqlite"
expect_exit 0 "import the bundled alpine secdb v3.10 and v3.11" \
	"$DRYDOCK" db import --db "$DB" "$D/feeds/alpine-v3.10-main.json" "$D/feeds/alpine-v3.11-main.json"

scan_one() { # scan_one NAME IMAGE FEED
	local name=$1 img=$2 feed=$3
	if ! "$DRYDOCK" scan --db "$DB" --format json "docker-archive:$img" >"$TMP/$name.json" 2>"$TMP/$name.err"; then
		fail "$name: scan" "$(head -c 300 "$TMP/$name.err")"
		return
	fi
	jq -r '.findings[] | [.package.name, .id, .package.version, .fixed_version, .status, .matched.ecosystem] | @tsv' \
		"$TMP/$name.json" >"$TMP/$name.tsv"
	if diff -u "$D/golden/$name.tsv" "$TMP/$name.tsv" >"$TMP/$name.diff"; then
		ok "$name: findings equal the golden file ($(wc -l <"$TMP/$name.tsv") findings)"
	else
		fail "$name: findings equal the golden file" "$(head -c 600 "$TMP/$name.diff")"
	fi
	# Independent count: per package, secdb CVEs of its origin fixed above the installed version.
	"$DRYDOCK" sbom --format json "docker-archive:$img" >"$TMP/$name.sbom.json" || { fail "$name: sbom"; return; }
	jq -r '.packages[] | [.name, .version, .sourceName] | @tsv' "$TMP/$name.sbom.json" >"$TMP/$name.pkgs"
	local bad="" n_total=0
	while IFS=$'\t' read -r pkg ver origin; do
		jq -r --arg o "$origin" '.packages[].pkg | select(.name == $o) | .secfixes | to_entries[]
			| select(.key != "0") | .key as $k | .value[] | "\($k) \(. | split(" ")[0])"' "$feed" >"$TMP/fixes"
		local want=0
		if [ -s "$TMP/fixes" ]; then
			want=$(while read -r fixv cve; do echo "$ver $fixv"; done <"$TMP/fixes" |
				"$DRYDOCK" version-cmp apk - | paste - "$TMP/fixes" |
				awk '$1 == "<" { print $3 }' | sort -u | wc -l)
		fi
		local got
		got=$(jq --arg p "$pkg" '[.findings[] | select(.package.name == $p)] | length' "$TMP/$name.json")
		n_total=$((n_total + want))
		[ "$want" = "$got" ] || bad="$bad $pkg(want $want got $got)"
	done <"$TMP/$name.pkgs"
	if [ -z "$bad" ] && [ "$n_total" -gt 0 ]; then
		ok "$name: per-package finding counts equal the secdb's ($n_total in all)"
	else
		fail "$name: per-package finding counts equal the secdb's" "${bad:-no findings expected at all?}"
	fi
	# secdb "0" = not affected: none of those CVEs may appear for that origin
	local zero
	zero=$(jq -r '.packages[].pkg | select(.secfixes["0"]) | .name as $n | .secfixes["0"][] | "\($n) \(.)"' "$feed" |
		while read -r o cve; do
			jq -r --arg o "$o" --arg c "$cve" '.findings[] | select(.package.source_name == $o and .id == $c) | .id' "$TMP/$name.json"
		done)
	check "$name: secdb \"0\" entries never become findings" test -z "$zero"
}

scan_one alpine-310 "$DD_ROOT/tests/data/image/alpine-310.tar.gz" "$D/feeds/alpine-v3.10-main.json"
scan_one alpine-311 "$D/alpine-311.tar.gz" "$D/feeds/alpine-v3.11-main.json"

# Every finding names its layer and whether it came from the base (unknown here).
check "alpine-310: findings carry layer diffIDs and from_base null" \
	jqe '[.findings[] | select(.package.layer.diffID == null or .from_base != null)] | length == 0' "$TMP/alpine-310.json"
check "alpine-310: JSON summary counts the findings" \
	jqe '.summary.findings == (.findings | length) and .summary.fixable == 20 and .summary.packages_unchecked == 0' "$TMP/alpine-310.json"
check "alpine-310: remediation upgrades openssl packages to 1.1.1k-r0" \
	jqe '[.remediation.upgrades[] | select(.package == "libssl1.1" and .upgrade_to == "1.1.1k-r0")] | length == 1' "$TMP/alpine-310.json"

# --base: the image itself as its own base -> every finding from_base true.
"$DRYDOCK" scan --db "$DB" --format json --base "docker-archive:$DD_ROOT/tests/data/image/alpine-310.tar.gz" \
	"docker-archive:$DD_ROOT/tests/data/image/alpine-310.tar.gz" >"$TMP/base.json" 2>"$TMP/base.err"
check "--base: findings of base layers are from_base true, remediation says a newer base is needed" \
	jqe '([.findings[] | select(.from_base != true)] | length == 0) and .remediation.base_image.newer_base_image_needed == true and .image.base.layers == 1' "$TMP/base.json"

# A DB without the image's release: loud warning, packages counted as unchecked.
DB2="$TMP/db2.sqlite"
"$DRYDOCK" db import --db "$DB2" "$D/feeds/alpine-v3.11-main.json" >/dev/null 2>&1
"$DRYDOCK" scan --db "$DB2" "docker-archive:$DD_ROOT/tests/data/image/alpine-310.tar.gz" >"$TMP/nodata.out" 2>"$TMP/nodata.err"
if grep -q "no data for alpine 3.10.4 (Alpine:v3.10): 14 apk packages were NOT checked" "$TMP/nodata.err" &&
	grep -q "14 packages were NOT checked" "$TMP/nodata.out"; then
	ok "release missing from the DB: warning names the OS and the 14 unchecked packages"
else
	fail "release missing from the DB: loud warning" "$(cat "$TMP/nodata.err" "$TMP/nodata.out" | head -c 400)"
fi

# Severity from another source: the real RUSTSEC-2021-0055 record (crates.io
# openssl-src, alias CVE-2021-3449, CVSS 3.1 5.9) rates the Alpine finding;
# its crates.io package itself never matches an apk package.
"$DRYDOCK" db import --db "$DB" "$D/feeds/osv/RUSTSEC-2021-0055.json" >/dev/null 2>&1
"$DRYDOCK" scan --db "$DB" --format json "docker-archive:$DD_ROOT/tests/data/image/alpine-310.tar.gz" >"$TMP/rated.json" 2>/dev/null
check "CVSS from another source rates CVE-2021-3449 MEDIUM (5.9); nothing else changes" \
	jqe '([.findings[] | select(.id == "CVE-2021-3449") | [.severity, .severity_source, .cvss[0].score]] == [["MEDIUM","cvss:RUSTSEC",5.9],["MEDIUM","cvss:RUSTSEC",5.9]]) and (.findings | length) == 20' "$TMP/rated.json"

# Base vs application on a real two-layer image: alpine-310's layer, then a
# layer that upgrades apk-tools to 2.10.6-r0 (rewriting lib/apk/db/installed),
# as an OCI layout whose manifest carries the base annotations.
if command -v python3 >/dev/null; then
	mkdir -p "$TMP/x"
	tar xzf "$DD_ROOT/tests/data/image/alpine-310.tar.gz" -C "$TMP/x"
	python3 - "$TMP/x" "$TMP/app" <<'PY'
import hashlib, io, json, os, sys, tarfile
src, out = sys.argv[1], sys.argv[2]
man = json.load(open(os.path.join(src, "manifest.json")))[0]
base_layer = open(os.path.join(src, man["Layers"][0]), "rb").read()
with tarfile.open(fileobj=io.BytesIO(base_layer)) as t:
    db = t.extractfile("lib/apk/db/installed").read().decode()
db = db.replace("P:apk-tools\nV:2.10.4-r2\n", "P:apk-tools\nV:2.10.6-r0\n")
assert "V:2.10.6-r0" in db
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
    for d in ("lib", "lib/apk", "lib/apk/db"):
        ti = tarfile.TarInfo(d); ti.type = tarfile.DIRTYPE; ti.mode = 0o755; ti.mtime = 1700000000; t.addfile(ti)
    data = db.encode()
    ti = tarfile.TarInfo("lib/apk/db/installed"); ti.size = len(data); ti.mode = 0o644; ti.mtime = 1700000000
    t.addfile(ti, io.BytesIO(data))
app_layer = buf.getvalue()
os.makedirs(os.path.join(out, "blobs", "sha256"))
def blob(b):
    d = hashlib.sha256(b).hexdigest()
    open(os.path.join(out, "blobs", "sha256", d), "wb").write(b)
    return "sha256:" + d, len(b)
l0, s0 = blob(base_layer); l1, s1 = blob(app_layer)
cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                  "rootfs": {"type": "layers", "diff_ids": [l0, l1]}}).encode()
c, cs = blob(cfg)
lt = "application/vnd.oci.image.layer.v1.tar"
m = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": c, "size": cs},
    "layers": [{"mediaType": lt, "digest": l0, "size": s0}, {"mediaType": lt, "digest": l1, "size": s1}],
    "annotations": {"org.opencontainers.image.base.name": "docker.io/library/alpine:3.10",
                    "org.opencontainers.image.base.digest": "sha256:" + "ab" * 32}}).encode()
md, ms = blob(m)
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": md, "size": ms, "annotations": {"org.opencontainers.image.ref.name": "app"}}]},
    open(os.path.join(out, "index.json"), "w"))
open(os.path.join(out, "oci-layout"), "w").write('{"imageLayoutVersion": "1.0.0"}')
PY
	APP="oci:$TMP/app:app"
	BASE="docker-archive:$DD_ROOT/tests/data/image/alpine-310.tar.gz"
	"$DRYDOCK" scan --db "$DB" --format json "$APP" >"$TMP/app.json" 2>"$TMP/app.err"
	check "annotations only: the base is named, from_base unknown, a warning asks for --base" \
		jqe '.image.base.reference == "docker.io/library/alpine:3.10@sha256:abababababababababababababababababababababababababababababababab" and .image.base.known_from == "annotation" and ([.findings[] | select(.from_base != null)] | length) == 0' "$TMP/app.json"
	check "annotations only: the warning names the base" grep -q "names its base (docker.io/library/alpine:3.10" "$TMP/app.err"
	"$DRYDOCK" scan --db "$DB" --format json --base "$BASE" "$APP" >"$TMP/app.json" 2>"$TMP/app.err"
	check "--base: apk-tools (upgraded on top) is application, the rest base" \
		jqe '([.findings[] | select(.package.name == "apk-tools") | [.id, .from_base, .package.layer.index]] == [["CVE-2021-36159", false, 1]]) and ([.findings[] | select(.package.name != "apk-tools" and .from_base != true)] | length) == 0 and (.findings | length) == 19 and .image.base.layers == 1' "$TMP/app.json"
	check "--base: remediation upgrades apk-tools on top and says the base needs renewing" \
		jqe '([.remediation.upgrades[] | select(.package == "apk-tools")][0] | .upgrade_to == "2.10.7-r0" and .from_base == false) and .remediation.base_image.newer_base_image_needed and .remediation.base_image.findings == 18 and .summary.from_base == 18 and .summary.from_application == 1' "$TMP/app.json"
	"$DRYDOCK" scan --db "$DB" "--base=$APP" "$BASE" >/dev/null 2>"$TMP/app.err"
	check "--base that is not a prefix: warning, attribution unknown" grep -q "are not the bottom layers of the image" "$TMP/app.err"
else
	skip "base vs application" "python3 missing"
fi
