# Energy policy: levels normal -> economy -> critical -> shutdown from the state of charge
# and the daily budget, with hysteresis (in charge and in time) so the level does not flap;
# each change is an event. The level shapes the wake: how long to sleep, how often to
# report, whether to compact, whether to start the modem at all. Hooks for app.py.
from micropython import const

import energy
import state

NORMAL = const(0)
ECONOMY = const(1)
CRITICAL = const(2)
SHUTDOWN = const(3)
NAMES = ("normal", "economy", "critical", "shutdown")

# Down when the charge falls below (percent):
_ECO_BELOW = const(40)
_CRIT_BELOW = const(20)
_OFF_BELOW = const(8)
# Back up one level when it is at least (hysteresis):
_NORMAL_FROM = const(50)
_ECO_FROM = const(28)
_CRIT_FROM = const(15)
_UP_DWELL_S = const(21600)    # at least this long at a level before moving up
_DEFICIT_SOC = const(70)      # above this charge a budget deficit does not matter

_ECO_WAKE_X = const(2)
_ECO_REPORT_X = const(4)
_ECO_COMPACT_RISE = const(10)  # economy compacts only this much above compact_pct
_CRIT_WAKE_S = const(3600)
_OFF_WAKE_S = const(21600)
_DAY_S = const(86400)
_MIN_WAKE_S = const(300)      # the fastest a filling bin is checked

# Events that start a modem session even at the critical level.
_ALARMS = ("full", "sensor_fault", "motor_fault", "reset", "energy_level", "ota_trial")


def next_level(lvl, soc, deficit, since_change_s):
    """The level for this wake. Down at once, as far as the charge says; up one step at a
    time, past a higher threshold, and not before _UP_DWELL_S at the current level."""
    want = NORMAL
    if soc < _ECO_BELOW or (deficit and soc < _DEFICIT_SOC):
        want = ECONOMY
    if soc < _CRIT_BELOW:
        want = CRITICAL
    if soc < _OFF_BELOW:
        want = SHUTDOWN
    if want >= lvl:
        return want
    if since_change_s < _UP_DWELL_S:
        return lvl
    up = lvl - 1
    if up == NORMAL:
        ok = soc >= _NORMAL_FROM and not deficit
    elif up == ECONOMY:
        ok = soc >= _ECO_FROM
    else:
        ok = soc >= _CRIT_FROM
    return up if ok else lvl


def effective(cfg, lvl):
    """The config as the level shapes it: longer sleep, fewer reports, a higher compaction
    threshold. The stored config is not changed."""
    if lvl == NORMAL:
        return cfg
    c = dict(cfg)
    if lvl == ECONOMY:
        c["wake_s"] = min(_DAY_S, cfg["wake_s"] * _ECO_WAKE_X)
        c["report_max_s"] = min(_DAY_S, cfg["report_max_s"] * _ECO_REPORT_X)
        c["report_min_s"] = min(c["report_max_s"], cfg["report_min_s"] * _ECO_WAKE_X)
        c["report_change_pct"] = min(50, cfg["report_change_pct"] * 2)
        c["compact_pct"] = min(100, cfg["compact_pct"] + _ECO_COMPACT_RISE)
    else:
        c["wake_s"] = max(cfg["wake_s"], _OFF_WAKE_S if lvl == SHUTDOWN else _CRIT_WAKE_S)
        c["report_max_s"] = _DAY_S   # one report a day
        c["report_min_s"] = _DAY_S
    return c


def _pwr(st, now):
    p = st.get("pwr")
    if not isinstance(p, dict) or p.get("use") is None:
        p = energy.fresh(None, now)
        st["pwr"] = p
    return p


def level(st):
    p = st.get("pwr")
    return p["lvl"] if isinstance(p, dict) else NORMAL


def level_name(st):
    return NAMES[level(st)]


def soc_pct(st):
    """The estimated state of charge, whole percent, or None before the first estimate."""
    p = st.get("pwr")
    if not isinstance(p, dict) or p.get("soc") is None:
        return None
    return int(p["soc"] + 0.5)


def boot_cause(board, st, rtc_kept=True, events=None):
    """Reset cause for this boot (brown-outs recognised, energy.boot_cause; rtc_kept: the
    state came through RTC memory); the surge marker is cleared and the wake source
    ('timer', 'door', 'button') noted for the wake scheduling. With events, a reset that is
    not a deep-sleep wake or a plain power-on becomes a `reset` event (a power loss in a
    surge says so: it may have been either)."""
    p = st.get("pwr")
    c = energy.boot_cause(board.reset_cause(), p, rtc_kept)
    if events is not None and c == "power_loss":
        events.append(("reset", {"cause": c, "during": p.get("hi"),
                                 "why": "the supply failed during a %s surge: a power cut or "
                                        "a brown-out, which this board cannot tell apart"
                                        % p.get("hi")}))
    elif events is not None and c not in ("deepsleep", "power_on"):
        events.append(("reset", {"cause": c}))
    if isinstance(p, dict):
        p["hi"] = None
        p["wake"] = board.wake_reason()
    return c


