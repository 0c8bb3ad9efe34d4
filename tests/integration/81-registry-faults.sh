#!/bin/bash
# The registry client against a misbehaving registry (tests/registry/fakereg,
# a real HTTP server): 5xx and 429 retries with their delays, a connection
# reset mid-blob, blob redirects to another origin (no Authorization there),
# expiring bearer tokens, oversized manifests, missing or lying
# Docker-Content-Digest, corrupted blobs and off-host tag pagination.
. "$DD_ROOT/tests/lib.sh"

archive=$DD_ROOT/tests/data/image/alpine-310.tar.gz
if [ ! -f "$archive" ]; then
	skip "registry fault tests" "tests/data/image/alpine-310.tar.gz missing"
	exit 0
fi
gunzip -c "$archive" >"$TMP/alpine.tar"
"$DRYDOCK" copy -q "docker-archive:$TMP/alpine.tar" "oci:$TMP/layout" 2>"$TMP/err" ||
	{ fail "make the OCI layout served" "$(cat "$TMP/err")"; exit 0; }
want=$(jq -r '.manifests[0].digest' "$TMP/layout/index.json")
unset REGISTRY_AUTH_FILE
# every layer must come over the wire: no layer cache
export DRYDOCK_NO_CACHE=1
export DOCKER_CONFIG=$TMP/docker-empty XDG_RUNTIME_DIR=$TMP/xdg
mkdir -p "$DOCKER_CONFIG" "$XDG_RUNTIME_DIR"

