# What must survive deep sleep: kept in RTC memory, with a flash copy for power cuts.
# Each save bumps "gen"; on boot the newest valid copy wins.
import json

from fsutil import read_json, write_atomic

PATH = "state.json"
VERSION = 1


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


def load(rtc):
    best = None
    try:
        mem = rtc.memory()
        if mem:
            d = json.loads(mem)
            if _valid(d):
                best = d
    except ValueError:
        pass
    d = read_json(PATH)
    if _valid(d) and (best is None or d["gen"] > best["gen"]):
        best = d
    st = fresh()
    if best:
        for k in st:
            if k in best:
                st[k] = best[k]
    return st


def save(rtc, st, to_flash=True):
    st["gen"] += 1
    data = json.dumps(st)
    rtc.memory(data.encode())
    if to_flash:
        write_atomic(PATH, data)


def commit(st):
    """A flash copy only (RTC memory is small and lost in a power cut anyway): for what must
    be on flash before the wake goes on (app._queue)."""
    st["gen"] += 1
    write_atomic(PATH, json.dumps(st))
