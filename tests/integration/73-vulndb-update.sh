#!/bin/bash
# drydock db update against a real HTTP server (nginx from Debian, started
# here on loopback) serving fixture feeds under their upstream URL paths:
# first update imports, second costs only conditional requests (304), a
# changed file is re-imported, a 500 and a truncated file leave the source's
# previous data (with the error in db status), --source updates one source.
. "$DD_ROOT/tests/lib.sh"

NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [ ! -x "$NGINX" ]; then
	skip "db update against nginx" "nginx not installed (scripts/install-deps)"
	exit 0
fi
D="$DD_ROOT/tests/data/vulndb"
W="$TMP/www"
DB="$TMP/db.sqlite"
. "$DD_ROOT/tests/integration/73-vulndb-nginx.inc"

# Fixture feeds under the upstream paths.
mkdir -p "$W/osv-vulnerabilities.storage.googleapis.com/Go" "$W/secdb.alpinelinux.org/v3.10" \
	"$W/security-tracker.debian.org/tracker/data"
python3 - "$D/osv" "$W/osv-vulnerabilities.storage.googleapis.com/Go/all.zip" <<'EOF'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED) as z:
    for f in sorted(os.listdir(sys.argv[1])):
        if f.endswith(".json"):
            z.write(os.path.join(sys.argv[1], f), f)
EOF
cp "$D/secdb/alpine-v3.10-main.json" "$W/secdb.alpinelinux.org/v3.10/main.json"
cp "$D/debian/vunnel-debian.json" "$W/security-tracker.debian.org/tracker/data/json"
cp "$D/secdb/claircore-v3.10-community.json" "$W/secdb.alpinelinux.org/v3.10/community.json"
nginx_start "$W" || { fail "nginx starts" "$(cat "$NG/err.log" 2>/dev/null | tail -3)"; exit 0; }
ok "nginx serves the fixtures on 127.0.0.1:$PORT"
U="http://127.0.0.1:$PORT"
cat >"$TMP/sources" <<EOF
# test sources
osv-Go        osv            $U/osv-vulnerabilities.storage.googleapis.com/Go/all.zip
alpine-main   alpine-secdb   $U/secdb.alpinelinux.org/v3.10/main.json
alpine-comm   alpine-secdb   $U/secdb.alpinelinux.org/v3.10/community.json
debian        debian-tracker $U/security-tracker.debian.org/tracker/data/json
broken        osv            $U/fail/500/all.zip   disabled
EOF

# Independent counts: "advisories affected" of each fixture.
cat >"$TMP/count.py" <<'EOF'
import json, sys, zipfile
kind, path = sys.argv[1], sys.argv[2]
ids, aff = set(), 0
if kind == "osv":
    with zipfile.ZipFile(path) as z:
        for n in z.namelist():
            r = json.loads(z.read(n))
            ids.add(r["id"]); aff += sum(1 for a in r.get("affected") or [] if a.get("package"))
elif kind == "secdb":
    for p in json.load(open(path))["packages"]:
        for ver, lst in (p["pkg"].get("secfixes") or {}).items():
            for item in lst or []:
                if item.split():
                    ids.add(item.split()[0]); aff += 1
elif kind == "debian":
    known = {"buster","bullseye","bookworm","trixie","forky","sid","stretch","jessie","wheezy"}
    for pkg, cves in json.load(open(path)).items():
        for cve, v in cves.items():
            n = sum(1 for c, r in (v.get("releases") or {}).items()
                    if c in known and r.get("status") in ("resolved", "open", "undetermined"))
            if n: ids.add(cve); aff += n
print(len(ids), aff)
EOF
want_go=$(python3 "$TMP/count.py" osv "$W/osv-vulnerabilities.storage.googleapis.com/Go/all.zip")
want_main=$(python3 "$TMP/count.py" secdb "$W/secdb.alpinelinux.org/v3.10/main.json")
want_deb=$(python3 "$TMP/count.py" debian "$W/security-tracker.debian.org/tracker/data/json")

q() { sqlite3 "$DB" "$1"; }
counts() { # counts SOURCE -> "advisories affected"
	q "select (select count(*) from advisories v join sources s on s.id=v.source_id where s.name='$1'),
	   (select count(*) from affected a join advisories v on v.pk=a.advisory_id join sources s on s.id=v.source_id where s.name='$1')" | tr '|' ' '
}
log_since() { tail -n +"$(( $1 + 1 ))" "$NG/access.log"; }
log_lines() { wc -l <"$NG/access.log"; }

