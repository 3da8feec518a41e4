#!/bin/sh
# shoal's benchmarks, each against the peer (QEMU TCG, `virt`) in the same
# run, REPEATS times (default 5: this host's speed drifts by a third within
# minutes, and a median of 3 moved with it), repeats interleaved so drift
# hits both:
#   mark_ms          shoalmark (CoreMark-like) with the JIT vs QEMU TCG
#   mark_vs_native_ms   the same vs the host build (NATIVE_MARK), 3 pairs a repeat
#   mark_vs_native_scalar_ms  the same vs the host build without SIMD
#                    (NATIVE_MARK_SCALAR, -fno-tree-vectorize): the
#                    guest's RV64GC has no vector unit, the host's gcc -O2
#                    vectorizes the matrix multiply
#   mark_vs_interp_ms   the same vs shoal --jit off
#   fp_mark_ms       fpmark (F and D: fused multiply-add sweep, dot product,
#                    divisions, single-precision Horner) vs QEMU TCG
#   jit_compile_p50_us  median shoal-jit translation latency (shoal only)
#   jit_block_compile_p50_us  the same per guest basic block a translation
#                    holds (a translation is a region of blocks)
#   jit_compiles_4harts translations made for 4 harts vs for 1 (same code)
#   jit_translate_ns_per_insn  tier 1 alone (perf/jitbench.c): the kernel
#                    image's block starts translated in a loop, per guest
#                    instruction (shoal only; no sockets or guest around)
#   interp_mips      intloop on one vCPU, shoal's interpreter (--jit off),
#                    guest MIPS over the whole run (QEMU: TCG, its JIT)
#   startup_s        startup.elf: launch to exit, wall seconds
#   mem_write_mbps   guest-timed 64-bit stores over 8 MiB
#   mem_copy_mbps    guest-timed 64-bit copy, bytes read + written
#   uart_posted_ns   one UART THR write with LSR polled first (guest-timed)
#   mmio_rtt_ns      one MMIO read round trip (the UART IIR, never served from the shadow page)
#   ipi_rtt_ns       2 harts waking each other from WFI with machine software
#                    interrupts: one round trip (guest-timed)
#   linux_boot_s     Debian's OpenSBI + the project's Linux to the first
#                    userspace line (same firmware, kernel and initramfs)
#   guest_cpu_mops   in-guest CPU benchmark, 1 thread (guest-timed)
#   guest_smp2_x     the guest's own view of 2 threads vs 1 on --smp 2
#                    (throughput ratio; compared with QEMU's -smp 2)
#   blk_randread1_iops   in-guest 4 KiB O_DIRECT random reads, queue depth 1
#   blk_randread8_iops   the same with 8 threads (vs QEMU; and
#   blk_randread8_vs_host  vs host fio on the same image, the physical limit)
#   blk_seqwrite_mbps    in-guest 1 MiB O_DIRECT sequential writes + fsync
#   dev_recovery_ms      SIGKILL of the disk's device process to the first
#                        guest request the restarted process completes
#                        (shoal only: QEMU has no separate device process)
# The Linux figures need KERNEL and INITRD, the block ones BLK_INITRD (make
# bench passes them).
# Writes perf/results/DATE-COMMIT.json (perf/record.py) and re-renders
# perf/REPORT.md with plots (perf/report.py). Needs BIN and GUEST.
set -eu
BIN=${BIN:?}
GUEST=${GUEST:?}
REPEATS=${REPEATS:-5}
QEMU=${QEMU:-qemu-system-riscv64}
PEER=qemu-tcg
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
raw="$tmp/raw"
: >"$raw"

now() { date +%s.%N; }
# sample FIGURE UNIT BETTER WHO VALUE [SOURCE]: records one sample; an empty
# VALUE stops the benchmark, showing SOURCE (the output it came from).
sample() {
	if [ -z "$5" ]; then
		echo "benchmark: no value for $1 ($4)${6:+; its output:}" >&2
		[ -n "${6:-}" ] && tail -40 "$6" >&2
		exit 1
	fi
	echo "$1 $2 $3 $4 $5" >>"$raw"
}

