# What the chip's ROM does on the sim board: run boot.py then main.py, and again after
# every reset. Fast mode loops in this one process; faithful mode runs one boot per
# process and the simulator starts a new process at the next wake.
import os
import sys

from board.simlink import SimReset

_code = {}   # path -> (size, mtime, code): a fast-mode wake does not parse the file again


def _run_file(path):
    st = os.stat(path)
    key = (st[6], st[8])
    hit = _code.get(path)
    if hit is None or hit[0] != key:
        with open(path) as f:
            hit = (key, compile(f.read(), path, "exec"))
        _code[path] = hit
    exec(hit[1], {"__name__": "__main__", "__file__": path})


def run(root=""):
    from board import sim, simlink

    simlink.rom = True

    while True:
        try:
            _run_file(root + "boot.py")
            _run_file(root + "main.py")
            # main.py returned: on the device the REPL would now run until the watchdog fires.
            sim._connection().call("halt")
        except SimReset:
            pass
        except Exception as e:  # uncaught in main.py: traceback on the console, then reset
            sys.print_exception(e)
            try:
                sim._connection().call("crash", repr(e))
            except SimReset:
                pass
        if sim._connection().boot["mode"] != "fast":
            sys.exit(0)
