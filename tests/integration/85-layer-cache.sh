#!/bin/bash
# The layer cache: a second scan replays the layers from the cache (same
# output, no layer read: for a registry image not even fetched), status and
# prune, two scans at once, DRYDOCK_NO_CACHE.
. "$DD_ROOT/tests/lib.sh"

export XDG_CACHE_HOME=$TMP/xdg
unset DRYDOCK_CACHE_DIR DRYDOCK_NO_CACHE
img=docker-archive:$DD_ROOT/tests/data/image/alpine-310.tar.gz

"$DRYDOCK" sbom --format json "$img" >"$TMP/cold.json" 2>"$TMP/err" || fail "cold sbom" "$(cat "$TMP/err")"
[ -f "$XDG_CACHE_HOME/drydock/layers.sqlite" ] && ok "the cache lives in \$XDG_CACHE_HOME/drydock" || fail "cache file"
n=$("$DRYDOCK" cache status --format json | jq .layers)
[ "$n" = 1 ] && ok "one layer record after scanning a one-layer image" || fail "one layer record" "got $n"
"$DRYDOCK" sbom --format json "$img" >"$TMP/warm.json" 2>"$TMP/err"
cmp -s "$TMP/cold.json" "$TMP/warm.json" && ok "a warm scan gives byte-identical output" || fail "warm output differs" "$(diff "$TMP/cold.json" "$TMP/warm.json" | head -5)"
DRYDOCK_NO_CACHE=1 XDG_CACHE_HOME=$TMP/xdg-off "$DRYDOCK" sbom --format json "$img" >"$TMP/off.json" 2>"$TMP/err"
cmp -s "$TMP/cold.json" "$TMP/off.json" && [ ! -e "$TMP/xdg-off/drydock/layers.sqlite" ] &&
	ok "DRYDOCK_NO_CACHE=1 scans without creating a cache" || fail "DRYDOCK_NO_CACHE" "$(cat "$TMP/err")"

# A damaged record is a miss, never an error.
sqlite3 "$XDG_CACHE_HOME/drydock/layers.sqlite" "UPDATE layers SET data = x'28b52ffd00' || substr(data, 6)" 2>/dev/null
"$DRYDOCK" sbom --format json "$img" >"$TMP/dmg.json" 2>"$TMP/err"
rc=$?
[ $rc -eq 0 ] && cmp -s "$TMP/cold.json" "$TMP/dmg.json" && ok "a damaged record is read again from the image" || fail "damaged record" "exit $rc: $(cat "$TMP/err")"

# Two scans at once share the cache safely.
rm -rf "$XDG_CACHE_HOME"
( "$DRYDOCK" sbom --format json "$img" >"$TMP/p1.json" 2>"$TMP/p1.err" ) &
( "$DRYDOCK" sbom --format json "$img" >"$TMP/p2.json" 2>"$TMP/p2.err" ) &
wait
cmp -s "$TMP/p1.json" "$TMP/cold.json" && cmp -s "$TMP/p2.json" "$TMP/cold.json" && ! grep -q . "$TMP/p1.err" "$TMP/p2.err" &&
	ok "two scans at once" || fail "two scans at once" "$(cat "$TMP/p1.err" "$TMP/p2.err")"

