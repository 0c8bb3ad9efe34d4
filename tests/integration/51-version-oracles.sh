#!/bin/bash
# 51-version-oracles.sh - differential test of drydock's version ordering
# against the real implementations: dpkg --compare-versions, rpm's
# rpm.vercmp (Lua), python3-packaging, npm semver, Maven's
# ComparableVersion, RubyGems' Gem::Version (scripts/oracles/).  Thousands
# of deterministic pairs per ecosystem (scripts/oracles/gen-pairs: real
# versions from the dpkg/APT lists, grammar-based and mutated edge cases,
# invalid ones).  '!' means "rejected"; answers must be identical, except
# the pairs listed in tests/data/version/known-exceptions.txt (file
# "oracle").  DD_VERSION_PAIRS sets the pairs per ecosystem (default 3000).
. "$DD_ROOT/tests/lib.sh"
O=$DD_ROOT/scripts/oracles
EXC=$DD_ROOT/tests/data/version/known-exceptions.txt
N=${DD_VERSION_PAIRS:-3000}
SEED=${DD_VERSION_SEED:-20261128}

# diff_eco ECO ORACLE-SCRIPT NEED-CMD
diff_eco() {
	local eco=$1 oracle=$2 need=$3 name="$1 vs $(basename "$2" -cmp)"
	if ! command -v "$need" >/dev/null 2>&1; then
		skip "$name" "$need not installed (scripts/install-deps)"
		return
	fi
	"$O/gen-pairs" "$eco" "$N" "$SEED" >"$TMP/pairs"
	local n
	n=$(wc -l <"$TMP/pairs")
	if ! "$oracle" <"$TMP/pairs" >"$TMP/want" 2>"$TMP/oerr"; then
		fail "$name" "oracle failed: $(head -c 300 "$TMP/oerr")"
		return
	fi
	"$DRYDOCK" version-cmp -k "$eco" - <"$TMP/pairs" >"$TMP/got" 2>/dev/null
	if [ "$(wc -l <"$TMP/want")" -ne "$n" ] || [ "$(wc -l <"$TMP/got")" -ne "$n" ]; then
		fail "$name" "answers: oracle $(wc -l <"$TMP/want"), drydock $(wc -l <"$TMP/got"), pairs $n"
		return
	fi
	paste -d' ' "$TMP/pairs" "$TMP/want" "$TMP/got" |
		awk -v eco="$eco" '$3 != $4 { print eco "|" $1 "|" $2 "|" $3 "|" $4 }' | sort -u >"$TMP/diff"
	grep -v '^#' "$EXC" | awk -F'|' -v eco="$eco" '$1 == eco && $6 == "oracle" { print $1 "|" $2 "|" $3 "|" $4 "|" $5 }' |
		sort -u >"$TMP/exc"
	local new nvalid
	new=$(comm -23 "$TMP/diff" "$TMP/exc")
	nvalid=$(grep -vc '!' "$TMP/want")
	if [ -n "$new" ]; then
		fail "$name" "$(echo "$new" | wc -l) of $n pairs disagree (eco|a|b|oracle|drydock): $(echo "$new" | head -6 | tr '\n' ' ')"
	elif [ "$nvalid" -lt $((n / 3)) ]; then
		fail "$name" "only $nvalid of $n pairs were valid for the oracle: generator broken?"
	else
		ok "$name: $n pairs ($nvalid valid), $(wc -l <"$TMP/diff") known exceptions"
	fi
}

diff_eco deb "$O/dpkg-cmp" dpkg
diff_eco rpm "$O/rpm-cmp" rpm
diff_eco pypi "$O/pypi-cmp" /usr/bin/python3
if command -v npm >/dev/null 2>&1 && ! "$O/npm-semver-setup" >/dev/null 2>&1; then
	skip "semver vs semver" "npm install semver failed (registry unreachable?)"
else
	diff_eco semver "$O/semver-cmp" npm
fi
diff_eco maven "$O/maven-cmp" javac
diff_eco gem "$O/gem-cmp" ruby
