#!/bin/bash
# 20-hostile.sh - `drydock inspect` against the hostile-image corpus.
#
# tests/hostile/gen.py makes one OCI layout (or, for da-* cases, one
# `docker save` archive) per case, only the case's defect present; tests/hostile/cases.tsv says what must happen.  For every case:
# the exit status; for failures exactly one line on stderr, starting
# "drydock: ", naming the image and containing the case's substring; for
# successes a JSON document whose entry count matches the layer's tar; no
# sanitizer report, no crash.  At the end: nothing was written outside $TMP
# (canary paths the corpus aims at, the working directory, the corpus).
. "$DD_ROOT/tests/lib.sh"

if ! corpus=$("$DD_ROOT/scripts/fixtures/hostile-corpus" 2>"$TMP/gen.err") || [ ! -d "$corpus" ]; then
	skip "hostile corpus" "generation failed: $(tail -n 1 "$TMP/gen.err")"
	exit 0
fi
cases="$DD_ROOT/tests/hostile/cases.tsv"
canaries="/tmp/drydock-escape-canary /tmp/drydock-escape-canary-abs /tmp/drydock-escape-canary-sym"
# shellcheck disable=SC2086 # a list of paths
rm -f $canaries
mkdir -p "$TMP/cwd"
: >"$TMP/start"

# The generator is right: the control is a valid image for skopeo, and the
# layer-digest case really is wrong for it.
if command -v skopeo >/dev/null 2>&1; then
	if skopeo copy -q "oci:$corpus/valid" "dir:$TMP/skopeo-valid" >/dev/null 2>"$TMP/sk.err"
	then ok "control: skopeo copies the valid image"
	else fail "control: skopeo copies the valid image" "$(tail -n 1 "$TMP/sk.err")"; fi
	if skopeo copy -q "oci:$corpus/layer-digest-mismatch" "dir:$TMP/skopeo-bad" >/dev/null 2>&1
	then fail "control: skopeo rejects layer-digest-mismatch" "it copied it"
	else ok "control: skopeo rejects layer-digest-mismatch"; fi
	if skopeo copy -q "docker-archive:$corpus/da-valid/image.tar" "dir:$TMP/skopeo-da" >/dev/null 2>"$TMP/sk.err"
	then ok "control: skopeo copies the valid docker-archive"
	else fail "control: skopeo copies the valid docker-archive" "$(tail -n 1 "$TMP/sk.err")"; fi
	rm -rf "$TMP/skopeo-valid" "$TMP/skopeo-bad" "$TMP/skopeo-da"
else
	skip "control: skopeo" "skopeo not installed"
fi

# Every case in the table exists and every generated case is in the table.
listed=$(grep -v '^#' "$cases" | cut -f1 | sort)
made=$(cd "$corpus" && ls -d -- */ | tr -d / | sort)
if [ "$listed" = "$made" ]; then ok "cases.tsv lists exactly the generated cases"
else fail "cases.tsv lists exactly the generated cases" \
	"$(diff <(echo "$listed") <(echo "$made") | grep '^[<>]' | tr '\n' ' ')"; fi

# Entries of layer 0 of a case, counted by Python's tarfile.
tar_entries() {
	python3 - "$1" <<'EOF'
import json, posixpath, sys, tarfile
d = sys.argv[1]
try:
    idx = json.load(open(d + "/index.json"))
    man = json.load(open(d + "/blobs/sha256/" + idx["manifests"][0]["digest"][7:]))
    layer = tarfile.open(d + "/blobs/sha256/" + man["layers"][0]["digest"][7:])
except FileNotFoundError:  # a docker-archive case
    outer = tarfile.open(d + "/image.tar")
    name = json.load(outer.extractfile("manifest.json"))[0]["Layers"][0]
    m = outer.getmember(name)
    while m.issym():
        m = outer.getmember(posixpath.normpath(posixpath.join(posixpath.dirname(m.name), m.linkname)))
    layer = tarfile.open(fileobj=outer.extractfile(m))
print(sum(1 for _ in layer))
EOF
}

