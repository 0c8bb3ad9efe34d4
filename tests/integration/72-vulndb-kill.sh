#!/bin/bash
# kill -9 an import at random moments: the DB must always open, pass
# SQLite's integrity check, and hold either the previous contents of the
# source or the complete new ones, never a mix.  Readers during an import
# see the previous contents.
. "$DD_ROOT/tests/lib.sh"

D="$DD_ROOT/tests/data/vulndb"
DB="$TMP/db.sqlite"
BIG="$TMP/big"
N=6000

# A large OSV directory made from a real record under new ids.
python3 - "$D/osv/GO-2024-2687.json" "$BIG" "$N" <<'EOF'
import json, os, sys
rec = json.load(open(sys.argv[1]))
os.makedirs(sys.argv[2])
for i in range(int(sys.argv[3])):
    rec["id"] = "SYN-%05d" % i
    rec["affected"][0]["package"]["name"] = "pkg%d" % (i % 97)
    with open(os.path.join(sys.argv[2], rec["id"] + ".json"), "w") as f:
        json.dump(rec, f)
EOF

q() { python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1], timeout=30); print(c.execute(sys.argv[2]).fetchone()[0])' "$@"; }
n_big() { q "$DB" "select count(*) from advisories v join sources s on s.id=v.source_id where s.name='big'"; }

n_old=$(ls "$D/osv" | wc -l)
expect_exit 0 "baseline import" "$DRYDOCK" db import --db "$DB" --source big "$D/osv"
[ "$(n_big)" = "$n_old" ] && ok "baseline has $n_old advisories" || fail "baseline" "$(n_big)"

# A reader during an import sees the old snapshot.
"$DRYDOCK" db import --db "$DB" --source big "$BIG" >/dev/null 2>&1 &
pid=$!
sleep 0.5
mid=$(n_big)
if kill -0 $pid 2>/dev/null; then
	[ "$mid" = "$n_old" ] && ok "a reader during the import sees the previous $n_old" ||
		fail "reader isolation" "saw $mid"
else
	skip "reader isolation" "import finished before the reader looked"
fi
wait $pid
[ "$(n_big)" = "$N" ] && ok "complete import has $N advisories" || fail "full import" "$(n_big)"
expect_exit 0 "re-baseline" "$DRYDOCK" db import --db "$DB" --source big "$D/osv"

killed=0
for delay in 0.05 0.2 0.4 0.7 1.0 1.5 2.5; do
	"$DRYDOCK" db import --db "$DB" --source big "$BIG" >/dev/null 2>&1 &
	pid=$!
	sleep "$delay"
	if kill -9 $pid 2>/dev/null; then killed=$((killed + 1)); fi
	wait $pid 2>/dev/null
	integ=$(q "$DB" "pragma integrity_check")
	n=$(n_big)
	if [ "$integ" = "ok" ] && { [ "$n" = "$n_old" ] || [ "$n" = "$N" ]; }; then
		ok "kill -9 after ${delay}s: integrity ok, source holds $n (old $n_old or new $N)"
	else
		fail "kill -9 after ${delay}s" "integrity '$integ', $n advisories"
	fi
	# Put the old contents back when the import had completed.
	[ "$n" = "$N" ] && "$DRYDOCK" db import --db "$DB" --source big "$D/osv" >/dev/null 2>&1
done
[ $killed -ge 3 ] && ok "$killed imports were killed mid-way" ||
	fail "kills" "only $killed imports were still running when killed"
expect_exit 0 "status after the kills" "$DRYDOCK" db status --db "$DB" --format json
expect_exit 0 "an import after the kills works" "$DRYDOCK" db import --db "$DB" --source big "$BIG"
[ "$(n_big)" = "$N" ] && ok "and stores all $N" || fail "final import" "$(n_big)"
