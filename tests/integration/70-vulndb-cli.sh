#!/bin/bash
# drydock db import/status/export on the small real fixtures of
# tests/data/vulndb: counts checked against the files (counted here with
# python3, not by drydock), source naming, archives, failures that must keep
# the previous data, export/import with a sha256 check.
. "$DD_ROOT/tests/lib.sh"

D="$DD_ROOT/tests/data/vulndb"
DB="$TMP/db.sqlite"
q() { python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute(sys.argv[2]).fetchone()[0])' "$@"; }
jsonget() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {"d": d}))' "$@"; }

# Independent counts: every OSV fixture file is one record; affected = the
# affected[] entries that name a package.
read -r n_osv n_osv_aff < <(python3 - "$D/osv" <<'EOF'
import json, os, sys, yaml
recs = aff = 0
for f in sorted(os.listdir(sys.argv[1])):
    p = os.path.join(sys.argv[1], f)
    d = yaml.safe_load(open(p)) if f.endswith('.yaml') else json.load(open(p))
    recs += 1
    aff += sum(1 for a in d.get('affected') or [] if a.get('package'))
print(recs, aff)
EOF
)

expect_exit 0 "import a directory of OSV records (JSON and YAML)" \
	"$DRYDOCK" db import --db "$DB" "$D/osv"
grep -q "imported vulndb-osv (osv): $n_osv files, $n_osv records" "$TMP/out" &&
	ok "import summary names source, format and counts" ||
	fail "import summary" "$(cat "$TMP/out")"

"$DRYDOCK" db status --db "$DB" --format json >"$TMP/st.json" 2>"$TMP/st.err"
if [ "$(jsonget "$TMP/st.json" 'd["advisories"]')" = "$n_osv" ] &&
   [ "$(jsonget "$TMP/st.json" 'd["affected"]')" = "$n_osv_aff" ]; then
	ok "status JSON: $n_osv advisories, $n_osv_aff affected, as counted in the files"
else
	fail "status JSON counts" "$(head -c 400 "$TMP/st.json")"
fi
[ "$(jsonget "$TMP/st.json" '[s["name"] for s in d["sources"]]')" = "['vulndb-osv']" ] &&
[ "$(jsonget "$TMP/st.json" 'sorted(d["sources"][0].keys())')" = \
  "['advisories', 'affected', 'age_seconds', 'errors', 'etag', 'kind', 'last_error', 'name', 'records', 'stale', 'updated', 'url']" ] &&
	ok "status JSON has the documented per-source fields" ||
	fail "status JSON fields" "$(head -c 400 "$TMP/st.json")"

# Spot check, field by field, against the raw record.
got=$(q "$DB" "select group_concat(e.kind||'='||e.version, ' ') from advisories v join affected a on a.advisory_id=v.pk join ranges r on r.affected_id=a.pk join range_events e on e.range_id=r.pk where v.id='GO-2024-2687' and a.package='stdlib' order by e.seq")
[ "$got" = "introduced=0 fixed=1.21.9 introduced=1.22.0-0 fixed=1.22.2" ] &&
	ok "GO-2024-2687 stdlib events stored in order" || fail "GO-2024-2687 events" "$got"

# Table output and the staleness warning.
expect_exit 0 "status table" "$DRYDOCK" db status --db "$DB"
grep -q '^vulndb-osv ' "$TMP/out" && ok "table lists the source" || fail "table" "$(cat "$TMP/out")"
sleep 1
expect_exit 0 "status with --max-age 0s" "$DRYDOCK" db status --db "$DB" --max-age 0s
grep -q "source vulndb-osv is .* old" "$TMP/err" && ok "--max-age warns about old sources" ||
	fail "--max-age warning" "$(cat "$TMP/err")"
expect_exit 2 "bad --max-age is a usage error" "$DRYDOCK" db status --db "$DB" --max-age soon
expect_exit 4 "status of a missing DB" "$DRYDOCK" db status --db "$TMP/nope.sqlite"

# Source names come from the path; secdb and Debian formats from content.
expect_exit 0 "import secdb JSON, YAML and Debian tracker JSON" \
	"$DRYDOCK" db import --db "$DB" "$D/secdb/alpine-v3.10-main.json" \
	"$D/secdb/alpine-v3.6-main.yaml" "$D/debian/vunnel-debian.json"
"$DRYDOCK" db status --db "$DB" --format json >"$TMP/st.json"
[ "$(jsonget "$TMP/st.json" 'sorted((s["name"], s["kind"]) for s in d["sources"])')" = \
  "[('alpine-v3.10-main', 'alpine-secdb'), ('alpine-v3.6-main', 'alpine-secdb'), ('vulndb-osv', 'osv'), ('vunnel-debian', 'debian-tracker')]" ] &&
	ok "one source per path, format detected from content" ||
	fail "source names" "$(jsonget "$TMP/st.json" '[(s["name"], s["kind"]) for s in d["sources"]]')"
n_items=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(len(v) for p in d["packages"] for v in p["pkg"]["secfixes"].values()))' "$D/secdb/alpine-v3.10-main.json")
[ "$(jsonget "$TMP/st.json" '[s["affected"] for s in d["sources"] if s["name"]=="alpine-v3.10-main"][0]')" = "$n_items" ] &&
	ok "alpine v3.10 main: $n_items affected entries, one per secfixes item" ||
	fail "alpine affected count"
got=$(q "$DB" "select r.version from advisories v join affected a on a.advisory_id=v.pk join ranges g on g.affected_id=a.pk join range_events r on r.range_id=g.pk where v.id='CVE-2021-36159' and a.package='apk-tools' and a.ecosystem='Alpine:v3.10' and r.kind='fixed'")
[ "$got" = "2.10.7-r0" ] && ok "CVE-2021-36159 apk-tools fixed in 2.10.7-r0 (Alpine:v3.10)" ||
	fail "alpine spot check" "$got"
