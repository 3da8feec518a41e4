#!/bin/sh
# End-to-end tests: real shoal runs of the bare-metal guest programs, checking
# exit statuses and what the guest printed; bad input; killed children.
# Needs BIN (shoal binaries) and GUEST (guest ELFs). Prints one line per test
# and "N passed, M failed"; exits non-zero if anything failed.
set -u
BIN=${BIN:?}
GUEST=${GUEST:?}
SHOAL="$BIN/shoal"
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rundir_base=${XDG_RUNTIME_DIR:+$XDG_RUNTIME_DIR/shoal}
rundir_base=${rundir_base:-/tmp/shoal-$(id -u)}

ok() { pass=$((pass + 1)); echo "ok - $1"; }
ko() { fail=$((fail + 1)); echo "not ok - $1: $2"; }

# ours: the pids of processes running a binary of $BIN (children run
# under their bare names, and another tree's binaries are not ours).
bin_real=$(cd "$BIN" && pwd -P)
ours() {
	for p in $(pgrep '^shoal'); do
		case "$(readlink "/proc/$p/exe" 2>/dev/null)" in
		"$bin_real"/shoal*) echo "$p" ;;
		esac
	done
}

# leftovers NAME: fails if a process of ours or the VM's run directory remains.
leftovers() {
	sleep 0.1
	left=$(ours)
	if [ -n "$left" ]; then
		echo "processes left: $(for p in $left; do tr '\0' ' ' <"/proc/$p/cmdline"; echo; done | head -3)"
		kill -9 $left 2>/dev/null
		return 0
	fi
	if [ -e "$rundir_base/$1" ]; then
		echo "run directory $rundir_base/$1 left"
		rm -rf "${rundir_base:?}/$1"
		return 0
	fi
	return 1
}

# expect NAME STATUS PATTERN -- shoal args...: runs shoal (stdin from $INPUT,
# /dev/null by default), checks the exit status, that stdout matches PATTERN
# (empty: no check) and that nothing is left behind.
expect() {
	name=$1 want=$2 pat=$3
	shift 4
	timeout 120 "$SHOAL" run --name "e2e-$$" "$@" <"${INPUT:-/dev/null}" >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" != "$want" ]; then
		ko "$name" "exit status $got, expected $want; stderr: $(head -c 300 "$tmp/err")"
	elif [ -n "$pat" ] && ! grep -q "$pat" "$tmp/out"; then
		ko "$name" "output lacks '$pat': $(head -c 300 "$tmp/out")"
	elif why=$(leftovers "e2e-$$"); then
		ko "$name" "$why"
	else
		ok "$name"
	fi
}

# ISA tests: every one must pass (tohost = 1).
for t in rv64i_alu rv64i_mem rv64i_branch rv64m rv64a rv64c priv; do
	expect "isa $t" 0 "" -- --bios none --kernel "$GUEST/$t.elf"
