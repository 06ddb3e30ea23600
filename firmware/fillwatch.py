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
_NO_READING_WAKES = const(3)  # wakes in a row with no fused reading before it is a fault
_MIN_STUCK_PINGS = const(3)

_FIRE_RISE_FLOOR_C = const(30)  # the rise-rate rule needs at least this much heat
_FIRE_CLEAR_MARGIN_C = const(20)

_COLLECT_DROP_PCT = const(25)   # a collection empties the bin: a sharp drop...
_COLLECT_AFTER_PCT = const(20)  # ...to near empty
_RATE_MIN_GAP_S = const(300)
_RATE_MAX_GAP_S = const(7200)
_RATE_LEARN_X100 = const(4)     # EWMA weight of a new observation, percent
_RATE_MIN_OBS = const(96)       # a day of wakes before the profile is trusted
_WE_PRIOR_DAYS = const(2)       # the weekend prior counts as this many weekend days
_FCST_MAX_H = const(336)        # two weeks
_OVER_PCT = const(100)          # the waste reaches the rim: the bin overflows
_FCST_MAX_STEPS = const(1200)   # hours and modelled strokes: a bounded loop
# Compaction in the forecast: a stroke presses the pile to its packed height, so the level
# falls back to a floor that rises by a share of what came in since the last stroke. The
# share is learnt from the bin's own strokes; it grows as the bin fills (packed waste does
# not pack again): learnt as if at an empty floor and scaled by 1 / (1 - floor x fall).
_PACK_LEARN_X100 = const(20)    # EWMA weight of a stroke's observed share, percent
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


def no_reading(r, st, events):
    """A wake whose sensors gave no fused reading (no majority in the bursts, every sensor
    failing) is one odd wake, not a fault: the `sensor_fault` (why "no reading") goes out
    after _NO_READING_WAKES of them in a row, once, and clears with the first reading.
    A knocked-over bin has no level by design: its wakes neither count nor clear. Returns
    whether the fault stands (the telemetry flag)."""
    fs = _fs(st)
    n = fs.get("nr", 0)
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        n = 0
    if r.fill is not None:
        fs["nr"] = 0
        return False
    if r.tilted:
        return n >= _NO_READING_WAKES
    n += 1
    fs["nr"] = n
    if n == _NO_READING_WAKES:
        events.append(("sensor_fault", {"why": "no reading", "wakes": n, "errors": r.errors}))
    return n >= _NO_READING_WAKES


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


