#!/bin/bash
# drydock's CycloneDX 1.6 and SPDX 2.3 JSON validate against the official
# JSON schemas (tests/data/report/schemas, byte copies of ../shared/schemas)
# with ajv-cli + ajv-formats from npm (scripts/fixtures/ajv installs them
# once into /var/cache/drydock-test/npm).  Checked: the writer test
# inventories (tests/unit/test_sbom_writers with DD_SBOM_WRITE_DIR: hostile
# text, duplicate purls, free-text licenses, rpm, unknown OS) and
# `drydock sbom` of the real alpine 3.10/3.11 images and the debootstrapped
# Debian images; plus what a schema cannot say (references resolve,
# LicenseRefs are defined), byte-identical output under SOURCE_DATE_EPOCH,
# and that the validator does reject broken documents.
. "$DD_ROOT/tests/lib.sh"

S="$DD_ROOT/tests/data/report/schemas"
W="$DD_BUILD/tests/unit/test_sbom_writers"
export SOURCE_DATE_EPOCH=1700000000

if (cd "$S" && sha256sum --quiet -c SHA256SUMS) >"$TMP/sums" 2>&1; then
	ok "schema copies match their recorded sha256 sums"
else
	fail "schema copies match their recorded sha256 sums" "$(head -c 300 "$TMP/sums")"
fi
if have_shared schemas/cyclonedx-1.6; then
	same=1
	for f in cyclonedx-1.6/bom-1.6.schema.json cyclonedx-1.6/spdx.schema.json \
		cyclonedx-1.6/jsf-0.82.schema.json spdx-2.3/spdx-schema.json; do
		cmp -s "$S/$f" "$DD_SHARED/schemas/$f" || same=0
	done
	check "schema copies equal ../shared/schemas" test $same = 1
else
	skip "schema copies equal ../shared/schemas" "../shared not present"
fi

if ! command -v jq >/dev/null; then
	skip "sbom schema validation" "jq missing (scripts/install-deps)"
	exit 0
fi
if ! AJV=$("$DD_ROOT/scripts/fixtures/ajv" 2>"$TMP/ajv.err"); then
	skip "sbom schema validation" "ajv unavailable: $(tail -n 1 "$TMP/ajv.err")"
	exit 0
fi

ajv_cdx() {
	"$AJV" validate --spec=draft7 -c ajv-formats --strict=false --errors=line \
		-s "$S/cyclonedx-1.6/bom-1.6.schema.json" \
		-r "$S/cyclonedx-1.6/spdx.schema.json" -r "$S/cyclonedx-1.6/jsf-0.82.schema.json" \
		"$@" >"$TMP/ajv.out" 2>&1
}
ajv_spdx() {
	"$AJV" validate --spec=draft7 -c ajv-formats --strict=false --errors=line \
		-s "$S/spdx-2.3/spdx-schema.json" "$@" >"$TMP/ajv.out" 2>&1
}
jqe() { jq -e "$@" >/dev/null; }
ajv_why() { grep -v 'unknown format' "$TMP/ajv.out" | head -c 400 | tr '\n' ' '; }

