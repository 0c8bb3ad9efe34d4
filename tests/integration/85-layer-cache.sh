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
