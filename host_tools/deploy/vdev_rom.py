# The chip of a virtual bin (python -m host_tools.sim --vdev): what a board's ROM does at
# power-on, run by the MicroPython unix port (`micropython -i`) behind a pty in the device's
# folder. With firmware in that folder: boot.py, then main.py, and again after every deep
# sleep or reset, as on the board; Ctrl-C stops the app and main.py leaves the technician's
# helpers in the REPL (service mode), as it does on the board. Without firmware: a
# sentence, and the bare REPL a blank board has. MicroPython code (not firmware: the chip).
import os
import sys

# The board's import path starts at the root of its flash (this folder), not at this file's
# folder, which the interpreter put first for the script it was given.
if sys.path and sys.path[0] not in ("", "."):
    sys.path[0] = ""


def vdev_reset():
    """Power-cycle the virtual bin (the deploy tool calls it): the interpreter exits and the
    virtual device starts it again, which boots what is in its flash now."""
    sys.exit(0)


def _has(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def _run(name, g):
    with open(name) as f:
        code = compile(f.read(), name, "exec")
    exec(code, g)


def _power_on(g):
    link = None
    try:
        while True:
            try:
                _run("boot.py", g)
                if link is None:
                    link = sys.modules.get("board.simlink")
                    if link is not None:
                        link.rom = True     # a deep sleep resets the chip: boot again
                _run("main.py", g)
                return      # main.py returned: service or safe mode, the REPL is open
            except KeyboardInterrupt:
                print("\nStopped before the app started. Type help() once the firmware "
                      "is booted (vdev_reset() boots it again).")
                return
            except BaseException as e:  # noqa: BLE001 - the chip resets on anything
                if type(e).__name__ == "SimReset":
                    continue            # deep sleep, watchdog, brown-out: boot again
                if isinstance(e, SystemExit):
                    raise
                sys.print_exception(e)  # uncaught in main.py: the watchdog resets the chip
    finally:
        if link is not None:
            link.rom = False            # from here on main.py is imported by hand


if _has("boot.py") and _has("main.py"):
    _power_on(globals())
else:
    print("This virtual bin has no firmware yet: deploy it (the virtual device's start-up "
          "message says how), then vdev_reset() or Ctrl-D boots it.")
