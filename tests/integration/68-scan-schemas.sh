#!/bin/bash
# drydock scan's SARIF 2.1.0, OpenVEX 0.2.0 and CycloneDX 1.6 outputs
# validate against the official schemas (tests/data/match/schemas and
# tests/data/report/schemas: byte copies of ../shared/schemas) with ajv
# (scripts/fixtures/ajv).  ajv-cli knows draft-07 best: the SARIF (draft-04)
# and OpenVEX (2020-12) schemas are run with their "$schema" set to
# draft-07 (and SARIF's "id" as "$id"); the keywords they use mean the same
# there.  Outputs include open and suppressed (ignore file, VEX) findings;
# the validator is shown to reject a broken document of each kind.
. "$DD_ROOT/tests/lib.sh"
jqe() { jq -e "$@" >/dev/null; }
export XDG_CACHE_HOME="$TMP/cache" # scan keeps inventories there (drydock rescan)

D="$DD_ROOT/tests/data/match"
S="$D/schemas"
R="$DD_ROOT/tests/data/report/schemas"
IMG="docker-archive:$DD_ROOT/tests/data/image/alpine-310.tar.gz"
if (cd "$S" && sha256sum --quiet -c SHA256SUMS) >"$TMP/sums" 2>&1; then
	ok "schema copies match their recorded sha256 sums"
else
	fail "schema copies match their recorded sha256 sums" "$(head -c 300 "$TMP/sums")"
fi
command -v jq >/dev/null || { skip "scan schema validation" "jq missing"; exit 0; }
if ! AJV=$("$DD_ROOT/scripts/fixtures/ajv" 2>"$TMP/ajv.err"); then
	skip "scan schema validation" "ajv unavailable: $(tail -n 1 "$TMP/ajv.err")"
	exit 0
fi
DB="$TMP/db.sqlite"
"$DRYDOCK" db import --db "$DB" "$D/feeds/alpine-v3.10-main.json" "$D/feeds/osv/zlib-unfixed.json" >/dev/null 2>&1
printf 'CVE-2021-28831 pkg:ssl_client # accepted\n' >"$TMP/ignore"
cat >"$TMP/vex.json" <<'X'
{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/v", "author": "t",
 "timestamp": "2024-01-01T00:00:00Z", "version": 1,
 "statements": [{"vulnerability": {"name": "CVE-2020-28928"}, "products": [{"@id": "pkg:apk/alpine/musl"}],
   "status": "fixed"}]}
X
jq '."$schema" = "http://json-schema.org/draft-07/schema#" | ."$id" = .id | del(.id)' \
	"$S/sarif-2.1.0/sarif-schema-2.1.0.json" >"$TMP/sarif-schema.json"
jq '."$schema" = "http://json-schema.org/draft-07/schema#"' \
	"$S/openvex-0.2.0/openvex_json_schema.json" >"$TMP/openvex-schema.json"
ajv() { # ajv KIND FILE
	local kind=$1 f=$2
	case $kind in
	sarif) "$AJV" validate --spec=draft7 -c ajv-formats --strict=false --errors=line -s "$TMP/sarif-schema.json" -d "$f" ;;
	openvex) "$AJV" validate --spec=draft7 -c ajv-formats --strict=false --errors=line -s "$TMP/openvex-schema.json" -d "$f" ;;
	cyclonedx) "$AJV" validate --spec=draft7 -c ajv-formats --strict=false --errors=line \
		-s "$R/cyclonedx-1.6/bom-1.6.schema.json" -r "$R/cyclonedx-1.6/spdx.schema.json" \
		-r "$R/cyclonedx-1.6/jsf-0.82.schema.json" -d "$f" ;;
	esac >"$TMP/ajv.out" 2>&1
}
for kind in sarif openvex cyclonedx; do
	if ! "$DRYDOCK" scan --db "$DB" -f $kind --ignore-file "$TMP/ignore" --vex "$TMP/vex.json" "$IMG" \
		>"$TMP/$kind.json" 2>"$TMP/err"; then
		fail "$kind: scan" "$(head -c 300 "$TMP/err")"
		continue
	fi
	if ajv $kind "$TMP/$kind.json"; then
		ok "$kind: valid against the schema"
	else
		fail "$kind: valid against the schema" "$(grep -v 'unknown format' "$TMP/ajv.out" | head -c 400)"
	fi
done
check "sarif: 21 results, 2 of them suppressed, rules unique, security-severity set" \
	jqe '(.runs[0].results | length) == 21 and ([.runs[0].results[] | select(.suppressions)] | length) == 2
	     and (.runs[0].tool.driver.rules | map(.id) | (length == (unique | length)))
	     and ([.runs[0].tool.driver.rules[] | select(.id == "CVE-2018-25032") | .properties["security-severity"]] == ["7.5"])' "$TMP/sarif.json"
check "sarif: every ruleIndex points at its rule" \
	jqe '.runs[0] as $run | [$run.results[] | select($run.tool.driver.rules[.ruleIndex].id != .ruleId)] | length == 0' "$TMP/sarif.json"
check "openvex: affected statements carry the upgrade; suppressed ones are fixed/not_affected" \
	jqe '([.statements[] | select(.status == "affected")] | length) == 19
	     and ([.statements[] | select(.status == "fixed")] | length) == 1
	     and ([.statements[] | select(.status == "not_affected")] | length) == 1
	     and ([.statements[] | select(.vulnerability.name == "CVE-2021-3449")][0].action_statement | startswith("Upgrade "))' "$TMP/openvex.json"
check "cyclonedx: vulnerabilities reference existing components" \
	jqe '([.components[]."bom-ref"]) as $refs | ([.vulnerabilities[].affects[].ref | select(. as $r | $refs | index($r) | not)] | length == 0) and (.vulnerabilities | length) == 21' "$TMP/cyclonedx.json"

# the validator rejects broken documents
jq 'del(.runs[0].tool)' "$TMP/sarif.json" >"$TMP/bad-sarif.json"
jq '.statements[0] |= del(.action_statement)' "$TMP/openvex.json" >"$TMP/bad-openvex.json"
jq '.vulnerabilities[0].ratings[0].severity = "severe"' "$TMP/cyclonedx.json" >"$TMP/bad-cyclonedx.json"
for kind in sarif openvex cyclonedx; do
	if ajv $kind "$TMP/bad-$kind.json"; then
		fail "$kind: the validator rejects a broken document"
	else
		ok "$kind: the validator rejects a broken document"
	fi
done