done
expect "hello over the UART device" 0 "Hello from shoal: RV64 hart 0" -- --bios none --kernel "$GUEST/hello.elf"
expect "UART: posted writes through the ring; SCR and IER read back each value just written" 0 "scratch ok" -- --bios none --kernel "$GUEST/mmio_bench.elf"
expect "hello with 8 harts (7 park in WFI)" 0 "Hello from shoal" -- --bios none --smp 8 --kernel "$GUEST/hello.elf"
expect "AMO and LR/SC contention across 4 hart processes" 0 "amo 800000 lrsc 800000" -- --bios none --smp 4 --kernel "$GUEST/amo_smp.elf"
expect "IPI ping-pong: 2000 wake-ups each way between hart processes, none lost" 0 "ipi ok" -- --bios none --smp 2 --kernel "$GUEST/ipi_bench.elf"
expect "IPI wakes a sleeping hart in another process" 0 "woken by hart 1" -- --bios none --smp 2 --kernel "$GUEST/ipi.elf"
expect "self-modifying code with fence.i" 0 "smc ok" -- --bios none --kernel "$GUEST/smc.elf"
expect "Sv39/Sv48 paging: permissions, A/D, MXR, SUM, U mode, superpages, sfence.vma" 0 "vm: all paging checks passed" -- --bios none --kernel "$GUEST/vm.elf"
expect "F and D: rounding, flags, NaN boxing, FMA, conversions" 0 "fp: all checks passed" -- --bios none --kernel "$GUEST/fp.elf"
expect "syscon reset reboots the guest (RAM kept, board back to power-on, 2 harts)" 0 "reboot: second boot, board reset" -- --bios none --smp 2 --kernel "$GUEST/reboot.elf"
expect "goldfish RTC: wall clock, set time, alarm interrupt" 0 "rtc: time, set, alarm interrupt all work" -- --bios none --kernel "$GUEST/rtc.elf"
printf 'shoal-disk' >"$tmp/disk.img" && truncate -s 1M "$tmp/disk.img"
expect "virtio-blk: hostile descriptor chains fail alone, the device keeps serving" 0 "the device kept serving" -- --bios none --kernel "$GUEST/virtio_blk.elf" --drive "file=$tmp/disk.img,id=hostile"
expect "virtio-blk with cache=none (O_DIRECT): the same checks" 0 "the device kept serving" -- --bios none --kernel "$GUEST/virtio_blk.elf" --drive "file=$tmp/disk.img,id=hostile,cache=none"
expect "virtio-rng, virtio-net (ARP through user networking), virtio-console from a bare-metal driver" 0 "virtio: console ok" -- --bios none --kernel "$GUEST/virtio_devs.elf" --rng on --net user --vconsole on
expect "PLIC: a UART line pends, is claimed once, completes; mip RMW does not latch SEIP" 0 "plic: all checks passed" -- --bios none --kernel "$GUEST/plic.elf"
expect "HTIF failure status propagates" 7 "failing with 7" -- --bios none --kernel "$GUEST/fail_htif.elf"
expect "test finisher failure status propagates" 5 "" -- --bios none --kernel "$GUEST/finisher.elf"
expect "test finisher pass" 0 "intloop checksum" -- --bios none --mem 64M --kernel "$GUEST/intloop_short.elf"

# UART input from stdin reaches the guest.
printf 'shoal input\n' >"$tmp/in"
INPUT="$tmp/in" expect "UART input from stdin" 0 "echo> SHOAL INPUT" -- --bios none --kernel "$GUEST/echo.elf"
unset INPUT

