#!/bin/bash
# The main paths under valgrind (the optimised build, not the ASan one):
# no invalid reads or writes, no definite or indirect leaks.
. "$DD_ROOT/tests/lib.sh"

bin=$DD_ROOT/build/drydock
if ! command -v valgrind >/dev/null; then
	skip "valgrind" "valgrind not installed"; exit 0
fi
if [ ! -x "$bin" ]; then
	skip "valgrind" "no optimised build at build/drydock (make all)"; exit 0
fi
vg() { # vg NAME ARGS...
	local n=$1; shift
	valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--show-leak-kinds=definite,indirect --error-exitcode=99 "$bin" "$@" >"$TMP/out" 2>"$TMP/vg"
	local rc=$?
	if [ $rc -eq 99 ] || grep -q "==[0-9]*==" "$TMP/vg"; then
		fail "valgrind: $n" "$(grep -m5 "==[0-9]*==" "$TMP/vg")"
	else
		ok "valgrind: $n (exit $rc)"
	fi
}
alpine=$DD_ROOT/tests/data/image/alpine-310.tar.gz
vg "inspect docker-archive" inspect --format json "docker-archive:$alpine"
vg "sbom cyclonedx" sbom --format cyclonedx-json "docker-archive:$alpine"
vg "sbom spdx" sbom --format spdx-json "docker-archive:$alpine"
vg "inspect of a missing image (error path)" inspect "oci:$TMP/nope"
vg "version-cmp" version-cmp deb 1:2.0-1 2.0~rc1
vg "ls" ls --format json "docker-archive:$alpine" /etc
vg "lineage (inference)" lineage "docker-archive:$alpine" --known "docker-archive:$alpine"
# drydock watch: a pass whose registry is down (check errors), status, a bad fleet file
printf 'images:\n  - name: base\n    image: 127.0.0.1:9/base:1\nwatch:\n  state: %s/state/w.sqlite\n' "$TMP" >"$TMP/fleet.yaml"
vg "watch --once, registry down (error path)" watch --once --config "$TMP/fleet.yaml" --log "$TMP/watch.log" --db "$TMP/none.sqlite"
vg "watch status" watch status --config "$TMP/fleet.yaml" --format json
printf 'images:\n  - name: base\n    image: x\n    password: inline\n' >"$TMP/bad.yaml"
vg "watch with an invalid fleet file (error path)" watch --once --config "$TMP/bad.yaml"
# Hostile images must fail cleanly too (error paths free what they took).
if python3 "$DD_ROOT/tests/hostile/gen.py" "$TMP/hostile" >/dev/null 2>&1; then
	for c in path-traversal truncated-gzip gzip-bad-crc manifest-digest-mismatch diffid-mismatch index-cycle hardlink-missing; do
		[ -d "$TMP/hostile/$c" ] && vg "hostile $c (error path)" inspect "oci:$TMP/hostile/$c"
	done
else
	skip "valgrind on hostile images" "tests/hostile/gen.py failed"
fi
exit 0
