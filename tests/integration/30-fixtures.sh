#!/bin/bash
# 30-fixtures.sh - the fixture builders themselves, and the squashed view of
# the Debian app image as a reference tool (umoci) unpacks it.
#
#  - scripts/fixtures/debian-image: a cached run is fast and prints the same
#    paths, every path exists, and umoci's unpack of `app` shows the added
#    file, not the deleted one, and only the new content of the opaque dir;
#    when `drydock ls` exists, its squashed view equals umoci's tree.
#  - the cache protocol (shared by the fixture scripts): two concurrent runs
#    build once and agree; a run killed mid-build leaves no cache entry, and
#    the next run builds a good one.  Exercised on scripts/fixtures/hostile-corpus
#    (about 10 s, no network) in a private DRYDOCK_FIXTURES.
. "$DD_ROOT/tests/lib.sh"

fixture="$DD_ROOT/scripts/fixtures/debian-image"
if fx=$("$fixture" 2>"$TMP/fx.err"); then
	t0=$(date +%s%N)
	fx2=$("$fixture" 2>/dev/null)
	ms=$((($(date +%s%N) - t0) / 1000000))
	if [ "$fx" = "$fx2" ] && [ "$ms" -lt 2000 ]; then ok "debian-image: cached run is fast (${ms} ms) and prints the same"
	else fail "debian-image: cached run is fast and prints the same" "${ms} ms; outputs differ: $([ "$fx" = "$fx2" ] && echo no || echo yes)"; fi
	eval "$fx"
	missing=
	for p in "$OCI/index.json" "$ROOTFS/etc/os-release" "$ARCHIVE_BASE" "$ARCHIVE_APP" "$ARCHIVE_INCLUDE"; do
		[ -e "$p" ] || missing="$missing $p"
	done
	for tag in base app include; do
		jq -e --arg t "$tag" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t)' \
			"$OCI/index.json" >/dev/null 2>&1 || missing="$missing $OCI:$tag"
	done
	if [ -z "$missing" ]; then ok "debian-image: every path and tag exists"
	else fail "debian-image: every path and tag exists" "missing:$missing"; fi

	if command -v umoci >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
		if umoci unpack --image "$OCI:app" "$TMP/bundle" >"$TMP/umoci.log" 2>&1; then
			R="$TMP/bundle/rootfs"
			if [ -f "$R/$APP_ADDED" ] && [ ! -e "$R/$APP_DELETED" ] &&
				[ "$(ls -A "$R/$APP_OPAQUE")" = "$(basename "$APP_OPAQUE_NEW")" ] &&
				[ -e "$ROOTFS/$APP_DELETED" ] && [ "$(ls -A "$ROOTFS/$APP_OPAQUE" | wc -l)" -gt 1 ]; then
				ok "debian-image: umoci's squashed app: file added, whiteout and opaque dir applied"
			else
				fail "debian-image: umoci's squashed app" \
					"added: $([ -f "$R/$APP_ADDED" ] && echo yes || echo no), deleted gone: $([ -e "$R/$APP_DELETED" ] && echo no || echo yes), opaque dir: $(ls -A "$R/$APP_OPAQUE" | tr '\n' ' ')"
			fi
			if "$DRYDOCK" ls --help >/dev/null 2>&1; then
				(cd "$R" && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort) >"$TMP/umoci.paths"
				"$DRYDOCK" ls "oci:$OCI:app" 2>"$TMP/err" | awk '{ print $NF }' | sed 's|^/||' |
					LC_ALL=C sort >"$TMP/dd.paths"
				if cmp -s "$TMP/umoci.paths" "$TMP/dd.paths"; then
					ok "drydock ls oci:app lists exactly umoci's unpacked tree"
				else
					fail "drydock ls oci:app lists exactly umoci's unpacked tree" \
						"$(diff "$TMP/umoci.paths" "$TMP/dd.paths" | grep '^[<>]' | head -5 | tr '\n' ' ')"
				fi
			else
				skip "drydock ls vs umoci's unpacked tree" "drydock ls does not exist yet"
			fi
			rm -rf "$TMP/bundle"
		else
			fail "debian-image: umoci unpacks app" "$(tail -n 1 "$TMP/umoci.log")"
		fi
	else
		skip "debian-image: umoci's squashed app" "needs umoci and root"
	fi
else
	skip "debian-image" "fixture not built: $(tail -n 1 "$TMP/fx.err")"
fi

# ---- the cache protocol, on hostile-corpus ---------------------------------
hc="$DD_ROOT/scripts/fixtures/hostile-corpus"
export DRYDOCK_FIXTURES="$TMP/cache"
# Two concurrent runs: both print the same directory, built once.
"$hc" >"$TMP/a.out" 2>"$TMP/a.err" &
pa=$!
"$hc" >"$TMP/b.out" 2>"$TMP/b.err" &
pb=$!
wait $pa; ra=$?
wait $pb; rb=$?
n_built=$(find "$DRYDOCK_FIXTURES" -mindepth 1 -maxdepth 1 -name 'hostile-*' | wc -l)
n_tmp=$(find "$DRYDOCK_FIXTURES" -mindepth 1 -maxdepth 1 -name '.tmp-*' | wc -l)
if [ $ra -eq 0 ] && [ $rb -eq 0 ] && [ -s "$TMP/a.out" ] && cmp -s "$TMP/a.out" "$TMP/b.out" &&
	[ "$n_built" -eq 1 ] && [ "$n_tmp" -eq 0 ] && [ -f "$(cat "$TMP/a.out")/valid/index.json" ]; then
	ok "cache: two concurrent runs agree and build once"
else
	fail "cache: two concurrent runs agree and build once" \
		"exit $ra/$rb, dirs $n_built, temporaries $n_tmp, $(tail -n 1 "$TMP/a.err")"
fi

# A run killed (SIGKILL, whole process group) mid-build leaves no entry.
rm -rf "$DRYDOCK_FIXTURES"
setsid "$hc" >/dev/null 2>&1 &
pk=$!
for _ in $(seq 1 50); do   # wait until it is generating (its temporary exists)
	[ -n "$(find "$DRYDOCK_FIXTURES" -maxdepth 1 -name '.tmp-hostile-*' 2>/dev/null)" ] && break
	sleep 0.1
done
sleep 1
kill -KILL -- -"$pk" 2>/dev/null
wait "$pk" 2>/dev/null
if [ -z "$(find "$DRYDOCK_FIXTURES" -mindepth 1 -maxdepth 1 -name 'hostile-*' 2>/dev/null)" ]; then
	ok "cache: a killed build leaves no cache entry"
else
	fail "cache: a killed build leaves no cache entry" "$(ls -A "$DRYDOCK_FIXTURES")"
fi
if d=$("$hc" 2>"$TMP/c.err") && [ -f "$d/.done" ] && [ -f "$d/valid/index.json" ] &&
	[ -z "$(find "$DRYDOCK_FIXTURES" -mindepth 1 -maxdepth 1 -name '.tmp-*')" ]; then
	ok "cache: the next run builds a complete entry and clears the leftovers"
else
	fail "cache: the next run builds a complete entry" "$(tail -n 1 "$TMP/c.err"); $(ls -A "$DRYDOCK_FIXTURES")"
fi
