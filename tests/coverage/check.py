#!/usr/bin/env python3
"""Per-folder coverage gate.

Usage: check.py GCOVR_JSON THRESHOLDS

Reads gcovr's JSON summary (--json-summary), sums line and branch counts per
top-level folder, prints a table, and exits 1 naming every folder whose line
coverage is below its floor in THRESHOLDS ("folder percent" lines; the name
"overall" is the whole project). A folder named in THRESHOLDS with no measured
files is an error too: a gate on nothing must not pass silently.
"""
import json
import sys


def load_thresholds(path):
    floors = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split()
            if len(parts) != 2:
                sys.exit(f"{path}:{n}: expected 'folder percent', got {line!r}")
            try:
                floors[parts[0]] = float(parts[1])
            except ValueError:
                sys.exit(f"{path}:{n}: {parts[1]!r} is not a percentage")
    return floors


def pct(covered, total):
    return 100.0 * covered / total if total else 0.0


def main(argv):
    if len(argv) != 3:
        sys.exit("usage: check.py GCOVR_JSON THRESHOLDS")
    with open(argv[1], encoding="utf-8") as f:
        summary = json.load(f)
    floors = load_thresholds(argv[2])
    sums = {}
    for entry in summary["files"]:
        name = entry["filename"]
        folder = name.split("/", 1)[0] if "/" in name else "."
        for key in (folder, "overall"):
            s = sums.setdefault(key, [0, 0, 0, 0])
            s[0] += entry["line_covered"]
            s[1] += entry["line_total"]
            s[2] += entry["branch_covered"]
            s[3] += entry["branch_total"]
    print(f"{'folder':<12} {'lines':>16} {'branches':>16}  floor")
    failed = []
    for folder in sorted(sums, key=lambda k: (k == "overall", k)):
        lc, lt, bc, bt = sums[folder]
        line = pct(lc, lt)
        floor = floors.get(folder)
        mark = "" if floor is None else f"{floor:.0f}%"
        print(f"{folder:<12} {line:6.1f}% {lc:>4}/{lt:<4} {pct(bc, bt):6.1f}% "
              f"{bc:>4}/{bt:<4} {mark}")
        if floor is not None and line < floor:
            failed.append(f"coverage: {folder}/ has {line:.1f}% line coverage, "
                          f"below its threshold of {floor:.0f}%")
    for folder in floors:
        if folder not in sums:
            failed.append(f"coverage: {folder}/ has a threshold but no measured files")
    for msg in failed:
        print(msg, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
