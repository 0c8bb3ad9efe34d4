#!/bin/bash
# drydock watch as a daemon: polling on the registry's interval, a registry
# webhook (Debian's docker-registry notifying drydock itself) making it
# check at once, /metrics and /healthz, reports POSTed to notify_url, and a
# clean stop on SIGTERM; then (--once) per-platform tracking: an index that
# only gains a platform is not a change, a replaced amd64 image is.  No
# image is built here (98-watch.sh does that).
. "$DD_ROOT/tests/lib.sh"

for t in docker-registry skopeo curl python3; do
	if ! command -v $t >/dev/null; then
		skip "watch daemon" "$t not installed"
		exit 0
	fi
done
archive=$DD_ROOT/tests/data/image/alpine-310.tar.gz
gunzip -c "$archive" >"$TMP/alpine.tar"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT
export DOCKER_CONFIG=$TMP/docker-empty XDG_RUNTIME_DIR=$TMP/xdg XDG_STATE_HOME=$TMP/state
mkdir -p "$DOCKER_CONFIG" "$XDG_RUNTIME_DIR"
echo "{}" >"$DOCKER_CONFIG/config.json"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# drydock listens on a port we choose, so the registry can be told about it
hook_port=$(free_port)
export DRYDOCK_TEST_SECRET="s3cret-hook"
read -r port pid < <("$DD_ROOT/tests/registry/start" plain "$TMP/reg")
pids+=("$pid")
reg=127.0.0.1:$port
# a second registry that notifies drydock of every push
mkdir -p "$TMP/reg2/data"
reg2_port=$(free_port)
cat >"$TMP/reg2/config.yml" <<EOF
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $TMP/reg2/data}}
http: {addr: 127.0.0.1:$reg2_port}
notifications:
  endpoints:
    - name: drydock
      url: http://127.0.0.1:$hook_port/webhook
      headers: {Authorization: [Bearer $DRYDOCK_TEST_SECRET]}
      timeout: 2s
      threshold: 5
      backoff: 1s
EOF
docker-registry serve "$TMP/reg2/config.yml" >"$TMP/reg2/log" 2>&1 &
pids+=($!)
reg2=127.0.0.1:$reg2_port
for _ in $(seq 50); do curl -fs "http://$reg2/v2/" >/dev/null && break; sleep 0.1; done

# notify_url: the CI receiver records what drydock POSTs
python3 "$DD_ROOT/tests/ci/receiver" --port-file "$TMP/recv.port" --log "$TMP/recv.log" &
pids+=($!)
for _ in $(seq 50); do [ -s "$TMP/recv.port" ] && break; sleep 0.1; done
recv=$(cat "$TMP/recv.port")

skopeo copy -q --dest-tls-verify=false "docker-archive:$TMP/alpine.tar" "docker://$reg/base:1" &&
	skopeo copy -q --dest-tls-verify=false "docker-archive:$TMP/alpine.tar" "docker://$reg2/hooked:1" ||
	{ fail "push the first images"; exit 0; }

cat >"$TMP/fleet.yaml" <<EOF
registries:
  - host: $reg
    insecure: true
    poll_interval: 2s
    jitter: 0
  - host: $reg2
    insecure: true
    poll_interval: 1h          # only the webhook can make drydock notice
images:
  - name: base
    image: $reg/base:1
  - name: hooked
    image: $reg2/hooked:1
watch:
  listen: 127.0.0.1:$hook_port
  webhook_secret_env: DRYDOCK_TEST_SECRET
  debounce: 1s
  notify_url: http://127.0.0.1:$recv/drydock
EOF
"$DRYDOCK" watch --config "$TMP/fleet.yaml" --log "$TMP/watch.log" >"$TMP/daemon.out" 2>&1 &
wpid=$!
pids+=($wpid)
wait_log() { # wait_log PATTERN SECONDS
	local i
	for i in $(seq $(($2 * 10))); do grep -q "$1" "$TMP/watch.log" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
wait_log '"event":"baseline".*"image":"hooked"' 10 && ok "the daemon records its baselines" ||
	fail "the daemon records its baselines" "$(cat "$TMP/watch.log" "$TMP/daemon.out")"
curl -fs "http://127.0.0.1:$hook_port/healthz" >/dev/null && ok "/healthz answers" || fail "/healthz answers"

# polling: base:1 moves (same layers, OCI manifest) -> a change within 2 s + 1 s
skopeo copy -q --dest-tls-verify=false --format oci "docker-archive:$TMP/alpine.tar" "docker://$reg/base:1"
wait_log '"event":"change".*"image":"base"' 4 && ok "a polled change is seen within the interval + 1 s" ||
	fail "a polled change is seen within the interval + 1 s" "$(tail -5 "$TMP/watch.log")"
wait_log '"event":"round-finished"' 5 && ok "the change is handled after its debounce" || fail "the change is handled after its debounce"
for _ in $(seq 30); do grep -q '"event": *"round-finished"' "$TMP/recv.log" 2>/dev/null && break; sleep 0.1; done
grep -q 'round-finished' "$TMP/recv.log" 2>/dev/null && ok "the round's report is POSTed to notify_url" ||
	fail "the round's report is POSTed to notify_url" "$(cat "$TMP/recv.log" 2>/dev/null)"

# webhook: the registry notifies drydock; without it the 1 h interval would hide the push
skopeo copy -q --dest-tls-verify=false --format oci "docker-archive:$TMP/alpine.tar" "docker://$reg2/hooked:1"
wait_log '"event":"webhook".*"image":"hooked"' 10 && ok "the registry's notification reaches drydock" ||
	fail "the registry's notification reaches drydock" "$(tail -5 "$TMP/watch.log"; cat "$TMP/reg2/log" | tail -3)"
wait_log '"event":"change".*"image":"hooked"' 5 && ok "the webhook makes drydock check the tag at once" ||
	fail "the webhook makes drydock check the tag at once" "$(tail -5 "$TMP/watch.log")"

# a forged webhook (no secret) is refused and changes nothing
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
	--data '{"events":[]}' "http://127.0.0.1:$hook_port/webhook")
