#!/bin/bash
# db update of Red Hat CSAF VEX with changes.csv / deletions.csv (nginx on
# loopback, the upstream directory layout): the first update imports the
# archive archive_latest.txt names; an unchanged changes.csv costs one 304;
# then only the files changed since are fetched (never the archive again),
# a changed document replaces its advisory, deletions.csv removes one, a
# file that cannot be fetched leaves the source as it was (cursor kept) and
# the next update catches up.  Counts are computed independently here.
. "$DD_ROOT/tests/lib.sh"

NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [ ! -x "$NGINX" ] || ! command -v zstd >/dev/null || ! command -v sqlite3 >/dev/null; then
	skip "db update with changes.csv" "nginx, zstd or sqlite3 missing (scripts/install-deps)"
	exit 0
fi
C="$DD_ROOT/tests/data/vulndb/csaf"
W="$TMP/www"
V="$W/security.access.redhat.com/data/csaf/v2/vex"
DB="$TMP/db.sqlite"
. "$DD_ROOT/tests/integration/73-vulndb-nginx.inc"
q() { sqlite3 "$DB" "$1"; }

# Documents: the real CVE-2024-0727 VEX (v1), a revision of it (v2: new
# title, the known_not_affected products dropped), and copies of v1 under
# other CVE ids.
mkdir -p "$TMP/docs" "$TMP/arc/2024" "$TMP/arc/2099" "$V/2024" "$V/2099"
python3 - "$C/cve-2024-0727.json" "$TMP/docs" <<'EOF'
import copy, json, sys
d = json.load(open(sys.argv[1])); out = sys.argv[2]
json.dump(d, open(out + "/v1.json", "w"))
v2 = copy.deepcopy(d)
v2["vulnerabilities"][0]["title"] = "openssl: revised in test"
v2["vulnerabilities"][0]["product_status"].pop("known_not_affected", None)
json.dump(v2, open(out + "/v2.json", "w"))
for n in ("0001", "0002", "0003"):
    c = copy.deepcopy(d)
    c["vulnerabilities"][0]["cve"] = "CVE-2099-" + n
    c["document"]["tracking"]["id"] = "CVE-2099-" + n
    json.dump(c, open(out + "/cve-2099-%s.json" % n, "w"))
EOF
cp "$TMP/docs/v1.json" "$TMP/arc/2024/cve-2024-0727.json"
cp "$TMP/docs/cve-2099-0002.json" "$TMP/arc/2099/"
tar -C "$TMP/arc" -cf - 2024 2099 | zstd -q -o "$V/csaf_vex_2026-11-20.tar.zst"
echo "csaf_vex_2026-11-20.tar.zst" >"$V/archive_latest.txt"
cp "$TMP/docs/v1.json" "$V/2024/cve-2024-0727.json"
cp "$TMP/docs/cve-2099-0002.json" "$V/2099/"
cat >"$V/changes.csv" <<'EOF'
"2099/cve-2099-0002.json","2026-11-19T09:00:00+00:00"
"2024/cve-2024-0727.json","2026-11-19T08:00:00+00:00"
EOF
echo '"2023/cve-2023-0001.json","2026-01-01T00:00:00+00:00"' >"$V/deletions.csv"

counts() { q "select (select count(*) from advisories v join sources s on s.id=v.source_id where s.name='redhat-csaf-vex'), (select count(*) from affected a join advisories v on v.pk=a.advisory_id join sources s on s.id=v.source_id where s.name='redhat-csaf-vex')" | tr '|' ' '; }
ids() { q "select group_concat(id, ' ') from (select id from advisories order by id)"; }
cursor() { q "select cursor from sources where name='redhat-csaf-vex'"; }
requests() { tail -n +"$(( $1 + 1 ))" "$NG/access.log" | awk '{ sub(".*/vex/", "", $7); print $7 " " $9 }' | sort | tr '\n' ' '; }
no_orphans() {
	[ "$(q "select (select count(*) from refs where advisory_id not in (select pk from advisories)) +
		(select count(*) from aliases where advisory_id not in (select pk from advisories)) +
		(select count(*) from severities where advisory_id not in (select pk from advisories)) +
		(select count(*) from affected where advisory_id not in (select pk from advisories)) +
		(select count(*) from ranges where affected_id not in (select pk from affected)) +
		(select count(*) from range_events where range_id not in (select pk from ranges))")" = 0 ]
}