# 1. First update imports everything.
expect_exit 0 "first update" "$DRYDOCK" db update --db "$DB" --sources "$TMP/sources"
[ "$(counts osv-Go)" = "$want_go" ] && ok "osv-Go holds $want_go (advisories affected) as in all.zip" ||
	fail "osv-Go counts" "$(counts osv-Go) != $want_go"
[ "$(counts alpine-main)" = "$want_main" ] && ok "alpine-main holds $want_main" ||
	fail "alpine-main counts" "$(counts alpine-main) != $want_main"
[ "$(counts debian)" = "$want_deb" ] && ok "debian holds $want_deb" ||
	fail "debian counts" "$(counts debian) != $want_deb"
etag=$(q "select etag from sources where name='osv-Go'")
[ -n "$etag" ] && ok "the ETag is stored ($etag)" || fail "etag stored"
[ "$(q "select url from sources where name='debian'")" = "$U/security-tracker.debian.org/tracker/data/json" ] &&
	ok "the source URL is stored" || fail "url stored"
[ "$(q 'pragma journal_mode')" = "delete" ] && [ ! -e "$DB-wal" ] &&
	ok "the published DB is a single file (no -wal)" || fail "journal mode" "$(q 'pragma journal_mode')"
ls "$TMP" | grep -q 'update-new\|update-download' && fail "no temp files left" "$(ls "$TMP")" ||
	ok "no temporary files are left next to the DB"

# 2. Second update: only conditional requests, all answered 304.
n0=$(log_lines)
expect_exit 0 "second update" "$DRYDOCK" db update --db "$DB" --sources "$TMP/sources"
n304=$(log_since "$n0" | awk '$9 == 304' | wc -l)
nall=$(log_since "$n0" | wc -l)
[ "$nall" = 4 ] && [ "$n304" = 4 ] && ok "second update: 4 requests, all 304 Not Modified" ||
	fail "conditional requests" "$nall requests, $n304 answered 304: $(log_since "$n0")"
grep -c unchanged "$TMP/out" | grep -qx 4 && ok "all 4 sources reported unchanged" ||
	fail "unchanged report" "$(cat "$TMP/out")"
[ "$(counts osv-Go)" = "$want_go" ] && ok "data unchanged after the 304s" || fail "data after 304"
[ "$(q "select count(*) from sources where checked_at >= updated_at")" = 4 ] &&
	ok "the check time is recorded" || fail "checked_at"

# 3. A changed file is re-imported (and only it is downloaded).
python3 - "$W/secdb.alpinelinux.org/v3.10/main.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["packages"].append({"pkg": {"name": "zzfake", "secfixes": {"1.2-r0": ["CVE-2099-0001"]}}})
json.dump(d, open(sys.argv[1], "w"))
EOF
touch -d '+2 seconds' "$W/secdb.alpinelinux.org/v3.10/main.json"
want_main2=$(python3 "$TMP/count.py" secdb "$W/secdb.alpinelinux.org/v3.10/main.json")
n0=$(log_lines)
expect_exit 0 "update after a change" "$DRYDOCK" db update --db "$DB" --sources "$TMP/sources"
[ "$(counts alpine-main)" = "$want_main2" ] && ok "the changed source is re-imported ($want_main2)" ||
	fail "changed source" "$(counts alpine-main) != $want_main2"
[ "$(q "select count(*) from affected where package='zzfake' and ecosystem='Alpine:v3.10'")" = 1 ] &&
	ok "its new entry is there" || fail "new entry"
n200=$(log_since "$n0" | awk '$9 == 200' | wc -l)
[ "$n200" = 1 ] && ok "only the changed file was transferred (one 200)" ||
	fail "one 200" "$(log_since "$n0")"
[ "$(counts osv-Go)" = "$want_go" ] && ok "the other sources are kept" || fail "others kept"

# 4. --source NAME updates one source only.
n0=$(log_lines)
expect_exit 0 "--source debian" "$DRYDOCK" db update --db "$DB" --sources "$TMP/sources" --source debian
[ "$(log_since "$n0" | wc -l)" = 1 ] && log_since "$n0" | grep -q tracker/data/json &&
	ok "--source debian makes one request, for the tracker JSON" || fail "--source" "$(log_since "$n0")"
expect_exit 2 "--source with an unknown name is a usage error" \
	"$DRYDOCK" db update --db "$DB" --sources "$TMP/sources" --source nosuch

# 5. A 500 leaves the previous data and records the error.
before=$(counts osv-Go)
sed -i "s#^osv-Go .*#osv-Go osv $U/fail/500/all.zip#" "$TMP/sources"
expect_exit 3 "an update whose source answers 500 fails" \
	"$DRYDOCK" db update --db "$DB" --sources "$TMP/sources" --source osv-Go --retries 1
