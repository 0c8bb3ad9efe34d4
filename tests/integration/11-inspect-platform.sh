#!/bin/bash
# 11-inspect-platform.sh - choosing an image from an OCI layout: tags,
# multi-platform indexes (--platform), buildx attestation manifests, and the
# errors when the choice is ambiguous or impossible.  The layout comes from
# scripts/fixtures/multiarch-layout (built in $TMP); where skopeo can make
# the same choice (--override-arch/--override-variant) the results must agree.
. "$DD_ROOT/tests/lib.sh"

L="$TMP/multi"
if ! digests=$(python3 "$DD_ROOT/scripts/fixtures/multiarch-layout" "$L" 2>"$TMP/gen.err"); then
	fail "multiarch layout" "$(tail -n 1 "$TMP/gen.err")"
	exit 0
fi
eval "$digests"

# host platform as drydock's default: Debian architecture names are Go's here
case "$(uname -m)" in
x86_64) host=amd64 host_manifest=$AMD64 ;;
aarch64) host=arm64 host_manifest=$ARM64 ;;
armv7l) host=arm host_manifest=$ARMV7 ;;
*) host= ;;
esac

# pick NAME WANT_MANIFEST WANT_PLATFORM [flags...]: inspect oci:L:multi.
pick() {
	local n=$1 want=$2 wplat=$3 rc got
	shift 3
	"$DRYDOCK" inspect --format json "$@" "oci:$L:multi" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	got=$(jq -r '[.indexDigest, .manifest.digest, (.platform | [.os, .architecture, .variant // empty] | join("/"))] | join(" ")' \
		"$TMP/out" 2>/dev/null)
	if [ $rc -eq 0 ] && [ "$got" = "$INDEX $want $wplat" ]; then ok "$n"
	else fail "$n" "exit $rc, got '$got', wanted '$INDEX $want $wplat'; $(head -c 200 "$TMP/err")"; fi
}

if [ -n "$host" ]; then
	pick "default platform is the host's ($host), indexDigest names the index" "$host_manifest" \
		"$(jq -r --arg d "$host_manifest" '.manifests[] | select(.digest == $d) | .platform | [.os, .architecture, .variant // empty] | join("/")' \
			"$L/blobs/sha256/${INDEX#sha256:}")"
else
	skip "default platform is the host's" "host $(uname -m) not in the fixture"
fi
pick "--platform linux/arm64/v8" "$ARM64" linux/arm64/v8 --platform linux/arm64/v8
pick "--platform linux/arm64 matches arm64/v8 (v8 is arm64's default)" "$ARM64" linux/arm64/v8 --platform linux/arm64
pick "--platform linux/arm/v7" "$ARMV7" linux/arm/v7 --platform linux/arm/v7
pick "--platform linux/amd64" "$AMD64" linux/amd64 --platform linux/amd64

# The attestation manifest (unknown/unknown, listed first) is never the
# default (checked above); asked for explicitly it is reachable or refused.
"$DRYDOCK" inspect --format json --platform unknown/unknown "oci:$L:multi" >"$TMP/out" 2>"$TMP/err"
rc=$?
if [ $rc -eq 0 ] && [ "$(jq -r .manifest.digest "$TMP/out")" = "$ATTEST" ]; then
	ok "--platform unknown/unknown reaches the attestation only when asked for"
elif [ $rc -eq 3 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ]; then
	ok "--platform unknown/unknown is refused"
else
	fail "--platform unknown/unknown" "exit $rc; $(head -c 200 "$TMP/err")"
fi

# skopeo makes the same choices: config digest per platform, index digest.
if command -v skopeo >/dev/null 2>&1; then
	for spec in "arm64 v8 linux/arm64/v8" "arm v7 linux/arm/v7" "amd64 - linux/amd64"; do
		set -- $spec
		args=(--override-arch "$1")
		[ "$2" != - ] && args+=(--override-variant "$2")
		want="sha256:$(skopeo "${args[@]}" inspect --config --raw "oci:$L:multi" 2>/dev/null | sha256sum | cut -c1-64)"
		got=$("$DRYDOCK" inspect --format json --platform "$3" "oci:$L:multi" 2>/dev/null | jq -r .config.digest)
		if [ "$got" = "$want" ]; then ok "$3: same config as skopeo --override-arch $1"
		else fail "$3: same config as skopeo --override-arch $1" "drydock $got, skopeo $want"; fi
	done
	want=$(skopeo --override-arch arm64 inspect "oci:$L:multi" 2>/dev/null | jq -r .Digest)
	if [ "$want" = "$INDEX" ]; then ok "skopeo's Digest of oci:multi is drydock's indexDigest"
	else fail "skopeo's Digest of oci:multi is drydock's indexDigest" "skopeo $want, index $INDEX"; fi
else
	skip "platform choices vs skopeo" "skopeo not installed"
fi

# err_case NAME CODE SUBSTRING args...: exit status, one line, substring.
err_case() {
	local n=$1 code=$2 sub=$3 rc
	shift 3
	"$DRYDOCK" inspect --format json "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [ $rc -eq "$code" ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -qF -- "$sub" "$TMP/err"; then
		ok "$n"
	else
		fail "$n" "exit $rc (wanted $code), stderr: $(head -c 300 "$TMP/err") (wanted one line with '$sub')"
	fi
}
err_case "no such platform: exit 3, lists the platforms there are" 3 "linux/arm64/v8" \
	--platform linux/s390x "oci:$L:multi"
err_case "malformed --platform: exit 2" 2 "platform" --platform x "oci:$L:multi"
err_case "two images and no tag: exit 3, names the tags" 3 "single" "oci:$L"
err_case "unknown tag: exit 3, names the tags there are" 3 "multi" "oci:$L:nosuchtag"
err_case "not a layout: exit 3" 3 "$TMP" "oci:$TMP"

# Tag and digest references.
"$DRYDOCK" inspect --format json "oci:$L:single" >"$TMP/out" 2>"$TMP/err"
rc=$?
if [ $rc -eq 0 ] && [ "$(jq -r '.manifest.digest + " " + (has("indexDigest") | tostring)' "$TMP/out")" = "$SINGLE false" ]; then
	ok "oci:L:single: that manifest, no indexDigest"
else
	fail "oci:L:single: that manifest, no indexDigest" "exit $rc; $(head -c 200 "$TMP/out" "$TMP/err")"
fi
"$DRYDOCK" inspect --format json "oci:$L@$SINGLE" >"$TMP/out" 2>"$TMP/err"
rc=$?
if [ $rc -eq 0 ] && [ "$(jq -r .manifest.digest "$TMP/out")" = "$SINGLE" ]; then
	ok "oci:L@DIGEST: the manifest with that digest"
else
	fail "oci:L@DIGEST: the manifest with that digest" "exit $rc; $(head -c 200 "$TMP/err")"
fi
