#!/bin/bash
# Registry credentials against Debian's docker-registry (tests/registry/start
# tls = TLS + htpasswd Basic, token = token auth with tests/registry/tokend):
# REGISTRY_AUTH_FILE > $XDG_RUNTIME_DIR/containers/auth.json >
# $DOCKER_CONFIG/config.json; credHelpers and credsStore through a fake
# docker-credential-test first in PATH; identitytoken (OAuth2 refresh-token
# grant, POST to the token server); and no secret in stderr or in `ps`.
. "$DD_ROOT/tests/lib.sh"

if ! command -v docker-registry >/dev/null || ! command -v skopeo >/dev/null; then
	skip "registry credential tests" "docker-registry or skopeo not installed"
	exit 0
fi
archive=$DD_ROOT/tests/data/image/alpine-310.tar.gz
if [ ! -f "$archive" ]; then
	skip "registry credential tests" "tests/data/image/alpine-310.tar.gz missing"
	exit 0
fi
gunzip -c "$archive" >"$TMP/alpine.tar"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$TMP"; }
trap cleanup EXIT
unset REGISTRY_AUTH_FILE
# every layer must come over the wire: no layer cache
export DRYDOCK_NO_CACHE=1
export DOCKER_CONFIG=$TMP/docker XDG_RUNTIME_DIR=$TMP/xdg HOME=$TMP/home
mkdir -p "$DOCKER_CONFIG" "$XDG_RUNTIME_DIR/containers" "$HOME" "$TMP/bin"
user=drydock pass='s3cret pass'
refresh=rt-$RANDOM-$RANDOM-secret
export TOKEND_LOG=$TMP/tokend.log TOKEND_REFRESH_TOKEN=$refresh
: >"$TOKEND_LOG"

# The fake credential helper: knows HOST (the registry), says "credentials
# not found" (exit 1) for anything else; logs what it was asked.
cat >"$TMP/bin/docker-credential-test" <<EOF
#!/bin/sh
[ "\$1" = get ] || exit 2
read -r host
echo "\$host" >>"$TMP/helper.log"
if [ "\$host" = "\$(cat "$TMP/helper.host")" ]; then
	printf '{"ServerURL":"%s","Username":"%s","Secret":"%s"}\n' "\$host" "\$(cat "$TMP/helper.user")" "\$(cat "$TMP/helper.secret")"
	exit 0
fi
echo "credentials not found in native keychain" >&2
exit 1
EOF
chmod +x "$TMP/bin/docker-credential-test"
export PATH=$TMP/bin:$PATH

start() { # start MODE -> sets port
	local out
	out=$("$DD_ROOT/tests/registry/start" "$1" "$TMP/$1") || return 1
	set -- $out
	port=$1
	pids+=("$2")
	[ -n "${3:-}" ] && pids+=("$3")
	return 0
}
authjson() { # authjson HOST USER PASS
	printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$1" "$(printf '%s:%s' "$2" "$3" | base64 -w0)"
}
clear_creds() { rm -f "$DOCKER_CONFIG/config.json" "$XDG_RUNTIME_DIR/containers/auth.json" "$TMP/regauth.json"; unset REGISTRY_AUTH_FILE; }
errs=$TMP/all-stderr
: >"$errs"
run() { # run NAME WANT_EXIT CMD...: like expect_exit, keeping stderr for the secret check
	local n=$1 want=$2 rc
	shift 2
	"$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	cat "$TMP/err" >>"$errs"
	if [ "$rc" -eq "$want" ]; then ok "$n"; else fail "$n" "exit $rc, wanted $want: $(head -c 300 "$TMP/err")"; fi
}

