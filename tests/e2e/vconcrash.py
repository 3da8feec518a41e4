#!/usr/bin/env python3
"""virtio-console crash test: 1 MiB from the host to the guest's /dev/hvc0
and 512 KiB back through RUNDIR/vcon0.sock while this script SIGKILLs the
virtio-console device process at random moments (KILLS times each way).
Both md5 sums must match (nothing lost, nothing doubled) and the guest must
power off with status 0.
Usage: vconcrash.py SHOAL KERNEL INITRD"""
import hashlib
import os
import random
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netcrash import Guest, killer_for  # noqa: E402

KILLS = int(os.environ.get("VCONCRASH_KILLS", "4"))
BACK = 8 * 65536  # what the guest sends (tests/linux/init-vconcrash)


def main(argv):
    shoal, kernel, initrd = argv[1:4]
    seed = int(time.time())
    rnd = random.Random(seed)
    name = "vcon-%d" % os.getpid()
    base = (os.environ.get("XDG_RUNTIME_DIR") and os.environ["XDG_RUNTIME_DIR"] + "/shoal") \
        or "/tmp/shoal-%d" % os.getuid()
    g = Guest([shoal, "run", "--name", name, "--smp", "2", "--kernel", kernel, "--initrd",
               initrd, "--vconsole", "on"])
    title = "virtio-console: 1 MiB in, 512 KiB out while the device is killed"
    problems = []
    count = [0]
    try:
        if not g.wait_for(b"vcon: ready", 240):
            raise RuntimeError("the guest never got ready: " + g.text()[-600:])
        s = socket.socket(socket.AF_UNIX)
        s.connect(os.path.join(base, name, "vcon0.sock"))
        s.settimeout(120)
        data = rnd.randbytes(1 << 20)
        stop = threading.Event()
        k = threading.Thread(target=killer_for, args=(g.p.pid, "vcon0", rnd, KILLS, stop, count))
        k.start()
        s.sendall(data)
        if not g.wait_for(b"vcon: received md5", 240):
            raise RuntimeError("the guest never finished receiving")
        stop.set()
        k.join()
        if "vcon: received md5 " + hashlib.md5(data).hexdigest() not in g.text():
            problems.append("host->guest md5 differs")
        stop2 = threading.Event()
        k2 = threading.Thread(target=killer_for,
                              args=(g.p.pid, "vcon0", rnd, count[0] + KILLS, stop2, count))
        k2.start()
        h = hashlib.md5()
        got = 0
        while got < BACK:
            b = s.recv(min(65536, BACK - got))
            if not b:
                break
            h.update(b)
            got += len(b)
        stop2.set()
        k2.join()
        s.sendall(b"!")
        if not g.wait_for(b"vcon: acknowledged", 60):
            problems.append("the guest never saw the acknowledgement (got %d bytes)" % got)
        elif "vcon: sending md5 " + h.hexdigest() not in g.text():
            problems.append("guest->host md5 differs (%d bytes)" % got)
        status = g.p.wait(timeout=120)
        if status != 0:
            problems.append("exit status %d" % status)
    except (RuntimeError, OSError) as e:
        problems.append(str(e))
    finally:
        if g.p.poll() is None:
            g.p.kill()
    if count[0] < KILLS + 1:
        problems.append("only %d kills landed" % count[0])
    if problems:
        print("not ok - %s (seed %d): %s" % (title, seed, "; ".join(problems)))
        print("\n".join(l for l in g.text().splitlines() if "vcon" in l)[-2000:])
        return 1
    print("ok - %s %d times (seed %d)" % (title, count[0], seed))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