grep -q "HTTP 500" "$TMP/err" && ok "the message names the HTTP 500" || fail "500 message" "$(cat "$TMP/err")"
[ "$(counts osv-Go)" = "$before" ] && ok "osv-Go keeps its previous data ($before)" ||
	fail "500 keeps data" "$(counts osv-Go)"
"$DRYDOCK" db status --db "$DB" --format json >"$TMP/st.json" 2>/dev/null
python3 - "$TMP/st.json" <<'EOF' && ok "db status --format json shows the error for osv-Go" || fail "status error" "$(cat "$TMP/st.json")"
import json, sys
s = {x["name"]: x for x in json.load(open(sys.argv[1]))["sources"]}
g = s["osv-Go"]
assert g["errors"] >= 1 and "HTTP 500" in g["update_error"] and "HTTP 500" in g["last_error"], g
assert s["debian"]["errors"] == 0 and s["debian"]["update_error"] is None
EOF

# 6. A truncated file leaves the previous data too.
sed -i "s#^osv-Go .*#osv-Go osv $U/osv-vulnerabilities.storage.googleapis.com/Go/all.zip#" "$TMP/sources"
f="$W/secdb.alpinelinux.org/v3.10/community.json"
before=$(counts alpine-comm)
head -c $(( $(stat -c %s "$f") / 2 )) "$f" >"$f.t" && mv "$f.t" "$f"
expect_exit 3 "an update with a truncated file fails" \
	"$DRYDOCK" db update --db "$DB" --sources "$TMP/sources" --source alpine-comm
[ "$(counts alpine-comm)" = "$before" ] && ok "alpine-comm keeps its previous data ($before)" ||
	fail "truncated keeps data" "$(counts alpine-comm)"
[ -n "$(q "select update_error from sources where name='alpine-comm'")" ] &&
	ok "the truncation is recorded as the source's update error" || fail "truncation recorded"
# and a truncated zip
z="$W/osv-vulnerabilities.storage.googleapis.com/Go/all.zip"
cp "$z" "$TMP/all.zip.good"
head -c $(( $(stat -c %s "$z") - 200 )) "$TMP/all.zip.good" >"$z"
expect_exit 3 "an update with a truncated all.zip fails" \
	"$DRYDOCK" db update --db "$DB" --sources "$TMP/sources" --source osv-Go
[ "$(counts osv-Go)" = "$want_go" ] && ok "osv-Go keeps its data after a truncated zip" ||
	fail "truncated zip" "$(counts osv-Go)"
# fixed again: the error clears
cp "$TMP/all.zip.good" "$z"; touch -d '+4 seconds' "$z"
expect_exit 0 "the next good update succeeds" "$DRYDOCK" db update --db "$DB" --sources "$TMP/sources" --source osv-Go
[ -z "$(q "select update_error from sources where name='osv-Go'")" ] && ok "and clears the error" ||
	fail "error cleared"
# A feed of the wrong kind is refused.
sed -i "s#^debian  *debian-tracker#debian osv#" "$TMP/sources"
touch -d '+6 seconds' "$W/security-tracker.debian.org/tracker/data/json"
expect_exit 3 "a feed of another kind than the list says is refused" \
	"$DRYDOCK" db update --db "$DB" --sources "$TMP/sources" --source debian
[ "$(counts debian)" = "$want_deb" ] && ok "and the source keeps its data" || fail "kind mismatch"
expect_exit 0 "db status after all that" "$DRYDOCK" db status --db "$DB"
[ "$(q 'pragma integrity_check')" = ok ] && ok "integrity_check ok" || fail "integrity"

# db import waits for a running update (it holds DB.update-lock), so that it
# does not write into a file the update is about to replace.
if command -v flock >/dev/null; then
	flock "$DB.update-lock" sleep 1.5 &
	lpid=$!
	sleep 0.3
	t0=$(date +%s%N)
	expect_exit 0 "db import while the update lock is held" "$DRYDOCK" db import --db "$DB" --source waited "$D/osv"
	t1=$(date +%s%N)
	wait $lpid
	[ $(( (t1 - t0) / 1000000 )) -ge 900 ] && ok "db import waited for the lock ($(( (t1 - t0) / 1000000 )) ms)" ||
		fail "import waits" "took $(( (t1 - t0) / 1000000 )) ms"
	expect_exit 4 "a second db update while one runs is refused" \
		flock "$DB.update-lock" "$DRYDOCK" db update --db "$DB" --sources "$TMP/sources" --source debian
	grep -q "another 'drydock db update'" "$TMP/err" && ok "and says why" || fail "lock message" "$(cat "$TMP/err")"
else
	skip "import waits for a running update" "flock(1) missing"
fi