def _profile(fs, weekend, kind=""):
    """The fill-rate profile by hour (percent per hour x 100); kind "c": how many
    observations each hour has had (up to the moving average's span)."""
    key = kind + ("we" if weekend else "wd")
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
        fs["fl"] = fs["pk"] = round(fill, 1)   # emptied: the floor is the bottom again
        fs["fp"] = 1
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
        c = _profile(fs, we, "c")
        k = c[h]
        w = max(_RATE_LEARN_X100, 100 // (1 + k))
        if k < 100 // _RATE_LEARN_X100:
            c[h] = k + 1
        p[h] = int(round(p[h] + (obs - p[h]) * w / 100))
        fs["n"] = fs.get("n", 0) + 1
    return False, before


def remember(st, fill, now, cfg=None):
    """The last trusted fill of this wake (after any stroke): next wake's baseline. A stroke
    since the baseline (lc differs) means no collection can be claimed from it; the blind
    estimate still starts from it (a conservative start: strokes only lower the level)."""
    fs = _fs(st)
    if fill is not None:
        if fs.get("lc") is not None and fs["lc"] != st["compactions"]:
            _learn_pack(fs, fill, st.get("cmp_pr"), _pack_prior(cfg))
        fs["lv"], fs["lt"] = round(fill, 1), now
        fs["lc"] = st["compactions"]


def _pack_prior(cfg):
    """The installer's share of new waste a stroke keeps (pack_prior_pct), or None."""
    p = cfg.get("pack_prior_pct") if cfg else 0
    return p / 100 if p else None


def _share(q, pk):
    """The share of new loose waste a stroke keeps, on a packed pile at pk percent."""
    return min(1.0, q / max(0.05, 1 - pk * _PACK_FALL_X100 / 10000))


def _learn_pack(fs, after, pressed, prior=None):
    """A stroke this wake took the level from f0 to `after`. One that stopped at full
    pressure left the packed pile (pk) in view: the share of the loose rise since the
    last such floor that stayed is learnt, normalised to an empty floor. One that ran to
    the end switch left the ram's end in view (re): the pile is packed below it, and pk
    is carried forward by the share learnt so far."""
    f0, fl = fs.get("f0"), fs.get("fl")
    pk = fs.get("pk")
    if pressed:
        if f0 is not None and fl is not None and fs.get("fp") and f0 - fl >= _PACK_MIN_RISE \
                and after > fl + 0.5:
            q = min(1.0, (after - fl) / (f0 - fl)) * (1 - fl * _PACK_FALL_X100 / 10000)
            old = fs.get("q") or prior   # the installer's prior is where learning starts
            if old is None:
                fs["q"] = round(q, 4)
            else:
                # one odd stroke (a bulky item, a pile that slid) moves it a little only
                q = max(old / 2, min(old * 2, q))
                fs["q"] = round(old + (q - old) * _PACK_LEARN_X100 / 100, 4)
        fs["pk"], fs["fp"] = round(after, 1), 1
    else:
        re = fs.get("re")
        fs["re"] = round(after if re is None else re + (after - re) / 4, 1)
        q = fs.get("q")
        if q is not None and pk is not None and f0 is not None and fl is not None and f0 > fl:
            pk = min(after, pk + (f0 - fl) * _share(q, pk))
            fs["pk"] = round(pk, 1)
        fs["fp"] = 0
    fs["fl"] = round(after, 1)


def _rates(fs, we_pct=100):
    """The fill rate (percent per hour) by hour for weekdays and weekend days, as the
    forecast uses it: each kind of day's learnt volume spread over the hours along the
    shape both profiles learnt together, smoothed over the neighbouring hours (one bag
    dumped at 13:40 is not every 13:00's habit). A kind of day with less than a day of
    data borrows the other's volume, scaled by we_pct (a weekend day's waste in percent of
    a weekday's, the site's prior: weekend_pct)."""
    wd, we = _profile(fs, False), _profile(fs, True)
    cd, ce = _profile(fs, False, "c"), _profile(fs, True, "c")
    pooled = [(wd[h] * cd[h] + we[h] * ce[h]) / (cd[h] + ce[h]) if cd[h] + ce[h]
              else (wd[h] + we[h]) / 2 for h in range(24)]   # (counts came later)
    shape = [max(0, pooled[h - 1] + 2 * pooled[h] + pooled[(h + 1) % 24]) for h in range(24)]
    total = sum(shape)
    # each kind of day's volume; the weekend's, learnt from fewer days, leans on the
    # weekdays' until it has a few of its own
    seen_wd, seen_we = fs.get("nwd", 0), fs.get("nwe", 0)
    vol_wd, vol_we = max(0, sum(wd)), max(0, sum(we))
    if seen_wd < _RATE_MIN_OBS:
        vol_wd = vol_we * 100 / we_pct
    prior_we = vol_wd * we_pct / 100
    if seen_we < _RATE_MIN_OBS:
        vol_we = prior_we
    else:
        k = min(sum(ce) / 96, 6.0)   # weekend days in the profile
        vol_we = (vol_we * k + prior_we * _WE_PRIOR_DAYS) / (k + _WE_PRIOR_DAYS)
    out = []
    for day in (vol_wd, vol_we):
        k = day / total / 100 if total > 0 else 0.0
        out.append([v * k for v in shape])
    return out


def _rate(rates, t, cfg):
    """The rate (percent per hour) for the hour containing t, from _rates."""
    return rates[1 if _weekend(t, cfg) else 0][_hour(t, cfg)]


def estimate(st, now, cfg):
    """While the level sensor is blind: the last trusted fill carried forward along the
    learnt rate profile, or None without a baseline or a learnt profile. Never a reading:
    it only keeps alerts and compaction going until the sensor is back."""
    fs = _fs(st)
    f, t = fs.get("lv"), fs.get("lt")
    if f is None or t is None or fs.get("n", 0) < _RATE_MIN_OBS or now <= t:
        return f
    rates = _rates(fs, cfg.get("weekend_pct") or 100)
    while t < now:
        step = min(now - t, 3600 - (t + cfg["utc_offset_min"] * 60) % 3600)
        f += _rate(rates, t, cfg) * step / 3600
        t += step
    return min(120.0, f)


def forecast(st, fill, now, cfg):
    """Unix time at which the fill passes full_pct (see forecasts), or None."""
    return forecasts(st, fill, now, cfg)[0]


def forecasts(st, fill, now, cfg):
    """(full, over): Unix times at which the fill passes full_pct and then _OVER_PCT (the
    bin overflows), each None when not foreseen. Steps through the learnt hourly rate
    profile (weekday or weekend) and the strokes it will take; the linear fit of the recent
    history until a day has been learnt."""
    full = cfg["full_pct"]
    fs = _fs(st)
    if fs.get("n", 0) < _RATE_MIN_OBS:
        hist = st["hist"]
        return forecast_full(hist, now, full), forecast_full(hist, now, _OVER_PCT)
    if fill is None:
        return None, None
    if fill >= _OVER_PCT:
        return now, now
    f = fill
    t = now
    got = [None, None]
    i = 0
    if fill >= full:
        got[0] = now
        i = 1
    target = full if i == 0 else _OVER_PCT
    q = fs.get("q")   # None: no stroke learnt yet, the installer's prior or the bare rise
    if q is None:
        q = _pack_prior(cfg)
    floor = st.get("cmp_after")   # the level the last stroke left in view
    if floor is None:
        floor = fs.get("fl") or 0.0
    pk = fs.get("pk")              # the packed pile, perhaps hidden under the ram's end
    if pk is None or pk > floor:
        pk = floor
    re = fs.get("re") or 0.0       # the ram's end as the sensor sees it
    rise = cfg["compact_rise_pct"]
    rates = _rates(fs, cfg.get("weekend_pct") or 100)
    end = now + _FCST_MAX_H * 3600
    for _ in range(_FCST_MAX_STEPS):
        if t >= end:
            break
        rate = _rate(rates, t, cfg)   # percent per hour
        step = 3600 - (t + cfg["utc_offset_min"] * 60) % 3600
        gain = rate * step / 3600
        top = target
        if q is not None and rate > 0:
            # the next stroke (compaction.wanted): past compact_pct and risen since the
            # last, by half as much once full; at a wake (on average half an interval of
            # waste after the level got there)
            s = max(cfg["compact_pct"], floor + rise)
            if s >= full:
                s = max(full, floor + rise // 2)
            top = min(target, s + rate * cfg["wake_s"] / 7200)
        if rate <= 0 or f + gain < top:
            f += gain
            t += step
            continue
        t += max(0, int((top - f) / rate * 3600))
        if top >= target:
            got[i] = int(t)
            i += 1
            if i == 2:
                break
            target = _OVER_PCT
            f = top
            continue
        pk += (top - floor) * _share(q, pk)
        floor = f = max(pk, re)
    return got[0], got[1]
