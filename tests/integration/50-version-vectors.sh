#!/bin/bash
# 50-version-vectors.sh - the published version-ordering test vectors
# (dpkg, rpm, claircore, apk-tools, osv-scalibr; copies in tests/data/version/)
# through `drydock version-cmp ECO -`.  Every answer must match the vector,
# or be listed in tests/data/version/known-exceptions.txt with its reason
# (and every listed exception must still occur).  When ../shared is present
# the copies are also checked against the originals.
. "$DD_ROOT/tests/lib.sh"
DATA=$DD_ROOT/tests/data/version
EXC=$DATA/known-exceptions.txt

# to_pairs FORMAT FILE: print "A B WANT" lines (WANT one of < = >).
#   res: "A B -1|0|1"   op: "A OP B" with OP < > = ==   (# and // comments)
to_pairs() {
	awk -v fmt="$1" '
	{ sub(/\r$/, "") }
	/^[ \t]*(#|\/\/)/ || NF == 0 { next }
	{ sub(/[ \t]+#.*$/, "") }
	fmt == "res" && NF == 3 {
		w = $3 == "-1" ? "<" : $3 == "0" ? "=" : $3 == "1" ? ">" : ""
		if (w != "") print $1, $2, w
		next
	}
	fmt == "op" && NF == 3 {
		op = $2 == "==" ? "=" : $2
		if (op == "<" || op == ">" || op == "=") print $1, $3, op
	}' "$2"
}

# check NAME ECO FORMAT FILE [FILTER-REGEX]: one TAP line for the file.
check() {
	local name=$1 eco=$2 fmt=$3 file=$4 filter=${5:-}
	to_pairs "$fmt" "$file" >"$TMP/pairs"
	[ -n "$filter" ] && { grep -E "$filter" "$TMP/pairs" >"$TMP/p2" || true; mv "$TMP/p2" "$TMP/pairs"; }
	local n
	n=$(wc -l <"$TMP/pairs")
	if [ "$n" -eq 0 ]; then fail "$name" "no vectors read from $file"; return; fi
	cut -d' ' -f1,2 "$TMP/pairs" | "$DRYDOCK" version-cmp -k "$eco" - >"$TMP/got" 2>"$TMP/err"
	if [ "$(wc -l <"$TMP/got")" -ne "$n" ]; then
		fail "$name" "drydock answered $(wc -l <"$TMP/got") of $n lines: $(head -c 300 "$TMP/err")"
		return
	fi
	paste -d' ' "$TMP/pairs" "$TMP/got" |
		awk -v eco="$eco" '$3 != $4 { print eco "|" $1 "|" $2 "|" $3 "|" $4 }' | sort -u >"$TMP/diff"
	[ -n "${DD_VERSION_DIFFS:-}" ] && sed "s|\$|\|$(basename "$file")|" "$TMP/diff" >>"$DD_VERSION_DIFFS"
	grep -v '^#' "$EXC" | awk -F'|' -v eco="$eco" -v f="$(basename "$file")" \
		'$1 == eco && $6 == f { print $1 "|" $2 "|" $3 "|" $4 "|" $5 }' | sort -u >"$TMP/exc"
	local new stale
	new=$(comm -23 "$TMP/diff" "$TMP/exc")
	stale=$(comm -13 "$TMP/diff" "$TMP/exc")
	if [ -n "$new" ]; then
		fail "$name" "$(echo "$new" | wc -l) of $n disagree (eco|a|b|want|got): $(echo "$new" | head -5 | tr '\n' ' ')"
	elif [ -n "$stale" ]; then
		fail "$name" "listed exceptions no longer occur: $(echo "$stale" | head -3 | tr '\n' ' ')"
	else
		ok "$name: $n pairs ($(wc -l <"$TMP/exc") known exceptions)"
	fi
}

S=$DATA/osv-scalibr
check "dpkg Dpkg_Version.t" deb res "$DATA/dpkg.txt"
check "rpm rpmvercmp.at" rpm res "$DATA/rpm.txt"
check "claircore rpmvercmp" rpm op "$DATA/claircore-rpmvercmp.txt"
# only the EVR lines of claircore's NEVRA comparisons (names and arches are not versions)
check "claircore EVR compare" rpm op "$DATA/claircore-compare.txt" '^[0-9:.-]+ [0-9:.-]+ '
check "apk-tools version.data" apk op "$DATA/apk-tools.data"
check "osv-scalibr alpine" apk op "$S/alpine-versions.txt"
check "osv-scalibr alpine generated" apk op "$S/alpine-versions-generated.txt"
check "osv-scalibr debian" deb op "$S/debian-versions.txt"
check "osv-scalibr debian generated" deb op "$S/debian-versions-generated.txt"
check "osv-scalibr redhat" rpm op "$S/redhat-versions.txt"
check "osv-scalibr pypi" pypi op "$S/pypi-versions.txt"
check "osv-scalibr pypi generated" pypi op "$S/pypi-versions-generated.txt"
check "osv-scalibr maven" maven op "$S/maven-versions.txt"
check "osv-scalibr maven generated" maven op "$S/maven-versions-generated.txt"
check "osv-scalibr rubygems" gem op "$S/rubygems-versions.txt"
check "osv-scalibr rubygems generated" gem op "$S/rubygems-versions-generated.txt"
check "osv-scalibr semver" semver op "$S/semver-versions.txt"

# The copies must equal the originals when ../shared is there.
if have_shared feeds/version-tests; then
	V=$DD_SHARED/feeds/version-tests
	same=1
	for pair in dpkg/Dpkg_Version.t.DATA.txt:dpkg.txt rpm/rpmvercmp.DATA.txt:rpm.txt \
		claircore-rpmver/rpmvercmp:claircore-rpmvercmp.txt \
		claircore-rpmver/compare:claircore-compare.txt apk-tools/test/unit/version.data:apk-tools.data; do
		cmp -s "$V/${pair%%:*}" "$DATA/${pair#*:}" || { same=0; echo "# differs: ${pair%%:*}"; }
	done
	for f in "$S"/*.txt; do
		cmp -s "$V/osv-scalibr-semantic/$(basename "$f")" "$f" || { same=0; echo "# differs: $f"; }
	done
	if [ $same -eq 1 ]; then ok "vector copies equal ../shared/feeds/version-tests"
	else fail "vector copies equal ../shared/feeds/version-tests" "see # lines"; fi
else
	skip "vector copies equal ../shared/feeds/version-tests" "../shared not present"
fi
