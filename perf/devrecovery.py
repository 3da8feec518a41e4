#!/usr/bin/env python3
"""Device recovery time: a Linux guest reads its virtio-blk disk in a loop
(4 KiB O_DIRECT, queue depth 1) while this script SIGKILLs the disk's
device process KILLS times; for each kill, the time from the kill to the
first guest request the restarted process completes (it logs that moment
in CLOCK_MONOTONIC, the clock time.monotonic() reads). Prints one
"recovery_ms X" line per kill.
Usage: devrecovery.py KILLS SHOAL KERNEL INITRD IMAGE"""
import os
import re
import subprocess
import sys
import time


def main(argv):
    kills, shoal, kernel, initrd, image = int(argv[1]), argv[2], argv[3], argv[4], argv[5]
    p = subprocess.Popen([shoal, "run", "--kernel", kernel, "--initrd", initrd, "--drive",
                          "file=%s,id=benchdisk" % image, "--append",
                          "console=ttyS0 blkloop=1"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    os.set_blocking(p.stdout.fileno(), False)
    buf = b""

    def wait_for(pattern, timeout):
        nonlocal buf
        end = time.monotonic() + timeout
        rx = re.compile(pattern)
        while time.monotonic() < end:
            try:
                chunk = p.stdout.read()
            except BlockingIOError:
                chunk = None
            if chunk:
                buf += chunk
            m = rx.search(buf)
            if m:
                buf = buf[m.end():]
                return m
            time.sleep(0.002)
        return None

    try:
        if not wait_for(rb"bench: reading", 120):
            sys.exit("devrecovery: the guest never started reading")
        time.sleep(1)
        for _ in range(kills):
            pid = subprocess.run(["pgrep", "-P", str(p.pid), "-f",
                                  "shoal-dev.*--name benchdisk"],
                                 capture_output=True, text=True).stdout.split()
            if not pid:
                sys.exit("devrecovery: no disk device process")
            t_kill = time.monotonic()
            os.kill(int(pid[0]), 9)
            m = wait_for(rb"first request after the restart completed at monotonic "
                         rb"(\d+\.\d+)", 10)
            if not m:
                sys.exit("devrecovery: no request completed within 10 s of a kill")
            print("recovery_ms %.3f" % ((float(m.group(1)) - t_kill) * 1000))
            time.sleep(0.3)
    finally:
        p.terminate()
        p.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