# Checks a schema cannot express, printed as one line of problems (empty = fine).
cdx_refs='
  ([.metadata.component."bom-ref"] + [.components[]."bom-ref"]) as $refs
  | [ ($refs | group_by(.) | map(select(length > 1)) | .[] | "duplicate bom-ref \(.[0])"),
      (.dependencies[] | .ref, .dependsOn[] | select(. as $r | $refs | index($r) | not)
         | "dangling dependency \(.)"),
      (.components[] | select(.type == "library") | select((.purl // "") | startswith("pkg:") | not)
         | "no purl: \(.name)") ] | join("; ")'
spdx_refs='
  ([.packages[].SPDXID] + ["SPDXRef-DOCUMENT"]) as $ids
  | ([.hasExtractedLicensingInfos[]?.licenseId]) as $lic
  | [ ($ids | group_by(.) | map(select(length > 1)) | .[] | "duplicate SPDXID \(.[0])"),
      ($ids[] | select(test("^SPDXRef-[A-Za-z0-9.-]+$") | not) | "malformed SPDXID \(.)"),
      (.relationships[] | .spdxElementId, .relatedSpdxElement
         | select(. as $r | $ids | index($r) | not) | "dangling relationship \(.)"),
      (.packages[].licenseDeclared | scan("LicenseRef-[A-Za-z0-9.-]+")
         | select(. as $l | $lic | index($l) | not) | "undefined \(.)"),
      (.packages[] | select(.SPDXID | startswith("SPDXRef-Package-"))
         | select([.externalRefs[]? | select(.referenceType == "purl")] | length != 1)
         | "no purl: \(.name)") ] | join("; ")'

# validate NAME cdx|spdx FILE: reference checks now, the schema check queued
# (ajv takes a second to compile the CycloneDX schema, so each kind is
# validated in one run at the end by validate_all).
queued_cdx=() queued_spdx=() names_cdx=() names_spdx=()
validate() {
	local name=$1 kind=$2 f=$3 why
	if [ ! -s "$f" ]; then fail "$name: valid $kind" "no output"; return; fi
	if [ "$kind" = cdx ]; then
		why=$(jq -r "$cdx_refs" "$f" 2>&1); queued_cdx+=("$f"); names_cdx+=("$name")
	else
		why=$(jq -r "$spdx_refs" "$f" 2>&1); queued_spdx+=("$f"); names_spdx+=("$name")
	fi
	if [ -z "$why" ]; then ok "$name: $kind references resolve"
	else fail "$name: $kind references resolve" "$(echo "$why" | head -c 300)"; fi
}
validate_all() {
	local kind i f args
	for kind in cdx spdx; do
		if [ $kind = cdx ]; then set -- "${queued_cdx[@]+"${queued_cdx[@]}"}"
		else set -- "${queued_spdx[@]+"${queued_spdx[@]}"}"; fi
		[ $# -gt 0 ] || continue
		args=(); for f in "$@"; do args+=(-d "$f"); done
		"ajv_$kind" "${args[@]}"
		i=0
		for f in "$@"; do
			if [ $kind = cdx ]; then n=${names_cdx[$i]}; else n=${names_spdx[$i]}; fi
			if grep -qxF "$f valid" "$TMP/ajv.out"; then ok "$n: valid $kind (ajv)"
			else fail "$n: valid $kind (ajv)" "$(grep -A3 -F "$f" "$TMP/ajv.out" | head -c 400 | tr '\n' ' ')"; fi
			i=$((i + 1))
		done
	done
}

# --- the validator itself rejects broken documents (so "valid" means something)
if [ -x "$W" ] && DD_SBOM_WRITE_DIR="$TMP" "$W" 2>"$TMP/w.err"; then
	jq '.components[0].type = "gadget"' "$TMP/debian.cdx.json" >"$TMP/bad.cdx.json"
	if ajv_cdx -d "$TMP/bad.cdx.json"; then fail "ajv rejects a bad CycloneDX component type"
	else ok "ajv rejects a bad CycloneDX component type"; fi
	jq '.packages[1].primaryPackagePurpose = "OPERATING-SYSTEM"' "$TMP/debian.spdx.json" >"$TMP/bad.spdx.json"
	if ajv_spdx -d "$TMP/bad.spdx.json"; then fail "ajv rejects SPDX purpose OPERATING-SYSTEM (JSON says OPERATING_SYSTEM)"
	else ok "ajv rejects SPDX purpose OPERATING-SYSTEM (JSON says OPERATING_SYSTEM)"; fi
	jq '.packages[2].SPDXID = "SPDXRef-Package_1"' "$TMP/debian.spdx.json" >"$TMP/bad1.spdx.json"
	check "the reference check finds a malformed SPDXID" \
		test -n "$(jq -r "$spdx_refs" "$TMP/bad1.spdx.json")"
	jq '.packages[2].licenseDeclared = "LicenseRef-nowhere"' "$TMP/debian.spdx.json" >"$TMP/bad2.spdx.json"
	check "the reference check finds an undefined LicenseRef" \
		test -n "$(jq -r "$spdx_refs" "$TMP/bad2.spdx.json")"
	for inv in debian unknown-os rpm; do
		validate "writer test inventory $inv" cdx "$TMP/$inv.cdx.json"
		validate "writer test inventory $inv" spdx "$TMP/$inv.spdx.json"
	done
else
	fail "writer test inventories" "$W: $(head -c 300 "$TMP/w.err" 2>/dev/null)"
fi

# --- drydock sbom on real images
images=()
for v in 310 311; do
	img="$DD_ROOT/tests/data/image/alpine-$v.tar.gz"
	[ -f "$img" ] || img="$DD_SHARED/corpus/images/alpine-$v.tar.gz"
	if [ -f "$img" ]; then images+=("alpine-$v=docker-archive:$img")
	else skip "alpine-$v" "../shared not present and tests/data/image/alpine-$v.tar.gz missing"; fi
done
if deb_env=$("$DD_ROOT/scripts/fixtures/debian-image" 2>"$TMP/fixture.err"); then
	eval "$deb_env"
	images+=("debian-include=docker-archive:$ARCHIVE_INCLUDE" "debian-app=oci:$OCI:app")
else
	skip "debian images" "no debootstrap fixture: $(tail -n 1 "$TMP/fixture.err")"
fi

for spec in "${images[@]}"; do
	name=${spec%%=*} ref=${spec#*=}
	for kind in cdx spdx; do
		fmt=cyclonedx-json; [ $kind = spdx ] && fmt=spdx-json
		out="$TMP/$name.$kind.json"
		expect_exit 0 "$name: drydock sbom --format $fmt" "$DRYDOCK" sbom --format $fmt -o "$out" "$ref"
		validate "$name" $kind "$out"
	done
	# every package of the inventory is in both documents, with the same purl
	"$DRYDOCK" sbom --format json -o "$TMP/$name.json" "$ref" 2>/dev/null
	n=$(jq '.packages | length' "$TMP/$name.json" 2>/dev/null || echo 0)
	nc=$(jq '[.components[] | select(.type == "library")] | length' "$TMP/$name.cdx.json")
	ns=$(jq '[.packages[] | select(.SPDXID | startswith("SPDXRef-Package-"))] | length' "$TMP/$name.spdx.json")
	check "$name: $n packages in json, CycloneDX and SPDX" test "$n" -gt 0 -a "$n" = "$nc" -a "$n" = "$ns"
	jq -r '.components[] | select(.type == "library") | .purl' "$TMP/$name.cdx.json" | sort >"$TMP/p1"
	jq -r '.packages[].externalRefs[]? | .referenceLocator' "$TMP/$name.spdx.json" | sort >"$TMP/p2"
	check "$name: CycloneDX and SPDX carry the same purls" cmp -s "$TMP/p1" "$TMP/p2"
done

# --- exact purls and properties on the real images
if [ -s "$TMP/alpine-310.cdx.json" ]; then
	j="$TMP/alpine-310.cdx.json"
	ver=$(jq -r '.components[] | select(.type == "operating-system") | .version' "$j")
	check "alpine-310: musl purl" test "$(jq -r '.components[] | select(.name == "musl") | .purl' "$j")" = \
		"pkg:apk/alpine/musl@1.1.22-r3?arch=x86_64&distro=alpine-$ver"
	check "alpine-310: libssl1.1 purl names its origin" \
		test "$(jq -r '.components[] | select(.name == "libssl1.1") | .purl' "$j")" = \
		"pkg:apk/alpine/libssl1.1@1.1.1d-r2?arch=x86_64&distro=alpine-$ver&upstream=openssl"
	d0=$(jq -r '.metadata.component.properties[] | select(.name == "drydock:image:layer:0:diff-id") | .value' "$j")
	check "alpine-310: packages carry layer 0 and its diff-id" \
		test "$(jq -r '[.components[] | select(.type == "library") | .properties[]
			| select(.name == "drydock:layer:diff-id") | .value] | unique | join(",")' "$j")" = "$d0"
	check "alpine-310: image -> OS -> packages" \
		test "$(jq -r '[(.dependencies[1].dependsOn | length), (.dependencies[0].dependsOn[0] | startswith("os:alpine@"))] | map(tostring) | join(" ")' "$j")" = \
		"$(jq '[.components[] | select(.type == "library")] | length' "$j") true"
fi
if [ -s "$TMP/debian-include.cdx.json" ]; then
	j="$TMP/debian-include.cdx.json"
	p=$(jq -r '.components[] | select(.name == "openssl") | .purl' "$j")
	v=$(jq -r '.components[] | select(.name == "openssl") | .version' "$j")
	enc=$(jq -rn --arg v "$v" '$v | gsub("\\+"; "%2B") | gsub(":"; "%3A")')
	check "debian: openssl purl ($p)" test "$p" = "pkg:deb/debian/openssl@$enc?arch=amd64&distro=debian-12"
	check "debian: libstdc++6 purl is percent-encoded" \
		jqe '.components[] | select(.name == "libstdc++6") | .purl | startswith("pkg:deb/debian/libstdc%2B%2B6@")' "$j"
	check "debian: login's epoch is %3A in the purl" \
		jqe '.components[] | select(.name == "login") | .purl | test("^pkg:deb/debian/login@1%3A")' "$j"
	check "debian: source package as a property (libssl3 from openssl)" \
		jqe '.components[] | select(.name == "libssl3") | .properties[]
			| select(.name == "drydock:package:source-name") | .value == "openssl"' "$j"
fi

# --- determinism
if [ ${#images[@]} -gt 0 ]; then
	spec=${images[0]}; name=${spec%%=*}; ref=${spec#*=}
	for fmt in cyclonedx-json spdx-json; do
		"$DRYDOCK" sbom --format $fmt -o "$TMP/d1" "$ref" 2>/dev/null
		"$DRYDOCK" sbom --format $fmt -o "$TMP/d2" "$ref" 2>/dev/null
		check "$name $fmt: byte-identical under SOURCE_DATE_EPOCH" cmp -s "$TMP/d1" "$TMP/d2"
		check "$name $fmt: SOURCE_DATE_EPOCH is the document time" \
			grep -q '"2023-11-14T22:13:20Z"' "$TMP/d1"
		env -u SOURCE_DATE_EPOCH "$DRYDOCK" sbom --format $fmt -o "$TMP/u1" "$ref" 2>/dev/null
		env -u SOURCE_DATE_EPOCH "$DRYDOCK" sbom --format $fmt -o "$TMP/u2" "$ref" 2>/dev/null
		check "$name $fmt: without it the serial/namespace differs" \
			sh -c '! cmp -s "$1" "$2"' - "$TMP/u1" "$TMP/u2"
		strip='del(.serialNumber, .metadata.timestamp, .documentNamespace, .creationInfo.created)
			| del(.packages[]?.annotations[]?.annotationDate)'
		for f in d1 u1 u2; do jq -S "$strip" "$TMP/$f" >"$TMP/$f.n"; done
		check "$name $fmt: and nothing else differs" \
			sh -c 'cmp -s "$1" "$2" && cmp -s "$1" "$3"' - "$TMP/d1.n" "$TMP/u1.n" "$TMP/u2.n"
	done
	SOURCE_DATE_EPOCH=soon expect_exit 2 "malformed SOURCE_DATE_EPOCH is a usage error" \
		"$DRYDOCK" sbom --format cyclonedx-json -o "$TMP/x" "$ref"
fi

validate_all
