# What the fill readings mean over time: sensor faults (per sensor, with the reason), fire
# and tilt alerts, collection detection that knows about the compactor, and a fill-rate
# profile by hour of day and weekday/weekend for the time-to-full forecast.
# Its memory lives in st["fs"] (RTC memory + flash copy, like the rest of the state).
from micropython import const

from fill import fill_pct, forecast_full, fuse_mm

# consecutive wakes before a fault is raised (one odd burst is not a fault)
_BLOCKED_WAKES = const(2)
_NO_TARGET_WAKES = const(3)
_SILENT_WAKES = const(2)
_GARBLED_WAKES = const(2)
_STUCK_WAKES = const(2)      # identical bursts, identical value: a frozen output
_DISAGREE_WAKES = const(3)
_CLEAR_WAKES = const(2)      # good wakes before a fault is cleared
_MIN_STUCK_PINGS = const(3)

_FIRE_RISE_FLOOR_C = const(30)  # the rise-rate rule needs at least this much heat
_FIRE_CLEAR_MARGIN_C = const(20)

_COLLECT_DROP_PCT = const(25)   # a collection empties the bin: a sharp drop...
_COLLECT_AFTER_PCT = const(20)  # ...to near empty
_RATE_MIN_GAP_S = const(300)
_RATE_MAX_GAP_S = const(7200)
_RATE_LEARN_X100 = const(25)    # EWMA weight of a new observation, percent
_RATE_MIN_OBS = const(96)       # a day of wakes before the profile is trusted
_FCST_MAX_H = const(336)        # two weeks
_FCST_MAX_STEPS = const(1200)   # hours and modelled strokes: a bounded loop
# Compaction in the forecast: a stroke presses the pile to its packed height, so the level
# falls back to a floor that rises by a share of what came in since the last stroke. The
# share is learnt from the bin's own strokes; it grows as the bin fills (packed waste does
# not pack again): learnt as if at an empty floor and scaled by 1 / (1 - floor x fall).
_PACK_LEARN_X100 = const(50)    # EWMA weight of a stroke's observed share, percent
_PACK_MIN_RISE = const(5)       # a stroke needs this much loose rise to be learnt from
_PACK_FALL_X100 = const(50)     # the packing ratio at full is half the ratio at empty


def _fs(st):
    fs = st.get("fs")
    if not isinstance(fs, dict):
        fs = {}
        st["fs"] = fs
    return fs


def _why(s, burst, prev_first):
    half = (burst + 1) // 2
    if s.dead >= half:
        return "blocked"
    if s.far >= half:
        return "no target"
    if s.silent >= half:
        return "silent"
    if s.garbled >= half:
        return "garbled"
    if s.ok >= _MIN_STUCK_PINGS and s.spread_mm == 0 and s.first_mm == prev_first:
        return "stuck"
    return ""


def _needed(why):
    if why == "blocked":
        return _BLOCKED_WAKES
    if why == "no target":
        return _NO_TARGET_WAKES
    if why == "silent":
        return _SILENT_WAKES
    if why == "stuck":
        return _STUCK_WAKES
    if why == "disagree":
        return _DISAGREE_WAKES
    return _GARBLED_WAKES


def _judge(slot, why, events, sensor, errors):
    """slot = [latched, candidate, count]: raise on onset, clear after good wakes."""
    if why == slot[1]:
        slot[2] += 1
    else:
        slot[1], slot[2] = why, 1
    if why and why != slot[0] and slot[2] >= _needed(why):
        slot[0] = why
        events.append(("sensor_fault", {"sensor": sensor, "why": why, "errors": errors}))
    elif not why and slot[0] and slot[2] >= _CLEAR_WAKES:
        events.append(("sensor_ok", {"sensor": sensor, "was": slot[0]}))
        slot[0] = ""


def check(r, st, cfg, events):
    """After the sense step: sensor faults, fire, tilt. Appends (code, detail) events; a
    sensor found stuck is dropped from this reading (its value cannot be trusted)."""
    fs = _fs(st)
    slots = fs.get("sf")
    if not isinstance(slots, list) or len(slots) != len(r.sensors) + 1:
        slots = [["", "", 0, 0] for _ in range(len(r.sensors) + 1)]
        fs["sf"] = slots
    for i, s in enumerate(r.sensors):
        slot = slots[i]
        why = _why(s, cfg["burst"], slot[3])
        slot[3] = s.first_mm
        errors = {"dead zone": s.dead, "out of range": s.far, "timeout": s.silent,
                  "checksum": s.garbled, "ok": s.ok}
        _judge(slot, why, events, i, errors)
    _judge(slots[-1], "disagree" if r.disagree else "", events, -1, {})
    _drop_stuck(r, slots, cfg)
    _fire(r, fs, cfg, events)
    _tilt(r, fs, events)


