#!/bin/sh
# Proves the quality gates fail when they should: in a temporary clone, a
# misformatted file must make `make format-check` fail, a bug cppcheck knows
# must make `make lint` fail, an undocumented public function must make `make
# docs` fail, and a coverage floor above the measured figure must make `make
# coverage` fail naming the folder; the untouched clone must pass them all.
set -u
root=$(git rev-parse --show-toplevel)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
check() { # NAME WANT(0|nonzero) TARGET [PATTERN the output must contain]
	make -C "$tmp/x" --no-print-directory "$3" >"$tmp/log" 2>&1
	got=$?
	if [ -n "${4:-}" ] && ! grep -q -- "$4" "$tmp/log"; then
		fail=$((fail + 1)); echo "not ok - $1 (output lacks '$4')"; tail -5 "$tmp/log"
	elif { [ "$2" = 0 ] && [ $got = 0 ]; } || { [ "$2" != 0 ] && [ $got != 0 ]; }; then
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
git -C "$tmp/x" checkout -q common/util.c
check "docs pass on the committed tree" 0 docs
printf '#ifndef X_GATE\n#define X_GATE\nint util_gate_undocumented(int x);\n#endif\n' >>"$tmp/x/common/util.h"
check "docs fail on an undocumented public function" 1 docs "undocumented public util_gate_undocumented"
git -C "$tmp/x" checkout -q common/util.h
# The floor goes above what the tree measures; the target must name the folder.
sed -i 's/^mem-server .*/mem-server 100/' "$tmp/x/tests/coverage/thresholds"
check "coverage fails when a folder is below its floor" 1 coverage "mem-server/ has .* below its threshold of 100%"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
