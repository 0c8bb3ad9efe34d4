#!/bin/bash
# 10-inspect-fixtures.sh - `drydock inspect` on real images agrees with skopeo.
#
# Images: the debootstrapped Debian images of scripts/fixtures/debian-image
# (OCI layout tags base and app, base recompressed by skopeo as zstd and as
# uncompressed, the docker-archives, the debootstrap root as rootfs:) and the alpine 3.10 / 3.11 `docker save` archives (../shared,
# and the project's own tests/data/image/alpine-310.tar.gz when present).
# For each: manifest digest (sha256 of `skopeo inspect --raw`), config
# digest, every layer's digest, diffID, size, media type, compression, entry
# count (= `tar -t | wc -l` of the uncompressed layer) and uncompressed size,
# and the config fields (platform, user, workingDir, entrypoint, cmd, env,
# labels, history).
. "$DD_ROOT/tests/lib.sh"

if ! command -v skopeo >/dev/null 2>&1 || ! command -v jq >/dev/null 2>&1; then
	skip "inspect vs skopeo" "skopeo or jq not installed (scripts/install-deps)"
	exit 0
fi

# same NAME GOT WANT: one TAP line.
same() {
	if [ "$2" = "$3" ]; then ok "$1"
	else fail "$1" "drydock: $(printf %s "$2" | head -c 300) | wanted: $(printf %s "$3" | head -c 300)"; fi
}

# magic FILE: the compression of a blob by its magic bytes, named as
# drydock names it.
magic() {
	case "$(head -c 4 "$1" | od -An -tx1 | tr -d ' \n')" in
	1f8b*) echo gzip ;;
	28b52ffd) echo zstd ;;
	*) echo none ;;
	esac
}

# decomp FILE: the uncompressed stream of a blob.
decomp() {
	case "$(magic "$1")" in
	gzip) gzip -dc "$1" ;;
	zstd) zstd -dcq "$1" ;;
	*) cat "$1" ;;
	esac
}