# Bad input: one line naming the input, status 2, nothing left behind.
bad() {
	name=$1 pat=$2
	shift 2
	timeout 20 "$SHOAL" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
	got=$?
	lines=$(wc -l <"$tmp/err")
	if [ "$got" != 2 ]; then
		ko "$name" "exit status $got, expected 2"
	elif [ "$lines" != 1 ]; then
		ko "$name" "expected one line on stderr, got $lines: $(head -c 300 "$tmp/err")"
	elif ! grep -q -- "$pat" "$tmp/err"; then
		ko "$name" "message does not name '$pat': $(cat "$tmp/err")"
	elif why=$(leftovers "bad-$$"); then
		ko "$name" "$why"
	else
		ok "$name"
	fi
}
printf 'not an elf\n' >"$tmp/text.bin"
bad "missing kernel file" "$tmp/nope.elf" run --name "bad-$$" --bios none --kernel "$tmp/nope.elf"
bad "non-ELF kernel" "$tmp/text.bin" run --name "bad-$$" --bios none --kernel "$tmp/text.bin"
bad "non-RISC-V ELF" "$SHOAL" run --name "bad-$$" --bios none --kernel "$SHOAL"
bad "segment outside RAM" "outside RAM" run --name "bad-$$" --bios none --kernel "$GUEST/outside.elf"
bad "missing firmware file" "/nonexistent" run --name "bad-$$" --bios /nonexistent --kernel "$GUEST/hello.elf"
bad "kernel that is not a RISC-V Image" "not a RISC-V Linux Image" run --name "bad-$$" --kernel "$GUEST/hello.elf"
# A fake Image: only the header magic; the initrd is bigger than RAM.
truncate -s 4096 "$tmp/fake.Image"
printf 'RSC\005' | dd of="$tmp/fake.Image" bs=1 seek=56 conv=notrunc 2>/dev/null
truncate -s 64M "$tmp/big.cpio"
bad "initrd larger than RAM" "--initrd" run --name "bad-$$" --mem 32M --kernel "$tmp/fake.Image" --initrd "$tmp/big.cpio"
bad "malformed --numa" "--numa" run --name "bad-$$" --smp 2 --numa node,cpus=0-1 --kernel "$tmp/fake.Image"
bad "overlapping --numa cpu ranges" "both claim cpu 1" run --name "bad-$$" --smp 3 --numa node,cpus=0-1,mem=64M --numa node,cpus=1-2,mem=64M --kernel "$tmp/fake.Image"
bad "--initrd without firmware" "--initrd" run --name "bad-$$" --bios none --kernel "$GUEST/hello.elf" --initrd "$tmp/big.cpio"
bad "--mem 3X" "--mem" run --name "bad-$$" --bios none --mem 3X --kernel "$GUEST/hello.elf"
bad "--smp 0" "--smp" run --name "bad-$$" --bios none --smp 0 --kernel "$GUEST/hello.elf"
bad "--smp 100000" "--smp" run --name "bad-$$" --bios none --smp 100000 --kernel "$GUEST/hello.elf"
bad "unknown option" "--frobnicate" run --name "bad-$$" --frobnicate 1 --bios none --kernel "$GUEST/hello.elf"
bad "no --kernel" "--kernel" run --name "bad-$$" --bios none
# Device options: each refused with one line naming the input, status 2.
H="$GUEST/hello.elf"
bad "--drive on a missing image" "$tmp/nope.img" run --name "bad-$$" --bios none --kernel "$H" --drive "file=$tmp/nope.img"
bad "--drive on a directory" "Is a directory" run --name "bad-$$" --bios none --kernel "$H" --drive "file=$tmp"
printf 'x' >"$tmp/ro.img"
if [ "$(id -u)" = 0 ]; then chattr +i "$tmp/ro.img" 2>/dev/null; else chmod 444 "$tmp/ro.img"; fi
if [ -w "$tmp/ro.img" ] && ! lsattr "$tmp/ro.img" 2>/dev/null | grep -q -- "-i-"; then
	ok "--drive on a read-only image (skipped: cannot make a file read-only here)"
else
	bad "--drive on a read-only image without readonly=on" "readonly=on" run --name "bad-$$" --bios none --kernel "$H" --drive "file=$tmp/ro.img"
fi
chattr -i "$tmp/ro.img" 2>/dev/null
bad "--drive with a bad readonly value" "readonly=maybe" run --name "bad-$$" --bios none --kernel "$H" --drive "file=$tmp/text.bin,readonly=maybe"
bad "--drive with an unknown key" "'aio'" run --name "bad-$$" --bios none --kernel "$H" --drive "file=$tmp/text.bin,aio=native"
bad "--drive with a bad cache mode" "cache=unsafe" run --name "bad-$$" --bios none --kernel "$H" --drive "file=$tmp/text.bin,cache=unsafe"
bad "--net with an unknown backend" "bridge: unknown backend" run --name "bad-$$" --bios none --kernel "$H" --net bridge
bad "--net with a malformed hostfwd" "hostfwd=tcp:80" run --name "bad-$$" --bios none --kernel "$H" --net "user,hostfwd=tcp:80"
bad "--net tap without ifname" "ifname" run --name "bad-$$" --bios none --kernel "$H" --net tap
bad "--rng with a bad value" "--rng" run --name "bad-$$" --bios none --kernel "$H" --rng maybe
bad "--jit with a bad value" "--jit: maybe" run --name "bad-$$" --bios none --kernel "$H" --jit maybe
bad "--jit-threshold 0" "--jit-threshold: 0" run --name "bad-$$" --bios none --kernel "$H" --jit-threshold 0
bad "--jit-threshold not a number" "--jit-threshold: lots" run --name "bad-$$" --bios none --kernel "$H" --jit-threshold lots
bad "--jit-sync with a bad value" "--jit-sync: yes" run --name "bad-$$" --bios none --kernel "$H" --jit-sync yes