def vet(r, st, cfg):
    """A second reading in the same wake (after a stroke) gets this wake's verdicts: a
    sensor latched as stuck is not believed. Returns r."""
    slots = _fs(st).get("sf")
    if isinstance(slots, list) and len(slots) == len(r.sensors) + 1:
        _drop_stuck(r, slots, cfg)
    return r


def _drop_stuck(r, slots, cfg):
    refuse = False
    for i, s in enumerate(r.sensors):
        if slots[i][0] == "stuck" and s.distance_mm is not None:
            s.distance_mm = None
            refuse = True
    if refuse:
        r.distance_mm, r.disagree = fuse_mm([s.distance_mm for s in r.sensors],
                                            cfg["depth_mm"] // 10)
        r.fill = None
        if r.distance_mm is not None and not r.tilted:
            r.fill = fill_pct(r.distance_mm, cfg["empty_mm"], cfg["depth_mm"])


def _fire(r, fs, cfg, events):
    temp = r.temp_c
    if temp is None:
        return
    rise = 0.0
    t_prev, c_prev = fs.get("tt"), fs.get("tc")
    if isinstance(t_prev, int) and c_prev is not None and 0 < r.ts - t_prev <= 7200:
        rise = (temp - c_prev) * 3600 / (r.ts - t_prev)
    fs["tt"], fs["tc"] = r.ts, round(temp, 1)
    hot = temp >= cfg["fire_c"] or (rise >= cfg["fire_rise_cph"]
                                    and temp >= _FIRE_RISE_FLOOR_C)
    if hot and not fs.get("fire"):
        fs["fire"] = 1
        events.append(("fire", {"temp": round(temp, 1), "rise_cph": round(rise, 1)}))
    elif fs.get("fire") and temp < cfg["fire_c"] - _FIRE_CLEAR_MARGIN_C and rise <= 0:
        fs["fire"] = 0
        events.append(("fire_out", {"temp": round(temp, 1)}))


def _tilt(r, fs, events):
    if r.tilted and not fs.get("tilt"):
        fs["tilt"] = 1
        events.append(("tilt", {"tilted": True}))
    elif not r.tilted and fs.get("tilt"):
        fs["tilt"] = 0
        events.append(("upright", {}))


def _weekend(ts, cfg):
    day = (ts + cfg["utc_offset_min"] * 60) // 86400
    return (day + 3) % 7 >= 5   # 1970-01-01 was a Thursday


def _hour(ts, cfg):
    return (ts + cfg["utc_offset_min"] * 60) // 3600 % 24


def _profile(fs, weekend):
    key = "we" if weekend else "wd"
    p = fs.get(key)
    if not isinstance(p, list) or len(p) != 24:
        p = [0] * 24
        fs[key] = p
    return p


def level_step(st, fill, now, cfg):
    """This wake's first fill (before any stroke) against the last wake's final one.
    Learns the fill rate and returns (collected, before) for a collection: a sharp drop to
    near empty with no stroke since (a stroke also drops the level; only a crew empties)."""
    fs = _fs(st)
    fs["f0"] = None if fill is None else round(fill, 1)   # this wake's level before a stroke
    before, t0 = fs.get("lv"), fs.get("lt")
    if fill is None or before is None or fs.get("lc") != st["compactions"]:
        return False, before
    if before - fill >= _COLLECT_DROP_PCT and fill <= _COLLECT_AFTER_PCT:
        fs["fl"] = round(fill, 1)   # emptied: the floor is the bottom again
        return True, before
    dt = now - t0
    p = st.get("pwr")
    if isinstance(p, dict) and p.get("wake") in ("door", "button"):
        # a wake a deposit caused ends on a deposit: its rise would overstate the rate (the
        # next interval, which starts after it, is a fair sample again)
        return False, before
    if _RATE_MIN_GAP_S <= dt <= _RATE_MAX_GAP_S:
        mid = t0 + dt // 2
        we = _weekend(mid, cfg)
        p = _profile(fs, we)
        key = "nwe" if we else "nwd"
        seen = fs.get(key, 0)
        fs[key] = seen + 1
        h = _hour(mid, cfg)
        obs = (fill - before) * 360000 / dt   # percent per hour x 100
        # a plain mean while an hour has few observations, then a moving average
        w = max(_RATE_LEARN_X100, 100 // (1 + seen // 24))
        p[h] = int(round(p[h] + (obs - p[h]) * w / 100))
        fs["n"] = fs.get("n", 0) + 1
    return False, before


def remember(st, fill, now):
    """The last trusted fill of this wake (after any stroke): next wake's baseline. A stroke
    since the baseline (lc differs) means no collection can be claimed from it; the blind
    estimate still starts from it (a conservative start: strokes only lower the level)."""
    fs = _fs(st)
    if fill is not None:
        if fs.get("lc") is not None and fs["lc"] != st["compactions"]:
            _learn_pack(fs, fill)
        fs["lv"], fs["lt"] = round(fill, 1), now
        fs["lc"] = st["compactions"]


def _learn_pack(fs, after):
    """A stroke this wake took the level from f0 to `after`: the share of the loose rise
    since the last floor that stayed, normalised to an empty floor."""
    f0, fl = fs.get("f0"), fs.get("fl")
    if f0 is not None and fl is not None and f0 - fl >= _PACK_MIN_RISE and after > fl + 0.5:
        q = min(1.0, (after - fl) / (f0 - fl)) * (1 - fl * _PACK_FALL_X100 / 10000)
        old = fs.get("q")
        fs["q"] = round(q if old is None else old + (q - old) * _PACK_LEARN_X100 / 100, 4)
    fs["fl"] = round(after, 1)


def _rate(fs, t, cfg):
    """Learnt fill rate (percent per hour) for the hour containing t; a profile with less
    than a day of data borrows the other one."""
    we = _weekend(t, cfg)
    if fs.get("nwe" if we else "nwd", 0) < _RATE_MIN_OBS:
        we = not we
    return _profile(fs, we)[_hour(t, cfg)] / 100


def estimate(st, now, cfg):
    """While the level sensor is blind: the last trusted fill carried forward along the
    learnt rate profile, or None without a baseline or a learnt profile. Never a reading:
    it only keeps alerts and compaction going until the sensor is back."""
    fs = _fs(st)
    f, t = fs.get("lv"), fs.get("lt")
    if f is None or t is None or fs.get("n", 0) < _RATE_MIN_OBS or now <= t:
        return f
    while t < now:
        step = min(now - t, 3600 - (t + cfg["utc_offset_min"] * 60) % 3600)
        f += max(0.0, _rate(fs, t, cfg)) * step / 3600
        t += step
    return min(120.0, f)


def forecast(st, fill, now, cfg):
    """Unix time at which the fill passes full_pct: steps through the learnt hourly rate
    profile (weekday or weekend); the linear fit of the recent history until a day has been
    learnt. None when the level is not rising."""
    full = cfg["full_pct"]
    fs = _fs(st)
    if fs.get("n", 0) < _RATE_MIN_OBS:
        return forecast_full(st["hist"], now, full)
    if fill is None:
        return None
    if fill >= full:
        return now
    f = fill
    t = now
    q = fs.get("q")   # None: no stroke learnt yet, the installer's prior or the bare rise
    if q is None and cfg.get("pack_prior_pct"):
        q = cfg["pack_prior_pct"] / 100
    floor = st.get("cmp_after")
    if floor is None:
        floor = fs.get("fl") or 0.0
    end = now + _FCST_MAX_H * 3600
    for _ in range(_FCST_MAX_STEPS):
        if t >= end:
            break
        rate = _rate(fs, t, cfg)   # percent per hour
        step = 3600 - (t + cfg["utc_offset_min"] * 60) % 3600
        gain = rate * step / 3600
        top = full
        if q is not None and rate > 0:
            # the next stroke: past compact_pct and risen since the last, at a wake (on
            # average half an interval of waste after the level got there)
            s = max(cfg["compact_pct"], floor + cfg["compact_rise_pct"]) \
                + rate * cfg["wake_s"] / 7200
            top = min(full, s)
        if rate <= 0 or f + gain < top:
            f += gain
            t += step
            continue
        t += max(0, int((top - f) / rate * 3600))
        if top >= full:
            return int(t)
        share = q / max(0.05, 1 - floor * _PACK_FALL_X100 / 10000)
        floor += (top - floor) * min(1.0, share)
        f = floor
    return None