# Parallel reads (DRYDOCK_JOBS) give what a sequential read gives: a
# 6-layer image with upgrades, deletions and whiteouts between layers.
cat >"$TMP/spec.json" <<'JSON'
{"tag": "t", "layers": [
 [{"path": "etc/os-release", "data": "ID=alpine\nVERSION_ID=3.10.4\n"},
  {"path": "lib/apk/db/installed", "data": "P:musl\nV:1.1.22-r3\nA:x86_64\no:musl\n\nP:zlib\nV:1.2.11-r1\nA:x86_64\no:zlib\n\n"}],
 [{"path": "usr/bin/a", "data": "a"}, {"path": "usr/bin/b", "data": "b"}],
 [{"path": "lib/apk/db/installed", "data": "P:musl\nV:1.1.22-r4\nA:x86_64\no:musl\n\nP:zlib\nV:1.2.11-r1\nA:x86_64\no:zlib\n\n"}],
 [{"path": "usr/bin/.wh.a"}, {"path": "srv/x", "data": "x"}],
 [{"path": "lib/apk/db/installed", "data": "P:musl\nV:1.1.22-r4\nA:x86_64\no:musl\n\nP:zlib\nV:1.2.11-r1\nA:x86_64\no:zlib\n\nP:curl\nV:7.66.0-r0\nA:x86_64\no:curl\n\n"}],
 [{"path": "srv/.wh.x"}]
]}
JSON
if python3 "$DD_ROOT/tests/data/inventory/mkoci.py" "$TMP/six" "$TMP/spec.json" >/dev/null 2>"$TMP/err"; then
	for j in 1 2 5; do
		DRYDOCK_NO_CACHE=1 DRYDOCK_JOBS=$j "$DRYDOCK" sbom --format json "oci:$TMP/six:t" >"$TMP/six-$j.json" 2>"$TMP/err-$j" ||
			fail "sbom with DRYDOCK_JOBS=$j" "$(cat "$TMP/err-$j")"
		DRYDOCK_NO_CACHE=1 DRYDOCK_JOBS=$j "$DRYDOCK" ls "oci:$TMP/six:t" >"$TMP/ls-$j" 2>>"$TMP/err-$j"
	done
	cmp -s "$TMP/six-1.json" "$TMP/six-2.json" && cmp -s "$TMP/six-1.json" "$TMP/six-5.json" &&
		cmp -s "$TMP/ls-1" "$TMP/ls-2" && cmp -s "$TMP/ls-1" "$TMP/ls-5" &&
		ok "parallel layer reads (2 and 5 jobs) equal a sequential read" || fail "parallel reads differ" "$(diff "$TMP/six-1.json" "$TMP/six-5.json" | head -5)"
	[ "$(jq -r '.packages[] | select(.name == "musl") | .layer.index' "$TMP/six-5.json")" = 2 ] &&
	[ "$(jq -r '.packages[] | select(.name == "curl") | .layer.index' "$TMP/six-5.json")" = 4 ] &&
		ok "provenance across six layers read in parallel" || fail "provenance across six layers" "$(jq -c '[.packages[] | [.name, .layer.index]]' "$TMP/six-5.json")"
	! grep -q "usr/bin/a\|/srv/x" "$TMP/ls-5" && grep -q "/usr/bin/b" "$TMP/ls-5" &&
		ok "whiteouts applied across layers read in parallel" || fail "whiteouts across parallel layers" "$(cat "$TMP/ls-5")"
else
	fail "mkoci six-layer image" "$(cat "$TMP/err")"
fi

# prune
"$DRYDOCK" cache prune --older-than 1d | grep -q "removed 0" && ok "prune --older-than keeps recent records" || fail "prune --older-than"
"$DRYDOCK" cache prune | grep -q "removed 1" && ok "prune removes every record" || fail "prune"
[ "$("$DRYDOCK" cache status --format json | jq .layers)" = 0 ] && ok "status after prune" || fail "status after prune"
expect_exit 2 "prune --older-than with a bad age" "$DRYDOCK" cache prune --older-than soon
expect_exit 2 "cache without a subcommand" "$DRYDOCK" cache

# A registry image: the second scan fetches no blob.  Prove it by deleting
# the layer blob from the registry's storage after the first scan.
if command -v docker-registry >/dev/null && command -v skopeo >/dev/null; then
	out=$("$DD_ROOT/tests/registry/start" plain "$TMP/reg") && set -- $out
	port=$1; pid=$2
	trap 'kill $pid 2>/dev/null; rm -rf "$TMP"' EXIT
	gunzip -c "$DD_ROOT/tests/data/image/alpine-310.tar.gz" >"$TMP/a.tar"
	skopeo copy -q --dest-tls-verify=false "docker-archive:$TMP/a.tar" "docker://127.0.0.1:$port/c/alpine:1" >/dev/null 2>&1
	ref=127.0.0.1:$port/c/alpine:1
	"$DRYDOCK" sbom --format json "$ref" >"$TMP/r1.json" 2>"$TMP/err" || fail "registry cold scan" "$(cat "$TMP/err")"
	layer=$("$DRYDOCK" inspect --format json "$ref" | jq -r '.layers[0].digest')
	hex=${layer#sha256:}
	rm -f "$TMP/reg/data/docker/registry/v2/blobs/sha256/${hex:0:2}/$hex/data"
	expect_exit 3 "without the cache the deleted blob is not found (exit 3)" env DRYDOCK_NO_CACHE=1 "$DRYDOCK" sbom "$ref"
	"$DRYDOCK" sbom --format json "$ref" >"$TMP/r2.json" 2>"$TMP/err"
	cmp -s "$TMP/r1.json" "$TMP/r2.json" && ok "a warm registry scan fetches only the manifest and config" ||
		fail "warm registry scan" "$(cat "$TMP/err")"
else
	skip "registry scan from the cache" "docker-registry or skopeo missing"
fi
