#!/bin/sh
# Killing shoal-jit with SIGKILL during a Linux guest's CPU benchmark: the
# harts interpret while shoal restarts the service with an empty cache, and
# every run of the benchmark still prints the checksum the same program
# computes natively on the host (CPUBENCH_HOST). Needs BIN, KERNEL, INITRD
# (tests/linux/init-jitcrash) and CPUBENCH_HOST.
set -u
BIN=${BIN:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
want=$("${CPUBENCH_HOST:?}" 2 3000 | sed -n 's/.*checksum=\([0-9]*\).*/\1/p')
"$BIN/shoal" run --name "jitcrash-$$" --kernel "${KERNEL:?}" --initrd "${INITRD:?}" --smp 2 \
	--append "console=ttyS0" --stats </dev/null >"$tmp/out" 2>&1 &
spid=$!
i=0
while ! grep -q "jitcrash: userspace up" "$tmp/out" && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
# A kill as each of the first three runs starts (at fixed intervals, a
# faster guest finished before the second kill).
kills=0
seen=-1
j=0
while ! grep -q "jitcrash: done" "$tmp/out" && kill -0 "$spid" 2>/dev/null && [ $j -lt 2400 ]; do
	n=$(grep -c "cpubench threads=2" "$tmp/out")
	if [ "$n" != "$seen" ] && [ "$n" -lt 3 ]; then
		v=$(pgrep -P "$spid" -f shoal-jit | head -1)
		if [ -n "$v" ] && kill -9 "$v" 2>/dev/null; then
			kills=$((kills + 1))
			seen=$n
		fi
	fi
	sleep 0.05
	j=$((j + 1))
done
wait "$spid"
st=$?
runs=$(grep -c "cpubench threads=2" "$tmp/out")
good=$(grep -c "cpubench threads=2 .*checksum=$want" "$tmp/out")
restarts=$(grep -c "shoal-jit (pid [0-9]*) was killed by signal 9 (KILL); restarted it" "$tmp/out")
if [ $st = 0 ] && [ "$runs" = 4 ] && [ "$good" = 4 ] && [ "$restarts" -ge 2 ]; then
	echo "ok - SIGKILL of shoal-jit $kills times during Linux's CPU benchmark: 4 runs, checksums right, $restarts restarts"
	echo "1 passed, 0 failed"
else
	echo "not ok - SIGKILL of shoal-jit during Linux's CPU benchmark: status $st, $runs runs, $good right (want $want), $kills kills, $restarts restarts"
	grep -a "cpubench\|shoal" "$tmp/out" | tail -15
	echo "0 passed, 1 failed"
	exit 1
fi