while IFS=$'\t' read -r name flags want sub; do
	case "$name" in '#'* | '') continue ;; esac
	[ "$flags" = - ] && flags=
	img="oci:$corpus/$name"
	[ -f "$corpus/$name/image.tar" ] && img="docker-archive:$corpus/$name/image.tar"
	# shellcheck disable=SC2086 # flags are words
	(cd "$TMP/cwd" && exec timeout 300 "$DRYDOCK" inspect --format json $flags "$img") \
		>"$TMP/out" 2>"$TMP/err"
	rc=$?
	if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$TMP/err"; then
		fail "$name: no sanitizer report" "$(grep -m1 -E 'Sanitizer|runtime error' "$TMP/err")"
		continue
	fi
	if [ "$rc" -ne "$want" ]; then
		fail "$name: exit $want" "exit $rc; stderr: $(head -c 300 "$TMP/err")"
		continue
	fi
	ok "$name: exit $want"
	if [ "$want" -eq 0 ]; then
		n_tar=$(tar_entries "$corpus/$name")
		n_dd=$(jq -r '.layers[0].entries' "$TMP/out" 2>/dev/null)
		if [ -s "$TMP/err" ]; then
			fail "$name: silent, entries as in the tar" "stderr: $(head -c 300 "$TMP/err")"
		elif [ "$n_dd" = "$n_tar" ]; then
			ok "$name: silent, layer 0 has $n_tar entries as in the tar"
		else
			fail "$name: silent, entries as in the tar" "drydock says '$n_dd', tar has $n_tar"
		fi
	else
		lines=$(wc -l <"$TMP/err")
		msg=$(head -n 1 "$TMP/err")
		why=
		[ "$lines" -eq 1 ] || why="$lines lines on stderr, wanted 1;"
		case "$msg" in "drydock: "*) ;; *) why="$why does not start with 'drydock: ';" ;; esac
		case "$msg" in *"$name"*) ;; *) why="$why does not name the image;" ;; esac
		case "$msg" in *"$sub"*) ;; *) why="$why does not contain '$sub';" ;; esac
		if [ -z "$why" ]; then ok "$name: one-line error naming '$sub'"
		else fail "$name: one-line error naming '$sub'" "$why stderr: $(head -c 400 "$TMP/err")"; fi
	fi
done <"$cases"

# ---- a hostile root filesystem (rootfs:) ---------------------------------
# FIFOs where files are expected (opening one would block forever), links
# to host files and to /, a symlink loop, a device node, hard links.  The
# walker must not follow a link, open a FIFO or device, or leave the tree.
R="$TMP/rootfs-hostile"
mkdir -p "$R/etc" "$R/var/lib/dpkg" "$R/lib/apk/db" "$R/dev" "$R/usr/bin"
mkfifo "$R/etc/os-release" "$R/lib/apk/db/installed"
ln -s /etc/shadow "$R/var/lib/dpkg/status"
ln -s / "$R/host-root"
ln -s ../../.. "$R/usr/bin/up"
ln -s loop-b "$R/loop-a"
ln -s loop-a "$R/loop-b"
echo 'hard' >"$R/usr/bin/one"
ln "$R/usr/bin/one" "$R/usr/bin/two"
[ "$(id -u)" -eq 0 ] && mknod "$R/dev/mem" c 1 1
want=$(find "$R" -mindepth 1 | wc -l)
(cd "$TMP/cwd" && exec timeout 60 "$DRYDOCK" inspect --format json "rootfs:$R") >"$TMP/out" 2>"$TMP/err"
rc=$?
if [ $rc -eq 0 ] && [ "$(jq -r '.layers[0].entries' "$TMP/out" 2>/dev/null)" = "$want" ] && [ ! -s "$TMP/err" ]; then
	ok "hostile rootfs: inspect exits 0 silently, $want entries, links not followed"
else
	fail "hostile rootfs: inspect exits 0 silently with $want entries" \
		"exit $rc (124 = hung), entries $(jq -r '.layers[0].entries' "$TMP/out" 2>/dev/null); $(head -c 300 "$TMP/err")"
fi
if "$DRYDOCK" sbom --help >/dev/null 2>&1; then
	# FIFOs and a link to /etc/shadow in the package-database paths.
	(cd "$TMP/cwd" && exec timeout 60 "$DRYDOCK" sbom --format json "rootfs:$R") >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if { [ $rc -eq 0 ] || { [ $rc -eq 3 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ]; }; } &&
		! grep -q 'root:' "$TMP/out" "$TMP/err"; then
		ok "hostile rootfs: sbom does not hang on FIFOs nor read /etc/shadow (exit $rc)"
	else
		fail "hostile rootfs: sbom does not hang on FIFOs nor read /etc/shadow" \
			"exit $rc (124 = hung); $(head -c 300 "$TMP/err")"
	fi
else
	skip "hostile rootfs: sbom" "drydock sbom does not exist"
fi

escaped=
for c in $canaries; do [ -e "$c" ] || [ -L "$c" ] && escaped="$escaped $c"; done
[ -n "$(ls -A "$TMP/cwd")" ] && escaped="$escaped $TMP/cwd/{$(ls -A "$TMP/cwd" | tr '\n' ,)}"
new=$(find "$corpus" -newer "$TMP/start" ! -path "$corpus" 2>/dev/null | head -n 3)
[ -n "$new" ] && escaped="$escaped $new"
if [ -z "$escaped" ]; then ok "nothing written outside \$TMP (canaries, cwd, corpus)"
else fail "nothing written outside \$TMP" "found:$escaped"; fi