# ---- TLS + Basic ----
if start tls; then
	reg=127.0.0.1:$port
	ca=$TMP/tls/ca.pem
	skopeo copy -q --dest-tls-verify=false --dest-creds "$user:$pass" \
		docker-archive:"$TMP/alpine.tar" docker://$reg/lib/alpine:3.10 >/dev/null 2>"$TMP/sk.err" ||
		fail "push with skopeo (tls)" "$(cat "$TMP/sk.err")"
	want=$(skopeo inspect --tls-verify=false --creds "$user:$pass" docker://$reg/lib/alpine:3.10 | jq -r .Digest)
	R() { "$DRYDOCK" resolve --ca-file "$ca" "$@"; }

	clear_creds
	run "no credentials anywhere: exit 4" 4 R $reg/lib/alpine:3.10
	grep -q "requires authentication and no credentials were found" "$TMP/err" && ok "... saying no credentials were found" ||
		fail "... saying no credentials were found" "$(cat "$TMP/err")"

	# precedence: REGISTRY_AUTH_FILE > XDG auth.json > DOCKER_CONFIG
	authjson "$reg" "$user" "$pass" >"$DOCKER_CONFIG/config.json"
	run "DOCKER_CONFIG/config.json alone" 0 R $reg/lib/alpine:3.10
	authjson "https://$reg/v1/" "$user" "wrong-xdg" >"$XDG_RUNTIME_DIR/containers/auth.json"
	run "XDG_RUNTIME_DIR/containers/auth.json comes before config.json (its wrong password is used)" 4 R $reg/lib/alpine:3.10
	authjson "$reg" "$user" "$pass" >"$XDG_RUNTIME_DIR/containers/auth.json"
	authjson "$reg" "$user" "wrong-raf" >"$TMP/regauth.json"
	REGISTRY_AUTH_FILE=$TMP/regauth.json run "REGISTRY_AUTH_FILE comes before auth.json (its wrong password is used)" 4 \
		R $reg/lib/alpine:3.10
	grep -q "credentials from auth file" "$TMP/err" && ok "... and the error says where the credentials came from" ||
		fail "... and the error says where the credentials came from" "$(cat "$TMP/err")"
	authjson "other.example" "$user" "wrong-raf" >"$TMP/regauth.json"
	REGISTRY_AUTH_FILE=$TMP/regauth.json run "a REGISTRY_AUTH_FILE without the host falls through to auth.json" 0 \
		R $reg/lib/alpine:3.10
	[ "$(cat "$TMP/out")" = "$want" ] && ok "... giving skopeo's digest" || fail "... giving skopeo's digest" "$(cat "$TMP/out")"
	clear_creds
	printf '{"auths":{"%s":{"username":"%s","password":"%s"}}}\n' "$reg" "$user" "$pass" >"$XDG_RUNTIME_DIR/containers/auth.json"
	run "auth.json with username/password fields" 0 R $reg/lib/alpine:3.10

	# credential helpers
	clear_creds
	echo "$reg" >"$TMP/helper.host"; echo "$user" >"$TMP/helper.user"; echo "$pass" >"$TMP/helper.secret"
	: >"$TMP/helper.log"
	printf '{"credHelpers":{"%s":"test"}}\n' "$reg" >"$DOCKER_CONFIG/config.json"
	run "credHelpers: docker-credential-test supplies the password" 0 R $reg/lib/alpine:3.10
	[ "$(cat "$TMP/helper.log")" = "$reg" ] && ok "... asked once, for $reg" || fail "... asked once for the registry" "$(cat "$TMP/helper.log")"
	printf '{"credsStore":"test"}\n' >"$DOCKER_CONFIG/config.json"
	run "credsStore: docker-credential-test supplies the password" 0 R $reg/lib/alpine:3.10
	run "credsStore: 'credentials not found' for another name means anonymous (exit 4)" 4 \
		R localhost:$port/lib/alpine:3.10
	grep -q "no credentials were found" "$TMP/err" && ok "... reported as no credentials, not as a helper failure" ||
		fail "... reported as no credentials" "$(cat "$TMP/err")"
	printf '{"credsStore":"test","auths":{"localhost:%s":{"auth":"%s"}}}\n' "$port" \
		"$(printf '%s:%s' "$user" "$pass" | base64 -w0)" >"$DOCKER_CONFIG/config.json"
	run "a helper's 'not found' falls back to the auths entry" 0 R localhost:$port/lib/alpine:3.10
	printf '{"credsStore":"missing-helper"}\n' >"$DOCKER_CONFIG/config.json"
	run "a credsStore helper missing from PATH: exit 4" 4 R $reg/lib/alpine:3.10
	grep -q "docker-credential-missing-helper not found" "$TMP/err" && ok "... naming the helper" || fail "... naming the helper" "$(cat "$TMP/err")"
	echo wrong-helper-secret >"$TMP/helper.secret"
	printf '{"credHelpers":{"%s":"test"}}\n' "$reg" >"$DOCKER_CONFIG/config.json"
	run "a helper's wrong password: exit 4" 4 R $reg/lib/alpine:3.10
	grep -q "credentials from credential helper" "$TMP/err" && ok "... saying the credentials came from the helper" ||
		fail "... saying the credentials came from the helper" "$(cat "$TMP/err")"

	# no secret in the process list while drydock runs (password on stdin)
	clear_creds
	: >"$TMP/ps.log"
	# (the password arrives after 0.5 s, so drydock is surely seen running)
	( sleep 0.5; printf '%s\n' "$pass" ) | "$DRYDOCK" sbom --ca-file "$ca" -u "$user" --password-stdin $reg/lib/alpine:3.10 \
		>"$TMP/sbom.out" 2>"$TMP/err" &
	dpid=$!
	seen=0
	while kill -0 $dpid 2>/dev/null; do
		ps -eo args >>"$TMP/ps.log" 2>/dev/null
		grep -q "password-stdin" "$TMP/ps.log" && seen=1
	done
	wait $dpid
	rc=$?
	cat "$TMP/err" >>"$errs"
	[ $rc -eq 0 ] && grep -q "^Packages: *14" "$TMP/sbom.out" && ok "sbom with --password-stdin" ||
		fail "sbom with --password-stdin" "exit $rc: $(cat "$TMP/err")"
	if [ $seen -eq 1 ]; then
		grep -q "s3cret" "$TMP/ps.log" && fail "the password is not in ps output" "$(grep s3cret "$TMP/ps.log" | head -3)" ||
			ok "the password is not in ps output while drydock runs ($(grep -c password-stdin "$TMP/ps.log") samples)"
	else
		fail "ps saw drydock running" "no sample"
	fi
	printf 'wrong-stdin\n' | run "--password-stdin with a wrong password: exit 4" 4 \
		"$DRYDOCK" resolve --ca-file "$ca" -u "$user" --password-stdin $reg/lib/alpine:3.10
else
	fail "start TLS registry"
fi

# ---- token auth: identity tokens (OAuth2 refresh-token grant) ----
if start token; then
	reg=127.0.0.1:$port
	skopeo copy -q --dest-tls-verify=false --dest-creds "$user:$pass" \
		docker-archive:"$TMP/alpine.tar" docker://$reg/private/alpine:3.10 >/dev/null 2>"$TMP/sk.err" ||
		fail "push with skopeo (token)" "$(cat "$TMP/sk.err")"
	want=$(skopeo inspect --tls-verify=false --creds "$user:$pass" docker://$reg/private/alpine:3.10 | jq -r .Digest)
	clear_creds
	: >"$TOKEND_LOG"
	printf '{"auths":{"%s":{"auth":"","identitytoken":"%s"}}}\n' "$reg" "$refresh" >"$DOCKER_CONFIG/config.json"
	run "identitytoken in config.json: resolve succeeds" 0 "$DRYDOCK" resolve $reg/private/alpine:3.10
	[ "$(cat "$TMP/out")" = "$want" ] && ok "... giving skopeo's digest" || fail "... giving skopeo's digest" "$(cat "$TMP/out")"
	grep -q "^refresh $user repository:private/alpine:pull$" "$TOKEND_LOG" && ! grep -q "^token " "$TOKEND_LOG" &&
		ok "the token server saw a POST with grant_type=refresh_token (and no GET)" ||
		fail "the token server saw a refresh-token POST" "$(cat "$TOKEND_LOG")"
	# push scope with the identity token: drydock copy asks pull,push
	run "identitytoken: copy (push) into the registry" 0 "$DRYDOCK" copy -q "$reg/private/alpine:3.10" "$reg/private/copy:1"
	grep -q "^refresh $user repository:private/copy:pull,push$" "$TOKEND_LOG" && ok "... with a pull,push scope" ||
		fail "... with a pull,push scope" "$(cat "$TOKEND_LOG")"
	printf '{"auths":{"%s":{"identitytoken":"not-the-token"}}}\n' "$reg" >"$DOCKER_CONFIG/config.json"
	run "a wrong identitytoken: exit 4" 4 "$DRYDOCK" resolve $reg/private/alpine:3.10
	grep -q "authentication failed" "$TMP/err" && ok "... authentication failed" || fail "... authentication failed" "$(cat "$TMP/err")"
	# a helper answering Username "<token>" gives an identity token too
	: >"$TOKEND_LOG"
	echo "$reg" >"$TMP/helper.host"; echo "<token>" >"$TMP/helper.user"; echo "$refresh" >"$TMP/helper.secret"
	printf '{"credHelpers":{"%s":"test"}}\n' "$reg" >"$DOCKER_CONFIG/config.json"
	run "credHelpers answering <token>: the refresh-token grant" 0 "$DRYDOCK" resolve $reg/private/alpine:3.10
	grep -q "^refresh $user " "$TOKEND_LOG" && ok "... POSTed to the token server" || fail "... POSTed to the token server" "$(cat "$TOKEND_LOG")"
	# Basic credentials for the token server from auth.json
	clear_creds
	: >"$TOKEND_LOG"
	authjson "$reg" "$user" "$pass" >"$XDG_RUNTIME_DIR/containers/auth.json"
	run "token server with credentials from auth.json" 0 "$DRYDOCK" resolve $reg/private/alpine:3.10
	grep -q "^token $user repository:private/alpine:pull$" "$TOKEND_LOG" && ok "... the token was issued to the user" ||
		fail "... the token was issued to the user" "$(cat "$TOKEND_LOG")"
else
	fail "start token registry"
fi

# No secret ever reached drydock's stderr.
leaks=$(grep -c -e "s3cret" -e "$refresh" -e "wrong-xdg" -e "wrong-raf" -e "wrong-helper-secret" -e "wrong-stdin" \
	-e "$(printf '%s:%s' "$user" "$pass" | base64 -w0)" "$errs")
[ -s "$errs" ] && [ "$leaks" -eq 0 ] && ok "no password, token or base64 credential in any of drydock's stderr ($(wc -l <"$errs") lines)" ||
	fail "no secret in drydock's stderr" "$(grep -e s3cret -e wrong -e "$refresh" "$errs" | head -3)"
