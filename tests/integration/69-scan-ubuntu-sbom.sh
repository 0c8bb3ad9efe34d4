#!/bin/bash
# drydock scan of (a) Ubuntu 18.04's real dpkg status
# (../shared/corpus/pkgdb/dpkg/ubuntu1804-dpkg-valid.txtar) against the real
# Ubuntu CVE tracker (../shared/feeds/ubuntu/ubuntu-cve-tracker): specific
# findings checked by hand, and per package the count equals what the
# tracker lists for the source package in bionic (computed here with awk +
# drydock version-cmp deb); (b) SBOM input: drydock's own CycloneDX and SPDX
# SBOMs of alpine-310, and a syft-style CycloneDX, give the image's findings.
. "$DD_ROOT/tests/lib.sh"
jqe() { jq -e "$@" >/dev/null; }
export XDG_CACHE_HOME="$TMP/cache" # scan keeps inventories there (drydock rescan)

D="$DD_ROOT/tests/data/match"
command -v jq >/dev/null || { skip "ubuntu and sbom scans" "jq missing"; exit 0; }

# ---- (a) Ubuntu 18.04 ----
TX="$DD_SHARED/corpus/pkgdb/dpkg/ubuntu1804-dpkg-valid.txtar"
UCT="$DD_SHARED/feeds/ubuntu/ubuntu-cve-tracker"
if [ -f "$TX" ] && [ -d "$UCT" ]; then
	R="$TMP/ubuntu"
	mkdir -p "$R/etc" "$R/var/lib/dpkg"
	awk 'f { print } /^-- var\/lib\/dpkg\/status --/ { f = 1 }' "$TX" >"$R/var/lib/dpkg/status"
	printf 'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\nPRETTY_NAME="Ubuntu 18.04.6 LTS"\nVERSION_ID="18.04"\nVERSION_CODENAME=bionic\n' >"$R/etc/os-release"
	"$DRYDOCK" db import --db "$TMP/u.sqlite" "$UCT" >/dev/null 2>&1
	"$DRYDOCK" scan --db "$TMP/u.sqlite" --format json "rootfs:$R" >"$TMP/u.json" 2>"$TMP/u.err"
	got=$(jq -r '.findings[] | select(.id == "CVE-2019-3462" or .id == "CVE-2016-2781" or .id == "CVE-2019-12900")
		| [.package.name, .id, .status, (.fixed_version // "-"), .severity, .severity_source, .matched.ecosystem] | @tsv' "$TMP/u.json")
	want=$(printf '%s\n' \
		"apt	CVE-2019-3462	fixed	1.6.6ubuntu0.1	HIGH	distro:ubuntu	Ubuntu:18.04:LTS" \
		"bzip2	CVE-2019-12900	fixed	1.0.6-8.1ubuntu0.2	MEDIUM	distro:ubuntu	Ubuntu:18.04:LTS" \
		"coreutils	CVE-2016-2781	fix-deferred	-	LOW	distro:ubuntu	Ubuntu:18.04:LTS" \
		"libapt-pkg5.0	CVE-2019-3462	fixed	1.6.6ubuntu0.1	HIGH	distro:ubuntu	Ubuntu:18.04:LTS" \
		"libbz2-1.0	CVE-2019-12900	fixed	1.0.6-8.1ubuntu0.2	MEDIUM	distro:ubuntu	Ubuntu:18.04:LTS")
	if [ "$got" = "$want" ]; then
		ok "ubuntu 18.04: apt/bzip2/coreutils findings as the tracker says (source package, Ubuntu priority)"
	else
		fail "ubuntu 18.04: hand-checked findings" "$(echo "$got" | head -c 500)"
	fi
	# Independent count: tracker lines "bionic_SRC: STATUS (NOTE)" per CVE.
	awk 'FNR == 1 { cve = "" } /^Candidate:/ { cve = $2 }
		/^bionic_[^ :]+: / && cve != "" {
			split($1, a, "_"); src = substr($1, 8); sub(/:$/, "", src)
			st = $2; ver = "-"
			if (st == "released" && match($0, /\(([^)]*)\)/)) ver = substr($0, RSTART + 1, RLENGTH - 2)
			print src "\t" cve "\t" st "\t" ver }' "$UCT"/active/CVE-* "$UCT"/retired/CVE-* 2>/dev/null >"$TMP/uct.tsv"
	"$DRYDOCK" sbom --format json "rootfs:$R" 2>/dev/null | jq -r '.packages[] | [.name, .sourceName, .sourceVersion] | @tsv' >"$TMP/u.pkgs"
	bad="" total=0
	while IFS=$'\t' read -r pkg src sver; do
		awk -F'\t' -v s="$src" '$1 == s' "$TMP/uct.tsv" >"$TMP/rows"
		n_open=$(awk -F'\t' '$3 ~ /^(needed|pending|needs-triage|deferred|ignored)$/ { print $2 }' "$TMP/rows" | sort -u)
		n_rel=$(awk -F'\t' '$3 == "released" && $4 != "-" { print $4 "\t" $2 }' "$TMP/rows" >"$TMP/rel"
			[ -s "$TMP/rel" ] && cut -f1 "$TMP/rel" | sed "s/^/$sver /" | "$DRYDOCK" version-cmp deb - |
				paste - "$TMP/rel" | awk -F'\t' '$1 == "<" { print $3 }' | sort -u)
		want=$(printf '%s\n%s\n' "$n_open" "$n_rel" | grep . | sort -u | wc -l)
		have=$(jq --arg p "$pkg" '[.findings[] | select(.package.name == $p)] | length' "$TMP/u.json")
		total=$((total + want))
		[ "$want" = "$have" ] || bad="$bad $pkg(want $want got $have)"
	done <"$TMP/u.pkgs"
	if [ -z "$bad" ] && [ "$total" -gt 100 ]; then
		ok "ubuntu 18.04: per-package finding counts equal the tracker's ($total in all)"
	else
		fail "ubuntu 18.04: per-package finding counts equal the tracker's" "${bad:- total $total}"
	fi
else
	skip "ubuntu 18.04 against the Ubuntu CVE tracker" "../shared not present"
	skip "ubuntu 18.04: per-package counts" "../shared not present"
fi

# ---- (b) SBOM input ----
IMG="docker-archive:$DD_ROOT/tests/data/image/alpine-310.tar.gz"
DB="$TMP/a.sqlite"
"$DRYDOCK" db import --db "$DB" "$D/feeds/alpine-v3.10-main.json" >/dev/null 2>&1
"$DRYDOCK" scan --db "$DB" -f json "$IMG" 2>/dev/null | jq -r '.findings[] | [.package.name, .id, .fixed_version] | @tsv' >"$TMP/img.tsv"
for fmt in cyclonedx-json spdx-json; do
	"$DRYDOCK" sbom -f $fmt -o "$TMP/sbom.$fmt.json" "$IMG" 2>/dev/null
	if "$DRYDOCK" scan --db "$DB" -f json --sbom "$TMP/sbom.$fmt.json" >"$TMP/s.json" 2>"$TMP/err"; then
		jq -r '.findings[] | [.package.name, .id, .fixed_version] | @tsv' "$TMP/s.json" >"$TMP/s.tsv"
		if cmp -s "$TMP/img.tsv" "$TMP/s.tsv" && [ -s "$TMP/s.tsv" ]; then
			ok "--sbom $fmt: the same $(wc -l <"$TMP/s.tsv") findings as scanning the image"
		else
			fail "--sbom $fmt: same findings as the image" "$(diff "$TMP/img.tsv" "$TMP/s.tsv" | head -c 300)"
		fi
	else
		fail "--sbom $fmt" "$(head -c 300 "$TMP/err")"
	fi
done
cat >"$TMP/syft.json" <<'X'
{"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
 "components": [
  {"type": "operating-system", "name": "alpine", "version": "3.10.4"},
  {"type": "library", "name": "musl", "version": "1.1.22-r3", "purl": "pkg:apk/alpine/musl@1.1.22-r3?arch=x86_64&distro=alpine-3.10.4"},
  {"type": "library", "name": "libssl1.1", "version": "1.1.1d-r2", "purl": "pkg:apk/alpine/libssl1.1@1.1.1d-r2?arch=x86_64&upstream=openssl&distro=alpine-3.10.4"},
  {"type": "library", "name": "left-pad", "version": "1.3.0", "purl": "pkg:npm/left-pad@1.3.0"}]}
X
"$DRYDOCK" scan --db "$DB" -f json --sbom "$TMP/syft.json" >"$TMP/s.json" 2>"$TMP/err"
check "--sbom (syft-style CycloneDX): musl and libssl1.1 (as openssl) findings, layers unknown" \
	jqe '([.findings[] | .package.name] | unique) == ["libssl1.1","musl"] and ([.findings[] | select(.package.name == "libssl1.1")] | length) == 7 and ([.findings[] | select(.from_base != null)] | length) == 0' "$TMP/s.json"
check "--sbom: non-OS components are reported as not checked" grep -q "1 components are not OS packages" "$TMP/err"
expect_exit 3 "--sbom with something that is not an SBOM is bad input" "$DRYDOCK" scan --db "$DB" --sbom "$D/feeds/alpine-v3.10-main.json"
expect_exit 2 "--sbom with an IMAGE too is a usage error" "$DRYDOCK" scan --db "$DB" --sbom "$TMP/syft.json" "$IMG"

# ---- (c) rescan: stored inventories re-matched against a changed DB ----
INV="$TMP/inv"
"$DRYDOCK" scan --db "$DB" --inventory-dir "$INV" "$IMG" >/dev/null 2>&1
"$DRYDOCK" scan --db "$DB" --inventory-dir "$INV" --sbom "$TMP/syft.json" >/dev/null 2>&1
check "scan keeps one inventory per image (not for --sbom)" test "$(ls "$INV" | wc -l)" = 1
expect_exit 0 "rescan with an unchanged DB" "$DRYDOCK" rescan --db "$DB" --inventory-dir "$INV" --fail-on-change
check "rescan: unchanged image listed as such" grep -q "^unchanged .*alpine-310.tar.gz (20 -> 20 findings)" "$TMP/out"
"$DRYDOCK" db import --db "$DB" "$D/feeds/osv/zlib-unfixed.json" >/dev/null 2>&1
expect_exit 1 "rescan --fail-on-change after a new advisory: exit 1" "$DRYDOCK" rescan --db "$DB" --inventory-dir "$INV" --fail-on-change
check "rescan: the new finding is listed" grep -q "^  + zlib CVE-2018-25032 affected -" "$TMP/out"
"$DRYDOCK" rescan --db "$DB" --inventory-dir "$INV" -f json >"$TMP/r.json" 2>/dev/null
check "rescan: the stored findings were updated (no change the second time)" jqe '.changed == 0 and .images[0].findings_now == 21' "$TMP/r.json"
cp "$DD_ROOT/tests/data/image/alpine-310.tar.gz" "$TMP/copy.tar.gz"
"$DRYDOCK" scan --db "$DB" --inventory-dir "$INV" "docker-archive:$TMP/copy.tar.gz" >/dev/null 2>&1
rm -f "$TMP/copy.tar.gz"
"$DRYDOCK" rescan --db "$DB" --inventory-dir "$INV" -f json >"$TMP/r.json" 2>/dev/null
check "rescan never reads the image; the same image under another name is one entry (keyed by digests)" \
	jqe '(.images | length) == 1 and (.images[0].reference | endswith("copy.tar.gz"))' "$TMP/r.json"
echo '{"schema":"drydock-inventory/1","image":{},"os":{},"packages":[{"type":"apk"}],"findings":[]}' >"$INV/$(printf '%064d' 0).json"
"$DRYDOCK" rescan --db "$DB" --inventory-dir "$INV" >"$TMP/out" 2>"$TMP/err"
check "rescan: a damaged stored inventory is a warning, the others are rescanned" \
	bash -c "grep -q 'malformed stored inventory' '$TMP/err' && grep -q '1 image(s) rescanned' '$TMP/out'"
