# What the chip's ROM does on the sim board: run boot.py then main.py, and again after
# every reset. Fast mode loops in this one process; faithful mode runs one boot per
# process and the simulator starts a new process at the next wake.
import sys

from board.simlink import SimReset


def _run_file(path):
    with open(path) as f:
        code = f.read()
    exec(code, {"__name__": "__main__", "__file__": path})


def run(root=""):
    from board import sim

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
