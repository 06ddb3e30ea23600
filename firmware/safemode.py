# Safe mode. boot.py counts every boot in flash; a wake cycle that reaches its sleep clears
# the count. After _LIMIT boots in a row that never finished a cycle (a crash every wake,
# a hang ended by the watchdog, a module that no longer imports), the app is not started:
# the motor stays locked out, the watchdog is not started, the last traceback is kept in
# flash and sent (a minimal report: no part of the app is imported for it), and the REPL
# waits for a technician (safe_mode_off()). With no technician at the service header the
# bin deep-sleeps (30 min, doubling to 6 h) and gives the app one more boot when it wakes:
# a bin whose damage is gone (a file put back, a broker back) recovers by itself; one that
# crashes again is back in safe mode after that one boot.
import os
import sys

from micropython import const

from fsutil import read_bytes, read_json, write_atomic, write_json

PATH = "boots.json"
TRACE = "last_trace.txt"
_LIMIT = const(3)
_TRACE_MAX = const(1500)
_RETRY_S = const(1800)        # the first sleep in safe mode before the app is tried again
_RETRY_MAX_S = const(21600)
_TECHNICIAN_MS = const(30000)  # the REPL waits this long for a key before the bin sleeps


def _read():
    d = read_json(PATH, 256, dict)
    return d if isinstance(d, dict) else {}


def on_boot(cause=None, trial=False):
    """boot.py: count this boot; True when the bin must stay in safe mode. A power-on (the
    supply came back: a power cut, a battery swap) is no crash: the count starts again, so
    power cuts in a row never put a healthy bin in safe mode. A wake from safe mode's own
    sleep gives the app one more boot (the count stands at the limit: one more crash and
    the bin is back in safe mode). trial: an update on trial runs (boot.py rolls it back
    after its third boot and starts the count again): its crashes, with a hang before
    them, are the rollback's to answer, not safe mode's."""
    d = _read()
    if d and not (isinstance(d.get("n", 0), int) and isinstance(d.get("safe", False), bool)):
        import fsutil

        fsutil.set_aside(PATH, "wrong types")   # written anew below
    r = d.get("r", 0)
    r = r if isinstance(r, int) and 0 <= r < 32 else 0
    if d.get("safe") is True and cause == "deepsleep":
        write_json(PATH, {"n": _LIMIT, "safe": False, "r": r + 1})
        return False
    n = d.get("n", 0)
    n = n + 1 if isinstance(n, int) and cause != "power_on" else 1
    safe = d.get("safe") is True or (n > _LIMIT and not trial)
    write_json(PATH, {"n": n, "safe": safe, "r": r})
    return safe


def retry_ms():
    """How long safe mode sleeps before the app is tried again: 30 min, doubling per
    retry that failed, at most 6 h."""
    r = _read().get("r", 0)
    r = r if isinstance(r, int) and 0 <= r < 8 else 8
    return min(_RETRY_MAX_S, _RETRY_S << r) * 1000


def technician(board):
    """Is a technician at the service header (a key within _TECHNICIAN_MS)? Then the REPL
    stays up; otherwise safe mode sleeps and tries again."""
    try:
        return bool(board.technician(_TECHNICIAN_MS))
    except Exception:  # noqa: BLE001 - a board that cannot tell: keep the REPL up
        return True


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
    raw = read_bytes(TRACE, _TRACE_MAX + 64)   # save_trace keeps it under _TRACE_MAX
    if raw is None:
        return ""
    try:
        return raw.decode()
    except UnicodeError:
        return "(the saved traceback is damaged: %d bytes)" % len(raw)


def announce(board, log):
    """One minimal report from safe mode: an event with the boot count and the last
    traceback, queued in the outbox (a session that fails leaves it for the next one) and
    sent if the data link comes up. Only the reporting modules are imported, after a
    collection, so that it gets through with the heap a damage left. Never raises."""
    try:
        import gc

        gc.collect()
        import config
        import report
        from outbox import Outbox

        ob = Outbox()
        ob.put("event", report.event(board.clock.time(), "safe_mode",
                                     {"boots": boots(), "retry_s": retry_ms() // 1000,
                                      "trace": last_trace()[-600:]}))
        gc.collect()
        status = {"st": "safe_mode", "ts": board.clock.time(), "fw": "safe"}
        return report.deliver(board, config.load(), config.identity(), ob, status, log) > 0
    except Exception as e:  # noqa: BLE001 - safe mode must reach the REPL whatever happens
        log("safe mode: the report could not be sent: %s" % e)
        return False
