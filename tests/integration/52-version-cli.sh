#!/bin/bash
# 52-version-cli.sh - `drydock version-cmp`: answers, exit codes, one-line
# errors naming the version and the stdin line, -k, OSV ecosystem names.
. "$DD_ROOT/tests/lib.sh"

answer() { # answer "name" WANT args...
	local n=$1 want=$2 got; shift 2
	got=$("$DRYDOCK" version-cmp "$@" 2>"$TMP/err")
	if [ "$got" = "$want" ]; then ok "$n"; else fail "$n" "got '$got', wanted '$want' ($(head -c 200 "$TMP/err"))"; fi
}

answer "deb tilde before release" "<" deb 1.0~rc1-1 1.0-1
answer "Debian:12 security update" "<" Debian:12 1:2.36-9+deb12u4 1:2.36-9+deb12u10
answer "Ubuntu name" ">" Ubuntu 2.0ubuntu1 2.0
answer "rpm caret" ">" rpm 1.0^git1 1.0
answer "Red Hat EVR with epoch" ">" "Red Hat" 1:1.0-1.el9 2.0-1.el9
answer "Alpine suffix order" "<" Alpine 1.2_rc1-r0 1.2-r0
answer "Wolfi revision" ">" Wolfi 1.2-r10 1.2-r9
answer "npm pre-release" "<" npm 1.0.0-beta.2 1.0.0-beta.11
answer "Go +incompatible ignored" "=" Go v2.0.0+incompatible v2.0.0
answer "crates.io" ">" crates.io 0.10.0 0.9.9
answer "PyPI normalisation" "=" PyPI 1.0.0ALPHA1 1.0a1
answer "Maven qualifiers" "<" Maven 1.0-SNAPSHOT 1.0
answer "RubyGems pre-release" "<" RubyGems 1.0.0.rc1 1.0.0
answer "-- before a version starting with -" ">" rpm -- 1 -1

expect_exit 3 "invalid deb version exits 3" "$DRYDOCK" version-cmp deb abc 1.0
if [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q "deb version 'abc' is invalid: version number does not start with digit" "$TMP/err"
then ok "invalid version: one line naming version and reason"
else fail "invalid version: one line naming version and reason" "$(cat "$TMP/err")"; fi
expect_exit 3 "invalid semver exits 3" "$DRYDOCK" version-cmp semver 1.2 1.2.0
expect_exit 2 "unknown ecosystem exits 2" "$DRYDOCK" version-cmp cobol 1 2
expect_exit 2 "missing argument exits 2" "$DRYDOCK" version-cmp deb 1
expect_exit 2 "A without B exits 2" "$DRYDOCK" version-cmp deb 1 -x

printf '1.0 2.0\n\n2.0 1.0\n1.0 1.0\n' >"$TMP/in"
got=$("$DRYDOCK" version-cmp pypi - <"$TMP/in" | tr '\n' ' ')
if [ "$got" = "< > = " ]; then ok "stdin pairs, blank line skipped"; else fail "stdin pairs, blank line skipped" "got '$got'"; fi

printf '1.0 2.0\n1.0 x\n2.0 1.0\n' >"$TMP/in"
"$DRYDOCK" version-cmp pypi - <"$TMP/in" >"$TMP/out" 2>"$TMP/err"; rc=$?
if [ $rc -eq 3 ] && [ "$(cat "$TMP/out")" = "<" ] && grep -q "stdin line 2: pypi version 'x'" "$TMP/err"
then ok "stdin: invalid version stops with exit 3 naming line 2"
else fail "stdin: invalid version stops with exit 3 naming line 2" "rc=$rc out=$(cat "$TMP/out") err=$(cat "$TMP/err")"; fi

printf '1.0 2.0\nonly-one\n' >"$TMP/in"
"$DRYDOCK" version-cmp deb - <"$TMP/in" >"$TMP/out" 2>"$TMP/err"; rc=$?
if [ $rc -eq 3 ] && grep -q 'stdin line 2: expected two versions' "$TMP/err"
then ok "stdin: malformed line names its number"
else fail "stdin: malformed line names its number" "rc=$rc err=$(cat "$TMP/err")"; fi

printf '1.0 2.0\n1.0 x\n2.0 1.0\n' >"$TMP/in"
"$DRYDOCK" version-cmp -k pypi - <"$TMP/in" >"$TMP/out" 2>"$TMP/err"; rc=$?
if [ $rc -eq 3 ] && [ "$(tr '\n' ' ' <"$TMP/out")" = "< ! > " ]
then ok "-k answers ! and goes on, exit 3"
else fail "-k answers ! and goes on, exit 3" "rc=$rc out=$(cat "$TMP/out")"; fi
