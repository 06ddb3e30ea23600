# Runs first after every reset. The motor goes to its safe state before anything else, then
# the boot is counted: too many in a row without a finished wake cycle means safe mode.
import sys

for _p in ("firmware", "firmware/lib"):
    if _p not in sys.path:
        sys.path.append(_p)

import board  # noqa: E402

board.load().safe_state()

try:
    import safemode  # noqa: E402

    safemode.on_boot()
except Exception as _e:  # a broken flash must not keep the bin from booting
    sys.print_exception(_e)
