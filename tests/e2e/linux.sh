#!/bin/sh
# End-to-end Linux tests: Debian's OpenSBI, the project's Linux Image and a
# self-checking initramfs (tests/linux/init-selftest) on 1, 4 (two NUMA
# nodes) and 64 harts. Each run must end with status 0 (the guest powered
# off) and the guest must have printed "selftest: PASS" with the expected
# CPU and node counts. Needs BIN, KERNEL and INITRD.
set -u
BIN=${BIN:?}
KERNEL=${KERNEL:?}
INITRD=${INITRD:?}
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# boot NAME EXPECT_CPUS EXPECT_NODES SHOAL-ARGS...
boot() {
	name=$1 cpus=$2 nodes=$3
	shift 3
	timeout 900 "$BIN/shoal" run --kernel "$KERNEL" --initrd "$INITRD" \
		--append "console=ttyS0 expect_cpus=$cpus expect_nodes=$nodes" "$@" \
		</dev/null >"$tmp/out" 2>&1
	st=$?
	if [ $st != 0 ]; then
		fail=$((fail + 1)); echo "not ok - $name: exit status $st"; tail -20 "$tmp/out"
	elif ! grep -q "selftest: PASS" "$tmp/out"; then
		fail=$((fail + 1)); echo "not ok - $name: no 'selftest: PASS'"; grep selftest "$tmp/out"
	elif ! grep -q "selftest: cpus $cpus online 0" "$tmp/out"; then
		fail=$((fail + 1)); echo "not ok - $name: wrong CPU count"; grep selftest "$tmp/out"
	else
		pass=$((pass + 1)); echo "ok - $name ($(grep 'selftest: atomics' "$tmp/out" | cut -c11-))"
	fi
}

boot "Linux boots to userspace on 1 hart and powers off" 1 1 --smp 1
boot "Linux on 4 harts in 2 NUMA nodes, with a virtio-rng" 4 2 --smp 4 --numa node,cpus=0-1,mem=64M \
	--numa node,cpus=2-3,mem=64M --rng on --append "console=ttyS0 expect_cpus=4 expect_nodes=2 expect_rng=1"
if ! grep -q "selftest: hwrng virtio" "$tmp/out"; then
	fail=$((fail + 1)); echo "not ok - the virtio-rng feeds /dev/hwrng"; grep selftest "$tmp/out"
else
	pass=$((pass + 1)); echo "ok - the virtio-rng feeds /dev/hwrng"
fi
if ! grep -q "selftest: node1 cpus 2-3 memtotal_kb" "$tmp/out"; then
	fail=$((fail + 1)); echo "not ok - node 1 holds cpus 2-3"; grep selftest "$tmp/out"
else
	pass=$((pass + 1)); echo "ok - node 1 holds cpus 2-3 and its own memory"
fi
boot "Linux on 64 harts on this host's cores (idle harts sleep)" 64 1 --smp 64 --mem 512M
# The same boot with every block translated before it first runs, and with
# the interpreter alone (the default above translates hot code only).
boot "Linux on 2 harts with every block translated (--jit-threshold 1 --jit-sync on)" 2 1 \
	--smp 2 --jit-threshold 1 --jit-sync on
boot "Linux on 1 hart without the JIT (--jit off)" 1 1 --smp 1 --jit off

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
