#!/usr/bin/env python3
"""Turns one benchmark run's raw samples into a result file.

Usage: record.py RAW OUT.json

RAW has one sample per line: "FIGURE UNIT BETTER WHO VALUE", where BETTER is
"higher" or "lower" and WHO is "shoal" or the peer's name (e.g. qemu-tcg).
Samples of one figure are paired by order: the i-th shoal sample and the
i-th peer sample come from the same repeat, so their ratio is one repeat's
ratio. The result file (schema 1) holds, per figure, the raw samples, their
medians and the per-repeat ratios oriented so that > 1 means shoal is
better. Prints a summary table.
"""
import json
import os
import platform
import statistics
import subprocess
import sys
import time


def host_cpu():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git(*args):
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def oriented_ratio(shoal, peer, better):
    if better == "higher":
        return shoal / peer if peer else 0.0
    return peer / shoal if shoal else 0.0


def build(raw_lines):
    figures = {}
    for n, line in enumerate(raw_lines, 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 5 or parts[2] not in ("higher", "lower"):
            raise ValueError(f"raw line {n}: expected 'FIGURE UNIT higher|lower WHO VALUE': {line!r}")
        name, unit, better, who, value = parts
        fig = figures.setdefault(name, {"unit": unit, "better": better, "shoal": [],
                                        "peer": [], "peer_name": None})
        if who == "shoal":
            fig["shoal"].append(float(value))
        else:
            fig["peer"].append(float(value))
            fig["peer_name"] = who
    for name, fig in figures.items():
        if not fig["shoal"]:
            raise ValueError(f"figure {name}: no shoal samples")
        fig["median"] = statistics.median(fig["shoal"])
        if fig["peer"]:
            fig["peer_median"] = statistics.median(fig["peer"])
            fig["ratios"] = [oriented_ratio(s, p, fig["better"])
                             for s, p in zip(fig["shoal"], fig["peer"])]
            fig["ratio"] = statistics.median(fig["ratios"])
    return figures


def main(argv):
    if len(argv) != 3:
        sys.exit("usage: record.py RAW OUT.json")
    with open(argv[1], encoding="utf-8") as f:
        figures = build(f.read().splitlines())
    result = {
        "schema": 1,
        "commit": git("rev-parse", "--short=12", "HEAD"),
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "host_cpu": host_cpu(),
        "host_cores": os.cpu_count(),
        "figures": figures,
    }
    tmp = argv[2] + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(tmp, argv[2])
    print(f"{'figure':<18} {'shoal':>12} {'peer':>12} {'ratio':>7}  (ratio > 1: shoal better)")
    for name in sorted(figures):
        fig = figures[name]
        peer = f"{fig['peer_median']:12.1f}" if "peer_median" in fig else f"{'-':>12}"
        ratio = f"{fig['ratio']:7.2f}" if "ratio" in fig else f"{'-':>7}"
        print(f"{name:<18} {fig['median']:12.1f} {peer} {ratio}  {fig['unit']}, "
              f"{fig['better']} is better, {len(fig['shoal'])} repeats")
    print(f"result: {argv[2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
