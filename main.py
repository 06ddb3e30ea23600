# Runs after boot.py: build this platform's board and hand it to the app.
# Ctrl-C on the serial console stops the app with the motor off and leaves the technician
# helpers (help(), status(), ...) in the REPL. In safe mode the app is not started at all.
import micropython

if hasattr(micropython, "alloc_emergency_exception_buf"):  # absent on the unix port
    micropython.alloc_emergency_exception_buf(100)

import board  # noqa: E402
import safemode  # noqa: E402

if safemode.active():
    _board = board.load().build(watchdog=False)
    _board.motor.off()
    import shell  # noqa: E402

    shell.attach(_board)
    safemode.announce(_board, print)
    print("\nSAFE MODE after %d boots without a finished wake: the app is stopped and the "
          "motor locked out.\nLast error:\n%s\nPress a key within 30 s to keep the REPL "
          "(help(); safe_mode_off() leaves safe mode); otherwise the bin sleeps %d min and "
          "tries the app again." % (safemode.boots(), safemode.last_trace(),
                                     safemode.retry_ms() // 60000))
    if not safemode.technician(_board):
        _board.deepsleep(safemode.retry_ms())
    from shell import *  # noqa: E402, F403
else:
    try:
        import app  # noqa: E402

        _board = board.load().build()
    except Exception as _e:  # the firmware cannot even start: keep the trace, reset, count
        import sys  # noqa: E402

        sys.print_exception(_e)
        safemode.save_trace(_e)
        board.load().reset()
    try:
        app.main(_board)
    except KeyboardInterrupt:
        _board.motor.off()
        import shell  # noqa: E402

        shell.attach(_board)
        from shell import *  # noqa: E402, F403

        print("\nService mode: the app is stopped and the motor is off. Type help().")
