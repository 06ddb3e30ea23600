# Runs after boot.py: build this platform's board and hand it to the app.
import micropython

if hasattr(micropython, "alloc_emergency_exception_buf"):  # absent on the unix port
    micropython.alloc_emergency_exception_buf(100)

import app  # noqa: E402
import board  # noqa: E402

app.main(board.load().build())