# Killing a vCPU or the memory server ends the run cleanly with a message
# naming it.
kill_test() {
	name=$1 pattern=$2
	# The background job truncates the file only once it runs: remove the
	# previous test's output first so its "parked" cannot be read.
	rm -f "$tmp/out"
	"$SHOAL" run --name "kill-$$" --bios none --smp 2 --kernel "$GUEST/park.elf" </dev/null >"$tmp/out" 2>"$tmp/err" &
	spid=$!
	i=0
	while ! grep -qs parked "$tmp/out" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	victim=$(pgrep -P "$spid" -f "$pattern" | head -1)
	if [ -z "$victim" ]; then
		ko "$name" "no child matching $pattern; shoal said: $(head -c 300 "$tmp/err")"
		kill -9 "$spid"
		return
	fi
	kill -9 "$victim"
	wait "$spid"
	got=$?
	if [ "$got" != 1 ]; then
		ko "$name" "exit status $got, expected 1"
	elif ! grep -q "pid $victim) was killed by signal 9 (KILL)" "$tmp/err"; then
		ko "$name" "no message naming pid $victim: $(cat "$tmp/err")"
	elif why=$(leftovers "kill-$$"); then
		ko "$name" "$why"
	else
		ok "$name"
	fi
}
kill_test "SIGKILL of a vCPU process" "shoal-cpu --hart 1"

# uart_of SPID: the pid of VM SPID's UART device process (empty: none).
uart_of() {
	pgrep -P "$1" -f "shoal-dev.*uart0" | head -1
}

# A killed device process is restarted; the guest keeps its console.
uart_restart_test() {
	name="SIGKILL of the UART device: restarted, the guest keeps its console"
	rm -f "$tmp/fifo" "$tmp/out"
	mkfifo "$tmp/fifo"
	"$SHOAL" run --name "uk-$$" --bios none --kernel "$GUEST/echo.elf" <"$tmp/fifo" >"$tmp/out" 2>"$tmp/err" &
	spid=$!
	exec 7>"$tmp/fifo"
	i=0
	while ! grep -qs "echo> " "$tmp/out" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	victim=$(uart_of "$spid")
	if [ -z "$victim" ]; then
		ko "$name" "no UART device process; shoal said: $(head -c 300 "$tmp/err")"
		exec 7>&-
		kill -9 "$spid"
		return
	fi
	kill -9 "$victim"
	i=0
	while { new=$(uart_of "$spid"); [ -z "$new" ] || [ "$new" = "$victim" ]; } && [ $i -lt 100 ]; do
		sleep 0.05; i=$((i + 1))
	done
	printf 'restarted\n' >&7
	exec 7>&-
	wait "$spid"
	got=$?
	if [ "$got" != 0 ]; then
		ko "$name" "exit status $got; stderr: $(head -c 300 "$tmp/err")"
	elif ! grep -q "echo> RESTARTED" "$tmp/out"; then
		ko "$name" "the guest did not echo after the restart: $(head -c 300 "$tmp/out")"
	elif ! grep -q "uart0\].*(pid $victim) was killed by signal 9 (KILL); restarted it" "$tmp/err"; then
		ko "$name" "no restart message naming pid $victim: $(cat "$tmp/err")"
	elif why=$(leftovers "uk-$$"); then
		ko "$name" "$why"
	else
		ok "$name"
	fi
}
uart_restart_test