nginx_start "$W" || { fail "nginx starts" "$(tail -3 "$NG/err.log")"; exit 0; }
echo "redhat-csaf-vex csaf-vex http://127.0.0.1:$PORT/security.access.redhat.com/data/csaf/v2/vex/archive_latest.txt enabled latest changes" >"$TMP/sources"
upd() { "$DRYDOCK" db update --db "$DB" --sources "$TMP/sources" "$@"; }

# 1. First update: the archive, then changes.csv from the archive's date on
# (both entries are older: nothing more to fetch).
n0=$(wc -l <"$NG/access.log")
expect_exit 0 "first update imports the archive" upd
[ "$(requests "$n0")" = "archive_latest.txt 200 changes.csv 200 csaf_vex_2026-11-20.tar.zst 200 deletions.csv 200 " ] &&
	ok "it read changes.csv, the pointer, the archive and deletions.csv" || fail "first requests" "$(requests "$n0")"
want=$(python3 "$DD_ROOT/tests/vulndb/csaf-count" "$TMP/docs/v1.json" "$TMP/docs/cve-2099-0002.json")
[ "$(counts)" = "$want" ] && ok "the archive's advisories and affected entries ($want) as counted" ||
	fail "archive counts" "got $(counts), counted $want"
[ "$(cursor)" = "2026-11-20T00:00:00Z" ] && ok "the cursor is the archive's date" || fail "cursor" "$(cursor)"

# 2. Nothing changed: one conditional request.
n0=$(wc -l <"$NG/access.log")
expect_exit 0 "second update" upd
[ "$(requests "$n0")" = "changes.csv 304 " ] && ok "an unchanged changes.csv costs one 304" ||
	fail "304" "$(requests "$n0")"

# 3. A revised document, a new one, a deletion: only those files are fetched.
sleep 1 # a new Last-Modified (and ETag) for changes.csv
cp "$TMP/docs/v2.json" "$V/2024/cve-2024-0727.json"
cp "$TMP/docs/cve-2099-0001.json" "$V/2099/"
cat >"$V/changes.csv" <<'EOF'
"2099/cve-2099-0001.json","2026-11-21T10:00:00+00:00"
"2024/cve-2024-0727.json","2026-11-21T10:00:00+00:00"
"2099/cve-2099-0002.json","2026-11-19T09:00:00+00:00"
EOF
cat >"$V/deletions.csv" <<'EOF'
"2099/cve-2099-0002.json","2026-11-21T11:30:00+00:00"
"2023/cve-2023-0001.json","2026-01-01T00:00:00+00:00"
EOF
rm "$V/2099/cve-2099-0002.json"
n0=$(wc -l <"$NG/access.log")
expect_exit 0 "update with changes" upd
[ "$(requests "$n0")" = "2024/cve-2024-0727.json 200 2099/cve-2099-0001.json 200 changes.csv 200 deletions.csv 200 " ] &&
	ok "only the changed files are fetched (not the archive)" || fail "incremental requests" "$(requests "$n0")"
[ "$(ids)" = "CVE-2024-0727 CVE-2099-0001" ] && ok "the new advisory is added, the deleted one removed" ||
	fail "ids" "$(ids)"
want=$(python3 "$DD_ROOT/tests/vulndb/csaf-count" "$TMP/docs/v2.json" "$TMP/docs/cve-2099-0001.json")
[ "$(counts)" = "$want" ] && ok "advisories and affected entries ($want) as counted from the new files" ||
	fail "incremental counts" "got $(counts), counted $want"
[ "$(q "select summary from advisories where id='CVE-2024-0727'")" = "openssl: revised in test" ] &&
	ok "the revised document replaced its advisory" || fail "revised summary"
[ "$(q "select count(*) from affected a join advisories v on v.pk=a.advisory_id where v.id='CVE-2024-0727' and a.status='not-affected'")" = 0 ] &&
	ok "rows the revision dropped are gone" || fail "stale rows"
