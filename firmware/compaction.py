# Compaction in the wake cycle: when to compact (fill threshold, fire, command), what to
# count (strokes, jams, the gain in fill), which events to raise, and the remote commands
# (compact now, reset fault, lock out). The motor itself is only ever driven by
# compactor.Controller.
from micropython import const

import compactor

_DOOR_WAIT_MS = const(30000)    # a user at the door: wait this long for it to shut
_DOOR_POLL_MS = const(500)


def memory(st):
    """The controller's record in the wake state (kept across deep sleep)."""
    m = st.get("motor")
    if not isinstance(m, dict):
        m = compactor.mem_fresh()
        st["motor"] = m
    for k, v in compactor.mem_fresh().items():
        if k not in m:
            m[k] = v
    return m


def faulted(st):
    m = st.get("motor")
    return isinstance(m, dict) and bool(m.get("fault"))


def wanted(r, st, cfg, m):
    """Why to compact now ("fire", "command", "fill") or None. Compact when the fill passed
    the threshold and rose since the last stroke, never on every door close; a fire alert
    compacts to smother it; the controller still checks every interlock."""
    after = st.get("cmp_after")
    if after is not None and r.fill is not None and r.fill < after - cfg["compact_rise_pct"]:
        st["cmp_after"] = after = None   # the level fell below the last stroke's: emptied
    if m["fault"] or m["lockout"]:
        return None
    fs = st.get("fs")
    if isinstance(fs, dict) and fs.get("fire"):
        return "fire"
    if m.get("now"):
        return "command"
    fill = r.fill if r.fill is not None else r.fill_est   # a blind sensor: the estimate
    if fill is None or fill < cfg["compact_pct"] or r.vbat_mv < cfg["vbat_motor_min_mv"]:
        return None
    # after a stroke, wait until new waste raised the level again (packed waste must not
    # be pressed every wake); nearly full, a few points of new waste are worth a stroke
    rise = cfg["compact_rise_pct"] if fill < cfg["full_pct"] else cfg["compact_rise_pct"] // 2
    if after is None or fill >= after + rise:
        return "fill"
    return None


def _door_shut(board):
    """Someone is at the door: wait (bounded) until it is shut."""
    clock = board.clock
    t0 = clock.ticks_ms()
    while board.door.active():
        if clock.ticks_diff(clock.ticks_ms(), t0) >= _DOOR_WAIT_MS:
            return False
        clock.sleep_ms(_DOOR_POLL_MS)
    return True


def command(st, name):
    """A remote or technician command: 'compact', 'reset_fault', 'lockout', 'unlock'.
    Returns (ok, text)."""
    m = memory(st)
    if name == "compact":
        if m["fault"] or m["lockout"]:
            return False, "refused: %s" % ("locked out" if m["lockout"] else m["fault"])
        m["now"] = True
        return True, "compaction at the next wake"
    if name == "reset_fault":
        was = m["fault"]
        m["fault"] = None
        return True, "fault %s cleared" % was if was else "no fault latched"
    if name == "lockout":
        m["lockout"] = True
        return True, "motor locked out"
    if name == "unlock":
        m["lockout"] = False
        return True, "motor lockout lifted"
    return False, "unknown command %r" % name


def act(board, cfg, st, r, events, resense, drive_ok=None, compact_ok=None, note_ms=None):
    """The act step for the compactor: park the ram if a stroke was interrupted, then
    compact when wanted. resense() reads again after a stroke; drive_ok(r)/compact_ok(r)
    are the energy policy's gates, note_ms(ms) its motor-time account. Returns the reading
    to report (fresh after a stroke)."""
    m = memory(st)
    ctl = compactor.Controller(board, cfg, m)
    if ctl.state == compactor.IDLE and not board.limit_home.active() \
            and (drive_ok is None or drive_ok(r)):
        res = ctl.home()
        if note_ms:
            note_ms(res.ms)
        _fault_event(res, events, m)
    why = wanted(r, st, cfg, m)
    if why is None or (compact_ok is not None and not compact_ok(r)):
        return r
    before = r.fill
    est = r.fill_est
    m["now"] = False
    _door_shut(board)   # the controller refuses with the door open anyway
    res = ctl.stroke()
    if note_ms:
        note_ms(res.ms)
    if res.ms:
        # the ram moved: the level under the sensor changed, whatever the outcome
        st["compactions"] += 1
        r = resense()
        # blind: the next blind stroke waits for the estimate to rise past this one's
        st["cmp_after"] = r.fill if r.fill is not None or before is not None else est
        st["cmp_pr"] = res.pressed   # stopped at full pressure: the packed pile is in view
        if r.fill is None:
            r.fill_est = est
        st["hist"] = []
    if res.outcome == compactor.OK:
        after = r.fill
        d = {"before": None if before is None else round(before, 1),
             "after": None if after is None else round(after, 1),
             "peak_ma": res.peak_ma, "ms": res.ms, "why": why}
        if before is not None and after is not None:
            d["gain"] = round(before - after, 1)    # fill points won by this stroke
        if res.jams:
            d["jams"] = res.jams                    # cleared by backing off and retrying
        events.append(("compacted", d))
    elif res.outcome == compactor.LOCK:
        events.append(("motor_fault", {"why": res.outcome, "detail": res.detail,
                                       "peak_ma": 0, "latched": False}))
    else:
        _fault_event(res, events, m)
    return r


def _fault_event(res, events, m):
    if res.outcome not in compactor.FAULTS:
        return
    events.append(("motor_fault", {"why": res.outcome, "detail": res.detail,
                                   "peak_ma": res.peak_ma, "ma": res.stall_ma,
                                   "pos_mm": res.pos_mm, "jams": res.jams,
                                   "latched": bool(m["fault"])}))


def motor_test(board, cfg, st, confirm=None):
    """Technician REPL: one full stroke with every interlock on (door lock, door IRQ,
    limits, current, battery, duty). Runs only with confirm="RUN MOTOR"; a latched fault or
    a lockout still refuses (clear it with command(st, "reset_fault") first)."""
    if confirm != "RUN MOTOR":
        return 'not run: call motor_test(board, cfg, st, confirm="RUN MOTOR")'
    m = memory(st)
    res = compactor.Controller(board, cfg, m).stroke()
    if res.ms:
        st["compactions"] += 1      # the ram moved: a stroke like any other
    return "%s%s (peak %d mA, %d ms, %d jams)" % (
        res.outcome, ": " + res.detail if res.detail else "", res.peak_ma, res.ms, res.jams)
