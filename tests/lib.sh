# tests/lib.sh - helpers for integration tests (source it).
#
# Each check prints one TAP line; tests/run counts them.
#   ok "name" / fail "name" "why" / skip "name" "why"
#   expect_exit CODE "name" cmd...   run cmd, check its exit status
#   need_shared PATH                  skip the rest (visibly) when ../shared is absent
# DRYDOCK is the binary under test; DD_ROOT the source tree.
set -u
: "${DRYDOCK:?run through tests/run}"
DD_SHARED=${DD_SHARED:-$DD_ROOT/../shared}
_tap_n=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/drydock-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

ok() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $1"; }
fail() { _tap_n=$((_tap_n + 1)); echo "not ok $_tap_n - $1${2:+: $2}"; }
skip() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n # SKIP $1${2:+: $2}"; }
check() { # check "name" cmd...: ok when cmd succeeds
	local n=$1; shift
	if "$@"; then ok "$n"; else fail "$n" "command failed: $*"; fi
}
expect_exit() { # expect_exit CODE "name" cmd...
	local want=$1 n=$2 rc; shift 2
	"$@" >"$TMP/out" 2>"$TMP/err"; rc=$?
	if [ "$rc" -eq "$want" ]; then ok "$n"
	else fail "$n" "exit $rc, wanted $want; stderr: $(head -c 300 "$TMP/err")"; fi
}
have_shared() { [ -e "$DD_SHARED/${1:-}" ]; }
