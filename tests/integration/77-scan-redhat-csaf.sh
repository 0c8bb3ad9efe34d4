#!/bin/bash
# RHEL images against Red Hat's CSAF VEX (tests/data/vulndb/csaf: the real
# CVE-2024-0727 VEX document): ecosystem "Red Hat:9" from os-release /
# purl distro, binary rpm names, explicit epochs, not-affected kept out.
. "$DD_ROOT/tests/lib.sh"

"$DRYDOCK" db import --db "$TMP/db.sqlite" "$DD_ROOT/tests/data/vulndb/csaf/cve-2024-0727.json" >/dev/null 2>"$TMP/err" ||
	{ fail "import the CSAF VEX document" "$(cat "$TMP/err")"; exit 0; }
cat >"$TMP/bom.json" <<'JSON'
{"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
 "metadata": {"component": {"type": "container", "name": "rhel9-app"}},
 "components": [
  {"type": "operating-system", "name": "rhel", "version": "9.2"},
  {"type": "library", "name": "openssl-libs", "version": "1:3.0.7-16.el9_2", "purl": "pkg:rpm/redhat/openssl-libs@3.0.7-16.el9_2?arch=x86_64&epoch=1&distro=rhel-9.2"},
  {"type": "library", "name": "openssl", "version": "1:3.0.7-27.el9", "purl": "pkg:rpm/redhat/openssl@3.0.7-27.el9?arch=x86_64&epoch=1&distro=rhel-9.2"},
  {"type": "library", "name": "shim-x64", "version": "15.6-1.el9", "purl": "pkg:rpm/redhat/shim@15.6-1.el9?arch=x86_64&distro=rhel-9.2"},
  {"type": "library", "name": "edk2-ovmf", "version": "20230524-2.el9", "purl": "pkg:rpm/redhat/edk2@20230524-2.el9?arch=noarch&distro=rhel-9.2"}]}
JSON
"$DRYDOCK" scan --db "$TMP/db.sqlite" --sbom "$TMP/bom.json" --format json -o "$TMP/out.json" 2>"$TMP/err"
rc=$?
[ $rc -eq 0 ] && ok "scan of a RHEL 9 SBOM against Red Hat CSAF" || fail "scan of a RHEL 9 SBOM" "exit $rc: $(cat "$TMP/err")"
[ "$(jq -r '.os.ecosystem' "$TMP/out.json")" = "Red Hat:9" ] && ok "rhel 9.2 is ecosystem Red Hat:9" || fail "ecosystem" "$(jq -c .os "$TMP/out.json")"
got=$(jq -r '[.findings[] | "\(.package.name) \(.id) \(.fixed_version)"] | sort | join(",")' "$TMP/out.json")
want="edk2 CVE-2024-0727 20240524-6.el9_5,openssl-libs CVE-2024-0727 1:3.0.7-27.el9"
[ "$got" = "$want" ] && ok "openssl-libs (epoch 1, older) and edk2 are affected; openssl at the fix and shim (not affected) are not" ||
	fail "CSAF findings" "got '$got' want '$want'"
