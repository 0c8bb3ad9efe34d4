#!/bin/bash
# The registry client against Debian's docker-registry (distribution v2.8) on
# loopback, in three configurations: plain HTTP, TLS + htpasswd (Basic), and
# token auth with a token server of ours.  Images are pushed with skopeo.
. "$DD_ROOT/tests/lib.sh"

if ! command -v docker-registry >/dev/null || ! command -v skopeo >/dev/null; then
	skip "registry tests" "docker-registry or skopeo not installed"
	exit 0
fi
archive=$DD_ROOT/tests/data/image/alpine-310.tar.gz
[ -f "$archive" ] || archive=$DD_SHARED/corpus/images/alpine-310.tar.gz
if [ ! -f "$archive" ]; then
	skip "registry tests" "no alpine archive (tests/data/image or ../shared)"
	exit 0
fi
gunzip -c "$archive" >"$TMP/alpine.tar"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$TMP"; }
trap cleanup EXIT
# (REGISTRY_* variables would also reconfigure docker-registry itself)
unset REGISTRY_AUTH_FILE
# every scan here reads its layers from the registry, not from the layer cache
export DRYDOCK_NO_CACHE=1
export DOCKER_CONFIG=$TMP/docker-empty XDG_RUNTIME_DIR=$TMP/xdg
mkdir -p "$DOCKER_CONFIG" "$XDG_RUNTIME_DIR"
user=drydock pass='s3cret pass'

start() { # start MODE -> sets port
	local out
	out=$("$DD_ROOT/tests/registry/start" "$1" "$TMP/$1") || return 1
	set -- $out
	port=$1
	pids+=("$2")
	[ -n "${3:-}" ] && pids+=("$3")
	return 0
}

