#!/bin/bash
# drydock watch end to end, with real components only: Debian's
# docker-registry on loopback, the debootstrapped Debian image pushed as
# base:12, an app built FROM it by buildah, a bare git repository holding a
# Deployment and a kustomization that reference the app by digest.
#
#   1. first pass: the tags' digests are recorded, nothing is built
#   2. base:12 gets one more layer -> the app is rebuilt with buildah,
#      scanned, and the new digest is committed (one commit, trailer)
#   3. the same again -> nothing happens
#   4. base:12 brings a CRITICAL package (fixture DB) -> rebuilt, blocked,
#      not committed, reported (exit 1)
#   5. base:12 fixed again; the watcher is killed with SIGKILL mid-build and
#      started again -> exactly one new commit; killed between the push and
#      its record -> the pushed image is adopted (no second build or push)
#   6. the DB learns a new CVE for a package of the deployed app ->
#      reported as newly affected without pulling the image (exit 1)
#   7. with fail_on_new, a base bringing a LOW/unrated finding the running
#      image lacks is blocked too
. "$DD_ROOT/tests/lib.sh"

for t in docker-registry skopeo buildah git; do
	if ! command -v $t >/dev/null; then
		skip "watch end to end" "$t not installed"
		exit 0
	fi
done
if [ "$(id -u)" -ne 0 ]; then
	skip "watch end to end" "buildah --isolation chroot needs root"
	exit 0
fi
if ! eval "$("$DD_ROOT/scripts/fixtures/debian-image" 2>"$TMP/fixture.err")"; then
	skip "watch end to end" "no Debian image: $(tail -1 "$TMP/fixture.err")"
	exit 0
fi

pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT
export DOCKER_CONFIG=$TMP/docker-empty XDG_RUNTIME_DIR=$TMP/xdg XDG_CACHE_HOME=$TMP/cache
mkdir -p "$DOCKER_CONFIG" "$XDG_RUNTIME_DIR"
echo "{}" >"$DOCKER_CONFIG/config.json"
# buildah: a private vfs store (build backend, docs/build.md)
export DRYDOCK_BUILDAH_ROOT=$TMP/buildah/root DRYDOCK_BUILDAH_RUNROOT=$TMP/buildah/run
export DRYDOCK_BUILDAH_DRIVER=vfs
bah() { buildah --root "$DRYDOCK_BUILDAH_ROOT" --runroot "$DRYDOCK_BUILDAH_RUNROOT" --storage-driver vfs "$@"; }

