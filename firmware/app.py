# The wake cycle: wake -> sense -> decide -> act -> report -> sleep.
# run_cycle() does one wake and returns how long to sleep; only main() sleeps.
import sys

import compactor
import config
import decide
import fsutil
import report
import sense
import state
from fill import forecast_full
from outbox import Outbox

VERSION = "0.1.0"

FLAG_NO_READING = 1
FLAG_MOTOR = 2
FLAG_CRASH = 4

_HIST_MAX = 24
_HIST_GAP_S = 1800
_COLLECTION_DROP_PCT = 25


def log(msg):
    print(msg)


def identity():
    d = fsutil.read_json("identity.json")
    if not isinstance(d, dict) or not isinstance(d.get("id"), str):
        log("identity.json missing or invalid: reporting as bin-unprovisioned")
        return {"id": "bin-unprovisioned"}
    return d


def _remember(st, ts, fill):
    h = st["hist"]
    if not h or ts - h[-1][0] >= _HIST_GAP_S:
        h.append([ts, round(fill, 1)])
        if len(h) > _HIST_MAX:
            del h[0]


def run_cycle(board):
    clock = board.clock
    t_wake = clock.ticks_ms()
    board.wdt.feed()
    fsutil.remove_stale_tmp()
    ident = identity()
    cfg = config.load(log)
    st = state.load(board.rtc)
    st["boots"] += 1
    outbox = Outbox()
    events = []
    cause = board.reset_cause()
    if cause not in ("deepsleep", "power_on"):
        events.append(("reset", {"cause": cause}))
    if st["crashes"]:
        events.append(("recovered", {"crashes": st["crashes"]}))

    # sense
    r = sense.read(board, cfg)
    now = r.ts
    if r.fill is None:
        if not st["faults"] & FLAG_NO_READING:
            events.append(("sensor_fault", {"errors": r.errors}))
        st["faults"] |= FLAG_NO_READING
    else:
        st["faults"] &= ~FLAG_NO_READING

    # decide + act
    last = st["last_fill"] if st["hist"] == [] else st["hist"][-1][1]
    if r.fill is not None and last is not None and r.fill < last - _COLLECTION_DROP_PCT:
        events.append(("collected", {"before": last, "after": round(r.fill, 1)}))
        st["hist"] = []
        st["cmp_after"] = None
    if not board.limit_home.active():
        compactor.home(board, cfg)
    if decide.compact_wanted(r, st, cfg):
        before = r.fill
        res = compactor.stroke(board, cfg)
        if res.ms:
            # the ram moved: the level under the sensor changed, whatever the outcome
            st["compactions"] += 1
            r = sense.read(board, cfg)
            st["cmp_after"] = r.fill
            st["hist"] = []
        if res.outcome == compactor.OK:
            st["faults"] &= ~FLAG_MOTOR
            events.append(("compacted", {"before": round(before, 1),
                                         "after": None if r.fill is None else round(r.fill, 1),
                                         "peak_ma": res.peak_ma, "ms": res.ms}))
        elif res.outcome != compactor.DOOR:
            st["faults"] |= FLAG_MOTOR
            events.append(("motor_fault", {"why": res.outcome, "detail": res.detail,
                                           "peak_ma": res.peak_ma}))
    latched, raise_full = decide.full_alert(r.fill, st["full"], cfg)
    st["full"] = latched
    if raise_full:
        events.append(("full", {"fill": round(r.fill, 1)}))
    if r.fill is not None:
        _remember(st, now, r.fill)
    fcst = forecast_full(st["hist"], now, cfg["full_pct"])

    # report
    if decide.report_due(now, r.fill, st, cfg) or events:
        st["seq"] += 1
        outbox.put("telemetry", report.telemetry(r, st, VERSION, fcst))
        st["last_report"] = now
        st["last_fill"] = r.fill
    for code, detail in events:
        outbox.put("event", report.event(now, code, detail))
    st["dropped"] = outbox.dropped
    if len(outbox) and (st["last_report"] == now):
        sleep_s = decide.next_wake_s(cfg)
        status = {"ts": now, "fill": None if r.fill is None else round(r.fill, 1),
                  "fcst": fcst, "full": st["full"], "flags": st["faults"],
                  "next": now + sleep_s, "fw": VERSION}
        report.deliver(board, cfg, ident, outbox, status, log)

    # sleep
    st["crashes"] = 0
    state.save(board.rtc, st)
    awake = clock.ticks_diff(clock.ticks_ms(), t_wake)
    return max(1000, decide.next_wake_s(cfg) * 1000 - awake)


def record_crash(board, exc):
    """An exception escaped the wake: tell the technician, count it, back off, sleep."""
    sys.print_exception(exc)
    try:
        st = state.load(board.rtc)
        st["crashes"] += 1
        st["faults"] |= FLAG_CRASH
        state.save(board.rtc, st)
        n = st["crashes"]
    except Exception as e2:
        sys.print_exception(e2)
        n = 1
    return min(3600, 60 * n) * 1000


def main(board):
    try:
        ms = run_cycle(board)
    except Exception as e:
        ms = record_crash(board, e)
    finally:
        board.motor.off()
    board.deepsleep(ms)
