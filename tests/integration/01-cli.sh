#!/bin/bash
# The command line itself: dispatch, --version, help, exit codes for usage
# errors, and docs/cli.md documenting every option that --help prints.
. "$DD_ROOT/tests/lib.sh"

out=$("$DRYDOCK" --version)
case "$out" in "drydock "[0-9]*) ok "--version prints the version" ;;
*) fail "--version prints the version" "got '$out'" ;; esac

expect_exit 0 "help exits 0" "$DRYDOCK" help
grep -q '^commands:' "$TMP/out" && ok "help lists the commands" || fail "help lists the commands"
expect_exit 2 "no arguments is a usage error" "$DRYDOCK"
expect_exit 2 "unknown command is a usage error" "$DRYDOCK" frobnicate
grep -q "not a drydock command" "$TMP/err" && ok "unknown command says so" || fail "unknown command says so"

# Every command in the table: --help works, unknown options exit 2, and
# every long option the help prints appears in docs/cli.md.
cmds=$("$DRYDOCK" help | awk '/^commands:/{f=1;next} f&&/^  [a-z]/{print $1} f&&/^$/{exit}')
for c in $cmds; do
	[ "$c" = help ] || [ "$c" = version ] && continue
	expect_exit 0 "$c --help exits 0" "$DRYDOCK" "$c" --help
	grep -q "^usage: drydock $c" "$TMP/out" && ok "$c --help shows usage" || fail "$c --help shows usage"
	"$DRYDOCK" help "$c" >"$TMP/help2" 2>&1
	cmp -s "$TMP/out" "$TMP/help2" && ok "help $c equals $c --help" || fail "help $c equals $c --help"
	missing=""
	for opt in $(grep -oE -- '--[a-z][a-z0-9-]+' "$TMP/out" | sort -u); do
		[ "$opt" = --help ] && continue
		grep -q -- "$opt" "$DD_ROOT/docs/cli.md" || missing="$missing $opt"
	done
	[ -z "$missing" ] && ok "$c: every option is in docs/cli.md" || fail "$c: options missing from docs/cli.md:$missing"
	grep -q "^## $c" "$DD_ROOT/docs/cli.md" && ok "$c has a section in docs/cli.md" || fail "$c has no '## $c' section in docs/cli.md"
	expect_exit 2 "$c --no-such-option exits 2" "$DRYDOCK" "$c" --no-such-option
	[ "$(wc -l <"$TMP/err")" -eq 1 ] && ok "$c usage error is one line" || fail "$c usage error is one line" "$(cat "$TMP/err")"
done
