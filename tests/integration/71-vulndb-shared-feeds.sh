#!/bin/bash
# Import every feed of ../shared/feeds that drydock reads (OSV JSON/YAML of
# many ecosystems, Alpine/Wolfi secdb JSON/YAML, Debian tracker JSON) and
# check, per source, that the advisories and affected entries stored equal
# the numbers in the files, counted here independently with python3.
. "$DD_ROOT/tests/lib.sh"

F="$DD_SHARED/feeds"
if ! have_shared feeds/osv; then
	skip "import of ../shared/feeds" "../shared not present"
	exit 0
fi
DB="$TMP/db.sqlite"

# count.py KIND DIR -> "advisories affected" as found in the files.
cat >"$TMP/count.py" <<'EOF'
import json, os, sys, yaml
kind, root = sys.argv[1], sys.argv[2]
OSV_KEYS = ("affected", "schema_version", "aliases", "summary", "details",
            "published", "withdrawn", "references")
def files(root):
    for d, dirs, fs in os.walk(root):
        dirs[:] = sorted(x for x in dirs if not x.startswith("."))
        for f in sorted(fs):
            if not f.startswith(".") and (f.endswith((".json", ".yaml", ".yml")) or f == "list"
                                          or (f.startswith("CVE-") and "." not in f)):
                yield os.path.join(d, f)
def load(p):
    try:
        with open(p, "rb") as fh:
            data = fh.read()
        if data.lstrip()[:1] in (b"{", b"["):
            return json.loads(data)
        return yaml.safe_load(data)
    except Exception:
        return None
ids, aff = set(), 0
for p in files(root):
    d = load(p)
    if kind == "osv":
        recs = d if isinstance(d, list) else [d]
        for r in recs:
            if isinstance(r, dict) and isinstance(r.get("id"), str) and any(k in r for k in OSV_KEYS):
                ids.add(r["id"])
                aff += sum(1 for a in r.get("affected") or [] if a.get("package"))
    elif kind == "secdb":
        if not isinstance(d, dict) or not isinstance(d.get("packages"), list):
            continue
        for p in d["packages"]:
            for ver, lst in ((p.get("pkg") or {}).get("secfixes") or {}).items():
                for item in lst if isinstance(lst, list) else []:
                    if isinstance(item, str) and item.split():
                        ids.add(item.split()[0]); aff += 1
    elif kind == "debian":
        known = {"hamm","slink","potato","woody","sarge","etch","lenny","squeeze","wheezy",
                 "jessie","stretch","buster","bullseye","bookworm","trixie","forky","duke","sid"}
        for pkg, cves in (d or {}).items():
            for cve, v in cves.items():
                rels = v.get("releases") or {}
                n = sum(1 for c, r in rels.items() if c in known and
                        r.get("status") in ("resolved", "open", "undetermined"))
                if n:
                    ids.add(cve); aff += n
    elif kind == "debian-list":
        import re
        known = {"hamm","slink","potato","woody","sarge","etch","lenny","squeeze","wheezy",
                 "jessie","stretch","buster","bullseye","bookworm","trixie","forky","duke","sid"}
        hdr = re.compile(r"^(CVE-\d+-\S+|\[\d{1,2} \w{3} \d{4}\] (D[SL]A-\S+))")
        pl = re.compile(r"^\s+(?:\[(\S+)\]\s+)?-\s+(\S+)(?:\s+(\S+))?")
        cur = None
        for line in open(p, encoding="utf-8", errors="replace"):
            if line.strip() == "":
                continue
            if not line[0].isspace():
                m = hdr.match(line)
                cur = (m.group(2) or m.group(1)) if m else None
                if cur and "XXXX" in cur:
                    cur = None
                continue
            m = pl.match(line)
            if cur and m and (m.group(1) or "sid") in known and m.group(3) != "<removed>":
                ids.add(cur); aff += 1
    elif kind == "cve":
        if not isinstance(d, dict):
            continue
        for v in d.get("vulnerabilities") or []:
            ids.add(v["cve"]["id"])
        for v in d.get("CVE_Items") or []:
            ids.add(v["cve"]["CVE_data_meta"]["ID"])
        if d.get("dataType") == "CVE_RECORD":
            ids.add(d["cveMetadata"]["cveId"])
    elif kind == "uct":
        import re
        rels = {"warty","hoary","breezy","dapper","edgy","feisty","gutsy","hardy","intrepid",
                "jaunty","karmic","lucid","maverick","natty","oneiric","precise","quantal",
                "raring","saucy","trusty","utopic","vivid","wily","xenial","yakkety","zesty",
                "artful","bionic","cosmic","disco","eoan","focal","groovy","hirsute","impish",
                "jammy","kinetic","lunar","mantic","noble","oracular","plucky","questing","resolute"}
        st = re.compile(r"^([a-z]+)(/esm)?_([^:\s]+):\s*(\S+)(?:\s*\(([^)\n]*)\)?)?")
        cand = None
        n = 0
        for line in open(p, encoding="utf-8", errors="replace"):
            if line.startswith("Candidate:"):
                cand = line.split(":", 1)[1].strip()
            m = st.match(line)
            if not m or m.group(1) not in rels or "/" in line.split("_")[0] and not m.group(2):
                continue
            status, note = m.group(4), m.group(5)
            if status == "DNE" or (status == "released" and (not note or " " in note)):
                continue
            n += 1
        if cand and cand.startswith("CVE-"):
            ids.add(cand); aff += n
