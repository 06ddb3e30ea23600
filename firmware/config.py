# Configuration: defaults, validation as a whole, atomic persistence (config.json).
from micropython import const

import fsutil
from fsutil import write_json

PATH = "config.json"
_MAX_BYTES = const(2048)   # every field at its longest is under 1 KB

# key: (default, min, max). Every value is an int; ranges are what the hardware tolerates.
SCHEMA = {
    "wake_s": (900, 60, 86400),               # sensor reading interval
    "report_min_s": (900, 60, 86400),         # never report more often (MinTime)
    "report_max_s": (7200, 300, 86400),       # heartbeat report at least this often (MaxTime)
    "report_change_pct": (5, 1, 50),          # report when fill moved this much (ReportableChange)
    "full_pct": (85, 30, 100),                # full alert threshold
    "full_clear_pct": (70, 10, 95),           # full alert clears below this (hysteresis)
    "compact_pct": (75, 20, 100),             # compact when the fill passes this
    "compact_rise_pct": (10, 1, 50),          # ...and rose this much since the last stroke
    "pack_prior_pct": (0, 0, 100),            # share of new waste a stroke keeps, for the
                                              # forecast until the bin learnt its own (0: none)
    "weekend_pct": (115, 50, 300),            # a weekend day brings this share of a weekday's
                                              # waste, until the bin learnt its own (the
                                              # field: 110-120)
    "empty_mm": (1100, 200, 4500),            # sensor-to-floor distance of the empty bin
    "depth_mm": (800, 100, 4000),             # usable depth: 100 % is empty_mm - depth_mm
    "burst": (7, 1, 15),                      # pings per reading
    "fire_c": (60, 40, 120),                  # fire alert at this in-bin air temperature
    "fire_rise_cph": (20, 5, 200),            # ...or rising this fast (C per hour)
    "utc_offset_min": (0, -720, 840),         # local time of the site (fill-rate profile)
    "broker_port": (1883, 1, 65535),
    "keepalive_s": (120, 10, 3600),
    "vbat_motor_min_mv": (11800, 9000, 15000),  # no stroke below this battery voltage
    "battery_wh": (154, 10, 5000),            # battery capacity (12 Ah x 12.8 V), energy.py
    "stroke_timeout_ms": (30000, 5000, 120000),
    "press_ma": (11000, 2000, 40000),         # full compaction pressure: stroke complete
    "stall_ma": (18000, 2000, 40000),         # ram blocked: jam
    "jam_retries": (2, 0, 5),                 # jam: back off and retry this often, then fault
    "vbat_motor_stop_mv": (10500, 8000, 14000),  # stop the ram if the battery sags below
    "motor_heat_max_c": (40, 10, 80),         # duty limit: estimated winding rise over ambient
}
STRINGS = {"broker_host": "127.0.0.1"}


def defaults():
    cfg = {k: v[0] for k, v in SCHEMA.items()}
    cfg.update(STRINGS)
    return cfg


def validate(changes, base):
    """A new config from base + changes, or raise ValueError naming the first bad field.
    Checked as a whole: nothing changes unless everything is valid."""
    if not isinstance(changes, dict):
        raise ValueError("config must be a JSON object")
    cfg = dict(base)
    for k, v in changes.items():
        if k in SCHEMA:
            lo, hi = SCHEMA[k][1], SCHEMA[k][2]
            if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
                raise ValueError("%s must be an integer in %d..%d, got %r" % (k, lo, hi, v))
        elif k in STRINGS:
            if not isinstance(v, str) or not 0 < len(v) <= 64:
                raise ValueError("%s must be a string of 1..64 characters" % k)
        else:
            raise ValueError("unknown config field %r" % k)
        cfg[k] = v
    if cfg["report_min_s"] > cfg["report_max_s"]:
        raise ValueError("report_min_s must not exceed report_max_s")
    if cfg["full_clear_pct"] >= cfg["full_pct"]:
        raise ValueError("full_clear_pct must be below full_pct")
    if cfg["press_ma"] >= cfg["stall_ma"]:
        raise ValueError("press_ma must be below stall_ma")
    if cfg["depth_mm"] >= cfg["empty_mm"]:
        raise ValueError("depth_mm must be less than empty_mm")
    return cfg


def load(log=None):
    """The stored config over the defaults. A damaged file (not a file, larger than
    _MAX_BYTES, not a JSON object, or rejected by validate) is set aside as config.json.bad,
    reported by log() and replaced by the defaults: the next wake finds no damage."""
    base = defaults()
    n = fsutil.count
    stored = fsutil.read_json(PATH, _MAX_BYTES, dict)
    if stored is None:
        if fsutil.count > n and log:
            log("config.json damaged (%s), using defaults" % fsutil.found[-1].split(": ", 1)[-1]
                if fsutil.found else "config.json damaged, using defaults")
        return base          # none stored: the defaults, nothing to say
    try:
        return validate(stored, base)
    except ValueError as e:
        fsutil.set_aside(PATH, "rejected")
        if log:
            log("config.json rejected, using defaults: %s" % e)
        return base


def identity(log=None):
    """identity.json ({"id", "user", "password", ...}): who the bin is to the broker. A
    damaged or unprovisioned one reports as bin-unprovisioned."""
    d = fsutil.read_json("identity.json", 1024, dict)
    if isinstance(d, dict) and not (isinstance(d.get("id"), str) and 0 < len(d["id"]) <= 64):
        fsutil.set_aside("identity.json", "no device id")
        d = None
    if d is None:
        if log:
            log("identity.json missing or invalid: reporting as bin-unprovisioned")
        return {"id": "bin-unprovisioned"}
    return d


def save(cfg):
    d = defaults()
    write_json(PATH, {k: v for k, v in cfg.items() if d.get(k) != v})
