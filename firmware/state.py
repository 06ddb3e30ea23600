# What must survive deep sleep: kept in RTC memory, with a flash copy for power cuts.
# Each save bumps "gen"; on boot the newest valid copy wins.
import json

from micropython import const

import fsutil
from fsutil import write_atomic

PATH = "state.json"
VERSION = 1
from_rtc = False            # the last load found a valid state in RTC memory (the supply held)
_MAX_BYTES = const(12288)   # a state is 1-4 KB; a larger file (or RTC copy) is damage
_SEP = (",", ":")   # no spaces: the state goes to RTC memory and flash every wake


def fresh():
    return {
        "ver": VERSION,
        "gen": 0,
        "boots": 0,
        "seq": 0,              # telemetry sequence number
        "last_report": 0,      # Unix time of the last telemetry queued
        "last_fill": None,     # fill in that telemetry
        "hist": [],            # recent [ts, fill] for the forecast
        "full": False,         # full alert latched (hysteresis)
        "compactions": 0,
        "cmp_after": None,     # fill right after the last stroke
        "crashes": 0,          # consecutive wakes that ended in an exception
        "dropped": 0,          # reports dropped from a full outbox
        "faults": 0,           # fault flags (see app.FLAG_*)
        "pending": [],         # events waiting for the next report
        "motor": None,         # compactor: latched fault, lockout, duty model (compactor.py)
        "pwr": None,           # charge estimate, energy account, level (energy.py)
        "fs": {},              # fill sensing: faults, fire, tilt, rate profile (fillwatch)
        "net": None,           # modem: last signal, fault latched for its event (netwatch)
        "mq": None,            # MQTT session: failures, backoff, config on trial (downlink)
        "out": None,           # [tag, reports] of the wake, committed here before the outbox
    }


def _valid(d):
    return isinstance(d, dict) and d.get("ver") == VERSION and isinstance(d.get("gen"), int)


_NUMBER_OR_NONE = ("last_fill", "cmp_after")
_KEEP_ON_RESET = ("gen", "boots", "seq", "last_report", "crashes", "dropped", "out")


def _fits(k, v, default):
    """Is v of the kind this field holds? (Fields without a default are checked by the
    module that owns them.)"""
    if k in _NUMBER_OR_NONE:
        return v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))
    if default is None:
        return True
    if isinstance(default, bool):
        return isinstance(v, bool)
    if isinstance(default, int):
        return isinstance(v, int) and not isinstance(v, bool)
    return isinstance(v, type(default))


def load(rtc, log=None):
    """The newest valid copy (RTC memory or flash). A field of the wrong kind (damage, an
    older format) takes its default, and log() says which."""
    global from_rtc
    from_rtc = False
    best = mem = dm = None
    try:
        mem = rtc.memory()
        if mem and len(mem) <= _MAX_BYTES:
            dm = fsutil.parse(mem)[0]
            if _valid(dm):
                best = dm
                from_rtc = True
    except Exception:  # noqa: BLE001 - damaged RTC memory is only a missing copy
        pass
    # the flash copy is most often the very bytes of the RTC copy (save() writes both):
    # then it is not parsed a second time
    n = fsutil.count
    raw = fsutil.read_bytes(PATH, _MAX_BYTES)   # not a file, too large: set aside
    if raw is not None and raw == mem:
        d = dm
    else:
        d = fsutil.parse(raw)[0] if raw is not None else None
    if _valid(d):
        if best is None or d["gen"] > best["gen"]:
            best = d
    elif raw is not None or fsutil.count > n:
        why = "set aside"
        if raw is not None:
            why = "not a state" if d is not None else "unreadable"
            fsutil.set_aside(PATH, why)
        if log:
            log("state.json damaged (%s): %s" % (why, "RTC copy used" if best
                                                 else "starting fresh"))
    st = fresh()
    bad = []
    if best:
        for k in st:
            if k in best:
                if _fits(k, best[k], st[k]):
                    st[k] = best[k]
                else:
                    bad.append(k)
    if bad and log:
        log("state.json: damaged fields reset to their defaults: %s" % ", ".join(bad))
    return st


def reset(st):
    """A fresh state that keeps only the counters and the reports in flight: after wakes
    that crashed in a row, the state they ran on is the first suspect."""
    new = fresh()
    for k in _KEEP_ON_RESET:
        new[k] = st[k]
    return new


def save(rtc, st, to_flash=True):
    st["gen"] += 1
    data = json.dumps(st, separators=_SEP)
    rtc.memory(data.encode())
    if to_flash:
        write_atomic(PATH, data)


def commit(st):
    """A flash copy only (RTC memory is small and lost in a power cut anyway): for what must
    be on flash before the wake goes on (app._queue)."""
    st["gen"] += 1
    write_atomic(PATH, json.dumps(st, separators=_SEP))
