# Safe mode. boot.py counts every boot in flash; a wake cycle that reaches its sleep clears
# the count. After _LIMIT boots in a row that never finished a cycle (a crash every wake,
# a hang ended by the watchdog, a module that no longer imports), the app is not started:
# the motor stays locked out, the watchdog is not started, the last traceback is kept in
# flash and sent once, and the REPL waits for a technician (safe_mode_off()).
import os
import sys

from micropython import const

from fsutil import read_json, write_atomic, write_json

PATH = "boots.json"
TRACE = "last_trace.txt"
_LIMIT = const(3)
_TRACE_MAX = const(1500)


def _read():
    d = read_json(PATH)
    return d if isinstance(d, dict) else {}


def on_boot(cause=None):
    """boot.py: count this boot; True when the bin must stay in safe mode. A power-on (the
    supply came back: a power cut, a battery swap) is no crash: the count starts again, so
    power cuts in a row never put a healthy bin in safe mode."""
    d = _read()
    n = d.get("n", 0)
    n = n + 1 if isinstance(n, int) and cause != "power_on" else 1
    safe = d.get("safe") is True or n > _LIMIT
    write_json(PATH, {"n": n, "safe": safe})
    return safe


def active():
    return _read().get("safe") is True


def boots():
    n = _read().get("n", 0)
    return n if isinstance(n, int) else 0


def cycle_done():
    """The app finished a wake cycle: the boots so far were healthy. No file is a count of 0
    (not safe): one removal, where writing the count back took a whole atomic write, so a
    wake writes boots.json once (on_boot) instead of twice."""
    try:
        os.remove(PATH)
    except OSError:   # already gone (a wake before this one finished too)
        pass


def leave():
    """A technician (or a remote command) takes the bin out of safe mode."""
    write_json(PATH, {"n": 0, "safe": False})


def save_trace(exc):
    """Keep the traceback of the crash in flash (bounded) for the technician and the
    back office."""
    try:
        import io

        buf = io.StringIO()
        sys.print_exception(exc, buf)
        write_atomic(TRACE, buf.getvalue()[-_TRACE_MAX:])
    except Exception:  # noqa: BLE001 - keeping a trace must never cause a crash itself
        pass


def last_trace():
    try:
        with open(TRACE, "rb") as f:
            raw = f.read()
    except OSError:
        return ""
    try:
        return raw.decode()
    except UnicodeError:
        return "(the saved traceback is damaged: %d bytes)" % len(raw)


def announce(board, log):
    """One minimal report from safe mode: an event with the boot count and the last
    traceback, if the data link comes up. Never raises."""
    try:
        import config
        import report
        from app import identity
        from outbox import Outbox

        ob = Outbox()
        ob.put("event", report.event(board.clock.time(), "safe_mode",
                                     {"boots": boots(), "trace": last_trace()[-600:]}))
        status = {"st": "safe_mode", "ts": board.clock.time(), "fw": "safe"}
        return report.deliver(board, config.load(), identity(), ob, status, log) > 0
    except Exception as e:  # noqa: BLE001 - safe mode must reach the REPL whatever happens
        log("safe mode: the report could not be sent: %s" % e)
        return False
