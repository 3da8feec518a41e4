#!/bin/sh
# Benchmarks for the foundation, each against the peer in the same run:
#  1. interpreter speed: intloop on one vCPU, guest MIPS, vs QEMU TCG (virt)
#  2. UART posted-write cost and MMIO read round trip, timed by the guest
#     itself with mtime, vs QEMU (whose devices live in-process).
# Medians of REPEATS runs. Needs BIN and GUEST; qemu-system-riscv64 for the peer.
set -eu
BIN=${BIN:?}
GUEST=${GUEST:?}
REPEATS=${REPEATS:-3}
QEMU=${QEMU:-qemu-system-riscv64}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# time_run OUTFILE CMD...: prints the wall seconds of CMD.
time_run() {
	out=$1
	shift
	t0=$(now)
	"$@" </dev/null >"$out" 2>&1 || { echo "benchmark command failed: $*" >&2; cat "$out" >&2; exit 1; }
	t1=$(now)
	echo "$t1 $t0" | awk '{printf "%.4f\n", $1 - $2}'
}

echo "== interpreter: intloop, 1 vCPU, $REPEATS runs each (median)"
: >"$tmp/s" ; : >"$tmp/q"
for i in $(seq "$REPEATS"); do
	time_run "$tmp/out_s" "$BIN/shoal" run --bios none --kernel "$GUEST/intloop.elf" >>"$tmp/s"
	time_run "$tmp/out_q" timeout 300 "$QEMU" -machine virt -bios none -nographic \
		-kernel "$GUEST/intloop.elf" >>"$tmp/q"
done
instret=$(sed -n 's/.*instret \([0-9]*\).*/\1/p' "$tmp/out_s" | head -1)
sum_s=$(sed -n 's/.*checksum \([0-9]*\).*/\1/p' "$tmp/out_s" | head -1)
sum_q=$(sed -n 's/.*checksum \([0-9]*\).*/\1/p' "$tmp/out_q" | head -1)
[ "$sum_s" = "$sum_q" ] || { echo "checksums differ: shoal $sum_s, qemu $sum_q" >&2; exit 1; }
ts=$(median <"$tmp/s")
tq=$(median <"$tmp/q")
echo "$instret $ts $tq" | awk '{
	ms = $1 / $2 / 1e6; mq = $1 / $3 / 1e6;
	printf "instructions       %d\n", $1;
	printf "shoal              %.3f s  %7.1f MIPS (whole run, start-up included)\n", $2, ms;
	printf "qemu (TCG)         %.3f s  %7.1f MIPS\n", $3, mq;
	printf "ratio shoal/qemu   %.2f   (target for this stage: shoal >= 150 MIPS)\n", ms / mq }'

echo "== MMIO: UART posted writes and read round trips (guest-timed, median)"
: >"$tmp/ws" ; : >"$tmp/rs" ; : >"$tmp/wq" ; : >"$tmp/rq"
for i in $(seq "$REPEATS"); do
	"$BIN/shoal" run --bios none --kernel "$GUEST/mmio_bench.elf" </dev/null >"$tmp/m_s" 2>&1
	timeout 300 "$QEMU" -machine virt -bios none -nographic -kernel "$GUEST/mmio_bench.elf" \
		</dev/null >"$tmp/m_q" 2>&1
	grep -q "scratch ok" "$tmp/m_s" || { echo "shoal: scratch register check failed" >&2; exit 1; }
	sed -n 's/^posted_write_ns \([0-9]*\).*/\1/p' "$tmp/m_s" >>"$tmp/ws"
	sed -n 's/^read_rt_ns \([0-9]*\).*/\1/p' "$tmp/m_s" >>"$tmp/rs"
	sed -n 's/^posted_write_ns \([0-9]*\).*/\1/p' "$tmp/m_q" >>"$tmp/wq"
	sed -n 's/^read_rt_ns \([0-9]*\).*/\1/p' "$tmp/m_q" >>"$tmp/rq"
done
echo "$(median <"$tmp/ws") $(median <"$tmp/wq") $(median <"$tmp/rs") $(median <"$tmp/rq")" | awk '{
	printf "posted THR write   shoal %6d ns (%.2f M/s)   qemu %6d ns   ratio %.2f\n", $1, 1000 / ($1 ? $1 : 1), $2, $2 / ($1 ? $1 : 1);
	printf "MMIO read (RTT)    shoal %6d ns              qemu %6d ns   ratio %.3f\n", $3, $4, $4 / ($3 ? $3 : 1) }'