def plan(st, r, cfg, now, cause, events):
    """Update the charge estimate and the account, pick the level (an event if it changed)
    and return the config this wake runs with."""
    _wake["modem_ms"] = _wake["motor_ms"] = 0
    p = _pwr(st, now)
    cap = cfg["battery_wh"] * 1000
    used = energy.sleep_mwh(max(0, now - p["t"]))
    energy.add_use(p, energy.MCU, used)
    chg = energy.charging(r.vbat_mv, r.vsolar_mv)
    if chg:
        p["sun"] += 1
    if energy.plausible(r.vbat_mv):
        pending = p.pop("pend", 0.0)  # awake/modem/motor use of the last wake
        p["soc"] = energy.estimate(p["soc"], used + pending, cap, r.vbat_mv, 20, chg)
    if cause == "brownout" and p["soc"] is not None:
        p["soc"] = min(p["soc"], _CRIT_FROM - 1)
    p["t"] = now
    energy.roll_day(p, now, cap)
    if p["soc0"] is None:
        p["soc0"] = p["soc"]
    soc = p["soc"]
    if soc is None:
        return effective(cfg, p["lvl"])
    bud = energy.budget_mwh(p, cap)
    deficit = bud is not None and p["used"] is not None and \
        p["used"] > bud * (0.8 if p["lvl"] >= ECONOMY else 1.0)
    old = p["lvl"]
    new = next_level(old, soc, deficit, now - p["lvl_t"])
    if new != old:
        p["lvl"] = new
        p["lvl_t"] = now
        events.append(("energy_level", {"level": NAMES[new], "from": NAMES[old],
                                        "soc": round(soc), "vbat": r.vbat_mv}))
    return effective(cfg, new)


def may_compact(board, st, r):
    """No stroke at the critical level or below, nor when the inrush could brown out the
    board. When allowed, the surge is announced in the state first."""
    if level(st) >= CRITICAL or not energy.motor_safe(r.vbat_mv):
        return False
    _announce(board, st, "motor")
    return True


def may_transmit(board, st, r, events):
    """Start the modem? Not when a TX burst could brown out the board; at the critical level
    and below only for alarms (shutdown: only the level change, the last report)."""
    if not energy.tx_safe(r.vbat_mv):
        return False
    lvl = level(st)
    if lvl == SHUTDOWN:
        ok = False
        for code, _ in events:
            ok = ok or code == "energy_level"
    elif lvl == CRITICAL:
        ok = False
        for code, _ in events:
            ok = ok or code in _ALARMS
    else:
        ok = True
    if ok:
        _announce(board, st, "modem")
    return ok


def session_wanted(events, st):
    """Do this wake's events call for a report now (at critical and below: alarms only)?
    A technician's service button always gets a report, except at shutdown."""
    lvl = level(st)
    if lvl < SHUTDOWN and (st.get("pwr") or {}).get("wake") == "button":
        return True
    if lvl < CRITICAL:
        return bool(events)
    for code, _ in events:
        if code in _ALARMS:
            return True
    return False


def _announce(board, st, what):
    p = st.get("pwr")
    if isinstance(p, dict):
        p["hi"] = what
        state.save(board.rtc, st)
        p["hi"] = None   # cleared in RAM; the next save of this wake clears it in the state


_wake = {"modem_ms": 0, "motor_ms": 0}   # this wake's loads, reset by plan()


def note_motor(ms):
    _wake["motor_ms"] += ms


def note_modem(ms):
    _wake["modem_ms"] += ms


def note(st, awake_ms):
    """The wake's own use into the account (its effect on the charge is applied at the next
    wake, with the sleep)."""
    p = st.get("pwr")
    if isinstance(p, dict):
        p["pend"] = energy.note_wake(p, awake_ms, _wake["modem_ms"], _wake["motor_ms"])


def may_drive(board, st, r):
    """Retract the ram home: allowed at any level, but not into a brown-out."""
    if not energy.motor_safe(r.vbat_mv):
        return False
    _announce(board, st, "motor")
    return True


def next_wake_s(st, cfg, now, fcst):
    """Sleep: the level's wake interval, shorter when the bin fills fast (checked at half
    the time the forecast gives it to full) or when a heartbeat report falls due."""
    s = cfg["wake_s"]
    if level(st) < SHUTDOWN:
        if fcst is not None and not st.get("full"):
            to_full = fcst - now
            if 0 < to_full < 2 * s:
                s = max(_MIN_WAKE_S, min(s, to_full // 2))
        due = st["last_report"] + cfg["report_max_s"] - now
        if 60 <= due < s:
            s = due
    p = st.get("pwr")
    if isinstance(p, dict):
        # a door or button wake keeps the timer's schedule: the bin is not kept from its
        # regular check by users at the hopper
        if p.get("wake") in ("door", "button") and now < p["wake_at"] < now + s:
            s = max(60, p["wake_at"] - now)
        p["wake_at"] = now + s
    return s
