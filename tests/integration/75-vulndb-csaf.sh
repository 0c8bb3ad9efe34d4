#!/bin/bash
# Red Hat CSAF VEX and CSAF advisories: import, spot checks against the raw
# files, counts computed independently here, every VEX document of
# ../shared/feeds, and `db update` of the VEX archive through Red Hat's
# archive_latest.txt pointer (nginx).
. "$DD_ROOT/tests/lib.sh"

C="$DD_ROOT/tests/data/vulndb/csaf"
DB="$TMP/db.sqlite"
q() { sqlite3 "$DB" "$1"; }

# tests/vulndb/csaf-count FILE... -> "advisories affected", counted independently.
expect_exit 0 "import the CSAF fixtures" "$DRYDOCK" db import --db "$DB" --source rh "$C"
grep -q "kind\|imported rh" "$TMP/out" && ok "import reports the source" || fail "report" "$(cat "$TMP/out")"
want=$(python3 "$DD_ROOT/tests/vulndb/csaf-count" "$C"/*.json)
got=$(q "select (select count(*) from advisories), (select count(*) from affected)" | tr '|' ' ')
[ "$got" = "$want" ] && ok "advisories and affected entries ($got) equal the independent count" ||
	fail "counts" "got $got, counted $want"
row() { q "select a.status || '|' || coalesce(a.urgency,'') || '|' || coalesce((select group_concat(kind||' '||version, ', ') from ranges r join range_events e on e.range_id=r.pk where r.affected_id=a.pk),'') || '|' || coalesce(a.notes,'') from affected a join advisories v on v.pk=a.advisory_id where v.id='$1' and a.ecosystem='$2' and a.package='$3'"; }
chk() { local got; got=$(row "$1" "$2" "$3"); [ "$got" = "$4" ] && ok "$1 $2 $3: $4" || fail "$1 $2 $3" "got '$got', want '$4'"; }
chk CVE-2024-0727 "Red Hat:9" openssl-libs "affected|Low|introduced 0, fixed 1:3.0.7-27.el9|"
chk CVE-2024-0727 "Red Hat:9" edk2-ovmf "affected|Low|introduced 0, fixed 20240524-6.el9_5|"
chk CVE-2024-0727 "Red Hat:8" openssl "fix-deferred|Low|introduced 0|Fix deferred"
chk CVE-2024-0727 "Red Hat:8" edk2-ovmf "will-not-fix|Low|introduced 0|Will not fix"
chk CVE-2024-0727 "Red Hat:7" openssl-libs "end-of-life|Low|introduced 0|Out of support scope"
chk CVE-2024-0727 "Red Hat:9" openssl-fips-provider "not-affected|Low||"
chk RHSA-2024:6163 "Red Hat:9" python3.9 "affected|Moderate|introduced 0, fixed 3.9.18-3.el9_4.5|"
[ "$(q "select vector||' '||score||' '||rating from severities s join advisories v on v.pk=s.advisory_id where v.id='CVE-2024-0727' and s.type='CVSS_V3'")" = "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H 5.5 MEDIUM" ] &&
	ok "the cvss_v3 score is stored with its computed base score" || fail "cvss"
[ "$(q "select group_concat(alias, ' ') from (select alias from aliases a join advisories v on v.pk=a.advisory_id where v.id='CVE-2024-0727' order by alias)")" = "RHSA-2024:2447 RHSA-2024:9088" ] &&
	ok "the vendor_fix errata are related ids" || fail "errata aliases"
[ "$(q "select alias from aliases a join advisories v on v.pk=a.advisory_id where v.id='RHSA-2024:6163'")" = "CVE-2024-8088" ] &&
	ok "an RHSA names its CVE as an alias" || fail "RHSA alias"
[ "$(q "select published || ' ' || modified from advisories where id='CVE-2024-0727'")" = "2024-01-22T00:00:00+00:00 2025-11-21T14:32:00+00:00" ] &&
	ok "dates of the VEX" || fail "dates"

# Malformed: wrong types and a truncated document.
python3 - "$C/cve-2024-0727.json" "$TMP/bad" <<'EOF'
import json, os, sys
d = json.load(open(sys.argv[1])); os.makedirs(sys.argv[2])
d2 = json.loads(json.dumps(d)); d2["vulnerabilities"][0]["cve"] = 7
json.dump(d2, open(sys.argv[2] + "/wrongtype.json", "w"))
d3 = json.loads(json.dumps(d)); d3["product_tree"] = "x"; d3["vulnerabilities"][0]["product_status"] = {"fixed": [1, None, {}]}
json.dump(d3, open(sys.argv[2] + "/badtree.json", "w"))
open(sys.argv[2] + "/truncated.json", "w").write(json.dumps(d)[:5000])
EOF
expect_exit 0 "malformed CSAF: the import goes on" "$DRYDOCK" db import --db "$DB" --source bad "$TMP/bad"
grep -q "wrongtype.json: record .*has no cve" "$TMP/err" && grep -q "truncated.json" "$TMP/err" &&
	ok "skipped records and files are named" || fail "skip messages" "$(cat "$TMP/err")"

# Every VEX document and advisory of ../shared/feeds.
if have_shared feeds/redhat/csaf-vex; then
	F="$DD_SHARED/feeds/redhat"
	expect_exit 0 "import all of ../shared/feeds/redhat CSAF" "$DRYDOCK" db import --db "$DB" --source rh-all "$F/csaf-vex" "$F/csaf-advisories"
	want=$(python3 "$DD_ROOT/tests/vulndb/csaf-count" $(find "$F/csaf-vex" "$F/csaf-advisories" -name '*.json'))
	got=$(q "select (select count(*) from advisories v join sources s on s.id=v.source_id where s.name='rh-all'), (select count(*) from affected a join advisories v on v.pk=a.advisory_id join sources s on s.id=v.source_id where s.name='rh-all')" | tr '|' ' ')
	[ "$got" = "$want" ] && ok "../shared CSAF: $got as counted" || fail "shared counts" "got $got, counted $want"
	chk CVE-2026-27142 "Red Hat:9" golang "fix-deferred|Moderate|introduced 0|Fix deferred"
	chk CVE-2026-27142 "Red Hat:hummingbird:1" golang1.25 "affected|Moderate|introduced 0, fixed 1.25.8-1.1.hum1|"
else
	skip "import of ../shared/feeds/redhat" "../shared not present"
fi

# db update: archive_latest.txt names a .tar.zst of the VEX documents.
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [ ! -x "$NGINX" ] || ! command -v zstd >/dev/null; then
	skip "db update of the Red Hat VEX archive" "nginx or zstd missing"
	exit 0
fi
W="$TMP/www"
. "$DD_ROOT/tests/integration/73-vulndb-nginx.inc"
V="$W/security.access.redhat.com/data/csaf/v2/vex"
mkdir -p "$V" "$TMP/arc/2024"
cp "$C/cve-2024-0727.json" "$TMP/arc/2024/"
tar -C "$TMP/arc" -cf - 2024 | zstd -q -o "$V/csaf_vex_2026-11-27.tar.zst"
echo "csaf_vex_2026-11-27.tar.zst" >"$V/archive_latest.txt"
nginx_start "$W" || { fail "nginx starts" "$(tail -3 "$NG/err.log")"; exit 0; }
echo "redhat-csaf-vex csaf-vex http://127.0.0.1:$PORT/security.access.redhat.com/data/csaf/v2/vex/archive_latest.txt enabled latest" >"$TMP/sources"
DB="$TMP/upd.sqlite"
expect_exit 0 "db update fetches the archive named by archive_latest.txt" "$DRYDOCK" db update --db "$DB" --sources "$TMP/sources"
want=$(python3 "$DD_ROOT/tests/vulndb/csaf-count" "$C/cve-2024-0727.json")
got=$(q "select (select count(*) from advisories), (select count(*) from affected)" | tr '|' ' ')
[ "$got" = "$want" ] && ok "the archive's VEX documents are imported ($got)" || fail "archive import" "got $got want $want"
[ "$(q "select kind from sources where name='redhat-csaf-vex'")" = csaf-vex ] && ok "kind csaf-vex" || fail "kind"
n0=$(wc -l <"$NG/access.log")
expect_exit 0 "second update" "$DRYDOCK" db update --db "$DB" --sources "$TMP/sources"
[ "$(tail -n +$((n0 + 1)) "$NG/access.log" | awk '{print $9}' | tr '\n' ' ')" = "304 " ] &&
	ok "an unchanged archive_latest.txt costs one 304" || fail "pointer 304" "$(tail -n +$((n0 + 1)) "$NG/access.log")"
