#!/bin/sh
# Proves the quality gates fail when they should: in a temporary clone, a
# misformatted file must make `make format-check` fail, and a bug cppcheck
# knows must make `make lint` fail; the untouched clone must pass both.
set -u
root=$(git rev-parse --show-toplevel)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
check() { # NAME WANT(0|nonzero) TARGET
	make -C "$tmp/x" --no-print-directory "$3" >"$tmp/log" 2>&1
	got=$?
	if { [ "$2" = 0 ] && [ $got = 0 ]; } || { [ "$2" != 0 ] && [ $got != 0 ]; }; then
		pass=$((pass + 1)); echo "ok - $1"
	else
		fail=$((fail + 1)); echo "not ok - $1 (make $3 exited $got)"; tail -5 "$tmp/log"
	fi
}
git clone -q "$root" "$tmp/x"
check "format-check passes on the committed tree" 0 format-check
check "lint passes on the committed tree" 0 lint
printf 'int   shoal_gate_test (void){return 0 ;}\n' >>"$tmp/x/common/util.c"
check "format-check fails on a misformatted file" 1 format-check
git -C "$tmp/x" checkout -q common/util.c
printf '\nint shoal_gate_test(void)\n{\n\tint a[2];\n\ta[5] = 1;\n\treturn a[0];\n}\n' >>"$tmp/x/common/util.c"
check "lint fails on an out-of-bounds write" 1 lint
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