[ "$code" = 401 ] && ok "a webhook without the secret gets 401" || fail "a webhook without the secret gets 401" "HTTP $code"

# metrics
curl -fs "http://127.0.0.1:$hook_port/metrics" >"$TMP/metrics" || fail "/metrics answers"
grep -Eq '^drydock_watch_checks_total [1-9]' "$TMP/metrics" && ok "/metrics counts the checks" || fail "/metrics counts the checks" "$(head -20 "$TMP/metrics")"
grep -Eq '^drydock_watch_changes_total 2' "$TMP/metrics" && ok "/metrics counts both changes" || fail "/metrics counts both changes" "$(grep changes "$TMP/metrics")"
grep -Eq '^drydock_webhook_events_total [1-9]' "$TMP/metrics" && ok "/metrics counts webhook events" || fail "/metrics counts webhook events"
grep -q '^# TYPE drydock_watch_tracked_images gauge' "$TMP/metrics" && ok "/metrics has the tracked-images gauge" || fail "/metrics has the tracked-images gauge"

# status while running
expect_exit 0 "watch status while the daemon runs" "$DRYDOCK" watch status --config "$TMP/fleet.yaml" --format json
jq -e '[.tracked[] | select(.platform == "")] | length == 2' "$TMP/out" >/dev/null && ok "status lists both tags" || fail "status lists both tags" "$(head -c 400 "$TMP/out")"

# SIGTERM: a clean stop
kill -TERM "$wpid"
for _ in $(seq 50); do kill -0 "$wpid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$wpid" 2>/dev/null; then fail "SIGTERM stops the daemon"; else
	wait "$wpid"; rc=$?
	[ "$rc" = 0 ] && ok "SIGTERM stops the daemon (exit 0)" || fail "SIGTERM stops the daemon (exit 0)" "exit $rc: $(tail -3 "$TMP/daemon.out")"
fi
grep -q '"event":"stopped"' "$TMP/watch.log" && ok "the stop is logged" || fail "the stop is logged"

# per-platform tracking (--once): a multi-platform base whose index only
# gains a platform is not a change; its linux/amd64 image being replaced is
if "$DD_ROOT/scripts/fixtures/multiarch-layout" "$TMP/ma" >"$TMP/ma.env" 2>"$TMP/ma.err"; then
	skopeo copy -q --all --dest-tls-verify=false "oci:$TMP/ma:multi" "docker://$reg/mp:1" &&
		skopeo copy -q --dest-tls-verify=false "oci:$TMP/ma:single" "docker://$reg/mp:single" ||
		fail "push the multi-platform base"
	cat >"$TMP/mp.yaml" <<EOT
registries:
  - {host: "$reg", insecure: true}
images:
  - {name: mp, image: "$reg/mp:1", platforms: [linux/amd64, linux/arm64]}
watch:
  state: $TMP/mp-state/w.sqlite
EOT
	idx=application/vnd.oci.image.index.v1+json
	curl -fs -H "Accept: $idx" "http://$reg/v2/mp/manifests/1" >"$TMP/index.json"
	# put_index PYTHON-EXPR: rewrite the index's manifests list m and PUT it as mp:1
	put_index() {
		python3 - "$TMP/index.json" "$1" >"$TMP/index2.json" <<'EOT'
import json, sys
ix = json.load(open(sys.argv[1]))
m = ix["manifests"]
exec(sys.argv[2])
ix["manifests"] = m
sys.stdout.write(json.dumps(ix))
EOT
		curl -fs -X PUT -H "Content-Type: $idx" --data-binary "@$TMP/index2.json" "http://$reg/v2/mp/manifests/1" -o /dev/null
	}
	mpw() { "$DRYDOCK" watch --once --config "$TMP/mp.yaml" --log "$TMP/mp.log" "$@"; }
	expect_exit 0 "multi-platform baseline" mpw
	# a new platform: the arm/v7 entry copied as linux/riscv64
	put_index 'e = dict(next(x for x in m if x.get("platform", {}).get("variant") == "v7")); e["platform"] = {"os": "linux", "architecture": "riscv64"}; m.append(e)' ||
		fail "PUT an index with one more platform"
	expect_exit 0 "an index that only gains a platform" mpw
	grep -q '"event":"index-only-change"' "$TMP/mp.log" && ok "a new platform alone is not a change" ||
		fail "a new platform alone is not a change" "$(tail -3 "$TMP/mp.log")"
	! grep -q '"event":"change"' "$TMP/mp.log" && ok "no rebuild for a new platform" || fail "no rebuild for a new platform"
	# the amd64 image replaced (by the single-platform image's manifest)
	single=$(skopeo inspect --tls-verify=false --raw "docker://$reg/mp:single" | sha256sum | cut -c1-64)
	size=$(skopeo inspect --tls-verify=false --raw "docker://$reg/mp:single" | wc -c)
	put_index "[x.update({'digest': 'sha256:$single', 'size': $size}) for x in m if x.get('platform', {}).get('architecture') == 'amd64']" ||
		fail "PUT an index with a new amd64 image"
	expect_exit 0 "an index whose amd64 image was replaced" mpw
	grep -q '"event":"change".*"image":"mp"' "$TMP/mp.log" && ok "a replaced platform image is a change" ||
		fail "a replaced platform image is a change" "$(tail -3 "$TMP/mp.log")"
else
	skip "per-platform tracking" "multiarch fixture: $(tail -1 "$TMP/ma.err")"
fi