got=$(q "$DB" "select a.status||' '||a.urgency from advisories v join affected a on a.advisory_id=v.pk where v.id='CVE-2008-7220' and a.ecosystem='Debian:10'")
[ "$got" = "affected high**" ] && ok "Debian buster -> Debian:10, urgency kept" ||
	fail "debian spot check" "$got"

# --source groups several paths into one source (one transaction).
expect_exit 0 "--source groups paths" "$DRYDOCK" db import --db "$DB" --source alpine \
	"$D/secdb/alpine-v3.10-main.json" "$D/secdb/claircore-v3.10-community.json"
grep -q "imported alpine (alpine-secdb): 2 files" "$TMP/out" && ok "grouped import" ||
	fail "grouped import" "$(cat "$TMP/out")"

# Archives: .json.gz, .tar.xz, .zip (format detected, never extracted).
mkdir "$TMP/wolfi" && gzip -c "$D/secdb/wolfi-os-security.json" >"$TMP/wolfi/security.json.gz"
expect_exit 0 "import a .json.gz" "$DRYDOCK" db import --db "$DB" "$TMP/wolfi/security.json.gz"
grep -q "imported wolfi-security (alpine-secdb): 1 files, 27 records" "$TMP/out" &&
	ok ".json.gz read through libarchive" || fail ".json.gz" "$(cat "$TMP/out") $(cat "$TMP/err")"
tar -C "$D" -cJf "$TMP/feeds.tar.xz" osv debian/vunnel-debian.json debian/osv-dev-debian_security_tracker_mock.json
expect_exit 0 "import a .tar.xz" "$DRYDOCK" db import --db "$DB" --source tarball "$TMP/feeds.tar.xz"
grep -q "imported tarball (mixed): $((n_osv + 2)) files" "$TMP/out" && ok ".tar.xz members imported" ||
	fail ".tar.xz" "$(cat "$TMP/out")"
(cd "$D/osv" && python3 -c 'import zipfile,sys,os; z=zipfile.ZipFile(sys.argv[1],"w",zipfile.ZIP_DEFLATED); [z.write(f) for f in sorted(os.listdir("."))]; z.writestr("README.txt","x")' "$TMP/all.zip")
expect_exit 0 "import an osv.dev-style all.zip" "$DRYDOCK" db import --db "$DB" --source zip "$TMP/all.zip"
grep -q "imported zip (osv): $n_osv files, $n_osv records, $n_osv advisories, $n_osv_aff affected, 0 skipped" "$TMP/out" &&
	ok "all.zip streamed: same counts as the directory" || fail "zip" "$(cat "$TMP/out")"

# Failures keep the previous data.
before=$(q "$DB" "select count(*) from affected")
echo 'this is not a feed' >"$TMP/notes.json"
expect_exit 3 "a file that is not a feed is bad input" \
	"$DRYDOCK" db import --db "$DB" --source vulndb-osv "$TMP/notes.json"
grep -q "notes.json" "$TMP/err" && ok "the error names the file" || fail "error message" "$(cat "$TMP/err")"
mkdir "$TMP/dir" && cp "$D/osv/GO-2024-2687.json" "$TMP/dir/a.json" && cp "$TMP/notes.json" "$TMP/dir/z.json"
expect_exit 3 "--strict: a directory with a bad last file fails" \
	"$DRYDOCK" db import --db "$DB" --source vulndb-osv --strict "$TMP/dir"
after=$(q "$DB" "select count(*) from affected")
[ "$before" = "$after" ] && [ "$(q "$DB" "select count(*) from advisories v join sources s on s.id=v.source_id where s.name='vulndb-osv'")" = "$n_osv" ] &&
	ok "failed imports left the DB as it was ($after affected)" || fail "atomicity" "$before -> $after"
expect_exit 0 "without --strict the bad file is skipped with a warning" \
	"$DRYDOCK" db import --db "$DB" --source vulndb-osv "$TMP/dir"
grep -q "skipped .*z.json" "$TMP/err" && ok "warning names the skipped file" || fail "skip warning" "$(cat "$TMP/err")"

# Export for an air-gapped machine, and import there.
expect_exit 0 "db export" "$DRYDOCK" db export --db "$DB" "$TMP/export.db"
(cd "$TMP" && sha256sum -c export.db.sha256 >/dev/null 2>&1) && ok "export .sha256 verifies with sha256sum" ||
	fail "sha256 sidecar" "$(cat "$TMP/export.db.sha256")"
expect_exit 0 "db import of an export into a fresh DB" "$DRYDOCK" db import --db "$TMP/air.sqlite" "$TMP/export.db"
[ "$(q "$TMP/air.sqlite" "select count(*) from affected")" = "$(q "$DB" "select count(*) from affected")" ] &&
	ok "air-gapped copy has the same rows" || fail "export/import rows"
cp "$TMP/export.db" "$TMP/bad.db" && cp "$TMP/export.db.sha256" "$TMP/bad.db.sha256"
printf 'X' | dd of="$TMP/bad.db" bs=1 seek=5000 conv=notrunc 2>/dev/null
expect_exit 3 "a tampered export is refused" "$DRYDOCK" db import --db "$TMP/air.sqlite" "$TMP/bad.db"
grep -q "does not match" "$TMP/err" && ok "checksum mismatch reported" || fail "tamper message" "$(cat "$TMP/err")"

expect_exit 2 "db without a command" "$DRYDOCK" db
expect_exit 2 "db with an unknown command" "$DRYDOCK" db frobnicate
expect_exit 2 "db import without a path" "$DRYDOCK" db import --db "$DB"
expect_exit 0 "db import --help" "$DRYDOCK" db import --help