print(len(ids), aff)
EOF

q() { python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(*c.execute(sys.argv[2], sys.argv[3:]).fetchone())' "$@"; }

check_source() { # KIND NAME DIR
	local kind=$1 name=$2 dir=$3 want got line
	want=$(python3 "$TMP/count.py" "$kind" "$dir")
	"$DRYDOCK" db import --db "$DB" --source "$name" "$dir" >"$TMP/out" 2>"$TMP/err"
	local rc=$?
	line=$(cat "$TMP/out")
	if [ $rc -ne 0 ]; then
		fail "$name: import" "exit $rc: $(head -c 300 "$TMP/err")"
		return
	fi
	echo "# $line"
	got=$(q "$DB" "select (select count(*) from advisories v where v.source_id=s.id), (select count(*) from affected a join advisories v on v.pk=a.advisory_id where v.source_id=s.id) from sources s where s.name=?" "$name")
	if [ "$got" = "$want" ]; then
		ok "$name: advisories/affected stored = in the files ($want)"
	else
		fail "$name: counts" "stored $got, files $want"
	fi
}

for d in "$F"/osv/*/; do
	n=$(basename "$d")
	check_source osv "osv-$n" "$d"
done
check_source secdb alpine-secdb-yaml "$F/alpine-secdb/alpinelinux-alpine-secdb-yaml"
check_source secdb alpine-json-fixtures "$F/alpine-secdb/json-fixtures"
check_source secdb alpine-reconstructed "$F/alpine-secdb/reconstructed"
check_source secdb alpine-yaml-fixtures "$F/alpine-secdb/yaml-fixtures"
check_source secdb wolfi-chainguard "$F/wolfi-chainguard/secdb"
check_source debian debian-tracker "$F/debian-security-tracker/json-fixtures"
check_source debian-list debian-dsa "$F/debian-security-tracker/salsa-security-tracker/data/DSA"
check_source debian-list debian-dla "$F/debian-security-tracker/salsa-security-tracker/data/DLA"
check_source cve nvd-api-2.0 "$F/nvd/api-2.0"
check_source cve nvd-1.1 "$F/nvd/legacy-1.1-feed"
check_source cve cvelistV5 "$F/cve-json5"
check_source uct ubuntu-cve-tracker "$F/../feeds/ubuntu/ubuntu-cve-tracker"
check_source debian-list debian-cve-list "$F/debian-security-tracker/fixtures/vuln-list-update-happy/data/CVE"

# A directory with nothing drydock reads is an error, not an empty source.
expect_exit 3 "vuln-list's converted layout is not a feed" \
	"$DRYDOCK" db import --db "$DB" "$F/alpine-secdb/vuln-list-converted-format"

# Spot checks against the raw files.
got=$(q "$DB" "select group_concat(e.kind||'='||e.version, ' ') from advisories v join sources s on s.id=v.source_id join affected a on a.advisory_id=v.pk join ranges r on r.affected_id=a.pk join range_events e on e.range_id=r.pk where s.name='osv-ghsa-github-advisory-database' and v.id='GHSA-jfh8-c2jp-5v3q' and r.pk=(select min(r2.pk) from ranges r2 where r2.affected_id=a.pk) and a.pk=(select min(pk) from affected where advisory_id=v.pk)")
[ "$got" = "introduced=2.13.0 fixed=2.15.0" ] && ok "GHSA-jfh8 (Log4Shell) first range" || fail "GHSA-jfh8" "$got"
got=$(q "$DB" "select count(*) from advisories v join sources s on s.id=v.source_id where s.name='osv-go-vulndb' and v.withdrawn is not null")
want=$(grep -l '"withdrawn"' "$F"/osv/go-vulndb/data/osv/*.json | wc -l)
[ "$got" = "$want" ] && ok "go-vulndb: $want withdrawn records kept as withdrawn" || fail "withdrawn" "$got vs $want"
got=$(q "$DB" "select a.status from advisories v join affected a on a.advisory_id=v.pk where v.id='CVE-2016-2781' and a.ecosystem='Wolfi' and a.package='coreutils'")
[ "$got" = "not-affected" ] && ok "Wolfi secfixes \"0\" = not-affected" || fail "wolfi 0" "$got"
got=$(q "$DB" "select e.version from advisories v join affected a on a.advisory_id=v.pk join ranges r on r.affected_id=a.pk join range_events e on e.range_id=r.pk where v.id='CVE-2020-1967' and a.ecosystem='Alpine:v3.11' and a.package='openssl' and e.kind='fixed'")
[ "$got" = "1.1.1g-r0" ] && ok "CVE-2020-1967 openssl fixed 1.1.1g-r0 on Alpine v3.11" || fail "alpine 3.11 openssl" "$got"
got=$(q "$DB" "select s.score||' '||s.rating from advisories v join severities s on s.advisory_id=v.pk where v.id='GHSA-jfh8-c2jp-5v3q' and s.type='CVSS_V3'")
[ "$got" = "10.0 CRITICAL" ] && ok "Log4Shell CVSS v3.1 base score computed 10.0" || fail "cvss" "$got"
got=$(q "$DB" "select count(*) from affected where ecosystem='AlmaLinux:9' and package='openssl'")
want=$(python3 -c '
import json,glob
n=0
for f in glob.glob("'"$F"'/osv/almalinux-osv-database/advisories/almalinux9/*.json"):
    n+=sum(1 for a in json.load(open(f)).get("affected",[]) if a["package"]["ecosystem"]=="AlmaLinux:9" and a["package"]["name"]=="openssl")
print(n)')
[ "$got" = "$want" ] && ok "AlmaLinux:9 openssl: $want affected entries" || fail "alma openssl" "$got vs $want"

got=$(q "$DB" "select a.ecosystem||' '||e.version from advisories v join sources s on s.id=v.source_id join affected a on a.advisory_id=v.pk join ranges r on r.affected_id=a.pk join range_events e on e.range_id=r.pk where s.name='debian-dsa' and v.id='DSA-5380-1' and e.kind='fixed'")
[ "$got" = "Debian:11 2:1.20.11-1+deb11u6" ] && ok "DSA-5380-1 xorg-server fixed in bullseye" || fail "DSA-5380-1" "$got"
got=$(q "$DB" "select count(*) from affected a join advisories v on v.pk=a.advisory_id join sources s on s.id=v.source_id where s.name='debian-dsa' and a.status='not-affected'")
want=$(grep -c '<not-affected>' "$F/debian-security-tracker/salsa-security-tracker/data/DSA/list")
[ "$got" = "$want" ] && ok "DSA list: $want <not-affected> entries" || fail "not-affected" "$got vs $want"

got=$(q "$DB" "select a.status||' '||coalesce(e.version,'-') from advisories v join sources s on s.id=v.source_id join affected a on a.advisory_id=v.pk left join ranges r on r.affected_id=a.pk left join range_events e on e.range_id=r.pk and e.kind='fixed' where s.name='ubuntu-cve-tracker' and v.id='CVE-2020-10029' and a.ecosystem='Ubuntu:18.04:LTS' and a.package='glibc'")
want=$(sed -n 's/^bionic_glibc: \([a-z-]*\).*/\1/p' "$F/ubuntu/ubuntu-cve-tracker/active/CVE-2020-10029")
case "$want" in needs-triage) want="under-investigation -";; needed) want="affected -";; esac
[ "$got" = "$want" ] && ok "UCT CVE-2020-10029 glibc on bionic: $got" || fail "UCT glibc" "$got vs $want"

