#!/bin/bash
# The CI gate and the filters of drydock scan, each changing the exit code
# and the output as docs/cli.md says: --fail-on, --severity,
# --ignore-unfixed, the ignore file (package scope, expiry), VEX (OpenVEX
# and CycloneDX) and the table's colour rules.  Data: alpine-310 against
# the bundled v3.10 secdb plus one OSV record (zlib CVE-2018-25032, CVSS
# 7.5 HIGH, no fix listed).
. "$DD_ROOT/tests/lib.sh"
jqe() { jq -e "$@" >/dev/null; }
export XDG_CACHE_HOME="$TMP/cache" # scan keeps inventories there (drydock rescan)

D="$DD_ROOT/tests/data/match"
IMG="docker-archive:$DD_ROOT/tests/data/image/alpine-310.tar.gz"
command -v jq >/dev/null || { skip "scan gates" "jq missing"; exit 0; }
DB="$TMP/db.sqlite"
"$DRYDOCK" db import --db "$DB" "$D/feeds/alpine-v3.10-main.json" "$D/feeds/osv/zlib-unfixed.json" >/dev/null 2>&1
scan() { "$DRYDOCK" scan --db "$DB" "$IMG" "$@"; }

expect_exit 0 "no --fail-on: exit 0 with findings" scan
expect_exit 1 "--fail-on HIGH: exit 1 (zlib CVE-2018-25032 is HIGH)" scan --fail-on HIGH
check "--fail-on: the message counts the findings" grep -q "1 finding(s) at or above HIGH" "$TMP/err"
check "--fail-on: the report is still written" grep -q "CVE-2018-25032" "$TMP/out"
expect_exit 0 "--fail-on CRITICAL: exit 0" scan --fail-on CRITICAL
expect_exit 1 "--fail-on UNKNOWN: every finding counts" scan --fail-on unknown
expect_exit 2 "--fail-on with a bad severity is a usage error" scan --fail-on SEVERE
expect_exit 0 "--severity CRITICAL,UNKNOWN filters the HIGH one before the gate" scan --fail-on HIGH --severity CRITICAL,UNKNOWN -f json
check "--severity: output lacks the filtered finding" jqe '([.findings[] | select(.severity == "HIGH")] | length == 0) and (.findings | length) == 20' "$TMP/out"
expect_exit 0 "--ignore-unfixed drops the unfixed HIGH finding" scan --fail-on HIGH --ignore-unfixed -f json
check "--ignore-unfixed: every remaining finding has a fixed version" jqe '([.findings[] | select(.fixed_version == null)] | length == 0) and (.findings | length) == 20' "$TMP/out"

# ignore file: id, package scope, expiry, reason
cat >"$TMP/ignore" <<'X'
# accepted risks
CVE-2018-25032 exp:2999-12-31   # zlib is never fed untrusted input here
CVE-2021-28831 pkg:ssl_client
X
expect_exit 0 "ignore file: the ignored HIGH finding no longer fails the gate" scan --fail-on HIGH --ignore-file "$TMP/ignore" -f json
check "ignore file: suppressed findings are listed with the rule and reason" \
	jqe '[.suppressed[] | select(.id == "CVE-2018-25032" and .suppressed_by == "ignore-file" and (.suppress_reason | endswith(":2: zlib is never fed untrusted input here")))] | length == 1' "$TMP/out"
check "ignore file: pkg:ssl_client suppresses only ssl_client's CVE-2021-28831" \
	jqe '([.suppressed[] | select(.id == "CVE-2021-28831") | .package.name] == ["ssl_client"]) and ([.findings[] | select(.id == "CVE-2021-28831") | .package.name] == ["busybox"])' "$TMP/out"
sed -i 's/exp:2999-12-31/exp:2020-01-01/' "$TMP/ignore"
expect_exit 1 "ignore file: an expired rule is not applied" scan --fail-on HIGH --ignore-file "$TMP/ignore"
check "ignore file: the expiry is warned about" grep -q "expired on 2020-01-01; not applied" "$TMP/err"
printf 'CVE-2018-25032 exp:2024-02-30\n' >"$TMP/bad-ignore"
expect_exit 3 "ignore file: an impossible date is bad input" scan --ignore-file "$TMP/bad-ignore"
check "ignore file: the error names file and line" grep -q "bad-ignore:1:" "$TMP/err"

