#!/bin/bash
# Pushing (drydock copy oci: -> registry) to a misbehaving registry
# (tests/registry/fakereg --push-only): monolithic and chunked uploads with
# the digest checked by the server, retries of the requests that carry no
# streamed body, upload Locations on another origin (no Authorization
# there), and a registry that rejects the digest.
. "$DD_ROOT/tests/lib.sh"

archive=$DD_ROOT/tests/data/image/alpine-310.tar.gz
if [ ! -f "$archive" ]; then
	skip "registry push fault tests" "tests/data/image/alpine-310.tar.gz missing"
	exit 0
fi
gunzip -c "$archive" >"$TMP/alpine.tar"
"$DRYDOCK" copy -q "docker-archive:$TMP/alpine.tar" "oci:$TMP/layout:v1" 2>"$TMP/err" ||
	{ fail "make the OCI layout" "$(cat "$TMP/err")"; exit 0; }
want=$(jq -r '.manifests[0].digest' "$TMP/layout/index.json")
layer=$(jq -r '.layers[0].digest' "$TMP/layout/blobs/sha256/${want#sha256:}")
unset REGISTRY_AUTH_FILE
# every layer must come over the wire: no layer cache
export DRYDOCK_NO_CACHE=1
export DOCKER_CONFIG=$TMP/docker-empty XDG_RUNTIME_DIR=$TMP/xdg
mkdir -p "$DOCKER_CONFIG" "$XDG_RUNTIME_DIR"

frpid=
cleanup() { [ -n "$frpid" ] && kill "$frpid" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
n=0
fr() { # fr ARGS...: (re)start fakereg, empty; sets reg, log
	[ -n "$frpid" ] && kill "$frpid" 2>/dev/null && wait "$frpid" 2>/dev/null
	n=$((n + 1))
	log=$TMP/fr$n.log
	: >"$log"
	rm -f "$TMP/ports"
	python3 "$DD_ROOT/tests/registry/fakereg" --layout "$TMP/layout" --name lib/alpine --push-only \
		--log "$log" "$@" >"$TMP/ports" 2>"$TMP/fr.err" &
	frpid=$!
	for _ in $(seq 1 100); do [ -s "$TMP/ports" ] && break; sleep 0.05; done
	read -r port oport <"$TMP/ports"
	reg=127.0.0.1:$port
}
push() { "$DRYDOCK" copy -q "oci:$TMP/layout:v1" "$reg/lib/alpine:pushed"; }
pulled() { # the pushed image reads back with the same digest and SBOM
	[ "$("$DRYDOCK" resolve "$reg/lib/alpine:pushed" 2>/dev/null)" = "$want" ] &&
		[ "$("$DRYDOCK" sbom --format json "$reg/lib/alpine:pushed" 2>/dev/null | jq '.packages | length')" = 14 ]
}

fr
push 2>"$TMP/err" && pulled && ok "push (monolithic PUT): the image reads back with its digest" ||
	fail "push (monolithic PUT)" "$(cat "$TMP/err")"
c=$(grep -c " PUT /v2/lib/alpine/blobs/uploads/[0-9a-f]*?digest=sha256:[0-9a-f]* 201 auth=0 stored" "$log")
[ "$c" -eq 2 ] && ok "two blobs uploaded, each verified by the registry" || fail "two blobs uploaded" "$c PUTs: $(cut -d' ' -f3- "$log")"
grep -q " PUT /v2/lib/alpine/manifests/pushed 201" "$log" && ok "the manifest PUT under its tag" || fail "the manifest PUT" "$(cut -d' ' -f3- "$log")"
push 2>"$TMP/err" && [ "$(grep -c ' POST ' "$log")" -eq 2 ] && ok "a second push sends no blob (HEAD says it is there)" ||
	fail "a second push sends no blob" "$(grep -c ' POST ' "$log") POSTs $(cat "$TMP/err")"

fr
DRYDOCK_UPLOAD_CHUNK=1000000 push 2>"$TMP/err" && pulled && ok "chunked push (PATCH per MB) reads back with its digest" ||
	fail "chunked push" "$(cat "$TMP/err")"
c=$(grep -c " PATCH /v2/lib/alpine/blobs/uploads/[0-9a-f]* 202 auth=0 chunk" "$log")
size=$(stat -c %s "$TMP/layout/blobs/sha256/${layer#sha256:}")
[ "$c" -eq $(((size + 999999) / 1000000)) ] && ok "the $size-byte layer went in $c chunks" || fail "chunk count" "$c PATCHes for $size bytes"

fr --fail-503 1 --match /uploads/
push 2>"$TMP/err"
rc=$?
c503=$(grep -c " POST /v2/lib/alpine/blobs/uploads/ 503" "$log")
[ $rc -eq 4 ] && [ "$c503" -ge 1 ] && grep -q "blob upload sha256:.*HTTP 503" "$TMP/err" &&
	ok "POST 503 is retried; a 503 on the streamed PUT fails the push (exit 4) naming the blob" ||
	fail "503 on uploads" "exit $rc, $c503 POST 503s: $(cat "$TMP/err")"
fr --fail-503 2 --match /manifests/
push 2>"$TMP/err" && [ "$(grep -c ' PUT /v2/lib/alpine/manifests/pushed 503' "$log")" -eq 2 ] && pulled &&
	ok "manifest PUT answered 503 twice: retried, pushed" || fail "manifest PUT retried" "$(cat "$TMP/err")"

fr --upload-elsewhere --token 300
push 2>"$TMP/err" && pulled && ok "upload Locations on another origin, bearer auth: pushed" || fail "uploads elsewhere" "$(cat "$TMP/err")"
other=$(grep -c "^[0-9.]* other PUT /upload/" "$log")
leaked=$(grep -c "^[0-9.]* other .* auth=1" "$log")
mainauth=$(grep -c "^[0-9.]* main POST /v2/lib/alpine/blobs/uploads/ 202 auth=1" "$log")
[ "$other" -eq 2 ] && [ "$leaked" -eq 0 ] && [ "$mainauth" -eq 2 ] &&
	ok "Authorization went with the POSTs, never to the upload origin ($other PUTs there)" ||
	fail "no Authorization to the upload origin" "other=$other leaked=$leaked main-with-auth=$mainauth"

fr --reject-digest
push 2>"$TMP/err"
rc=$?
[ $rc -eq 3 ] && grep -q "rejected blob sha256:" "$TMP/err" && ok "a registry rejecting the digest: exit 3 naming the blob" ||
	fail "digest rejected" "exit $rc: $(cat "$TMP/err")"