# A device that dies while the guest reboots is restarted too: the UART is
# stopped before the guest asks for a reset (reboot_slow.elf waits 0.8 s
# first), so the hart that asked waits up to 2 s for it to answer, with
# the board in REBOOT; the UART is killed then. The guest must boot again.
reboot_crash_test() {
	name="SIGKILL of the UART while the guest reboots: restarted, the guest boots again"
	"$SHOAL" run --name "rk-$$" --bios none --kernel "$GUEST/reboot_slow.elf" >"$tmp/out" 2>"$tmp/err" &
	spid=$!
	i=0
	while victim=$(uart_of "$spid"); [ -z "$victim" ] && [ $i -lt 40 ]; do
		sleep 0.01; i=$((i + 1))
	done
	if [ -z "$victim" ]; then
		ko "$name" "no UART device process; shoal said: $(head -c 300 "$tmp/err")"
		kill -9 "$spid"
		return
	fi
	kill -STOP "$victim"
	sleep 1.6 # the reset asked for at 0.8 s, the hart waiting for the UART
	kill -9 "$victim"
	wait "$spid"
	got=$?
	if [ "$got" != 0 ]; then
		ko "$name" "exit status $got: $(tail -c 300 "$tmp/err")"
	elif ! grep -q "reboot: second boot, board reset" "$tmp/out"; then
		ko "$name" "no second boot: $(tail -c 300 "$tmp/out")"
	elif why=$(leftovers "rk-$$"); then
		ko "$name" "$why"
	else
		ok "$name"
	fi
}
reboot_crash_test

# A device that keeps dying (its image is gone, so every restart fails) is
# given up on: the VM stops with status 1 and says so.
restart_limit_test() {
	name="a device that keeps dying stops the VM cleanly"
	printf 'shoal-disk' >"$tmp/gone.img"
	"$SHOAL" run --name "rl-$$" --bios none --kernel "$GUEST/park.elf" --drive "file=$tmp/gone.img,id=gone" </dev/null >"$tmp/out" 2>"$tmp/err" &
	spid=$!
	i=0
	while ! grep -qs parked "$tmp/out" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	rm -f "$tmp/gone.img"
	pkill -9 -P "$spid" -f "shoal-dev.*--name gone"
	wait "$spid"
	got=$?
	if [ "$got" != 1 ]; then
		ko "$name" "exit status $got, expected 1: $(tail -c 300 "$tmp/err")"
	elif ! grep -q "shoal-dev\[gone\].*it died 50 times in 10 s: stopping the VM" "$tmp/err"; then
		ko "$name" "no message: $(tail -c 300 "$tmp/err")"
	elif why=$(leftovers "rl-$$"); then
		ko "$name" "$why"
	else
		ok "$name"
	fi
}
restart_limit_test
kill_test "SIGKILL of the memory server" "shoal-mem"

