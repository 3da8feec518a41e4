#!/usr/bin/env python3
"""Network crash test: a Linux guest on user-mode networking takes a DHCP
lease, then receives 48 MiB over TCP through a hostfwd port and sends 16 MiB
to a listener on the host, while this script SIGKILLs the virtio-net device
process at random moments (KILLS times in each direction). Both ends'
md5 sums must match and the guest must power off with status 0.
Usage: netcrash.py SHOAL KERNEL INITRD"""
import hashlib
import os
import random
import socket
import subprocess
import sys
import threading
import time

KILLS = int(os.environ.get("NETCRASH_KILLS", "4"))
SEND_BYTES = 256 * 65536  # what the guest sends (tests/linux/init-netcrash)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Guest:
    def __init__(self, argv):
        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        self.out = b""
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for chunk in iter(lambda: self.p.stdout.read1(4096), b""):
            with self.lock:
                self.out += chunk

    def wait_for(self, text, timeout):
        end = time.time() + timeout
        while time.time() < end:
            with self.lock:
                if text in self.out:
                    return True
            if self.p.poll() is not None:
                return False
            time.sleep(0.05)
        return False

    def text(self):
        with self.lock:
            return self.out.decode(errors="replace")


def killer_for(shoal_pid, device, rnd, kills, stop, count):
    """SIGKILLs shoal-dev DEVICE at random moments until `kills` in all."""
    while count[0] < kills and not stop.is_set():
        # Short enough that several land in each transfer: with the guest
        # faster, 0.1-0.4 s left some runs at the floor (5 kills).
        time.sleep(rnd.uniform(0.05, 0.2))
        out = subprocess.run(["pgrep", "-P", str(shoal_pid), "-f",
                              "shoal-dev.*--name %s " % device],
                             capture_output=True, text=True).stdout.split()
        if out:
            os.kill(int(out[0]), 9)
            count[0] += 1


def killer(shoal_pid, rnd, kills, stop, count):
    killer_for(shoal_pid, "net0", rnd, kills, stop, count)


def main(argv):
    shoal, kernel, initrd = argv[1:4]
    seed = int(time.time())
    rnd = random.Random(seed)
    fwd, back = free_port(), free_port()
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", back))
    listener.listen(1)
    g = Guest([shoal, "run", "--smp", "2", "--kernel", kernel, "--initrd", initrd,
               "--net", "user,hostfwd=tcp:127.0.0.1:%d-:5000" % fwd,
               "--append", "console=ttyS0 sendport=%d" % back])
    name = "virtio-net: TCP both ways through user networking while the device is killed"
    problems = []
    count = [0]
    try:
        if not g.wait_for(b"net: listening", 240):
            raise RuntimeError("the guest never listened: " + g.text()[-600:])
        data = rnd.randbytes(48 << 20)
        s = None
        for _ in range(100):  # the guest's nc may not be accepting yet
            try:
                s = socket.create_connection(("127.0.0.1", fwd), timeout=5)
                break
            except OSError:
                time.sleep(0.1)
        if s is None:
            raise RuntimeError("cannot connect to the hostfwd port")
        s.settimeout(120)
        stop = threading.Event()
        k = threading.Thread(target=killer, args=(g.p.pid, rnd, KILLS, stop, count))
        k.start()
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        s.close()
        stop.set()
        k.join()
        if not g.wait_for(b"net: received md5", 120):
            raise RuntimeError("the guest never finished receiving")
        want = hashlib.md5(data).hexdigest()
        if "net: received md5 " + want not in g.text():
            problems.append("host->guest md5 differs (want %s)" % want)
        listener.settimeout(120)
        conn, _ = listener.accept()
        conn.settimeout(120)
        stop2 = threading.Event()
        before = count[0]
        k2 = threading.Thread(target=killer, args=(g.p.pid, rnd, before + KILLS, stop2, count))
        k2.start()
        h = hashlib.md5()
        got = 0
        while got < SEND_BYTES:  # the guest's nc does not close on its EOF
            b = conn.recv(65536)
            if not b:
                break
            h.update(b)
            got += len(b)
        conn.close()
        stop2.set()
        k2.join()
        if not g.wait_for(b"net: sent", 60):
            problems.append("the guest never finished sending")
        elif "net: sending md5 " + h.hexdigest() not in g.text():
            problems.append("guest->host md5 differs")
        status = g.p.wait(timeout=120)
        if status != 0:
            problems.append("exit status %d" % status)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
        problems.append(str(e))
    finally:
        if g.p.poll() is None:
            g.p.kill()
    if "net: FAIL" in g.text():
        problems.append("no DHCP lease")
    if count[0] < KILLS + 1:
        problems.append("only %d kills landed" % count[0])
    if problems:
        print("not ok - %s (seed %d): %s" % (name, seed, "; ".join(problems)))
        print("\n".join(l for l in g.text().splitlines() if "net" in l.lower())[-2000:])
        return 1
    print("ok - %s %d times (seed %d)" % (name, count[0], seed))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
