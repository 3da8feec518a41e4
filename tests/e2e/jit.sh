#!/bin/sh
# End-to-end tests of the shared JIT (shoal-jit): the bare-metal ISA tests
# with every block translated before it first runs, the differential test
# (random cases, interpreted vs translated), self-modifying code, one
# compile per block for four harts, SIGKILL of shoal-jit mid-run, and an
# idle guest's shoal-jit asleep. Bad
# --jit options are checked with the other bad input in run.sh. Needs BIN
# and GUEST; prints one line per test.
set -u
BIN=${BIN:?}
GUEST=${GUEST:?}
SHOAL="$BIN/shoal"
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { pass=$((pass + 1)); echo "ok - $1"; }
ko() { fail=$((fail + 1)); echo "not ok - $1: $2"; }
# Translated before first run: each hart waits for each block it asks for.
FORCE="--jit on --jit-threshold 1 --jit-sync on"

# run NAME OUT -- shoal args: runs shoal, stdout to OUT, stderr to OUT.err;
# returns shoal's status.
run() {
	out=$2
	shift 3
	timeout 300 "$SHOAL" run --name "jit-$$" "$@" </dev/null >"$out" 2>"$out.err"
}

for t in rv64i_alu rv64i_mem rv64i_branch rv64m rv64a rv64c priv vm fp smc; do
	if run "$t" "$tmp/out" -- --bios none --kernel "$GUEST/$t.elf" $FORCE --stats; then
		if grep -q "jit: 0 translations compiled" "$tmp/out.err"; then
			ko "isa $t, every block translated" "nothing was compiled: $(cat "$tmp/out.err")"
		else
			ok "isa $t, every block translated"
		fi
	else
		ko "isa $t, every block translated" "status $?: $(tail -c 300 "$tmp/out.err")"
	fi
done

# Differential: the interpreter's output is the reference.
for elf in "$GUEST"/jitdiff-*.elf; do
	name=$(basename "$elf" .elf)
	run "$name" "$tmp/ref" -- --bios none --kernel "$elf" --jit off
	st1=$?
	run "$name" "$tmp/jit" -- --bios none --kernel "$elf" $FORCE
	st2=$?
	if [ $st1 != 0 ] || [ $st2 != 0 ] || ! grep -q "jitdiff: done" "$tmp/ref"; then
		ko "differential $name" "status $st1/$st2: $(tail -c 200 "$tmp/ref") $(tail -c 200 "$tmp/jit")"
	elif ! cmp -s "$tmp/ref" "$tmp/jit"; then
		ko "differential $name" "translated run differs: $(diff "$tmp/ref" "$tmp/jit" | head -4)"
	else
		ok "differential $name ($(grep -c '^case' "$tmp/ref") cases, interpreted = translated)"
	fi
done

# F and D in a real loop (fpmark): translated, every block translated and
# interpreted runs compute the same bits.
sums=""
for m in "--jit off" "$FORCE" "--jit on"; do
	run fpmark "$tmp/out" -- --bios none --kernel "$GUEST/fpmark.elf" $m
	sums="$sums $(sed -n 's/^fpmark .* sum \([0-9]*\).*/\1/p' "$tmp/out" | tr -d '\r')"
done
if [ "$(echo $sums | wc -w)" = 3 ] && [ "$(echo $sums | tr ' ' '\n' | sort -u | wc -l)" = 1 ]; then
	ok "fpmark: interpreted = every block translated = translated ($(echo $sums | cut -d' ' -f1))"
else
	ko "fpmark: interpreted = every block translated = translated" "sums:$sums"
fi

for m in "--jit off" "$FORCE" "--jit on"; do
	if run smc "$tmp/out" -- --bios none --smp 2 --kernel "$GUEST/jitsmc.elf" $m &&
	    grep -q "jitsmc ok" "$tmp/out"; then
		ok "self-modifying code: local, cross-hart, patched loop ($m)"
	else
		ko "self-modifying code: local, cross-hart, patched loop ($m)" "$(tail -c 300 "$tmp/out" "$tmp/out.err")"
	fi
