#!/bin/bash
# drydock lineage: bases found by layers, by annotations and by Dockerfiles,
# on OCI layouts built here (tests/data/inventory/mkoci.py), a docker-archive
# made by `drydock copy`, and the debootstrapped Debian fixture (base, and
# app = base + 1 layer).
. "$DD_ROOT/tests/lib.sh"

command -v jq >/dev/null || { skip "lineage" "jq missing (scripts/install-deps)"; exit 0; }
command -v python3 >/dev/null || { skip "lineage" "python3 missing"; exit 0; }
MKOCI="$DD_ROOT/tests/data/inventory/mkoci.py"
L="$TMP/layout"

# base (1 layer) <- app (+1, annotated) <- tool (+1); base2 = base again
# under another tag; other: unrelated.
spec() { # spec TAG ANNOTATIONS-JSON LAYER...: one image into $L
	local tag=$1 ann=$2 layers="" l; shift 2
	for l in "$@"; do layers="$layers${layers:+,}[{\"path\": \"$l\", \"data\": \"$l\"}]"; done
	printf '{"tag": "%s", "annotations": %s, "layers": [%s]}' "$tag" "$ann" "$layers" >"$TMP/$tag.json"
	python3 "$MKOCI" "$L" "$TMP/$tag.json"
}
dbase=$(spec base '{}' etc/base)
dapp=$(spec app "{\"org.opencontainers.image.base.name\": \"example.com/base:1\",
	\"org.opencontainers.image.base.digest\": \"$dbase\"}" etc/base srv/app)
spec tool '{}' etc/base srv/app usr/bin/tool >/dev/null
spec base2 '{}' etc/base >/dev/null
spec other '{}' opt/other >/dev/null

j() { jq -r "$1" "$TMP/out"; }

# Layers only, three deep: tool -> app (layers) -> base (annotation + layers).
expect_exit 0 "lineage of a three-image chain" "$DRYDOCK" lineage -f json \
	"oci:$L:tool" --known "oci:$L:app" --known "oci:$L:base" --known "oci:$L:other"
check "tool: one image reported (--known ones are not)" test "$(j '.images | length')" = 1
check "tool -> app via layers, 2 shared" \
	test "$(j '.images[0].chain[0] | "\(.image) \(.how) \(.sharedLayers)"')" = "oci:$L:app layers 2"
check "app -> base via its annotation, confirmed by layers, 1 shared" \
	test "$(j '.images[0].chain[1] | "\(.base) \(.image) \(.how) \(.evidence|join(",")) \(.sharedLayers) \(.digest)"')" \
	= "example.com/base:1 oci:$L:base annotation annotation,layers 1 $dbase"
check "the chain ends at base" test "$(j '.images[0].chain | length')" = 2
check "manifest digest reported" test "$(j '.images[0].manifest')" = "$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]=="tool") | .digest' "$L/index.json")"

# Annotation alone (the base is not among the images).
expect_exit 0 "lineage with annotations only" "$DRYDOCK" lineage -f json "oci:$L:app"
check "annotation gives name and digest, layers unknown" \
	test "$(j '.images[0].chain[0] | "\(.base) \(.digest) \(.how) \(.sharedLayers) \(.image)"')" \
	= "example.com/base:1 $dbase annotation null null"

# Same image under two tags: neither is the other's base; both are bases of app.
expect_exit 0 "lineage of the same image twice" "$DRYDOCK" lineage -f json "oci:$L:base" "oci:$L:base2" "oci:$L:tool"
check "equal diffIDs are not a base" test "$(j '[.images[0,1].chain | length] | join(" ")')" = "0 0"
check "a tie goes to the first image given" test "$(j '.images[2].chain[-1].image')" = "oci:$L:base"
check "unrelated image has no base" sh -c "'$DRYDOCK' lineage -f json 'oci:$L:other' 'oci:$L:base' | jq -e '.images[0].chain == []' >/dev/null"

# The base as a docker-archive made by drydock copy: another manifest
# digest, same diffIDs, so the layers identify it.
expect_exit 0 "copy base to a docker-archive" "$DRYDOCK" copy "oci:$L:base" "docker-archive:$TMP/base.tar:example.com/base:1"
expect_exit 0 "lineage against a docker-archive" "$DRYDOCK" lineage -f json "oci:$L:app" --known "docker-archive:$TMP/base.tar"
check "archive found through layers (annotation digest is the OCI one)" \
	test "$(j '.images[0].chain[0] | "\(.image) \(.sharedLayers)"')" = "docker-archive:$TMP/base.tar 1"

# Table output.
expect_exit 0 "table output" "$DRYDOCK" lineage "oci:$L:tool" --known "oci:$L:app" --known "oci:$L:base"
check "table header" grep -qE '^IMAGE +BASE +HOW +LAYERS SHARED$' "$TMP/out"
check "table rows: tool via layers, app via annotation+layers" \
	sh -c "grep -qE '^oci:$L:tool +oci:$L:app +layers +2\$' '$TMP/out' &&
	       grep -qE '^oci:$L:app +example.com/base:1 = oci:$L:base +annotation\\+layers +1\$' '$TMP/out'"

# Dockerfile: multi-stage, ARG-parameterised runtime base.
cat >"$TMP/Dockerfile" <<'EOF'
# syntax=docker/dockerfile:1
ARG GO=1.22
ARG BASE=example.com/base:1
FROM --platform=$BUILDPLATFORM golang:${GO}-bookworm AS build
RUN <<SH
go build -o /out/app .
FROM not-a-stage
SH
FROM build AS test
RUN go test ./...
FROM ${BASE}
COPY --from=build /out/app /srv/app
EOF
expect_exit 0 "lineage with a Dockerfile" "$DRYDOCK" lineage -f json "oci:$L:app" \
	--dockerfile "$TMP/Dockerfile" --known "oci:$L:base"