no_orphans && ok "no rows left below replaced or deleted advisories" || fail "orphans"
[ "$(q "select count(*) from refs r join advisories v on v.pk=r.advisory_id where v.id='CVE-2024-0727'")" = \
  "$(q "select count(*) from refs r join advisories v on v.pk=r.advisory_id where v.id='CVE-2099-0001'")" ] &&
	ok "the replaced advisory's references are not doubled" || fail "refs doubled"
[ "$(cursor)" = "2026-11-21T11:30:00Z" ] && ok "the cursor moved to the newest change applied" || fail "cursor" "$(cursor)"
[ ! -e "$DB.update-files" ] && [ ! -e "$DB.update-new" ] && ok "no temporary files left" || fail "leftovers"
"$DRYDOCK" db status --db "$DB" --format json >"$TMP/st.json" 2>/dev/null
[ "$(python3 -c 'import json,sys; print([s.get("changes_applied_to") for s in json.load(open(sys.argv[1]))["sources"]])' "$TMP/st.json")" = "['2026-11-21T11:30:00Z']" ] &&
	ok "db status --format json shows the cursor" || fail "status cursor" "$(head -c 400 "$TMP/st.json")"
"$DRYDOCK" db status --db "$DB" 2>/dev/null | grep -q "redhat-csaf-vex: updated incrementally, changes applied up to 2026-11-21T11:30:00Z" &&
	ok "and so does the table" || fail "status table cursor"

# 4. A changed file that cannot be fetched (a directory: 403): the source
# keeps its data and its cursor, the error is recorded.
sleep 1
mkdir -p "$V/2099/cve-2099-0003.json"
{ echo '"2099/cve-2099-0003.json","2026-11-22T10:00:00+00:00"'; cat "$V/changes.csv"; } >"$V/c.tmp" && mv "$V/c.tmp" "$V/changes.csv"
before=$(counts)
expect_exit 3 "an update whose changed file fails, fails" upd
[ "$(counts)" = "$before" ] && [ "$(ids)" = "CVE-2024-0727 CVE-2099-0001" ] &&
	ok "the source keeps its previous data" || fail "kept" "$(counts) $(ids)"
[ "$(cursor)" = "2026-11-21T11:30:00Z" ] && ok "and its cursor" || fail "cursor kept" "$(cursor)"
q "select update_error from sources where name='redhat-csaf-vex'" | grep -q "cve-2099-0003.json" &&
	ok "the failure is recorded with the file's URL" || fail "update_error" "$(q "select update_error from sources")"

# 5. The file is there now (and one listed file is missing: skipped).
rmdir "$V/2099/cve-2099-0003.json"
cp "$TMP/docs/cve-2099-0003.json" "$V/2099/"
sleep 1
{ echo '"2099/cve-2099-0404.json","2026-11-22T10:05:00+00:00"'; cat "$V/changes.csv"; } >"$V/c.tmp" && mv "$V/c.tmp" "$V/changes.csv"
expect_exit 0 "the next update catches up" upd
grep -q "cve-2099-0404.json: HTTP 404" "$TMP/err" && ok "a listed file that is gone is skipped with a warning" ||
	fail "404 warning" "$(cat "$TMP/err")"
[ "$(ids)" = "CVE-2024-0727 CVE-2099-0001 CVE-2099-0003" ] && ok "the missed change is applied" || fail "catch up" "$(ids)"
want=$(python3 "$DD_ROOT/tests/vulndb/csaf-count" "$TMP/docs/v2.json" "$TMP/docs/cve-2099-0001.json" "$TMP/docs/cve-2099-0003.json")
[ "$(counts)" = "$want" ] && ok "counts ($want) as counted" || fail "counts after catch-up" "got $(counts), counted $want"
[ "$(q "select 'x' || coalesce(update_error, '') from sources where name='redhat-csaf-vex'")" = x ] &&
	ok "the error is cleared" || fail "error cleared"
[ -s "$DB" ] && [ "$(q "pragma integrity_check")" = ok ] && ok "integrity check" || fail "integrity"

