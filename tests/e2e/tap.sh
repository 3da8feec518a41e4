#!/bin/sh
# virtio-net on a TAP interface: shoal creates the interface, the host
# gives its side 10.1.0.1/24, and the guest (10.1.0.2) must get ping
# answers from it. Needs root and /dev/net/tun; says it skipped otherwise.
# Needs BIN, KERNEL and INITRD (tests/linux/init-tap).
set -u
name="virtio-net on a TAP interface: the guest pings the host"
if [ "$(id -u)" != 0 ] || [ ! -c /dev/net/tun ]; then
	echo "ok - $name (skipped: needs root and /dev/net/tun)"
	exit 0
fi
tap="shoaltap$$"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; ip link del "$tap" 2>/dev/null' EXIT
timeout 300 "$BIN/shoal" run --kernel "$KERNEL" --initrd "$INITRD" --net "tap,ifname=$tap" </dev/null >"$tmp/out" 2>&1 &
spid=$!
i=0
while ! ip link show "$tap" >/dev/null 2>&1 && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
ip addr add 10.1.0.1/24 dev "$tap" && ip link set "$tap" up
wait "$spid"
st=$?
if [ $st != 0 ]; then
	echo "not ok - $name: exit status $st"; tail -20 "$tmp/out"; exit 1
elif ! grep -q "tap: ping ok" "$tmp/out"; then
	echo "not ok - $name"; grep "tap:" "$tmp/out"; exit 1
fi
echo "ok - $name"