# compare LABEL DRYDOCK_REF SKOPEO_REF KIND(oci|archive) ARCHIVE_TAR
compare() {
	local label=$1 ref=$2 sref=$3 kind=$4 atar=${5:-} dd="$TMP/dd.json" i n blob f layout rc
	layout=${sref#oci:}
	layout=${layout%:*}   # oci:DIR:TAG -> DIR
	"$DRYDOCK" inspect --format json "$ref" >"$dd" 2>"$TMP/err"
	rc=$?
	if [ $rc -ne 0 ]; then
		fail "$label: inspect exits 0" "exit $rc: $(head -c 300 "$TMP/err")"
		return
	fi
	ok "$label: inspect exits 0"
	if ! jq -e . "$dd" >/dev/null 2>&1; then
		fail "$label: output is JSON" "$(head -c 200 "$dd")"; return
	fi
	if ! skopeo inspect --raw "$sref" >"$TMP/raw" 2>"$TMP/err" ||
		! skopeo inspect --config --raw "$sref" >"$TMP/cfg" 2>>"$TMP/err"; then
		fail "$label: skopeo inspect" "$(tail -n 1 "$TMP/err")"; return
	fi
	local raw="$TMP/raw" cfg="$TMP/cfg"
	same "$label: reference and transport" "$(jq -r '.reference + " " + .transport' "$dd")" \
		"$ref $( [ "$kind" = oci ] && echo oci || echo docker-archive)"
	# For a classic `docker save` archive there is no manifest blob: drydock
	# synthesises the same Docker v2s2 manifest skopeo does, byte for byte.
	same "$label: manifest digest = sha256 of skopeo --raw" \
		"$(jq -r .manifest.digest "$dd")" "sha256:$(sha256sum <"$raw" | cut -c1-64)"
	same "$label: manifest size" "$(jq -r .manifest.size "$dd")" "$(wc -c <"$raw")"
	if [ "$kind" = oci ]; then
		# umoci's manifests carry no mediaType; the index descriptor does
		same "$label: manifest media type" "$(jq -r .manifest.mediaType "$dd")" \
			"$(jq -r --arg d "$(jq -r .manifest.digest "$dd")" \
				'first(.manifests[] | select(.digest == $d)) | .mediaType' "$layout/index.json")"
	else
		same "$label: manifest media type" "$(jq -r .manifest.mediaType "$dd")" "$(jq -r .mediaType "$raw")"
	fi
	same "$label: config digest" "$(jq -r .config.digest "$dd")" "$(jq -r .config.digest "$raw")"
	same "$label: config digest = sha256 of skopeo --config --raw" \
		"$(jq -r .config.digest "$dd")" "sha256:$(sha256sum <"$cfg" | cut -c1-64)"
	same "$label: platform" "$(jq -r '.platform | .os + "/" + .architecture + "/" + (.variant // "")' "$dd")" \
		"$(jq -r '.os + "/" + .architecture + "/" + (.variant // "")' "$cfg")"
	# unset and "" mean the same: no user, no working directory
	same "$label: user, workingDir" "$(jq -c '[.config.user // "", .config.workingDir // ""]' "$dd")" \
		"$(jq -c '[.config.User // "", .config.WorkingDir // ""]' "$cfg")"
	same "$label: entrypoint, cmd" "$(jq -c '[.config.entrypoint // [], .config.cmd // []]' "$dd")" \
		"$(jq -c '[.config.Entrypoint // [], .config.Cmd // []]' "$cfg")"
	same "$label: env" "$(jq -c '.config.env // []' "$dd")" "$(jq -c '.config.Env // []' "$cfg")"
	same "$label: labels" "$(jq -cS '.config.labels // {}' "$dd")" "$(jq -cS '.config.Labels // {}' "$cfg")"
	same "$label: history" \
		"$(jq -c '[.config.history[] | [.createdBy // "", .emptyLayer // false]]' "$dd")" \
		"$(jq -c '[(.history // [])[] | [.created_by // "", .empty_layer // false]]' "$cfg")"
	same "$label: created" "$(jq -r .config.created "$dd")" "$(jq -r '.created // ""' "$cfg")"
	n=$(jq '.layers | length' "$raw")
	same "$label: layer count" "$(jq '.layers | length' "$dd")" "$n"
	same "$label: layer digests" "$(jq -c '[.layers[].digest]' "$dd")" "$(jq -c '[.layers[].digest]' "$raw")"
	same "$label: layer sizes" "$(jq -c '[.layers[].size]' "$dd")" "$(jq -c '[.layers[].size]' "$raw")"
	same "$label: diffIDs = config rootfs.diff_ids" "$(jq -c '[.layers[].diffID]' "$dd")" \
		"$(jq -c .rootfs.diff_ids "$cfg")"
	same "$label: layer indexes" "$(jq -c '[.layers[].index]' "$dd")" "$(jq -c "[range($n)]" "$raw")"
	same "$label: layer media types" "$(jq -c '[.layers[].mediaType]' "$dd")" \
		"$(jq -c '[.layers[].mediaType]' "$raw")"
	same "$label: annotations" "$(jq -cS '.annotations // {}' "$dd")" "$(jq -cS '.annotations // {}' "$raw")"
	# Per layer: compression, entries and uncompressed size from the blob itself.
	for ((i = 0; i < n; i++)); do
		blob="$TMP/layer"
		if [ "$kind" = oci ]; then
			cp "$layout"/blobs/sha256/"$(jq -r ".layers[$i].digest | .[7:]" "$raw")" "$blob"
		else
			f=$(tar -xOf "$atar" manifest.json | jq -r ".[0].Layers[$i]")
			tar -xOf "$atar" "$f" >"$blob"
		fi
		same "$label: layer $i compression" "$(jq -r ".layers[$i].compression" "$dd")" "$(magic "$blob")"
		same "$label: layer $i entries = tar -t | wc -l" "$(jq -r ".layers[$i].entries" "$dd")" \
			"$(decomp "$blob" | tar -t | wc -l)"
		same "$label: layer $i uncompressedSize" "$(jq -r ".layers[$i].uncompressedSize" "$dd")" \
			"$(decomp "$blob" | wc -c)"
		rm -f "$blob"
	done
}

# ---- Debian (debootstrap + umoci) ----------------------------------------
if fx=$("$DD_ROOT/scripts/fixtures/debian-image" 2>"$TMP/fx.err"); then
	eval "$fx"
	compare "debian oci base" "oci:$OCI:base" "oci:$OCI:base" oci
	compare "debian oci app" "oci:$OCI:app" "oci:$OCI:app" oci
	compare "debian oci zstd" "oci:$OCI:zstd" "oci:$OCI:zstd" oci
	compare "debian oci plain" "oci:$OCI:plain" "oci:$OCI:plain" oci
	# the app manifest names its base through annotations; base has none
	"$DRYDOCK" inspect --format json "oci:$OCI:app" >"$TMP/app.json" 2>/dev/null
	"$DRYDOCK" inspect --format json "oci:$OCI:base" >"$TMP/base.json" 2>/dev/null
	same "debian oci app: base name and digest" "$(jq -c '[.base.name, .base.digest]' "$TMP/app.json")" \
		"$(jq -c --arg d "$(jq -r .manifest.digest "$TMP/base.json")" -n '["debian:base", $d]')"
	same "debian oci base: no base field" "$(jq -c 'has("base")' "$TMP/base.json")" false
	# One layer, three compressions (gzip, zstd, none): same content.
	for t in zstd plain; do
		"$DRYDOCK" inspect --format json "oci:$OCI:$t" >"$TMP/$t.json" 2>/dev/null
		same "debian oci $t: diffID, entries, uncompressed size as base's" \
			"$(jq -c '[.layers[] | [.diffID, .entries, .uncompressedSize]]' "$TMP/$t.json")" \
			"$(jq -c '[.layers[] | [.diffID, .entries, .uncompressedSize]]' "$TMP/base.json")"
	done
	# The app layer: the added file, the whiteout, the opaque marker and the
	# new file, with their parent directories: 8 tar entries, all counted.
	same "debian oci app: layer 1 counts whiteouts as entries" \
		"$(jq -r '.layers[1].entries' "$TMP/app.json")" 8
	compare "debian docker-archive base" "docker-archive:$ARCHIVE_BASE" \
		"docker-archive:$ARCHIVE_BASE" archive "$ARCHIVE_BASE"
	compare "debian docker-archive app" "docker-archive:$ARCHIVE_APP" \
		"docker-archive:$ARCHIVE_APP" archive "$ARCHIVE_APP"
	# The same layers, reached through two transports, hash alike.
	"$DRYDOCK" inspect --format json "docker-archive:$ARCHIVE_APP" >"$TMP/app-archive.json" 2>/dev/null
	same "debian app: OCI and docker-archive give the same diffIDs" \
		"$(jq -c '[.layers[].diffID]' "$TMP/app-archive.json")" "$(jq -c '[.layers[].diffID]' "$TMP/app.json")"
	same "debian app: OCI and docker-archive give the same entry counts" \
		"$(jq -c '[.layers[].entries]' "$TMP/app-archive.json")" "$(jq -c '[.layers[].entries]' "$TMP/app.json")"

	# rootfs: one layer; entries = every path below the root (the root itself
	# not counted) = `find ROOT -mindepth 1 | wc -l`, which for this root is
	# also the base layer's tar entry count (the layer is a tar of ROOT's
	# contents without a "./" entry).
	"$DRYDOCK" inspect --format json "rootfs:$ROOTFS" >"$TMP/rootfs.json" 2>"$TMP/err"
	rc=$?
	if [ $rc -eq 0 ]; then
		ok "debian rootfs: inspect exits 0"
		same "debian rootfs: transport, one layer" "$(jq -c '[.transport, (.layers | length)]' "$TMP/rootfs.json")" \
			'["rootfs",1]'
		same "debian rootfs: entries = find ROOT -mindepth 1 | wc -l" \
			"$(jq -r '.layers[0].entries' "$TMP/rootfs.json")" "$(find "$ROOTFS" -mindepth 1 | wc -l)"
		same "debian rootfs: entries = base layer entries" \
			"$(jq -r '.layers[0].entries' "$TMP/rootfs.json")" "$(jq -r '.layers[0].entries' "$TMP/base.json")"
	else
		fail "debian rootfs: inspect exits 0" "exit $rc: $(head -c 300 "$TMP/err")"
	fi

	# Table form and -o FILE.
	if "$DRYDOCK" inspect "oci:$OCI:app" >"$TMP/table" 2>"$TMP/err" &&
		grep -qF "$(jq -r .manifest.digest "$TMP/app.json")" "$TMP/table"; then
		ok "debian oci app: table names the manifest digest"
	else
		fail "debian oci app: table names the manifest digest" "$(head -c 300 "$TMP/err")"
	fi
	if "$DRYDOCK" inspect --format json -o "$TMP/o.json" "oci:$OCI:app" >"$TMP/stdout" 2>"$TMP/err" &&
		[ ! -s "$TMP/stdout" ] && cmp -s "$TMP/o.json" "$TMP/app.json"; then
		ok "debian oci app: -o FILE holds what stdout would"
	else
		fail "debian oci app: -o FILE holds what stdout would" "$(head -c 300 "$TMP/err")"
	fi
	# The squashed view (whiteouts, opaque dir) is checked against umoci's
	# unpack in 30-fixtures.sh once `drydock ls` exists.
else
	skip "debian images" "fixture not built: $(tail -n 1 "$TMP/fx.err")"
fi

# ---- alpine docker save archives (gzip-wrapped) --------------------------
alpine() { # alpine LABEL PATH.tar.gz
	gzip -dc "$2" >"$TMP/alpine.tar" || { fail "$1: gunzip" "$2"; return; }
	compare "$1" "docker-archive:$2" "docker-archive:$TMP/alpine.tar" archive "$TMP/alpine.tar"
	rm -f "$TMP/alpine.tar"
}
if [ -f "$DD_ROOT/tests/data/image/alpine-310.tar.gz" ]; then
	alpine "bundled alpine 3.10" "$DD_ROOT/tests/data/image/alpine-310.tar.gz"
else
	skip "bundled alpine 3.10" "tests/data/image/alpine-310.tar.gz not present"
fi
if have_shared corpus/images/alpine-310.tar.gz; then
	alpine "shared alpine 3.10" "$DD_SHARED/corpus/images/alpine-310.tar.gz"
	alpine "shared alpine 3.11" "$DD_SHARED/corpus/images/alpine-311.tar.gz"
else
	skip "shared alpine 3.10 and 3.11" "../shared not present"
fi
