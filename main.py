# Runs after boot.py: build this platform's board and hand it to the app.
# Ctrl-C on the serial console stops the app with the motor off and leaves the technician
# helpers (help(), status(), ...) in the REPL.
import micropython

if hasattr(micropython, "alloc_emergency_exception_buf"):  # absent on the unix port
    micropython.alloc_emergency_exception_buf(100)

import app  # noqa: E402
import board  # noqa: E402

_board = board.load().build()
try:
    app.main(_board)
except KeyboardInterrupt:
    _board.motor.off()
    import shell  # noqa: E402

    shell.attach(_board)
    from shell import *  # noqa: E402, F403

    print("\nService mode: the app is stopped and the motor is off. Type help().")
