#!/usr/bin/env python3
"""Interactive console test: runs `make run`'s guest on a pseudo-terminal,
types a command at the busybox shell, checks the answer, reboots the guest
and checks the shell again, then quits with
Ctrl-A x and checks shoal's status and that the terminal modes came back.
Usage: console.py SHOAL KERNEL INITRD"""
import os
import pty
import select
import sys
import termios
import time


# Exit statuses of children reaped while waiting for their output.
reaped = {}


def child_gone(pid):
    """Whether shoal (pid) has exited; reaps it and keeps its status."""
    if pid in reaped:
        return True
    done, status = os.waitpid(pid, os.WNOHANG)
    if done == pid:
        reaped[pid] = status
        return True
    return False


def wait_child(pid):
    """shoal's exit status, waiting for it unless already reaped."""
    if pid in reaped:
        return reaped.pop(pid)
    return os.waitpid(pid, 0)[1]


def read_until(fd, want, timeout, buf, pid):
    """Reads fd until `want` appears, `timeout` seconds pass or shoal (pid)
    has exited and said all it had to say. The test keeps the pty's slave
    open, so a dead shoal does not end the reads by itself."""
    end = time.time() + timeout
    while want not in buf:
        left = end - time.time()
        if left <= 0:
            return buf, False
        r, _, _ = select.select([fd], [], [], min(left, 0.5))
        if not r:
            if child_gone(pid):
                r, _, _ = select.select([fd], [], [], 0)
                if not r:
                    return buf, False
            continue
        try:
            data = os.read(fd, 4096)
        except OSError:
            return buf, want in buf
        if not data:
            return buf, want in buf
        buf += data
    return buf, True


def gone_note(pid):
    """What to add to a failure: shoal's status when it has exited."""
    if pid not in reaped:
        return ""
    return f" (shoal exited with status {os.waitstatus_to_exitcode(reaped[pid])})"


def stop(pid):
    """Kills shoal unless it has exited already."""
    if pid not in reaped:
        os.kill(pid, 9)


def boot(shoal, kernel, initrd):
    """Starts the guest on a new pty; returns (pid, master, slave, modes)."""
    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    pid = os.fork()
    if pid == 0:
        os.setsid()
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        os.execv(shoal, [shoal, "run", "--smp", "2", "--kernel", kernel, "--initrd", initrd])
    buf, ok = read_until(master, b"'poweroff' ends the run", 300, b"", pid)
    if not ok:
        print("not ok - console: no shell banner" + gone_note(pid) + ":", buf[-400:])
        stop(pid)
        sys.exit(1)
    time.sleep(0.5)
    os.write(master, b"echo answer-$((6 * 7))\r")
    buf, ok = read_until(master, b"answer-42", 60, b"", pid)
    if not ok:
        print("not ok - console: the shell did not answer" + gone_note(pid) + ":", buf[-400:])
        stop(pid)
        sys.exit(1)
    return pid, master, slave, before


def main(argv):
    shoal, kernel, initrd = argv[1:4]
    pid, master, slave, before = boot(shoal, kernel, initrd)
    os.write(master, b"reboot\r")
    buf, ok = read_until(master, b"'poweroff' ends the run", 300, b"", pid)
    if not ok:
        print("not ok - console: no shell after 'reboot'" + gone_note(pid) + ":", buf[-400:])
        stop(pid)
        return 1
    time.sleep(0.5)
    os.write(master, b"echo again-$((6 * 7))\r")
    buf, ok = read_until(master, b"again-42", 60, b"", pid)
    if not ok:
        print("not ok - console: the shell did not answer after 'reboot'" + gone_note(pid) + ":",
              buf[-400:])
        stop(pid)
        return 1
    print("ok - 'reboot' in the guest boots it again to a shell that answers")
    os.write(master, b"awk '/ttyS0/ {print \"uart-irqs\", $2 + $3}' /proc/interrupts\r")
    buf, _ = read_until(master, b"uart-irqs ", 30, b"", pid)
    buf, _ = read_until(master, b"\n", 5, buf.split(b"uart-irqs ", 1)[-1], pid)
    irq_line = b"uart-irqs " + buf.split(b"\r")[0]
    os.write(master, b"poweroff\r")
    read_until(master, b"Power down", 60, b"", pid)
    status = wait_child(pid)
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        print("not ok - console: poweroff in the guest gave status", status)
        return 1
    print("ok - interactive console: the shell answers; poweroff ends the run with status 0")
    if b"uart-irqs " not in irq_line or irq_line.split(b"uart-irqs ")[1][:1] in (b"0", b""):
        print("not ok - the UART's PLIC interrupt never fired:", irq_line)
        return 1
    print("ok - keyboard input arrives through the UART's PLIC interrupt")
    pid, master, slave, before = boot(shoal, kernel, initrd)
    os.write(master, b"\x01x")
    buf, _ = read_until(master, b"terminated by Ctrl-A x", 30, b"", pid)
    status = wait_child(pid)
    after = termios.tcgetattr(slave)
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        print("not ok - console: Ctrl-A x gave status", status)
        return 1
    if after != before:
        print("not ok - console: terminal modes not restored")
        return 1
    print("ok - Ctrl-A x quits with status 0 and the terminal modes come back")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
