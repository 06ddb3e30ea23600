# Bounded log in flash: log.txt, rotated to log.1.txt at _MAX_BYTES, so the two files never
# hold more than about twice that. A technician reads it with log(n) on the REPL.
import os

from micropython import const

import fsutil

_MAX_BYTES = const(8192)
PATH = "log.txt"
OLD = "log.1.txt"

clock = None  # set by the app to the board clock: lines get a Unix timestamp


def check():
    """A wake's first look at the log: what stands at its paths must be a file (a directory
    or a link loop there is damage: set aside, reported with the wake's flash_damage)."""
    for p in (PATH, OLD):
        k = fsutil.kind(p)
        if k not in (None, "file"):
            fsutil.set_aside(p, "not a file (%s)" % k)


def append(msg):
    """Never raises: a full or broken flash must not stop the wake cycle."""
    try:
        ts = clock.time() if clock else 0
        line = "%d %s\n" % (ts, msg)
        k = fsutil.kind(PATH)
        if k not in (None, "file"):     # a directory, a link loop: damage, set aside
            fsutil.set_aside(PATH, "not a file (%s)" % k)
        try:
            size = os.stat(PATH)[6]
        except OSError:
            size = 0
        if size + len(line) > _MAX_BYTES:
            if fsutil.kind(OLD) not in (None, "file"):
                fsutil.set_aside(OLD, "not a file")
            os.rename(PATH, OLD)
        fsutil.append(PATH, line.encode())
    except Exception:  # noqa: BLE001 - logging is best effort by design
        pass


def tail(n=20):
    """The last n lines, oldest first."""
    lines = []
    for p in (OLD, PATH):
        try:
            with open(p, "rb") as f:
                f.seek(0, 2)   # the end only: a damaged, huge log must not fill the heap
                f.seek(max(0, f.tell() - _MAX_BYTES))
                raw = f.read(_MAX_BYTES)
        except OSError:
            continue
        for ln in raw.split(b"\n"):
            if ln:
                try:
                    lines.append(ln.decode())
                except UnicodeError:   # a damaged line: shown, not fatal
                    lines.append("? %d damaged bytes" % len(ln))
    return lines[-n:] if n > 0 else []