# Every CVSS score computed from its vector equals the one NVD published.
bad=$(python3 - "$DB" "$F/nvd/legacy-1.1-feed/nvdcve-1.1-test-data.json" <<'EOF'
import json, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
d = json.load(open(sys.argv[2]))
n = bad = 0
for it in d["CVE_Items"]:
    cid = it["cve"]["CVE_data_meta"]["ID"]
    for key, typ, sub in (("baseMetricV3", "CVSS_V3", "cvssV3"), ("baseMetricV2", "CVSS_V2", "cvssV2")):
        m = it.get("impact", {}).get(key)
        if not m:
            continue
        row = c.execute("select s.score from severities s join advisories v on v.pk=s.advisory_id "
                        "join sources src on src.id=v.source_id where src.name='nvd-1.1' and v.id=? "
                        "and s.type=?", (cid, typ)).fetchone()
        n += 1
        if not row or abs(row[0] - m[sub]["baseScore"]) > 0.001:
            bad += 1
            print(cid, typ, row, m[sub]["baseScore"], file=sys.stderr)
print(bad, n)
EOF
)
[ "${bad%% *}" = "0" ] && ok "NVD 1.1 feed: all ${bad#* } CVSS scores stored = NVD's" || fail "nvd scores" "$bad"

"$DRYDOCK" db status --db "$DB" >"$TMP/out" 2>&1 && ok "status after importing everything" || fail "status"
sed 's/^/# /' "$TMP/out" | head -1
echo "# DB size: $(stat -c %s "$DB") bytes"