# 6. A source without a cursor (imported by hand) gets the archive again.
expect_exit 0 "db import by hand" "$DRYDOCK" db import --db "$DB" --source redhat-csaf-vex "$C/cve-2024-0727.json"
n0=$(wc -l <"$NG/access.log")
expect_exit 0 "update after a hand import" upd
requests "$n0" | grep -q "csaf_vex_2026-11-20.tar.zst 200" && ok "the archive is fetched again" ||
	fail "full again" "$(requests "$n0")"
[ "$(ids)" = "CVE-2024-0727 CVE-2099-0001 CVE-2099-0003" ] &&
	ok "archive plus the changes since its date" || fail "after full" "$(ids)"

# 7. kill -9 at random moments of an update (the same feed through nginx's
# rate-limited /slow/ location, 200 KB/s: a few seconds): the DB is always
# the previous one or the complete new one, and the next update finishes.
mkdir -p "$W/slow"
ln -s "$W/security.access.redhat.com" "$W/slow/security.access.redhat.com"
SLOW="http://127.0.0.1:$PORT/slow/security.access.redhat.com/data/csaf/v2/vex/archive_latest.txt"
echo "redhat-csaf-vex csaf-vex $SLOW enabled latest changes" >"$TMP/sources"
old_ids=$(ids) old_counts=$(counts) old_cursor=$(cursor)
state() { q "select url || ' ' || coalesce(cursor, '-') from sources where name='redhat-csaf-vex'"; }
old_state=$(state)
killed=0
for delay in 0.1 0.4 0.8 1.3 2.0; do
	"$DRYDOCK" db update --db "$DB" --sources "$TMP/sources" >/dev/null 2>&1 &
	pid=$!
	sleep "$delay"
	kill -9 $pid 2>/dev/null && killed=$((killed + 1))
	wait $pid 2>/dev/null
	integ=$(q "pragma integrity_check")
	if [ "$integ" = ok ] && [ "$(state)" = "$old_state" ] && [ "$(ids)" = "$old_ids" ] &&
		[ "$(counts)" = "$old_counts" ]; then
		ok "kill -9 after ${delay}s: the previous DB, intact"
	elif [ "$integ" = ok ] && [ "$(state)" = "$SLOW 2026-11-22T10:05:00Z" ] && [ "$(ids)" = "$old_ids" ]; then
		ok "kill -9 after ${delay}s: the update had finished"
		break
	else
		fail "kill -9 after ${delay}s" "integrity '$integ', state '$(state)', ids '$(ids)', counts '$(counts)'"
	fi
done
[ "$killed" -gt 0 ] && ok "$killed updates were killed" || skip "kills" "every update finished first"
expect_exit 0 "the update after the kills" upd
[ "$(state)" = "$SLOW 2026-11-22T10:05:00Z" ] && [ "$(ids)" = "$old_ids" ] && [ "$(counts)" = "$old_counts" ] &&
	ok "completes: the same advisories, from the new URL, cursor $(cursor)" ||
	fail "after kills" "state '$(state)', ids '$(ids)', counts '$(counts)' (was $old_counts, cursor $old_cursor)"
[ ! -e "$DB.update-files" ] && [ ! -e "$DB.update-new" ] && [ ! -e "$DB.update-download" ] &&
	ok "leftovers of the killed updates are removed" || fail "leftovers" "$(ls "$TMP")"

# 8. A mirror without changes.csv: the archive alone, like a plain `latest`
# source (the cursor is cleared: no changes were applied after it).
mv "$V/changes.csv" "$V/changes.csv.off"
n0=$(wc -l <"$NG/access.log")
expect_exit 0 "update without changes.csv" upd
grep -q "changes.csv: HTTP 404; source redhat-csaf-vex is updated from the archive alone" "$TMP/err" &&
	ok "it says so" || fail "fallback warning" "$(cat "$TMP/err")"
[ "$(requests "$n0")" = "archive_latest.txt 200 changes.csv 404 csaf_vex_2026-11-20.tar.zst 200 " ] &&
	ok "and fetches the archive" || fail "fallback requests" "$(requests "$n0")"
[ "$(ids)" = "CVE-2024-0727 CVE-2099-0002" ] && [ "$(q "select coalesce(cursor, 'none') from sources")" = none ] &&
	ok "the source holds the archive's advisories, no cursor" || fail "fallback" "$(ids) $(cursor)"