# run_timed OUT CMD...: runs CMD (stdin closed), prints its wall seconds;
# a failing command stops the benchmark with its output.
run_timed() {
	out=$1
	shift
	t0=$(now)
	"$@" </dev/null >"$out" 2>&1 || { echo "benchmark command failed: $*" >&2; cat "$out" >&2; exit 1; }
	echo "$(now) $t0" | awk '{printf "%.4f\n", $1 - $2}'
}
shoal_run() { run_timed "$1" "$BIN/shoal" run --bios none --kernel "$2"; }
qemu_run() { run_timed "$1" timeout 300 "$QEMU" -machine virt -bios none -nographic -kernel "$2"; }
field() { sed -n "s/^.*$1 \([0-9]*\).*/\1/p" "$2" | head -1; }
# blkfig FILE KEY [THREADS]: the value after KEY on blkbench's line (the one
# with "threads THREADS" when given); console lines may end in \r.
blkfig() {
	tr -d '\r' <"$1" | awk -v k="$2" -v t="${3:-}" '{
		for (i = 1; i < NF; i++)
			if ($i == k && (t == "" || ($(i + 2) == "threads" && $(i + 3) == t))) { print $(i + 1); exit }
	}'
}

echo "== $REPEATS repeats of each benchmark, shoal and $PEER interleaved"
for i in $(seq "$REPEATS"); do
	# Interpreter speed. The checksum proves both ran the same program.
	ts=$(run_timed "$tmp/is" "$BIN/shoal" run --bios none --kernel "$GUEST/intloop.elf" --jit off)
	tq=$(qemu_run "$tmp/iq" "$GUEST/intloop.elf")
	[ "$(field checksum "$tmp/is")" = "$(field checksum "$tmp/iq")" ] ||
		{ echo "intloop checksums differ between shoal and $PEER" >&2; exit 1; }
	n=$(field instret "$tmp/is")
	sample interp_mips MIPS higher shoal "$(echo "$n $ts" | awk '{print $1 / $2 / 1e6}')"
	sample interp_mips MIPS higher $PEER "$(echo "$n $tq" | awk '{print $1 / $2 / 1e6}')"

	# The JIT on a CPU-bound program (shoalmark: lists, matrix, state
	# machine, CRC; guest-timed with mtime): against QEMU's TCG, against
	# the same source built natively (the physical limit), and against
	# shoal's own interpreter. The CRC proves all ran the same work.
	run_timed "$tmp/cs" "$BIN/shoal" run --bios none --kernel "$GUEST/shoalmark_long.elf" --stats >/dev/null
	run_timed "$tmp/ci" "$BIN/shoal" run --bios none --kernel "$GUEST/shoalmark_long.elf" --jit off >/dev/null
	qemu_run "$tmp/cq" "$GUEST/shoalmark_long.elf" >/dev/null
	ms() { echo "$(field us "$1")" | awk '{print $1 / 1000}'; }
	# mark_ok OUT...: each output has the native build's CRC ($crc).
	mark_ok() {
		for f in "$@"; do
			[ "$(field crc "$tmp/$f")" = "$crc" ] || { echo "shoalmark: wrong CRC in $f" >&2; cat "$tmp/$f" >&2; exit 1; }
		done
	}
	# native_pairs SHOAL_OUT: the native builds run now against that shoal
	# run. Three pairs a repeat: one shoal run differs from the next by up
	# to a third here while the native build holds within a few percent,
	# so a median of five pairs moves with that noise.
	native_pairs() {
		"${NATIVE_MARK:?}" 20000 >"$tmp/cn"
		"${NATIVE_MARK_SCALAR:?}" 20000 >"$tmp/cv"
		: "${crc:=$(field crc "$tmp/cn")}" # the first native run's, for all
		mark_ok "$1" cn cv
		sample mark_vs_native_ms ms lower shoal "$(ms "$tmp/$1")"
		sample mark_vs_native_ms ms lower native "$(ms "$tmp/cn")"
		sample mark_vs_native_scalar_ms ms lower shoal "$(ms "$tmp/$1")"
		sample mark_vs_native_scalar_ms ms lower native-scalar "$(ms "$tmp/cv")"
	}
	native_pairs cs
	mark_ok ci cq
	sample mark_ms ms lower shoal "$(ms "$tmp/cs")"
	sample mark_ms ms lower $PEER "$(ms "$tmp/cq")"
	for k in 1 2; do
		run_timed "$tmp/cs2" "$BIN/shoal" run --bios none --kernel "$GUEST/shoalmark_long.elf" >/dev/null
		native_pairs cs2
	done
	sample mark_vs_interp_ms ms lower shoal "$(ms "$tmp/cs")"
	sample mark_vs_interp_ms ms lower shoal-interp "$(ms "$tmp/ci")"
	# F and D: the results' bits must agree
	run_timed "$tmp/fs" "$BIN/shoal" run --bios none --kernel "$GUEST/fpmark.elf" >/dev/null
	qemu_run "$tmp/fq" "$GUEST/fpmark.elf" >/dev/null
	[ -n "$(field sum "$tmp/fs")" ] && [ "$(field sum "$tmp/fs")" = "$(field sum "$tmp/fq")" ] ||
		{ echo "fpmark: shoal and $PEER differ" >&2; cat "$tmp/fs" "$tmp/fq" >&2; exit 1; }
	sample fp_mark_ms ms lower shoal "$(ms "$tmp/fs")"
	sample fp_mark_ms ms lower $PEER "$(ms "$tmp/fq")"
	p50() { sed -n "/$1/s/.*compile latency p50 < \([0-9]*\) ns.*/\1/p" "$tmp/cs" | awk '{print $1 / 1000}'; }
	sample jit_compile_p50_us us lower shoal "$(p50 lookups)"
	sample jit_block_compile_p50_us us lower shoal "$(p50 'per guest block')"
	# Four harts on the same code compile it once: compiles with 4 harts
	# against compiles with 1 (ratio 1 = shared).
	for n in 1 4; do
		run_timed "$tmp/j$n" "$BIN/shoal" run --bios none --smp $n --kernel "$GUEST/jitshare.elf" \
			--jit-threshold 1 --jit-sync on --stats >/dev/null
	done
	compiled() { sed -n 's/.*jit: \([0-9]*\) translations compiled.*/\1/p' "$1"; }
	sample jit_compiles_4harts n lower shoal "$(compiled "$tmp/j4")"
	sample jit_compiles_4harts n lower 1-hart "$(compiled "$tmp/j1")"
	if [ -n "${JITBENCH:-}" ] && [ -n "${KERNEL:-}" ]; then
		"$JITBENCH" "$KERNEL" >"$tmp/jb" 2>&1 || { echo "jitbench failed:" >&2; cat "$tmp/jb" >&2; exit 1; }
		sample jit_translate_ns_per_insn ns lower shoal \
			"$(sed -n 's/.* ns_per_insn \([0-9.]*\) .*/\1/p' "$tmp/jb")" "$tmp/jb"
	fi

	# Start-up to exit of the smallest program.
	sample startup_s s lower shoal "$(shoal_run "$tmp/hs" "$GUEST/startup.elf")"
	sample startup_s s lower $PEER "$(qemu_run "$tmp/hq" "$GUEST/startup.elf")"

	# Guest memory bandwidth.
	shoal_run "$tmp/ms" "$GUEST/membw.elf" >/dev/null
	qemu_run "$tmp/mq" "$GUEST/membw.elf" >/dev/null
	[ "$(field checksum "$tmp/ms")" = "$(field checksum "$tmp/mq")" ] ||
		{ echo "membw checksums differ between shoal and $PEER" >&2; exit 1; }
	for f in write copy; do
		sample mem_${f}_mbps MB/s higher shoal "$(field ${f}_mbps "$tmp/ms")"
		sample mem_${f}_mbps MB/s higher $PEER "$(field ${f}_mbps "$tmp/mq")"
	done

	# MMIO: posted UART writes and read round trips.
	shoal_run "$tmp/os" "$GUEST/mmio_bench.elf" >/dev/null
	qemu_run "$tmp/oq" "$GUEST/mmio_bench.elf" >/dev/null
	grep -q "scratch ok" "$tmp/os" || { echo "shoal: UART scratch register check failed" >&2; exit 1; }
	sample uart_posted_ns ns lower shoal "$(field posted_write_ns "$tmp/os")"
	sample uart_posted_ns ns lower $PEER "$(field posted_write_ns "$tmp/oq")"
	sample mmio_rtt_ns ns lower shoal "$(field read_rt_ns "$tmp/os")"
	sample mmio_rtt_ns ns lower $PEER "$(field read_rt_ns "$tmp/oq")"

	# Cross-hart wake-ups: IPI ping-pong between 2 harts.
	run_timed "$tmp/is" "$BIN/shoal" run --smp 2 --bios none --kernel "$GUEST/ipi_bench.elf" >/dev/null
	run_timed "$tmp/iq" timeout 300 "$QEMU" -machine virt -smp 2 -bios none -nographic \
		-kernel "$GUEST/ipi_bench.elf" >/dev/null
	sample ipi_rtt_ns ns lower shoal "$(field ipi_rtt_ns "$tmp/is")" "$tmp/is"
	sample ipi_rtt_ns ns lower $PEER "$(field ipi_rtt_ns "$tmp/iq")" "$tmp/iq"
	if [ -n "${KERNEL:-}" ]; then
		fw=/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin
		# QEMU 7.2 TCG with -smp 2 occasionally hangs after OpenSBI's
		# banner here: one retry, then the repeat is skipped for both.
		ok=0
		for try in 1 2; do
			if python3 "$here/timeline.py" "bench: userspace up" 120 "$BIN/shoal" run --smp 2 \
				--kernel "$KERNEL" --initrd "$INITRD" >"$tmp/ls" &&
				python3 "$here/timeline.py" "bench: userspace up" 120 "$QEMU" -machine virt \
					-smp 2 -m 128M -nographic -bios "$fw" -kernel "$KERNEL" \
					-initrd "$INITRD" >"$tmp/lq"; then
				ok=1
				break
			fi
			echo "(a Linux run failed or hung; retrying)" >&2
		done
		if [ $ok = 1 ]; then
			for w in s q; do
				who=shoal
				[ $w = q ] && who=$PEER
				f="$tmp/l$w"
				sample linux_boot_s s lower $who "$(sed -n 's/^first_s //p' "$f")"
				m1=$(sed -n 's/.*threads=1 .*mops=\([0-9.]*\).*/\1/p' "$f")
				m2=$(sed -n 's/.*threads=2 .*mops=\([0-9.]*\).*/\1/p' "$f")
				sample guest_cpu_mops Mops higher $who "$m1"
				sample guest_smp2_x x higher $who "$(echo "$m2 $m1" | awk '{print $1 / $2}')"
			done
		fi
	fi
	if [ -n "${BLK_INITRD:-}" ]; then
		img="$tmp/disk.img"
		rm -f "$img"
		truncate -s 256M "$img"
		run_timed "$tmp/bs" "$BIN/shoal" run --smp 2 --kernel "$KERNEL" --initrd "$BLK_INITRD" \
			--drive "file=$img" >/dev/null
		run_timed "$tmp/bq" timeout 300 "$QEMU" -machine virt -smp 2 -m 128M -nographic \
			-bios /usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin -kernel "$KERNEL" \
			-initrd "$BLK_INITRD" -append console=ttyS0 \
			-drive "file=$img,if=none,id=d0,format=raw" -device virtio-blk-device,drive=d0 >/dev/null
		fio --name=r --filename="$img" --rw=randread --bs=4k --ioengine=io_uring --iodepth=8 \
			--runtime=4 --time_based --output-format=terse --terse-version=3 >"$tmp/fio" 2>&1 ||
			{ echo "fio failed" >&2; cat "$tmp/fio" >&2; exit 1; }
		host_iops=$(awk -F';' '{print $8}' "$tmp/fio")
		for w in s q; do
			who=shoal
			[ $w = q ] && who=$PEER
			f="$tmp/b$w"
			sample blk_randread1_iops IOPS higher $who "$(blkfig "$f" randread_iops 1)" "$f"
			sample blk_randread8_iops IOPS higher $who "$(blkfig "$f" randread_iops 8)" "$f"
			sample blk_seqwrite_mbps MB/s higher $who "$(blkfig "$f" seqwrite_mbps)" "$f"
		done
		sample blk_randread8_vs_host IOPS higher shoal "$(blkfig "$tmp/bs" randread_iops 8)"
		sample blk_randread8_vs_host IOPS higher host-fio "$host_iops"
		python3 "$here/devrecovery.py" 3 "$BIN/shoal" "$KERNEL" "$BLK_INITRD" "$img" >"$tmp/rec"
		sample dev_recovery_ms ms lower shoal "$(sort -k2 -n "$tmp/rec" | awk '{v[NR] = $2} END {print v[int((NR + 1) / 2)]}')"
	fi
	echo "repeat $i of $REPEATS done"
done

mkdir -p "$here/results"
commit=$(git -C "$here" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
result="$here/results/$(date -u +%Y%m%dT%H%M%SZ)-$commit.json"
python3 "$here/record.py" "$raw" "$result"
python3 "$here/report.py" "$here/results" "$here/REPORT.md" "$here/plots"
prev=$(ls "$here"/results/*.json | grep -v "$result" | tail -1 || true)
if [ -n "$prev" ]; then
	echo "== against the previous result ($(basename "$prev"))"
	python3 "$here/compare" "$prev" "$result" || echo "(regressions above: see perf/compare)"
fi