# ---- plain HTTP ----
if start plain; then
	reg=127.0.0.1:$port
	skopeo copy -q --dest-tls-verify=false docker-archive:"$TMP/alpine.tar" docker://$reg/lib/alpine:3.10 >/dev/null 2>"$TMP/sk.err" ||
		fail "push with skopeo (plain)" "$(cat "$TMP/sk.err")"
	want=$(skopeo inspect --tls-verify=false docker://$reg/lib/alpine:3.10 | jq -r .Digest)
	got=$("$DRYDOCK" resolve $reg/lib/alpine:3.10 2>"$TMP/err")
	[ -n "$want" ] && [ "$got" = "$want" ] && ok "resolve (plain HTTP on loopback) equals skopeo's digest" ||
		fail "resolve (plain HTTP on loopback) equals skopeo's digest" "got '$got' want '$want': $(cat "$TMP/err")"
	got=$("$DRYDOCK" resolve docker://localhost:$port/lib/alpine@$want 2>"$TMP/err")
	[ -n "$want" ] && [ "$got" = "$want" ] && ok "resolve by digest via localhost" || fail "resolve by digest via localhost" "$(cat "$TMP/err")"
	got=$("$DRYDOCK" resolve --platform linux/amd64 $reg/lib/alpine:3.10 2>"$TMP/err")
	[ -n "$want" ] && [ "$got" = "$want" ] && ok "resolve --platform on a single manifest gives its digest" || fail "resolve --platform" "$(cat "$TMP/err")"
	# Reading an image straight from the registry gives what the archive gives.
	"$DRYDOCK" sbom --format json "docker-archive:$TMP/alpine.tar" | jq -c '[.os, [.packages[] | [.name, .version, .arch, .sourceName, .layer.diffID]]]' >"$TMP/sbom-archive" 2>"$TMP/err"
	"$DRYDOCK" sbom --format json "$reg/lib/alpine:3.10" | jq -c '[.os, [.packages[] | [.name, .version, .arch, .sourceName, .layer.diffID]]]' >"$TMP/sbom-registry" 2>>"$TMP/err"
	[ -s "$TMP/sbom-registry" ] && cmp -s "$TMP/sbom-archive" "$TMP/sbom-registry" && ok "sbom from the registry equals sbom from the archive" ||
		fail "sbom from the registry equals sbom from the archive" "$(head -c 300 "$TMP/err")"
	"$DRYDOCK" inspect --format json "docker://$reg/lib/alpine:3.10" >"$TMP/insp.json" 2>"$TMP/err"
	[ "$(jq -r .manifest.digest "$TMP/insp.json")" = "$want" ] && [ "$(jq -r '.layers[0].entries' "$TMP/insp.json")" -gt 100 ] &&
		ok "inspect docker://REF walks the layers from the registry" || fail "inspect docker://REF" "$(cat "$TMP/err")"
	# A blob whose content no longer matches its digest (corrupted on the
	# registry's disk) is refused, naming the blob.
	layer=$(jq -r '.layers[0].digest' "$TMP/insp.json")
	hex=${layer#sha256:}
	blob=$TMP/plain/data/docker/registry/v2/blobs/sha256/${hex:0:2}/$hex/data
	if [ -f "$blob" ]; then
		cp "$blob" "$TMP/blob.orig"
		python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[len(b)//2]^=0xff; open(p,"wb").write(b)' "$blob"
		expect_exit 3 "a corrupted blob exits 3" "$DRYDOCK" inspect "$reg/lib/alpine:3.10"
		grep -q "blob $layer digest mismatch" "$TMP/err" && ok "a corrupted blob is named" || fail "a corrupted blob is named" "$(cat "$TMP/err")"
		cp "$TMP/blob.orig" "$blob"
	else
		fail "find the layer blob on the registry's disk" "$blob"
	fi
	# Referrers: distribution 2.8 has no referrers API, so the tag schema
	# fallback (an index tagged sha256-<hex>) is what is read.
	size=$(skopeo inspect --raw --tls-verify=false "docker://$reg/lib/alpine:3.10" | wc -c)
	art=$(python3 "$DD_ROOT/tests/registry/push-referrer" "$reg" lib/alpine "$want" \
		application/vnd.docker.distribution.manifest.v2+json "$size" application/vnd.example.sbom 2>"$TMP/err")
	got=$("$DRYDOCK" resolve --referrers "$reg/lib/alpine:3.10" 2>>"$TMP/err")
	[ -n "$art" ] && [ "$got" = "$art application/vnd.example.sbom application/vnd.oci.image.manifest.v1+json" ] &&
		ok "referrers through the tag schema fallback" || fail "referrers through the tag schema fallback" "got '$got' art '$art': $(cat "$TMP/err")"
	got=$("$DRYDOCK" resolve --referrers --artifact-type application/x-other "$reg/lib/alpine:3.10" 2>&1)
	[ -z "$got" ] && ok "referrers filtered by artifact type" || fail "referrers filtered by artifact type" "$got"
	# drydock copy: registry -> oci: -> registry and registry -> registry keep the digest.
	"$DRYDOCK" copy -q "$reg/lib/alpine:3.10" "oci:$TMP/copy-oci:v1" 2>"$TMP/err" &&
		[ "$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "v1") | .digest' "$TMP/copy-oci/index.json")" = "$want" ] &&
		[ "$(sha256sum <"$TMP/copy-oci/blobs/sha256/${want#sha256:}" | cut -d' ' -f1)" = "${want#sha256:}" ] &&
		ok "copy registry -> oci: preserves the manifest digest" || fail "copy registry -> oci:" "$(cat "$TMP/err")"
	"$DRYDOCK" copy -q "oci:$TMP/copy-oci:v1" "$reg/other/alpine:copied" 2>"$TMP/err" &&
		[ "$("$DRYDOCK" resolve "$reg/other/alpine:copied")" = "$want" ] &&
		ok "copy oci: -> registry preserves the manifest digest" || fail "copy oci: -> registry" "$(cat "$TMP/err")"
	"$DRYDOCK" copy "$reg/lib/alpine:3.10" "$reg/third/alpine:mounted" 2>"$TMP/err" &&
		grep -q ": 0 blobs" "$TMP/err" && [ "$("$DRYDOCK" resolve "$reg/third/alpine:mounted")" = "$want" ] &&
		ok "copy within one registry mounts blobs instead of sending them" || fail "copy within one registry mounts" "$(cat "$TMP/err")"
	skopeo inspect --tls-verify=false "docker://$reg/third/alpine:mounted" >/dev/null 2>&1 &&
		ok "skopeo reads the copied image" || fail "skopeo reads the copied image"
	"$DRYDOCK" copy -q "$reg/lib/alpine:3.10" "docker-archive:$TMP/copy.tar:copy/alpine:1" 2>"$TMP/err" &&
		[ "$(skopeo inspect docker-archive:"$TMP/copy.tar" | jq -r '.Layers | join(",")')" = "$(skopeo inspect docker-archive:"$TMP/alpine.tar" | jq -r '.Layers | join(",")')" ] &&
		ok "copy registry -> docker-archive keeps the diff_ids" || fail "copy registry -> docker-archive" "$(cat "$TMP/err")"
	DRYDOCK_UPLOAD_CHUNK=100000 "$DRYDOCK" copy -q "oci:$TMP/copy-oci:v1" "$reg/chunked/alpine:1" 2>"$TMP/err" &&
		[ "$("$DRYDOCK" resolve "$reg/chunked/alpine:1")" = "$want" ] &&
		[ "$(skopeo inspect --tls-verify=false "docker://$reg/chunked/alpine:1" | jq -r .Digest)" = "$want" ] &&
		ok "chunked upload (PATCH + Content-Range) gives the same image" || fail "chunked upload" "$(cat "$TMP/err")"
	# copy --all: a multi-platform index (with a buildx attestation) whole.
	if eval "$(python3 "$DD_ROOT/scripts/fixtures/multiarch-layout" "$TMP/ma" 2>/dev/null)"; then
		"$DRYDOCK" copy -q --all "oci:$TMP/ma:multi" "$reg/multi/app:1" 2>"$TMP/err" &&
			[ "$("$DRYDOCK" resolve "$reg/multi/app:1")" = "$INDEX" ] &&
			[ "$("$DRYDOCK" resolve --platform linux/arm64 "$reg/multi/app:1")" = "$ARM64" ] &&
			[ "$("$DRYDOCK" resolve --platform linux/arm/v7 "$reg/multi/app:1")" = "$ARMV7" ] &&
			skopeo inspect --raw --tls-verify=false "docker://$reg/multi/app@$ATTEST" >/dev/null 2>&1 &&
			ok "copy --all pushes every manifest and the index (digests kept)" || fail "copy --all to a registry" "$(cat "$TMP/err")"
		"$DRYDOCK" copy -q --all "$reg/multi/app:1" "oci:$TMP/ma-back:m" 2>"$TMP/err" &&
			[ "$(jq -r '.manifests[0].digest' "$TMP/ma-back/index.json")" = "$INDEX" ] &&
			"$DRYDOCK" inspect --platform linux/arm64 "oci:$TMP/ma-back:m" >/dev/null 2>&1 &&
			ok "copy --all back from the registry into an OCI layout" || fail "copy --all registry -> oci:" "$(cat "$TMP/err")"
		noamd=$(python3 "$DD_ROOT/tests/registry/index-without-amd64" "$TMP/ma")
		"$DRYDOCK" copy -q --all "oci:$TMP/ma:noamd" "$reg/multi/noamd:1" 2>"$TMP/err" &&
			[ "$("$DRYDOCK" resolve "$reg/multi/noamd:1")" = "$noamd" ] &&
			ok "copy --all of an index without the host's platform" || fail "copy --all without the host platform" "$(cat "$TMP/err")"
		expect_exit 2 "copy --all refuses a docker-archive destination" "$DRYDOCK" copy --all "oci:$TMP/ma:multi" "docker-archive:$TMP/x.tar"
	else
		fail "multiarch fixture"
	fi
	expect_exit 2 "copy to a digest is refused" "$DRYDOCK" copy "$reg/lib/alpine:3.10" "$reg/x/y@$want"
	expect_exit 3 "unknown tag exits 3" "$DRYDOCK" resolve $reg/lib/alpine:nope
	grep -q "not found" "$TMP/err" && ok "unknown tag says not found" || fail "unknown tag says not found" "$(cat "$TMP/err")"
	expect_exit 2 "malformed reference exits 2" "$DRYDOCK" resolve "$reg/Lib/alpine:3.10"
	# tags, with pagination forced by a tiny page size
	for t in a b c d e; do
		skopeo copy -q --src-tls-verify=false --dest-tls-verify=false docker://$reg/lib/alpine:3.10 docker://$reg/lib/alpine:t-$t >/dev/null 2>&1
	done
	want_tags=$(skopeo list-tags --tls-verify=false docker://$reg/lib/alpine | jq -r '.Tags[]' | sort)
	got_tags=$(DRYDOCK_TAGS_PAGE=2 "$DRYDOCK" resolve --tags $reg/lib/alpine 2>"$TMP/err" | sort)
	[ -n "$got_tags" ] && [ "$got_tags" = "$want_tags" ] && ok "tag listing across pages equals skopeo's" ||
		fail "tag listing across pages equals skopeo's" "got '$got_tags' want '$want_tags' $(cat "$TMP/err")"
	expect_exit 4 "an unreachable registry exits 4" \
		"$DRYDOCK" resolve drydock-test.invalid:$port/lib/alpine:3.10
	# A non-loopback address must never fall back to plain HTTP: reach this
	# plain registry through the machine's own non-loopback address.
	ip=$(hostname -I 2>/dev/null | awk '{print $1}')
	if [ -n "$ip" ] && start plain-any; then
		skopeo copy -q --dest-tls-verify=false docker-archive:"$TMP/alpine.tar" \
			docker://127.0.0.1:$port/lib/alpine:3.10 >/dev/null 2>&1
		expect_exit 4 "a non-loopback registry without TLS is refused (no silent plain HTTP)" \
			"$DRYDOCK" resolve "$ip:$port/lib/alpine:3.10"
		grep -qiE "ssl|tls|wrong version" "$TMP/err" && ok "the refusal names TLS" || fail "the refusal names TLS" "$(cat "$TMP/err")"
		got=$("$DRYDOCK" resolve --tls-verify=false "$ip:$port/lib/alpine:3.10" 2>"$TMP/err")
		[ -n "$got" ] && ok "--tls-verify=false allows plain HTTP to a non-loopback registry" ||
			fail "--tls-verify=false allows plain HTTP to a non-loopback registry" "$(cat "$TMP/err")"
	else
		skip "non-loopback plain HTTP refusal" "no non-loopback address on this machine"
	fi
else
	fail "start plain registry"
fi

# ---- TLS + htpasswd (Basic) ----
if start tls; then
	reg=localhost:$port
	ca=$TMP/tls/ca.pem
	skopeo copy -q --dest-cert-dir="$TMP/tls/certs.d" --dest-tls-verify=false --dest-creds "$user:$pass" \
		docker-archive:"$TMP/alpine.tar" docker://$reg/lib/alpine:3.10 >/dev/null 2>"$TMP/sk.err" ||
		fail "push with skopeo (tls)" "$(cat "$TMP/sk.err")"
	want=$(skopeo inspect --tls-verify=false --creds "$user:$pass" docker://$reg/lib/alpine:3.10 | jq -r .Digest)
	got=$(printf '%s\n' "$pass" | "$DRYDOCK" resolve --ca-file "$ca" -u "$user" --password-stdin $reg/lib/alpine:3.10 2>"$TMP/err")
	[ -n "$want" ] && [ "$got" = "$want" ] && ok "resolve over verified TLS with Basic auth" ||
		fail "resolve over verified TLS with Basic auth" "got '$got' want '$want': $(cat "$TMP/err")"
	mkdir -p "$TMP/cd"; cp "$ca" "$TMP/cd/ca.pem"; openssl rehash "$TMP/cd" 2>/dev/null || c_rehash "$TMP/cd" >/dev/null 2>&1
	printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$reg" "$(printf '%s:%s' "$user" "$pass" | base64 -w0)" >"$DOCKER_CONFIG/config.json"
	got=$("$DRYDOCK" resolve --cert-dir "$TMP/cd" $reg/lib/alpine:3.10 2>"$TMP/err")
	[ -n "$want" ] && [ "$got" = "$want" ] && ok "credentials from DOCKER_CONFIG config.json; CA from --cert-dir" ||
		fail "credentials from DOCKER_CONFIG config.json" "$(cat "$TMP/err")"
	rm -f "$DOCKER_CONFIG/config.json"
	got=$(printf '%s\n' "$pass" | "$DRYDOCK" sbom --format json --ca-file "$ca" -u "$user" --password-stdin $reg/lib/alpine:3.10 2>"$TMP/err" | jq '.packages | length')
	[ "${got:-0}" -eq 14 ] && ok "sbom of an image in a TLS + Basic auth registry" || fail "sbom of an image in a TLS + Basic auth registry" "got '$got': $(cat "$TMP/err")"
	printf '%s\n' "$pass" | "$DRYDOCK" sbom --format json --ca-file "$ca" -u "$user" --password-stdin $reg/lib/alpine:3.10 2>"$TMP/err" |
		jq -c '[.os, [.packages[] | [.name, .version, .arch, .sourceName, .layer.diffID]]]' >"$TMP/sbom-tls"
	cmp -s "$TMP/sbom-archive" "$TMP/sbom-tls" && ok "TLS + Basic: the sbom equals the archive's" || fail "TLS + Basic: sbom differs" "$(cat "$TMP/err")"
	printf '%s\n' "$pass" | "$DRYDOCK" copy -q --dest-ca-file "$ca" --dest-username "$user" --dest-password-stdin \
		"docker-archive:$TMP/alpine.tar" "$reg/copied/alpine:1" 2>"$TMP/err" &&
		[ "$(printf '%s\n' "$pass" | "$DRYDOCK" resolve --ca-file "$ca" -u "$user" --password-stdin "$reg/copied/alpine:1")" = \
		  "$(skopeo inspect --raw "docker-archive:$TMP/alpine.tar" | sha256sum | sed 's/^/sha256:/; s/ .*//')" ] &&
		ok "TLS + Basic: copy from an archive keeps its manifest digest" || fail "TLS + Basic: copy" "$(cat "$TMP/err")"
	expect_exit 4 "TLS on loopback is verified: unknown CA exits 4" "$DRYDOCK" resolve $reg/lib/alpine:3.10
	grep -qi "certificate" "$TMP/err" && ok "unknown CA error mentions the certificate" || fail "unknown CA error mentions the certificate" "$(cat "$TMP/err")"
	got=$(printf '%s\n' "$pass" | "$DRYDOCK" resolve --tls-verify=false -u "$user" --password-stdin $reg/lib/alpine:3.10 2>"$TMP/err")
	[ -n "$want" ] && [ "$got" = "$want" ] && ok "--tls-verify=false skips verification" || fail "--tls-verify=false skips verification" "$(cat "$TMP/err")"
	printf 'wrong\n' | "$DRYDOCK" resolve --ca-file "$ca" -u "$user" --password-stdin $reg/lib/alpine:3.10 >"$TMP/out" 2>"$TMP/err"
	rc=$?
	[ $rc -eq 4 ] && ok "wrong password exits 4" || fail "wrong password exits 4" "exit $rc: $(cat "$TMP/err")"
	grep -q "authentication failed for user 'drydock'" "$TMP/err" && ok "wrong password: clear message" || fail "wrong password: clear message" "$(cat "$TMP/err")"
	grep -q "wrong" "$TMP/err" && fail "the password never appears in errors" || ok "the password never appears in errors"
	expect_exit 4 "no credentials exits 4" "$DRYDOCK" resolve --ca-file "$ca" $reg/lib/alpine:3.10
	expect_exit 2 "--username without --password-stdin is refused" "$DRYDOCK" resolve -u x --ca-file "$ca" $reg/lib/alpine:3.10
else
	fail "start TLS registry"
fi

# ---- token auth ----
if start token; then
	reg=127.0.0.1:$port
	skopeo copy -q --dest-tls-verify=false --dest-creds "$user:$pass" \
		docker-archive:"$TMP/alpine.tar" docker://$reg/lib/alpine:3.10 >/dev/null 2>"$TMP/sk.err" ||
		fail "push with skopeo (token)" "$(cat "$TMP/sk.err")"
	want=$(skopeo inspect --tls-verify=false --creds "$user:$pass" docker://$reg/lib/alpine:3.10 | jq -r .Digest)
	got=$("$DRYDOCK" sbom --format json $reg/lib/alpine:3.10 2>"$TMP/err" | jq '.packages | length')
	[ "${got:-0}" -eq 14 ] && ok "sbom of an image behind token auth (anonymous pull)" || fail "sbom behind token auth" "got '$got': $(cat "$TMP/err")"
	"$DRYDOCK" sbom --format json $reg/lib/alpine:3.10 2>"$TMP/err" |
		jq -c '[.os, [.packages[] | [.name, .version, .arch, .sourceName, .layer.diffID]]]' >"$TMP/sbom-token"
	cmp -s "$TMP/sbom-archive" "$TMP/sbom-token" && ok "token auth: the sbom equals the archive's" || fail "token auth: sbom differs" "$(cat "$TMP/err")"
	printf '%s\n' "$pass" | "$DRYDOCK" copy -q --dest-username "$user" --dest-password-stdin \
		"$reg/lib/alpine:3.10" "$reg/copied/alpine:1" 2>"$TMP/err" &&
		[ "$("$DRYDOCK" resolve "$reg/copied/alpine:1")" = "$want" ] &&
		ok "token auth: copy (push scope, mount) keeps the digest" || fail "token auth: copy" "$(cat "$TMP/err")"
	got=$("$DRYDOCK" resolve $reg/lib/alpine:3.10 2>"$TMP/err")
	[ -n "$want" ] && [ "$got" = "$want" ] && ok "resolve with an anonymous bearer token" ||
		fail "resolve with an anonymous bearer token" "got '$got' want '$want': $(cat "$TMP/err")"
	got=$(printf '%s\n' "$pass" | "$DRYDOCK" resolve -u "$user" --password-stdin $reg/lib/alpine:3.10 2>"$TMP/err")
	[ -n "$want" ] && [ "$got" = "$want" ] && ok "resolve with an authenticated bearer token" || fail "resolve with an authenticated bearer token" "$(cat "$TMP/err")"
	printf 'nope\n' | "$DRYDOCK" resolve -u "$user" --password-stdin $reg/lib/alpine:3.10 >/dev/null 2>"$TMP/err"
	rc=$?
	[ $rc -eq 4 ] && ok "token server refusing the password exits 4" || fail "token server refusing the password exits 4" "exit $rc: $(cat "$TMP/err")"
else
	fail "start token registry"
fi
