#!/usr/bin/env python3
"""timeline.py PATTERN TIMEOUT CMD...: runs CMD (stdin closed), echoes its
output lines that contain "cpubench", and prints "first_s S" with the
seconds from launch to the first output line containing PATTERN, then
"total_s S". Exits 1 if CMD failed, timed out or never printed PATTERN."""
import subprocess
import sys
import time


def main(argv):
    if len(argv) < 4:
        sys.exit("usage: timeline.py PATTERN TIMEOUT CMD...")
    pattern, timeout, cmd = argv[1].encode(), float(argv[2]), argv[3:]
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    first = None
    try:
        for line in p.stdout:
            if first is None and pattern in line:
                first = time.monotonic() - t0
            if b"cpubench" in line:
                sys.stdout.write(line.decode(errors="replace"))
            if time.monotonic() - t0 > timeout:
                raise subprocess.TimeoutExpired(cmd, timeout)
        p.wait(timeout=max(1.0, timeout - (time.monotonic() - t0)))
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        print(f"timeline: {cmd[0]} timed out after {timeout:.0f} s", file=sys.stderr)
        return 1
    total = time.monotonic() - t0
    if p.returncode != 0 or first is None:
        print(f"timeline: {cmd[0]} exited {p.returncode}, pattern seen: {first is not None}",
              file=sys.stderr)
        return 1
    print(f"first_s {first:.4f}")
    print(f"total_s {total:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