# shoal ctl against a running VM: status (table and JSON), kill-device,
# pause and resume, and its errors.
ctl_test() {
	rm -f "$tmp/out"
	"$SHOAL" run --name "ctl-$$" --bios none --smp 2 --kernel "$GUEST/park.elf" --rng on </dev/null >"$tmp/out" 2>"$tmp/err" &
	spid=$!
	i=0
	while ! grep -qs parked "$tmp/out" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	C="$SHOAL ctl ctl-$$"
	st=$($C status)
	if ! echo "$st" | grep -q "^shoal-cpu\[1\] *cpu" || ! echo "$st" | grep -q "^shoal-dev\[rng0\]" ||
	    ! echo "$st" | grep -q "^guest RAM node 0 *ram .* 0$" || ! echo "$st" | grep -q "is running"; then
		ko "shoal ctl status lists processes, RAM placement and state" "$st"
	else
		ok "shoal ctl status lists processes, RAM placement and state"
	fi
	if $C status --json | python3 -c 'import json,sys; d=json.load(sys.stdin); p={x["name"]: x for x in d["processes"]}; assert d["state"] == "running"; assert p["shoal-mem"]["pid"] > 0 and p["shoal-mem"]["rss_bytes"] > 0; assert p["guest RAM node 0"]["numa_node"] == 0' 2>"$tmp/py"; then
		ok "shoal ctl status --json is JSON with the same facts"
	else
		ko "shoal ctl status --json is JSON with the same facts" "$(cat "$tmp/py")"
	fi
	old=$(pgrep -P "$spid" -f "shoal-dev.*rng0")
	$C kill-device rng0 >/dev/null
	i=0
	while [ "$(pgrep -P "$spid" -f "shoal-dev.*rng0")" = "$old" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	if $C status | grep -q "^shoal-dev\[rng0\] .* 1 "; then
		ok "shoal ctl kill-device: the device is killed and restarted"
	else
		ko "shoal ctl kill-device: the device is killed and restarted" "$($C status)"
	fi
	$C pause >/dev/null
	cpu=$(pgrep -P "$spid" -f "shoal-cpu --hart 0")
	i=0
	while state=$(awk '{print $3}' "/proc/$cpu/stat") && [ "$state" != T ] && [ $i -lt 40 ]; do sleep 0.05; i=$((i + 1)); done
	$C resume >/dev/null
	i=0
	while state2=$(awk '{print $3}' "/proc/$cpu/stat") && [ "$state2" = T ] && [ $i -lt 40 ]; do sleep 0.05; i=$((i + 1)); done
	if [ "$state" = T ] && [ "$state2" != T ] && $C status | grep -q "is running"; then
		ok "shoal ctl pause stops the vCPUs, resume starts them"
	else
		ko "shoal ctl pause stops the vCPUs, resume starts them" "states $state then $state2"
	fi
	$C kill-device nosuch 2>"$tmp/e1"; a=$?
	"$SHOAL" ctl "nosuch-$$" status 2>"$tmp/e2"; b=$?
	$C frobnicate 2>"$tmp/e3"; c=$?
	if [ $a = 1 ] && grep -q "no device named 'nosuch'" "$tmp/e1" && [ $b = 2 ] &&
	    grep -q "no such VM" "$tmp/e2" && [ $c = 2 ] && grep -q "unknown command" "$tmp/e3"; then
		ok "shoal ctl errors: unknown device, unknown VM, unknown command"
	else
		ko "shoal ctl errors: unknown device, unknown VM, unknown command" "$a $b $c $(cat "$tmp/e1" "$tmp/e2" "$tmp/e3")"
	fi
	kill "$spid"
	wait "$spid"
	if why=$(leftovers "ctl-$$"); then
		ko "shoal ctl: the VM stops cleanly afterwards" "$why"
	fi
}
ctl_test

# --mem-prealloc: on, shoal-mem faults all of guest RAM in (in the
# background); off, only the pages the guest touches are there. Counted
# with fincore on shoal-mem's RAM memfd while a parked guest runs.
prealloc_test() {
	want=$1
	"$SHOAL" run --name "pre-$$" --bios none --kernel "$GUEST/park.elf" --mem 64M \
		--mem-prealloc "$want" </dev/null >"$tmp/out" 2>"$tmp/err" &
	spid=$!
	res=0 i=0
	while [ $i -lt 60 ]; do
		sleep 0.05
		i=$((i + 1))
		mp=$(pgrep -P "$spid" -x shoal-mem) || continue
		fd=$(ls -l "/proc/$mp/fd" 2>/dev/null | awk '/shoal-ram0/ {print $9; exit}')
		[ -n "$fd" ] || continue
		res=$(fincore -b -n -o RES "/proc/$mp/fd/$fd" 2>/dev/null | tr -d ' ')
		[ "$want" = on ] && [ "${res:-0}" -eq 67108864 ] && break
		[ "$want" = off ] && [ "${res:-0}" -gt 0 ] && [ $i -ge 10 ] && break
	done
	kill "$spid"
	wait "$spid"
	if [ "$want" = on ] && [ "${res:-0}" -ne 67108864 ]; then
		ko "--mem-prealloc on faults all 64 MiB of guest RAM in" "resident ${res:-?} bytes"
	elif [ "$want" = off ] && { [ "${res:-0}" -eq 0 ] || [ "$res" -ge 16777216 ]; }; then
		ko "--mem-prealloc off leaves untouched guest RAM out" "resident ${res:-?} bytes"
	else
		ok "--mem-prealloc $want: $res of 67108864 bytes of guest RAM resident"
	fi
	if why=$(leftovers "pre-$$"); then
		ko "--mem-prealloc $want: the VM stops cleanly" "$why"
	fi
}
prealloc_test on
prealloc_test off

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