done

# Four harts, the same code: compiled once per block, shared.
if run share "$tmp/out" -- --bios none --smp 4 --kernel "$GUEST/jitshare.elf" $FORCE --stats &&
    grep -q "jitshare crc" "$tmp/out" && grep -q " 0 recompiled)" "$tmp/out.err"; then
	compiled=$(sed -n 's/.*jit: \([0-9]*\) translations compiled.*/\1/p' "$tmp/out.err")
	bound=$(sed -n 's/.* \([0-9]*\) bound,.*/\1/p' "$tmp/out.err")
	if [ "$bound" -gt "$compiled" ]; then
		ok "4 harts share one translation per block ($compiled compiled once, bound $bound times)"
	else
		ko "4 harts share one translation per block" "only $bound bindings of $compiled translations"
	fi
else
	ko "4 harts share one translation per block" "$(cat "$tmp/out" "$tmp/out.err" | tail -c 400)"
fi

# SIGKILL of shoal-jit while the guest computes: restarted with an empty
# cache, the harts fall back to the interpreter meanwhile, same result.
run ref "$tmp/ref" -- --bios none --kernel "$GUEST/shoalmark_long.elf" --jit off
want=$(grep -o "crc [0-9]*" "$tmp/ref")
"$SHOAL" run --name "jitkill-$$" --bios none --kernel "$GUEST/shoalmark_long.elf" --stats \
	</dev/null >"$tmp/out" 2>"$tmp/err" &
spid=$!
# Two kills, each 0.1 s after an instance is up, early in the run (at
# fixed times a late kill could leave the last instance nothing to do).
kills=0
prev=
for i in 1 2; do
	v=
	n=0
	while [ $n -lt 100 ] && kill -0 "$spid" 2>/dev/null; do
		v=$(pgrep -P "$spid" -f "shoal-jit" | head -1)
		[ -n "$v" ] && [ "$v" != "$prev" ] && break
		v=
		sleep 0.05
		n=$((n + 1))
	done
	[ -z "$v" ] && break
	sleep 0.1
	kill -9 "$v" 2>/dev/null && kills=$((kills + 1))
	prev=$v
done
wait "$spid"
st=$?
restarts=$(grep -c "shoal-jit (pid [0-9]*) was killed by signal 9 (KILL); restarted it" "$tmp/err")
# The last instance compiled what the guest ran after the kills.
if [ $st = 0 ] && [ "$(grep -o "crc [0-9]*" "$tmp/out")" = "$want" ] && [ "$kills" -ge 1 ] &&
    [ "$restarts" -ge 1 ] && ! grep -q "jit: 0 translations compiled" "$tmp/err"; then
	ok "SIGKILL of shoal-jit mid-run: restarted $restarts times, same result ($want)"
else
	ko "SIGKILL of shoal-jit mid-run" "status $st, kills $kills, restarts $restarts, $(cat "$tmp/out" "$tmp/err" | tail -c 400)"
fi

# An idle guest leaves shoal-jit asleep: it wakes for a kick on its
# eventfd, not on a timer (a 10 ms timer would wake it ~100 times here).
"$SHOAL" run --name "jitidle-$$" --bios none --smp 2 --kernel "$GUEST/park.elf" \
	</dev/null >"$tmp/out" 2>"$tmp/err" &
spid=$!
i=0
while ! grep -qs parked "$tmp/out" && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
v=$(pgrep -P "$spid" -f "shoal-jit" | head -1)
wakes() { awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$v/status" 2>/dev/null; }
a=$(wakes)
sleep 1
b=$(wakes)
kill -TERM "$spid"
wait "$spid"
if [ -n "$a" ] && [ -n "$b" ] && [ $((b - a)) -lt 10 ]; then
	ok "idle guest: shoal-jit woke $((b - a)) times in 1 s"
else
	ko "idle guest: shoal-jit sleeps" "woke ${a:-?} -> ${b:-?} times, $(tail -c 300 "$tmp/err")"
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
