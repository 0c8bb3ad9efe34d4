#!/bin/bash
# drydock sbom on the real alpine 3.10 / 3.11 docker-archive images: the
# packages equal those in the image's own lib/apk/db/installed (extracted
# with tar and read with awk, independently of drydock).
. "$DD_ROOT/tests/lib.sh"

command -v jq >/dev/null || { skip "alpine sbom" "jq missing (scripts/install-deps)"; exit 0; }

for v in 310 311; do
	img="$DD_ROOT/tests/data/image/alpine-$v.tar.gz"
	[ -f "$img" ] || img="$DD_SHARED/corpus/images/alpine-$v.tar.gz"
	if [ ! -f "$img" ]; then
		skip "alpine-$v" "../shared not present and tests/data/image/alpine-$v.tar.gz missing"
		continue
	fi
	d="$TMP/a$v"
	mkdir -p "$d/x" "$d/root"
	tar -xzf "$img" -C "$d/x"
	# every layer of the archive, bottom first, into one root (no whiteouts
	# in these single-layer images)
	for l in $(jq -r '.[0].Layers[]' "$d/x/manifest.json"); do
		tar -xf "$d/x/$l" -C "$d/root" 2>/dev/null || tar -xzf "$d/x/$l" -C "$d/root"
	done
	awk -F: '/^P:/{p=substr($0,3)} /^V:/{v=substr($0,3)} /^A:/{a=substr($0,3)}
		/^$/{if (p!="") print p "\t" v "\t" a; p=v=a=""}
		END{if (p!="") print p "\t" v "\t" a}' "$d/root/lib/apk/db/installed" |
		LC_ALL=C sort >"$d/exp"
	expect_exit 0 "sbom alpine-$v" "$DRYDOCK" sbom -f json -o "$d/out.json" "docker-archive:$img"
	jq -r '.packages[] | [.name, .version, .arch] | @tsv' "$d/out.json" | LC_ALL=C sort >"$d/got"
	if [ -s "$d/exp" ] && cmp -s "$d/exp" "$d/got"; then
		ok "alpine-$v: $(wc -l <"$d/exp") packages equal lib/apk/db/installed"
	else
		fail "alpine-$v: packages" "$(diff "$d/exp" "$d/got" | head -n 6 | tr '\n' ' ')"
	fi
	ver=$(cat "$d/root/etc/alpine-release")
	check "alpine-$v: OS alpine $ver" \
		test "$(jq -r '.os.id + " " + .os.versionID' "$d/out.json")" = "alpine $ver"
	check "alpine-$v: apk origin as source (libssl from openssl)" \
		test "$(jq -r '.packages[] | select(.name|startswith("libssl")) | .sourceName' "$d/out.json")" = openssl
	check "alpine-$v: purl" grep -q "\"pkg:apk/alpine/musl@[^\"]*?arch=x86_64&distro=alpine-$ver\"" "$d/out.json"
	check "alpine-$v: musl owns lib/ld-musl-x86_64.so.1" \
		test "$(jq -r '.packages[] | select(.name=="musl") | .files' "$d/out.json")" -ge 1
done