read -r port pid < <("$DD_ROOT/tests/registry/start" plain "$TMP/reg")
pids+=("$pid")
reg=127.0.0.1:$port
digest_of() { skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$reg/$1"; }

# the base, and the app built on it the usual way (buildah, outside drydock)
skopeo copy -q --dest-tls-verify=false "oci:$OCI:base" "docker://$reg/base:12" ||
	{ fail "push base:12"; exit 0; }
mkdir -p "$TMP/fleet/app"
cat >"$TMP/fleet/app/Dockerfile" <<EOF
ARG BASE=$reg/base:12
FROM \$BASE
COPY app.conf /etc/app.conf
RUN echo built > /etc/app-built
EOF
echo "answer = 42" >"$TMP/fleet/app/app.conf"
bah bud -q --isolation chroot --tls-verify=false -t "$reg/app:1" "$TMP/fleet/app" >/dev/null 2>"$TMP/bud.err" &&
	bah push -q --tls-verify=false "$reg/app:1" "docker://$reg/app:1" 2>>"$TMP/bud.err" ||
	{ fail "build the first app image" "$(tail -3 "$TMP/bud.err")"; exit 0; }
app0=$(digest_of app:1)

# the GitOps repository
git init -q --bare -b main "$TMP/deploy.git"
git clone -q "$TMP/deploy.git" "$TMP/work" 2>/dev/null
mkdir -p "$TMP/work/apps/app"
cat >"$TMP/work/apps/app/deployment.yaml" <<EOF
# the app, pinned by digest (drydock keeps this up to date)
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  template:
    spec:
      containers:
        - name: app
          image: "$reg/app@$app0"   # pinned
        - name: sidecar
          image: docker.io/library/busybox:1.36
EOF
cat >"$TMP/work/apps/app/kustomization.yaml" <<EOF
resources:
  - deployment.yaml
images:
  - name: $reg/app
    digest: $app0
EOF
(cd "$TMP/work" && git add -A && git -c user.name=t -c user.email=t@t commit -qm initial && git push -q origin main) ||
	{ fail "set up the deploy repository"; exit 0; }
commits() { git --git-dir="$TMP/deploy.git" rev-list --count main; }

# a vulnerability DB with one CRITICAL advisory for a package no image has yet
mkdir -p "$TMP/feed"
cat >"$TMP/feed/DRYDOCK-TEST-1.json" <<'EOF'
{"schema_version": "1.6.0", "id": "DRYDOCK-TEST-1", "modified": "2026-11-01T00:00:00Z",
 "summary": "test advisory: remote code execution in drydock-vulnerable",
 "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
 "affected": [{"package": {"ecosystem": "Debian:12", "name": "drydock-vulnerable"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0-1"}]}]}]}
EOF
"$DRYDOCK" db import --db "$TMP/db.sqlite" "$TMP/feed" >/dev/null 2>"$TMP/err" ||
	{ fail "import the fixture DB" "$(cat "$TMP/err")"; exit 0; }

cat >"$TMP/fleet/fleet.yaml" <<EOF
registries:
  - host: $reg
    insecure: true
    poll_interval: 2s
images:
  - name: base
    image: $reg/base:12
  - name: app
    image: $reg/app:1
    build:
      context: ./app
deploy:
  git:
    - url: $TMP/deploy.git
      branch: main
policy:
  fail_on: CRITICAL
  db: $TMP/db.sqlite
watch:
  state: $TMP/state/watch.sqlite
EOF
watch() { "$DRYDOCK" watch --config "$TMP/fleet/fleet.yaml" --once --log "$TMP/watch.log" "$@"; }
# update_base NAME STEP...: base:12 gets one more layer made by STEP (a shell line)
update_base() {
	local c
	c=$(bah from -q --tls-verify=false "docker://$reg/base:12") &&
		bah run --isolation chroot "$c" -- sh -c "$1" &&
		bah commit -q "$c" "$reg/base:12" >/dev/null &&
		bah push -q --tls-verify=false "$reg/base:12" "docker://$reg/base:12" &&
		bah rm "$c" >/dev/null
}

# 1. baseline
expect_exit 0 "first pass records the tags, builds nothing" watch
grep -q '"event":"baseline"' "$TMP/watch.log" && ok "baseline logged" || fail "baseline logged" "$(cat "$TMP/watch.log")"
[ "$(commits)" = 1 ] && ok "no commit on the first pass" || fail "no commit on the first pass"

# 2. the base gets a layer
update_base 'echo "security update 1" > /etc/base-update' 2>"$TMP/upd.err" || fail "update base" "$(tail -2 "$TMP/upd.err")"
expect_exit 0 "base update: rebuild, validate, commit" watch
app1=$(digest_of app:1)
[ "$app1" != "$app0" ] && ok "a new app image was pushed" || fail "a new app image was pushed"
[ "$(commits)" = 2 ] && ok "one commit" || fail "one commit" "$(commits) commits"
git --git-dir="$TMP/deploy.git" show main:apps/app/deployment.yaml >"$TMP/dep.yaml"
git --git-dir="$TMP/deploy.git" show main:apps/app/kustomization.yaml >"$TMP/kus.yaml"
grep -q "image: \"$reg/app@$app1\"   # pinned" "$TMP/dep.yaml" && ok "Deployment points at the new digest, comment kept" ||
	fail "Deployment points at the new digest" "$(cat "$TMP/dep.yaml")"
grep -q "busybox:1.36" "$TMP/dep.yaml" && ok "other images untouched" || fail "other images untouched"
grep -q "digest: $app1" "$TMP/kus.yaml" && ok "kustomization digest updated" || fail "kustomization digest updated" "$(cat "$TMP/kus.yaml")"
msg=$(git --git-dir="$TMP/deploy.git" log -1 --format=%B main)
case "$msg" in *"base"*"->"*"$app1"*Drydock-Change:*) ok "commit message lists base change, image, trailer" ;;
*) fail "commit message lists base change, image, trailer" "$msg" ;; esac
# the FROM digest recorded for the rebuilt image is the new base
base1=$(digest_of base:12)
"$DRYDOCK" watch status --config "$TMP/fleet/fleet.yaml" --format json >"$TMP/status.json" 2>"$TMP/err"
jq -e --arg d "$app1" '.builds[-1] | .status == "succeeded" and .digest == $d' "$TMP/status.json" >/dev/null &&
	ok "watch status shows the validated build" || fail "watch status shows the validated build" "$(head -c 600 "$TMP/status.json")"
skopeo inspect --tls-verify=false --raw "docker://$reg/app@$app1" | grep -q "$base1" &&
	ok "the rebuilt app is built on the new base digest" || fail "the rebuilt app is built on the new base digest"

# lineage (a): the FROM digest drydock's build recorded is the strongest evidence
"$DRYDOCK" lineage --state "$TMP/state/watch.sqlite" --format json "$reg/app@$app1" >"$TMP/lin.json" 2>"$TMP/err"
jq -e --arg d "$base1" '.images[0].chain[0] | .how == "recorded" and .digest == $d' "$TMP/lin.json" >/dev/null &&
	ok "lineage: the recorded FROM digest is the base link" || fail "lineage: the recorded FROM digest" "$(head -c 600 "$TMP/lin.json"; cat "$TMP/err")"

# 3. again: nothing
expect_exit 0 "second pass with nothing new" watch
[ "$(commits)" = 2 ] && ok "no new commit" || fail "no new commit"
[ "$(digest_of app:1)" = "$app1" ] && ok "nothing rebuilt" || fail "nothing rebuilt"

# 4. a base update that brings a CRITICAL package
update_base 'printf "Package: drydock-vulnerable\nStatus: install ok installed\nPriority: optional\nArchitecture: all\nVersion: 1.0-1\nDescription: test\n\n" >> /var/lib/dpkg/status' \
	2>"$TMP/upd.err" || fail "update base (vulnerable)" "$(tail -2 "$TMP/upd.err")"
expect_exit 1 "a CRITICAL finding blocks the rebuilt image (exit 1)" watch
grep -q '"event":"build-blocked"' "$TMP/watch.log" && ok "blocked build logged" || fail "blocked build logged"
grep '"event":"build-blocked"' "$TMP/watch.log" | grep -q "CRITICAL" && ok "the reason names CRITICAL" || fail "the reason names CRITICAL"
[ "$(commits)" = 2 ] && ok "blocked image not committed" || fail "blocked image not committed"
"$DRYDOCK" watch status --config "$TMP/fleet/fleet.yaml" >"$TMP/status.txt" 2>&1
grep -q "blocked" "$TMP/status.txt" && ok "watch status shows the blocked build" || fail "watch status shows the blocked build"

# 5. fixed again; SIGKILL mid-build, restart: exactly one commit
update_base 'sed -i "/^Package: drydock-vulnerable$/,/^$/d" /var/lib/dpkg/status' \
	2>"$TMP/upd.err" || fail "update base (fixed)" "$(tail -2 "$TMP/upd.err")"
: >"$TMP/watch.log"
"$DRYDOCK" watch --config "$TMP/fleet/fleet.yaml" --once --log "$TMP/watch.log" >/dev/null 2>&1 &
wp=$!
for _ in $(seq 300); do grep -q '"event":"build-start"' "$TMP/watch.log" && break; sleep 0.1; done
sleep 1
kill -9 "$wp" 2>/dev/null
wait "$wp" 2>/dev/null
grep -q '"event":"build-start"' "$TMP/watch.log" && ok "killed the watcher mid-build" || fail "killed the watcher mid-build"
expect_exit 0 "the restarted watcher finishes the round" watch
grep -q '"event":"round-resumed"' "$TMP/watch.log" && ok "the round was resumed" || fail "the round was resumed"
[ "$(commits)" = 3 ] && ok "exactly one commit after the restart" || fail "exactly one commit after the restart" "$(commits) commits"
expect_exit 0 "and again: nothing" watch
[ "$(commits)" = 3 ] && ok "still one commit" || fail "still one commit"

# 5b. SIGKILL right after the rebuilt image was pushed (before the watcher
#     recorded it): the restarted watcher adopts that image (its
#     io.drydock.change label names the round) instead of building again
update_base 'echo "security update 3" > /etc/base-update' 2>"$TMP/upd.err" || fail "update base (3)" "$(tail -2 "$TMP/upd.err")"
before=$(digest_of app:1)
: >"$TMP/watch.log"
"$DRYDOCK" watch --config "$TMP/fleet/fleet.yaml" --once --log "$TMP/watch.log" >/dev/null 2>&1 &
wp=$!
for _ in $(seq 1200); do
	now=$(digest_of app:1 2>/dev/null)
	[ -n "$now" ] && [ "$now" != "$before" ] && break
	kill -0 "$wp" 2>/dev/null || break
	sleep 0.05
done
kill -9 "$wp" 2>/dev/null
wait "$wp" 2>/dev/null
pushed=$(digest_of app:1)
if grep -q '"event":"build-validated"' "$TMP/watch.log"; then
	skip "adopt a pushed build after SIGKILL" "the watcher finished before it was killed"
else
	n=$(commits)
	expect_exit 0 "restart after a kill between push and record" watch
	grep -q '"event":"build-adopted"' "$TMP/watch.log" && ok "the pushed image is adopted, not rebuilt" ||
		fail "the pushed image is adopted, not rebuilt" "$(grep -o '"event":"[a-z-]*"' "$TMP/watch.log" | tr '\n' ' ')"
	[ "$(digest_of app:1)" = "$pushed" ] && ok "no second push" || fail "no second push"
	[ "$(commits)" = $((n + 1)) ] && ok "exactly one commit for the adopted image" || fail "exactly one commit for the adopted image"
	git --git-dir="$TMP/deploy.git" show main:apps/app/deployment.yaml | grep -q "$pushed" &&
		ok "the commit pins the adopted digest" || fail "the commit pins the adopted digest"
fi

# 6. new CVE, old image: the DB learns about a package the deployed app has
cat >"$TMP/feed/DRYDOCK-TEST-2.json" <<EOF
{"schema_version": "1.6.0", "id": "DRYDOCK-TEST-2", "modified": "2026-11-02T00:00:00Z",
 "summary": "test advisory for base-files",
 "affected": [{"package": {"ecosystem": "Debian:12", "name": "base-files"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "99"}]}]}]}
