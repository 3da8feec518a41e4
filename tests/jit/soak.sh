#!/bin/sh
# The JIT differential test over many seeds (make test runs a handful):
#   tests/jit/soak.sh FIRST LAST [SHOAL-RUN-ARGS...]
# For each seed, generates 200 cases and 50 narrow-value ones
# (gen_diff.py), builds them with the harness and runs them interpreted
# and translated (by default every block
# translated before it runs: --jit-threshold 1 --jit-sync on); prints each
# seed whose two runs differ, and exits 1 if any did. Uses build/bin (make
# all first). A few hundred seeds take about five minutes on 2 cores; worth
# a run after any change to the translator's analyses.
set -u
[ $# -ge 2 ] || { echo "usage: tests/jit/soak.sh FIRST LAST [SHOAL-RUN-ARGS...]" >&2; exit 2; }
first=$1 last=$2
shift 2
[ $# -gt 0 ] || set -- --jit-threshold 1 --jit-sync on
here=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$here/build/bin}
[ -x "$BIN/shoal" ] || { echo "soak: $BIN/shoal is missing (make all)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bad=0
s=$first
while [ "$s" -le "$last" ]; do
	python3 "$here/tests/jit/gen_diff.py" "$s" 200 >"$tmp/cases.S"
	riscv64-linux-gnu-gcc -ffreestanding -static -nostdlib -nostartfiles -fno-pic -fno-pie \
		-no-pie -mcmodel=medany -march=rv64gc_zicsr_zifencei -mabi=lp64d \
		-Wl,--build-id=none -Wl,--no-warn-rwx-segments -O2 -Wall -Werror \
		-T "$here/tests/guest/link.ld" -I"$here/tests/guest" "$here/tests/guest/crt0.S" \
		"$here/tests/guest/jitdiff.c" "$tmp/cases.S" -o "$tmp/cases.elf" -lgcc ||
		{ echo "soak: seed $s does not build" >&2; exit 2; }
	timeout 60 "$BIN/shoal" run --bios none --kernel "$tmp/cases.elf" --jit off \
		</dev/null >"$tmp/ref" 2>&1
	timeout 60 "$BIN/shoal" run --bios none --kernel "$tmp/cases.elf" "$@" \
		</dev/null >"$tmp/jit" 2>&1
	if ! grep -q "jitdiff: done" "$tmp/ref" || ! cmp -s "$tmp/ref" "$tmp/jit"; then
		echo "seed $s: $(diff "$tmp/ref" "$tmp/jit" | sed -n 2p)"
		bad=1
	fi
	s=$((s + 1))
done
[ $bad = 0 ] && echo "soak: seeds $first-$last: interpreted = translated"
exit $bad