check "runtime base from the Dockerfile, annotation and layers agree" \
	test "$(j '.images[0].chain[0] | "\(.base) \(.how) \(.evidence|join(",")) \(.image) \(.sharedLayers)"')" \
	= "example.com/base:1 dockerfile dockerfile,annotation,layers oci:$L:base 1"
check "the image names its Dockerfile" test "$(j '.images[0].dockerfile')" = "$TMP/Dockerfile"
check "build stages listed with their bases" \
	test "$(j '[.images[0].chain[0].buildStages[] | "\(.name)=\(.base)@\(.line)"] | join(" ")')" \
	= "build=golang:1.22-bookworm@4 test=golang:1.22-bookworm@9"
expect_exit 0 "--build-arg overrides the ARG default" "$DRYDOCK" lineage -f json "oci:$L:app" \
	--dockerfile "$TMP/Dockerfile" --build-arg BASE=registry.local/base:2 --build-arg GO=1.23 --known "oci:$L:base"
check "overridden base, still the same image by layers" \
	test "$(j '.images[0].chain[0] | "\(.base) \(.image)"')" = "registry.local/base:2 oci:$L:base"
check "overridden build stage" test "$(j '.images[0].chain[0].buildStages[0].base')" = "golang:1.23-bookworm"
expect_exit 0 "--target picks a stage" "$DRYDOCK" lineage -f json --dockerfile "$TMP/Dockerfile" --target test
check "the Dockerfile alone: target test rests on golang" \
	test "$(j '.images[0] | "\(.image) \(.chain[0].base) \(.chain[0].how)"')" = "$TMP/Dockerfile golang:1.22-bookworm dockerfile"
printf 'FROM golang:1.22 AS build\nRUN make\nFROM scratch\nCOPY --from=build /app /app\n' >"$TMP/Dockerfile.scratch"
expect_exit 0 "FROM scratch" "$DRYDOCK" lineage -f json --dockerfile "$TMP/Dockerfile.scratch"
check "scratch is no base; build stages on the image" \
	test "$(j '.images[0] | "\(.chain | length) \(.buildStages[0].base)"')" = "0 golang:1.22"
expect_exit 0 "Dockerfile table" "$DRYDOCK" lineage --dockerfile "$TMP/Dockerfile"
check "table lists the build stages" grep -q 'golang:1.22-bookworm (stage build) *dockerfile (build)' "$TMP/out"

# Errors.
printf 'FROM a\nRUN x \\\n  y\nFROM ${BROKEN\n' >"$TMP/Dockerfile.bad"
expect_exit 3 "malformed Dockerfile is bad input" "$DRYDOCK" lineage --dockerfile "$TMP/Dockerfile.bad"
check "error is one line naming file and line" \
	sh -c "[ \$(wc -l <'$TMP/err') -eq 1 ] && grep -q 'Dockerfile.bad: Dockerfile line 4' '$TMP/err'"
expect_exit 4 "missing Dockerfile" "$DRYDOCK" lineage --dockerfile "$TMP/no-such-Dockerfile"
check "missing Dockerfile says why" grep -q "no-such-Dockerfile: No such file" "$TMP/err"
expect_exit 2 "no image is a usage error" "$DRYDOCK" lineage
expect_exit 2 "unknown format" "$DRYDOCK" lineage -f xml "oci:$L:app"
expect_exit 2 "unknown --target" "$DRYDOCK" lineage --dockerfile "$TMP/Dockerfile" --target nope
expect_exit 2 "--build-arg without --dockerfile" "$DRYDOCK" lineage --build-arg A=1 "oci:$L:app"
expect_exit 3 "missing image" "$DRYDOCK" lineage "oci:$TMP/nothing:x"

# The debootstrapped Debian fixture: app = base + one layer.
if ! fx=$("$DD_ROOT/scripts/fixtures/debian-image" 2>"$TMP/fx.err"); then
	skip "lineage on the Debian fixture" "$(tail -n 1 "$TMP/fx.err")"
	exit 0
fi
eval "$fx"
expect_exit 0 "lineage of the Debian app" "$DRYDOCK" lineage -f json "oci:$OCI:app" --known "oci:$OCI:base"
check "Debian app -> base via layers (and its annotation), 1 shared layer" \
	test "$(j '.images[0].chain[0] | "\(.image) \(.sharedLayers) \(.evidence | index("layers") != null)"')" \
	= "oci:$OCI:base 1 true"
check "Debian base digest is the base manifest's" \
	test "$(j '.images[0].chain[0].digest')" = "$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]=="base") | .digest' "$OCI/index.json")"
expect_exit 0 "Debian base has no base" "$DRYDOCK" lineage -f json "oci:$OCI:base" --known "oci:$OCI:app" --known "oci:$OCI:include"
check "Debian base chain is empty" test "$(j '.images[0].chain | length')" = 0
expect_exit 0 "Debian app against the uncompressed copy of base" "$DRYDOCK" lineage -f json "oci:$OCI:app" --known "oci:$OCI:plain"
check "recompressed base still matches by diffIDs" \
	test "$(j '.images[0].chain[0] | "\(.image) \(.sharedLayers)"')" = "oci:$OCI:plain 1"