# OpenVEX
cat >"$TMP/vex.json" <<'X'
{
  "@context": "https://openvex.dev/ns/v0.2.0",
  "@id": "https://example.com/vex/1",
  "author": "test",
  "timestamp": "2024-01-01T00:00:00Z",
  "version": 1,
  "statements": [
    { "vulnerability": {"name": "CVE-2018-25032"},
      "products": [{"@id": "pkg:oci/alpine", "subcomponents": [{"@id": "pkg:apk/alpine/zlib"}]}],
      "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path",
      "impact_statement": "deflate is never called" }
  ]
}
X
expect_exit 0 "OpenVEX not_affected suppresses the finding" scan --fail-on HIGH --vex "$TMP/vex.json" -f json
check "OpenVEX: the report says why" \
	jqe '[.suppressed[] | select(.id == "CVE-2018-25032" and .suppressed_by == "vex:not_affected" and .suppress_reason == "openvex VEX: not_affected (vulnerable_code_not_in_execute_path): deflate is never called")] | length == 1' "$TMP/out"
sed 's|pkg:apk/alpine/zlib|pkg:apk/alpine/musl|' "$TMP/vex.json" >"$TMP/vex-other.json"
expect_exit 1 "OpenVEX about another package does not suppress" scan --fail-on HIGH --vex "$TMP/vex-other.json"
cat >"$TMP/cdx-vex.json" <<'X'
{ "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
  "components": [{"type": "library", "bom-ref": "z", "name": "zlib", "purl": "pkg:apk/alpine/zlib@1.2.11-r1"}],
  "vulnerabilities": [{"id": "CVE-2018-25032", "analysis": {"state": "resolved", "detail": "patched in our build"},
                       "affects": [{"ref": "z"}]}] }
X
expect_exit 0 "CycloneDX VEX resolved suppresses the finding" scan --fail-on HIGH --vex "$TMP/cdx-vex.json" -f json
check "CycloneDX VEX: reported as fixed, with the detail" \
	jqe '[.suppressed[] | select(.suppressed_by == "vex:fixed" and .suppress_reason == "cyclonedx VEX: fixed: patched in our build")] | length == 1' "$TMP/out"
echo '{"statements": [{"status": "not_affected"}]}' >"$TMP/bad-vex.json"
expect_exit 3 "a VEX statement without a vulnerability is bad input" scan --vex "$TMP/bad-vex.json"

# table: grouped, summary line, no colour when not a TTY or with NO_COLOR
scan >"$TMP/table" 2>/dev/null
check "table: summary line with severity counts and fixable" grep -q "^Total: 21 (CRITICAL: 0, HIGH: 1, MEDIUM: 0, LOW: 0, NEGLIGIBLE: 0, UNKNOWN: 20), fixable: 20" "$TMP/table"
check "table: no escape codes when not a terminal" bash -c "! grep -q $'\033' '$TMP/table'"
if command -v script >/dev/null; then
	NO_COLOR=1 script -qec "'$DRYDOCK' scan --db '$DB' '$IMG'" /dev/null >"$TMP/tty" 2>&1
	check "table: NO_COLOR is respected on a terminal" bash -c "! grep -q $'\033\\[' '$TMP/tty' && grep -q CVE-2018-25032 '$TMP/tty'"
	script -qec "'$DRYDOCK' scan --db '$DB' '$IMG'" /dev/null >"$TMP/tty" 2>&1
	check "table: colour on a terminal" grep -q $'\033\\[31mHIGH' "$TMP/tty"
else
	skip "table colour on a terminal" "script(1) missing"
fi
expect_exit 4 "no DB: environment error naming db import" "$DRYDOCK" scan --db "$TMP/none.sqlite" "$IMG"
check "no DB: the message says to run db import" grep -q "drydock db import" "$TMP/err"