frpid=
cleanup() { [ -n "$frpid" ] && kill "$frpid" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
n=0
fr() { # fr ARGS...: (re)start fakereg; sets reg, oport, log
	[ -n "$frpid" ] && kill "$frpid" 2>/dev/null && wait "$frpid" 2>/dev/null
	n=$((n + 1))
	log=$TMP/fr$n.log
	: >"$log"
	rm -f "$TMP/ports"
	python3 "$DD_ROOT/tests/registry/fakereg" --layout "$TMP/layout" --name lib/alpine --tag 3.10 \
		--log "$log" "$@" >"$TMP/ports" 2>"$TMP/fr.err" &
	frpid=$!
	for _ in $(seq 1 100); do [ -s "$TMP/ports" ] && break; sleep 0.05; done
	read -r port oport <"$TMP/ports"
	reg=127.0.0.1:$port
}
pkgs() { jq -c '[.os.id, [.packages[] | [.name, .version, .layer.diffID]]]'; }
# the path's gaps between consecutive requests, in ms
gaps() { awk -v p="$1" '$4 == p { if (t) printf "%d ", ($1 - t) * 1000; t = $1 }' "$log"; }

"$DRYDOCK" sbom --format json "oci:$TMP/layout" | pkgs >"$TMP/sbom.want"
layer=$(jq -r '.layers[0].digest' "$TMP/layout/blobs/sha256/${want#sha256:}")
mpath=/v2/lib/alpine/manifests/3.10
bpath=/v2/lib/alpine/blobs/$layer

# ---- a well-behaved baseline ----
fr
got=$("$DRYDOCK" resolve "$reg/lib/alpine:3.10" 2>"$TMP/err")
[ "$got" = "$want" ] && ok "fakereg: resolve gives the layout's manifest digest" || fail "fakereg: resolve" "got '$got': $(cat "$TMP/err")"
"$DRYDOCK" sbom --format json "$reg/lib/alpine:3.10" 2>"$TMP/err" | pkgs >"$TMP/sbom.got"
[ -s "$TMP/sbom.want" ] && cmp -s "$TMP/sbom.want" "$TMP/sbom.got" && ok "fakereg: sbom equals the oci: layout's" ||
	fail "fakereg: sbom equals the oci: layout's" "$(head -c 300 "$TMP/err")"

# ---- 503 twice per path: retried with backoff ----
fr --fail-503 2
"$DRYDOCK" sbom --format json "$reg/lib/alpine:3.10" 2>"$TMP/err" | pkgs >"$TMP/sbom.got"
cmp -s "$TMP/sbom.want" "$TMP/sbom.got" && ok "503 twice on every path: sbom still succeeds" ||
	fail "503 twice on every path: sbom still succeeds" "$(head -c 300 "$TMP/err")"
seq=$(awk -v p="$bpath" '$4 == p { printf "%s ", $5 }' "$log")
[ "$seq" = "503 503 200 " ] && ok "the layer was asked three times (503, 503, 200)" || fail "layer retries" "statuses: $seq"
read -r g1 g2 <<<"$(gaps "$bpath")"
[ "${g1:-0}" -ge 200 ] && [ "${g2:-0}" -ge 450 ] && ok "backoff between retries grows (${g1} ms, ${g2} ms)" ||
	fail "backoff between retries grows" "gaps: ${g1:-?} ${g2:-?} ms"
fr --fail-503 9 --match /manifests/
expect_exit 4 "503 beyond the retries exits 4" "$DRYDOCK" resolve "$reg/lib/alpine:3.10"
grep -q "HTTP 503" "$TMP/err" && ok "... saying HTTP 503" || fail "... saying HTTP 503" "$(cat "$TMP/err")"
c=$(grep -c " HEAD $mpath 503" "$log")
[ "$c" -eq 4 ] && ok "one request and 3 retries" || fail "one request and 3 retries" "$c requests"

# ---- 429 with Retry-After: 1 ----
fr --rate-limit --match /manifests/
got=$("$DRYDOCK" resolve "$reg/lib/alpine:3.10" 2>"$TMP/err")
[ "$got" = "$want" ] && ok "429 once: resolve succeeds" || fail "429 once: resolve succeeds" "$(cat "$TMP/err")"
seq=$(awk -v p="$mpath" '$4 == p { printf "%s ", $5 }' "$log")
g=$(gaps "$mpath")
[ "$seq" = "429 200 " ] && [ "${g%% *}" -ge 1000 ] && ok "Retry-After: 1 honoured (${g% } ms between the requests)" ||
	fail "Retry-After: 1 honoured" "statuses '$seq' gap '$g'"

# ---- connection reset mid-blob ----
fr --reset --match /blobs/
"$DRYDOCK" sbom --format json "$reg/lib/alpine:3.10" 2>"$TMP/err" | pkgs >"$TMP/sbom.got"
cmp -s "$TMP/sbom.want" "$TMP/sbom.got" && ok "reset mid-layer: sbom still succeeds" ||
	fail "reset mid-layer: sbom still succeeds" "$(head -c 300 "$TMP/err")"
grep -q " GET $bpath 200 auth=0 reset after" "$log" && grep -q " GET $bpath 206 auth=0 range=" "$log" &&
	ok "the layer download resumed with a Range request" || fail "the layer download resumed with a Range request" "$(cut -d' ' -f3- "$log")"

fr --reset --no-range --match /blobs/
"$DRYDOCK" sbom --format json "$reg/lib/alpine:3.10" 2>"$TMP/err" | pkgs >"$TMP/sbom.got"
cmp -s "$TMP/sbom.want" "$TMP/sbom.got" && grep -q " GET $bpath 200 auth=0 range-ignored" "$log" &&
	ok "reset mid-layer, Range ignored by the registry: the bytes already read are skipped" ||
	fail "reset mid-layer without Range support" "$(head -c 300 "$TMP/err") $(cut -d' ' -f3- "$log")"

# drydock copy reads blobs through the same client
fr --reset --fail-503 1 --match /blobs/
"$DRYDOCK" copy -q "$reg/lib/alpine:3.10" "oci:$TMP/copied:v1" 2>"$TMP/err" &&
	[ "$(jq -r '.manifests[0].digest' "$TMP/copied/index.json")" = "$want" ] &&
	(cd "$TMP/copied/blobs/sha256" && for f in *; do [ "$(sha256sum <"$f" | cut -d' ' -f1)" = "$f" ] || exit 1; done) &&
	ok "copy registry -> oci: through 503s and a reset keeps every digest" ||
	fail "copy registry -> oci: through 503s and a reset" "$(cat "$TMP/err")"

# ---- redirects to another origin, with bearer auth ----
fr --redirect --token 300
"$DRYDOCK" sbom --format json "$reg/lib/alpine:3.10" 2>"$TMP/err" | pkgs >"$TMP/sbom.got"
cmp -s "$TMP/sbom.want" "$TMP/sbom.got" && ok "blobs redirected to another origin: sbom succeeds" ||
	fail "blobs redirected to another origin: sbom succeeds" "$(head -c 300 "$TMP/err")"
other=$(grep -c '^[0-9.]* other GET /blob/' "$log")
leaked=$(grep -c '^[0-9.]* other .* auth=1' "$log")
sent=$(grep -c "^[0-9.]* main GET $bpath 307 auth=1" "$log")
[ "$other" -ge 2 ] && [ "$leaked" -eq 0 ] && [ "$sent" -eq 1 ] &&
	ok "Authorization went to the registry but never to the other origin ($other blob GETs there)" ||
	fail "Authorization never reaches the other origin" "other=$other leaked=$leaked main-with-auth=$sent"

# the storage origin fails: the error names it, but not its signed query
fr --redirect --other-reset --token 300
"$DRYDOCK" sbom "$reg/lib/alpine:3.10" >/dev/null 2>"$TMP/err"
rc=$?
[ $rc -eq 4 ] && grep -q "127.0.0.1:$oport/blob/sha256:" "$TMP/err" && ! grep -q "presigned" "$TMP/err" &&
	[ "$(grep -c '^[0-9.]* other GET .* reset' "$log")" -eq 4 ] &&
	ok "storage origin down: exit 4 after 3 retries, naming it without the pre-signed query" ||
	fail "storage origin down" "exit $rc: $(cat "$TMP/err")"

# ---- expiring tokens: a 401 on an expired token re-authenticates once ----
# Tokens live 1 s (drydock assumes at least 60 s, the spec's minimum, so the
# refresh-before-expiry cannot fire); each blob answer takes 1.5 s, so the
# layer request arrives with an expired token.
fr --token 1 --slow 1.5
"$DRYDOCK" sbom --format json "$reg/lib/alpine:3.10" 2>"$TMP/err" | pkgs >"$TMP/sbom.got"
cmp -s "$TMP/sbom.want" "$TMP/sbom.got" && ok "expired token mid-walk: sbom succeeds" ||
	fail "expired token mid-walk: sbom succeeds" "$(head -c 300 "$TMP/err")"
tokens=$(grep -c ' GET /token?' "$log")
expired=$(grep -c " 401 auth=1" "$log")
[ "$tokens" -eq 2 ] && [ "$expired" -eq 1 ] && ok "two token requests, one 401 for the expired token" ||
	fail "two token requests, one 401 for the expired token" "tokens=$tokens expired-401s=$expired"
grep -q "token scope=repository:lib/alpine:pull" "$log" && ok "the token is asked for the repository's pull scope" ||
	fail "the token is asked for the repository's pull scope" "$(grep token "$log")"

# absurd expires_in values and long tokens
fr --token 300 --expires-in 9223372036854775807 --token-size 20000
"$DRYDOCK" sbom --format json "$reg/lib/alpine:3.10" 2>"$TMP/err" | pkgs >"$TMP/sbom.got"
cmp -s "$TMP/sbom.want" "$TMP/sbom.got" && [ "$(grep -c ' GET /token?' "$log")" -eq 1 ] &&
	ok "a 20000-character token with expires_in 2^63-1: used, fetched once" ||
	fail "long token, huge expires_in" "$(grep -c ' GET /token?' "$log") token requests: $(head -c 300 "$TMP/err")"
fr --token 300 --expires-in -5
"$DRYDOCK" sbom --format json "$reg/lib/alpine:3.10" 2>"$TMP/err" | pkgs >"$TMP/sbom.got"
cmp -s "$TMP/sbom.want" "$TMP/sbom.got" && [ "$(grep -c ' GET /token?' "$log")" -eq 1 ] &&
	ok "a negative expires_in counts as 60 s: one token for the walk" ||
	fail "negative expires_in" "$(grep -c ' GET /token?' "$log") token requests: $(head -c 300 "$TMP/err")"

# ---- manifests over 4 MiB ----
fr --big-manifest
expect_exit 3 "a manifest over 4 MiB: inspect exits 3" "$DRYDOCK" inspect "$reg/lib/alpine:3.10"
grep -q "larger than 4194304 bytes" "$TMP/err" && ok "... saying it is too large" || fail "... saying it is too large" "$(cat "$TMP/err")"
fr --big-manifest --no-digest
expect_exit 3 "a manifest over 4 MiB: resolve without a digest header exits 3" "$DRYDOCK" resolve "$reg/lib/alpine:3.10"

# ---- no Docker-Content-Digest: resolve falls back to GET + sha256 ----
fr --no-digest
got=$("$DRYDOCK" resolve "$reg/lib/alpine:3.10" 2>"$TMP/err")
[ "$got" = "$want" ] && grep -q " HEAD $mpath 200" "$log" && grep -q " GET $mpath 200" "$log" &&
	ok "no Docker-Content-Digest: resolve hashes the manifest (HEAD, then GET)" ||
	fail "no Docker-Content-Digest: resolve falls back to GET" "got '$got' $(cat "$TMP/err")"

# ---- a lying Docker-Content-Digest ----
fr --lie-digest
expect_exit 3 "a lying Docker-Content-Digest: inspect exits 3" "$DRYDOCK" inspect "$reg/lib/alpine:3.10"
grep -q "manifest 3.10: Docker-Content-Digest sha256:[0-9a-f]* does not match" "$TMP/err" &&
	ok "... naming the manifest" || fail "... naming the manifest" "$(cat "$TMP/err")"
expect_exit 3 "a lying Docker-Content-Digest: resolve --platform (GET) exits 3" \
	"$DRYDOCK" resolve --platform linux/amd64 "$reg/lib/alpine:3.10"
got=$("$DRYDOCK" resolve "$reg/lib/alpine@$want" 2>"$TMP/err")
[ $? -eq 3 ] && [ -z "$got" ] && grep -q "does not match the digest asked for" "$TMP/err" &&
	ok "resolve NAME@DIGEST refuses a Docker-Content-Digest for another digest" ||
	fail "resolve by digest with a lying header" "printed '$got': $(cat "$TMP/err")"
got=$("$DRYDOCK" sbom "$reg/lib/alpine@$want" 2>"$TMP/err")
[ $? -eq 3 ] && grep -q "does not match" "$TMP/err" && ok "... also when pulled by digest" ||
	fail "lying digest when pulled by digest" "$(cat "$TMP/err")"

# ---- a blob whose bytes do not match its digest ----
fr --bad-blob
expect_exit 3 "a corrupted layer: sbom exits 3" "$DRYDOCK" sbom "$reg/lib/alpine:3.10"
grep -q "${layer:0:19}" "$TMP/err" && grep -qi "digest" "$TMP/err" && ok "... naming the layer" ||
	fail "... naming the layer" "$(cat "$TMP/err")"

"$DRYDOCK" copy -q "$reg/lib/alpine:3.10" "oci:$TMP/badcopy:v1" >"$TMP/out" 2>"$TMP/err"
rc=$?
[ $rc -eq 3 ] && grep -q "digest mismatch" "$TMP/err" && ! [ -f "$TMP/badcopy/blobs/sha256/${layer#sha256:}" ] &&
	ok "copy of a corrupted layer exits 3 and leaves no blob under its digest" ||
	fail "copy of a corrupted layer" "exit $rc: $(cat "$TMP/err"); $(ls "$TMP/badcopy/blobs/sha256" 2>&1)"

# ---- tag pagination ----
fr --abs-link
got=$(DRYDOCK_TAGS_PAGE=3 "$DRYDOCK" resolve --tags "$reg/lib/alpine" 2>"$TMP/err" | tr '\n' ' ')
[ "$got" = "3.10 t00 t01 t02 t03 t04 t05 t06 t07 t08 t09 " ] && [ "$(grep -c '/tags/list' "$log")" -eq 4 ] &&
	ok "tags across 4 pages with absolute same-origin Links" || fail "tags across pages (absolute Links)" "got '$got' $(cat "$TMP/err")"
fr --first-link
got=$(DRYDOCK_TAGS_PAGE=4 timeout 20 "$DRYDOCK" resolve --tags "$reg/lib/alpine" 2>"$TMP/err" | tr '\n' ' ')
[ "$got" = "3.10 t00 t01 t02 t03 t04 t05 t06 t07 t08 t09 " ] && [ "$(grep -c '/tags/list' "$log")" -eq 3 ] &&
	ok "Link with rel=\"first\" before rel=\"next\": the next one is followed" ||
	fail "Link with rel=first before rel=next" "got '$got' $(grep -c '/tags/list' "$log") requests $(cat "$TMP/err")"
fr --offhost-link
DRYDOCK_TAGS_PAGE=3 "$DRYDOCK" resolve --tags "$reg/lib/alpine" >"$TMP/out" 2>"$TMP/err"
rc=$?
[ $rc -eq 3 ] && grep -q "another host" "$TMP/err" && [ "$(grep -c '/tags/list' "$log")" -eq 2 ] &&
	ok "a Link to another host is refused (exit 3), not followed" ||
	fail "a Link to another host is refused" "exit $rc: $(cat "$TMP/err")"

# a registry with no repository name (found by fuzz_registry_ref)
expect_exit 2 "'HOST/' without a repository name is a usage error" "$DRYDOCK" resolve "$reg/"
