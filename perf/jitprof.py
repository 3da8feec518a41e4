#!/usr/bin/env python3
"""Where translated code spends its time, per guest instruction.

    SHOAL_JIT_DUMP=DIR perf record -F 20000 -a -o PERF.DATA -- shoal run ...
    perf/jitprof.py DIR PERF.DATA [--elf GUEST.ELF] [--top N] [--regions]

Attributes each `perf` sample taken in a vCPU's code cache mapping to the
translation it fell in (the dump's ENTRY-mMODE-atOFFSET.bin files) and,
through the translation's .map file, to the guest instruction whose code
it was in, to "entry" (the registers' loads and guards before the first
instruction) or to "cold" (slow paths and tails after the blocks). Prints
the guest instructions with the most samples (disassembled from --elf when
given), or with --regions the translations."""
import argparse
import bisect
import collections
import os
import re
import subprocess
import sys


def load_regions(dump):
    # (cache offset, size, name, [(host off, pc or None)], [host off])
    regions = []
    for f in os.listdir(dump):
        m = re.match(r"([0-9a-f]+)-m(\d+)-at([0-9a-f]+)\.bin$", f)
        if not m:
            continue
        pcmap = []
        mp = os.path.join(dump, f[:-4] + ".map")
        if os.path.exists(mp):
            for line in open(mp):
                at, pc = line.split()
                pcmap.append((int(at, 16), None if pc == "cold" else int(pc, 16)))
            pcmap.sort(key=lambda e: e[0])
        size = os.path.getsize(os.path.join(dump, f))
        regions.append((int(m[3], 16), size, f, pcmap, [e[0] for e in pcmap]))
    regions.sort()
    return regions


def samples(data):
    """Yields the cache offset of each shoal-cpu sample in the code cache."""
    out = subprocess.run(["perf", "script", "-i", data, "--show-mmap-events", "-F", "comm,ip"],
                         capture_output=True, text=True, check=True).stdout
    maps = []
    for line in out.splitlines():
        if "PERF_RECORD_MMAP" in line:
            if "shoal-jit-cache" in line and "shoal-cpu" in line:
                m = re.search(r"\[0x([0-9a-f]+)\((0x[0-9a-f]+)\) @ (0x[0-9a-f]+|0)", line)
                if m:
                    maps.append((int(m[1], 16), int(m[2], 16), int(m[3], 16)))
            continue
        parts = line.split()
        if len(parts) < 2 or parts[0] != "shoal-cpu":
            continue
        try:
            ip = int(parts[-1], 16)
        except ValueError:
            continue
        off = None
        for start, length, pgoff in maps:
            if start <= ip < start + length:
                off = ip - start + pgoff
        yield off


def disassembly(elf):
    if not elf:
        return {}
    out = subprocess.run(["riscv64-linux-gnu-objdump", "-d", elf], capture_output=True,
                         text=True, check=True).stdout
    dis = {}
    for line in out.splitlines():
        m = re.match(r"\s*([0-9a-f]+):\s+[0-9a-f]+\s+(.*)", line)
        if m:
            dis[int(m[1], 16)] = " ".join(m[2].split("#")[0].split())
    return dis


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dump")
    ap.add_argument("data")
    ap.add_argument("--elf")
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--regions", action="store_true")
    a = ap.parse_args()
    regions = load_regions(a.dump)
    starts = [r[0] for r in regions]
    total = 0
    other = collections.Counter()
    by_region = collections.Counter()
    by_pc = collections.Counter()
    for off in samples(a.data):
        total += 1
        if off is None:
            other["outside the code cache"] += 1
            continue
        i = bisect.bisect_right(starts, off) - 1
        if i < 0 or off >= regions[i][0] + regions[i][1]:
            other["cache, no dumped translation"] += 1
            continue
        by_region[i] += 1
        pcmap = regions[i][3]
        j = bisect.bisect_right(regions[i][4], off - regions[i][0]) - 1
        by_pc["entry" if j < 0 else "cold" if pcmap[j][1] is None else pcmap[j][1]] += 1
    if not total:
        sys.exit("jitprof: no shoal-cpu samples in " + a.data)
    print(f"{total} shoal-cpu samples; " +
          ", ".join(f"{v} {k}" for k, v in other.items()))
    if a.regions:
        for i, n in by_region.most_common(a.top):
            print(f"{n:7d} {100 * n / total:5.1f}%  {regions[i][2]} ({regions[i][1]} bytes)")
        return
    dis = disassembly(a.elf)
    for pc, n in by_pc.most_common(a.top):
        name = pc if isinstance(pc, str) else f"{pc:x}"
        text = "" if isinstance(pc, str) else dis.get(pc, "")
        print(f"{n:7d} {100 * n / total:5.1f}%  {name:>10}  {text}")


if __name__ == "__main__":
    main()
