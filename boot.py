# Runs first after every reset. The motor goes to its safe state before anything else.
import sys

for _p in ("firmware", "firmware/lib"):
    if _p not in sys.path:
        sys.path.append(_p)

import board  # noqa: E402

board.load().safe_state()