EOF
"$DRYDOCK" db import --db "$TMP/db.sqlite" "$TMP/feed" >/dev/null 2>&1
: >"$TMP/watch.log"
expect_exit 1 "a DB update makes the running app affected (exit 1)" watch
grep '"event":"newly-affected"' "$TMP/watch.log" | grep -q "DRYDOCK-TEST-2" &&
	ok "the newly affected image is reported with the new advisory" ||
	fail "the newly affected image is reported" "$(cat "$TMP/watch.log")"
expect_exit 0 "reported once" watch

# 7. fail_on_new: a base update bringing a finding below CRITICAL that the
#    running image does not have is blocked too
sed -i 's/^  fail_on: CRITICAL$/  fail_on: CRITICAL\n  fail_on_new: true/' "$TMP/fleet/fleet.yaml"
cat >"$TMP/feed/DRYDOCK-TEST-3.json" <<'EOT'
{"schema_version": "1.6.0", "id": "DRYDOCK-TEST-3", "modified": "2026-11-03T00:00:00Z",
 "summary": "test advisory: a minor issue in drydock-minor",
 "affected": [{"package": {"ecosystem": "Debian:12", "name": "drydock-minor"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0-1"}]}]}]}
EOT
"$DRYDOCK" db import --db "$TMP/db.sqlite" "$TMP/feed" >/dev/null 2>&1
watch >/dev/null 2>&1 # the DB changed: re-matched, nothing new
update_base 'printf "Package: drydock-minor\nStatus: install ok installed\nPriority: optional\nArchitecture: all\nVersion: 1.0-1\nDescription: test\n\n" >> /var/lib/dpkg/status' \
	2>"$TMP/upd.err" || fail "update base (minor)" "$(tail -2 "$TMP/upd.err")"
n=$(commits)
: >"$TMP/watch.log"
expect_exit 1 "fail_on_new blocks a finding the running image does not have" watch
grep '"event":"build-blocked"' "$TMP/watch.log" | grep -q 'does not have.*DRYDOCK-TEST-3' &&
	ok "the reason names the new finding" || fail "the reason names the new finding" "$(grep build-blocked "$TMP/watch.log")"
[ "$(commits)" = "$n" ] && ok "not committed" || fail "not committed"
