#!/bin/bash
# kill -9 `drydock db update` at random moments (downloading, importing into
# the new file, publishing it): the DB must always open, pass SQLite's
# integrity check, and hold either the previous data or the complete new
# data.  A reader that had the DB open during an update keeps reading the
# previous data.
. "$DD_ROOT/tests/lib.sh"

NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [ ! -x "$NGINX" ]; then
	skip "db update kill test" "nginx not installed (scripts/install-deps)"
	exit 0
fi
D="$DD_ROOT/tests/data/vulndb"
W="$TMP/www"
DB="$TMP/db.sqlite"
N=3000
NGINX_SLOW_RATE=5m # the 7 MB all.zip downloads in about 1.5 s
. "$DD_ROOT/tests/integration/73-vulndb-nginx.inc"
mkdir -p "$W/osv/Go" "$W/slow/Go"
# Small (old) and large (new) all.zip made from a real record.
python3 - "$D/osv/GO-2024-2687.json" "$W" "$N" <<'EOF'
import json, sys, zipfile
rec = json.load(open(sys.argv[1]))
def make(path, n):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for i in range(n):
            rec["id"] = "SYN-%05d" % i
            rec["affected"][0]["package"]["name"] = "pkg%d" % (i % 97)
            z.writestr(rec["id"] + ".json", json.dumps(rec))
make(sys.argv[2] + "/osv/Go/small.zip", 7)
make(sys.argv[2] + "/osv/Go/big.zip", int(sys.argv[3]))
EOF
cp "$W/osv/Go/small.zip" "$W/osv/Go/all.zip"
cp "$W/osv/Go/big.zip" "$W/slow/Go/all.zip"
nginx_start "$W" || { fail "nginx starts" "$(tail -3 "$NG/err.log")"; exit 0; }
U="http://127.0.0.1:$PORT"
echo "go osv $U/osv/Go/all.zip" >"$TMP/sources"
q() { python3 -c 'import sqlite3,sys; c=sqlite3.connect("file:"+sys.argv[1]+"?mode=ro", uri=True, timeout=30); print(c.execute(sys.argv[2]).fetchone()[0])' "$@"; }
n_go() { q "$DB" "select count(*) from advisories v join sources s on s.id=v.source_id where s.name='go'"; }

expect_exit 0 "baseline update (7 records)" "$DRYDOCK" db update --db "$DB" --sources "$TMP/sources"
[ "$(n_go)" = 7 ] && ok "baseline holds 7" || fail "baseline" "$(n_go)"

# A reader holding the DB open across an update keeps its data.
cp "$W/osv/Go/big.zip" "$W/osv/Go/all.zip"; touch -d '+2 seconds' "$W/osv/Go/all.zip"
python3 - "$DB" "$DRYDOCK" "$TMP/sources" >"$TMP/reader.out" 2>&1 <<'EOF'
import sqlite3, subprocess, sys
db, dd, src = sys.argv[1:4]
c = sqlite3.connect("file:" + db + "?mode=ro", uri=True)
q = "select count(*) from advisories"
before = c.execute(q).fetchone()[0]
r = subprocess.run([dd, "db", "update", "--db", db, "--sources", src, "--quiet"])
after_same_conn = c.execute(q).fetchone()[0]
fresh = sqlite3.connect("file:" + db + "?mode=ro", uri=True).execute(q).fetchone()[0]
print(r.returncode, before, after_same_conn, fresh)
EOF
read -r rc before same fresh <"$TMP/reader.out"
[ "$rc" = 0 ] && [ "$before" = 7 ] && [ "$same" = 7 ] && [ "$fresh" = "$N" ] &&
	ok "a reader open across the update still reads the previous 7; a new one reads $N" ||
	fail "reader isolation" "$(cat "$TMP/reader.out")"

# The same when the DB is in WAL mode (a db import ran) and a reader keeps
# it open: the old WAL is checkpointed before the new file replaces it.
"$DRYDOCK" db import --db "$DB" --source local "$D/osv" >/dev/null 2>&1
cp "$W/osv/Go/small.zip" "$W/osv/Go/all.zip"; touch -d '+3 seconds' "$W/osv/Go/all.zip"
python3 - "$DB" "$DRYDOCK" "$TMP/sources" >"$TMP/reader.out" 2>&1 <<'EOF'
import sqlite3, subprocess, sys
db, dd, src = sys.argv[1:4]
c = sqlite3.connect("file:" + db + "?mode=ro", uri=True)
q = "select count(*) from advisories v join sources s on s.id=v.source_id where s.name='go'"
before = c.execute(q).fetchone()[0]
mode = c.execute("pragma journal_mode").fetchone()[0]
r = subprocess.run([dd, "db", "update", "--db", db, "--sources", src, "--quiet"])
same = c.execute(q).fetchone()[0]
f = sqlite3.connect("file:" + db + "?mode=ro", uri=True)
fresh = f.execute(q).fetchone()[0]
ok = f.execute("pragma integrity_check").fetchone()[0]
print(r.returncode, mode, before, same, fresh, ok)
EOF
read -r rc mode before same fresh integ <"$TMP/reader.out"
[ "$rc" = 0 ] && [ "$mode" = wal ] && [ "$same" = "$N" ] && [ "$fresh" = 7 ] && [ "$integ" = ok ] &&
	ok "WAL-mode DB with a reader open: published; the reader keeps $N, a new one reads 7" ||
	fail "WAL reader" "$(cat "$TMP/reader.out")"

# Kill at random moments; the download comes from a rate-limited location
# (about 1.5 s) so that some kills land in the download, others in the import.
[ "$(n_go)" = 7 ] && ok "back to 7" || fail "back to 7" "$(n_go)"
echo "go osv $U/slow/Go/all.zip" >"$TMP/sources"
killed=0 i=0
for delay in 0.1 0.7 1.3 1.9 2.5 3.1; do
	i=$((i + 1))
	"$DRYDOCK" db update --db "$DB" --sources "$TMP/sources" >/dev/null 2>&1 &
	pid=$!
	sleep "$delay"
	if kill -9 $pid 2>/dev/null; then killed=$((killed + 1)); fi
	wait $pid 2>/dev/null
	integ=$(q "$DB" "pragma integrity_check")
	n=$(n_go)
	if [ "$integ" = "ok" ] && { [ "$n" = 7 ] || [ "$n" = "$N" ]; }; then
		ok "kill -9 after ${delay}s: integrity ok, source holds $n (old 7 or new $N)"
	else
		fail "kill -9 after ${delay}s" "integrity '$integ', $n advisories"
	fi
	if [ "$n" = "$N" ]; then # it had finished: put the old data back
		echo "go osv $U/osv/Go/all.zip" >"$TMP/sources"
		touch -d "+$((10 + i)) seconds" "$W/osv/Go/all.zip"
		"$DRYDOCK" db update --db "$DB" --sources "$TMP/sources" >/dev/null 2>&1
		echo "go osv $U/slow/Go/all.zip" >"$TMP/sources"
	fi
done
[ $killed -ge 3 ] && ok "$killed updates were killed mid-way" ||
	fail "kills" "only $killed updates were still running when killed"
expect_exit 0 "status after the kills" "$DRYDOCK" db status --db "$DB" --format json
expect_exit 0 "an update after the kills works" "$DRYDOCK" db update --db "$DB" --sources "$TMP/sources"
[ "$(n_go)" = "$N" ] && ok "and stores all $N" || fail "final update" "$(n_go)"
ls "$TMP" | grep -q 'update-new\|update-download' && fail "temp files cleaned" "$(ls "$TMP")" ||
	ok "no temporary files are left after the kills and a good update"
