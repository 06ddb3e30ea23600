"""The virtual device's console, as a board's UART REPL behaves: every line the interpreter
prints ends in CR LF. A board's MicroPython sends print() output "cooked" (LF -> CR LF)
and its REPL's own lines with CR LF already; the unix port sends print() output with a
bare LF, which mpremote and picocom show as a staircase. This relay runs the interpreter
on a pty of its own and turns a lone LF into CR LF on the way out, leaving CR LF alone.

    python -m host_tools.deploy.console micropython [ARGS...]    (socat's EXEC: virtual.py)
"""

from __future__ import annotations

import os
import pty
import select
import signal
import sys
import termios


def cook(data: bytes, prev: int) -> bytes:
    """data with each LF not already after a CR made CR LF; prev: the byte before data."""
    out = bytearray()
    for b in data:
        if b == 0x0A and prev != 0x0D:
            out += b"\r"
        out.append(b)
        prev = b
    return bytes(out)


def _raw(fd: int) -> None:
    """The interpreter's terminal: bytes through unchanged, no echo, and Ctrl-C a SIGINT
    while code runs (the REPL reads it as a byte when it waits for input, as on a board).
    No other key signals."""
    a = termios.tcgetattr(fd)
    a[0] &= ~(termios.BRKINT | termios.ICRNL | termios.INPCK | termios.ISTRIP | termios.IXON)
    a[1] &= ~termios.OPOST
    a[2] = (a[2] & ~(termios.CSIZE | termios.PARENB)) | termios.CS8
    a[3] = (a[3] & ~(termios.ECHO | termios.ICANON | termios.IEXTEN)) | termios.ISIG
    a[6][termios.VMIN], a[6][termios.VTIME] = 1, 0
    a[6][termios.VINTR] = 3
    for key in (termios.VQUIT, termios.VSUSP):
        a[6][key] = 0       # _POSIX_VDISABLE
    termios.tcsetattr(fd, termios.TCSANOW, a)


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    pid, fd = pty.fork()
    if pid == 0:   # the interpreter, on the pty's other end as its controlling terminal
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    _raw(fd)
    prev = 0
    status = 0
    try:
        while True:
            ready, _, _ = select.select([0, fd], [], [])
            if 0 in ready:
                data = os.read(0, 4096)
                if not data:        # the terminal side closed: the device is switched off
                    break
                os.write(fd, data)
            if fd in ready:
                try:
                    data = os.read(fd, 4096)
                except OSError:     # EIO: the interpreter exited
                    data = b""
                if not data:
                    break
                os.write(1, cook(data, prev))
                prev = data[-1]
    finally:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        _, st = os.waitpid(pid, 0)
        status = os.waitstatus_to_exitcode(st)
    return max(0, status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
