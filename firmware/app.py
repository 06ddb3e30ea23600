# The wake cycle: wake -> sense -> decide -> act -> report -> sleep.
# run_cycle() does one wake and returns how long to sleep; only main() sleeps.
import sys

import compaction
import config
import decide
import fillwatch
import fsutil
import logring
import netwatch
import ota
import power_policy
import report
import safemode
import sense
import state
from outbox import Outbox

VERSION = "0.1.0"

FLAG_NO_READING = 1
FLAG_MOTOR = 2
FLAG_CRASH = 4

_DAMAGE_MSG = 80
_RESET_AFTER_CRASHES = 2   # one wake on a fresh state before safe mode (3 boots)
_HIST_MAX = 24
_HIST_GAP_S = 1800


def log(msg):
    print(msg)
    logring.append(msg)


def identity():
    return config.identity(log)


def _damage_detail(damage, aside):
    """The flash_damage event: what was found (the log's words, the first few) and the
    files set aside as <name>.bad (kept as <name>.old for the technician)."""
    what = damage[:3]
    for note in fsutil.found:
        if len(what) >= 4:
            break
        if not any(note.split(":", 1)[0] in w for w in what):
            what.append(note[:_DAMAGE_MSG])
    for name in aside:
        if len(what) >= 4:
            break
        if not any(name in w for w in what):
            what.append("%s: set aside" % name)
    return {"what": what, "files": aside[:8]}


def _remember(st, ts, fill):
    h = st["hist"]
    if not h or ts - h[-1][0] >= _HIST_GAP_S:
        h.append([ts, round(fill, 1)])
        if len(h) > _HIST_MAX:
            del h[0]


def _queue(st, outbox, reports):
    """The wake's reports go to flash with the state that made them: first the state (the
    sequence number, alert latches, and these reports) in one atomic write, then the reports
    as one outbox batch tagged with that state's gen. A power cut in between is mended by
    the next wake (_requeue): no report is lost, none is queued twice, none made anew."""
    if not reports:
        return
    tag = st["gen"] + 1
    st["out"] = [tag, reports]
    state.commit(st)
    outbox.put_batch(reports, tag)
    st["out"] = None


def _requeue(st, outbox):
    out = st["out"]
    st["out"] = None
    if not isinstance(out, list) or len(out) != 2 or not isinstance(out[0], int) \
            or not isinstance(out[1], list) or out[0] <= outbox.tag:
        return
    try:
        outbox.put_batch([(k, p) for k, p in out[1]], out[0])
        log("outbox: %d reports queued again after a power cut" % len(out[1]))
    except (TypeError, ValueError, AttributeError) as e:   # a damaged state
        log("outbox: the reports kept in the state are unreadable: %r" % e)


def run_cycle(board, force_report=False):
    clock = board.clock
    t_wake = clock.ticks_ms()
    logring.clock = clock
    board.wdt.feed()
    fsutil.remove_stale_tmp()
    logring.check()
    damage = []   # damage found: logged, and one event for the back office

    def flash_log(msg):
        log(msg)
        damage.append(msg[:_DAMAGE_MSG])

    ident = identity()
    cfg = config.load(flash_log)
    st = state.load(board.rtc, flash_log)
    st["boots"] += 1
    outbox = Outbox()
    if outbox.damaged:
        flash_log("outbox.q: %d damaged records skipped" % outbox.damaged)
    elif outbox.skipped:   # only the end: the write a power cut interrupted
        log("outbox.q: the record being written when the power failed was dropped")
    _requeue(st, outbox)
    events = []
    aside = fsutil.unreported()   # files set aside (this boot or one before), not yet told
    if damage or aside:
        events.append(("flash_damage", _damage_detail(damage, aside)))
    # brown-outs recognised, a power loss in a surge told as such (an event either way)
    cause = power_policy.boot_cause(board, st, state.from_rtc, events)
    if st["crashes"]:
        events.append(("recovered", {"crashes": st["crashes"]}))
    trial = ota.trial()
    if trial:   # a new version must confirm itself with a report: this wake sends one
        events.append(("ota_trial", trial))

    # sense
    r = sense.read(board, cfg)
    now = r.ts
    if fillwatch.no_reading(r, st, events):   # a fault once it persists, not one odd wake
        st["faults"] |= FLAG_NO_READING
    else:
        st["faults"] &= ~FLAG_NO_READING

    fillwatch.check(r, st, cfg, events)   # sensor faults, fire, tilt: reported at once
    if r.fill is None:
        r.fill_est = fillwatch.estimate(st, now, cfg)
    cfg = power_policy.plan(st, r, cfg, now, cause, events)   # energy level shapes the wake

    # decide + act
    emptied, last = fillwatch.level_step(st, r.fill, now, cfg)   # knows the strokes
    if emptied:
        events.append(("collected", {"before": last, "after": round(r.fill, 1)}))
        st["hist"] = []
        st["cmp_after"] = None
    r = compaction.act(board, cfg, st, r, events,
                       lambda: fillwatch.vet(sense.read(board, cfg), st, cfg),
                       lambda rd: power_policy.may_drive(board, st, rd),
                       lambda rd: power_policy.may_compact(board, st, rd),
                       power_policy.note_motor)
    if compaction.faulted(st):
        st["faults"] |= FLAG_MOTOR
    else:
        st["faults"] &= ~FLAG_MOTOR
    blind = r.fill is None and r.fill_est is not None
    latched, raise_full = decide.full_alert(r.fill_est if blind else r.fill, st["full"], cfg)
    st["full"] = latched
    if raise_full:
        # blind: warn from the estimate rather than let the bin overflow unannounced
        events.append(("full", {"fill": round(r.fill_est, 1), "estimated": True} if blind
                       else {"fill": round(r.fill, 1)}))
    if r.fill is not None:
        _remember(st, now, r.fill)
    fillwatch.remember(st, r.fill, now, cfg)
    fcst, ovf = fillwatch.forecasts(st, r.fill, now, cfg)
    sleep_s = power_policy.next_wake_s(st, cfg, now, fcst)

    # report
    reports = []
    if force_report or decide.report_due(now, r.fill, st, cfg) \
            or power_policy.session_wanted(events, st) or ota.busy():   # a download, a trial
        st["seq"] += 1
        st["dropped"] = outbox.dropped
        reports.append(("telemetry", report.telemetry(r, st, VERSION, fcst, ovf)))
        st["last_report"] = now
        st["last_fill"] = r.fill
    for code, detail in events:
        reports.append(("event", report.event(now, code, detail)))
    _queue(st, outbox, reports)
    for name in aside:   # reported (the event is on flash): each damage is told once
        fsutil.seen(name)
    st["dropped"] = outbox.dropped
    if len(outbox) and (st["last_report"] == now) \
            and power_policy.may_transmit(board, st, r, events):
        status = {"ts": now, "fill": None if r.fill is None else round(r.fill, 1),
                  "fcst": fcst, "ovf": ovf, "full": st["full"], "flags": st["faults"],
                  "next": now + sleep_s, "fw": VERSION,
                  # battery and signal on the broker between reports (an operator's
                  # monitor --once reads them from here): the signal of the last session
                  "vbat": r.vbat_mv, "rssi": netwatch.rssi(st)}
        board.wdt.feed()   # a cold attach and the session can take a minute
        t_tx = clock.ticks_ms()
        report.deliver(board, cfg, ident, outbox, status, log, st, bool(events))
        late = []
        netwatch.note(board.link, st, late, now)   # modem faults as events, the signal
        _queue(st, outbox, late)
        if st.pop("reboot", 0):
            sleep_s = 1   # a remote reboot: deep sleep resets the chip
        power_policy.note_modem(clock.ticks_diff(clock.ticks_ms(), t_tx))

    # sleep
    del fsutil.found[:]   # told (a process may run many wakes)
    st["crashes"] = 0
    safemode.cycle_done()
    awake = clock.ticks_diff(clock.ticks_ms(), t_wake)
    power_policy.note(st, awake)
    state.save(board.rtc, st)
    return max(1000, sleep_s * 1000 - awake)


def record_crash(board, exc):
    """An exception escaped the wake: tell the technician, count it, back off, sleep."""
    sys.print_exception(exc)
    safemode.save_trace(exc)
    log("wake crashed: %s: %s" % (type(exc).__name__, exc))
    try:
        st = state.load(board.rtc, log)
        st["crashes"] += 1
        if st["crashes"] >= _RESET_AFTER_CRASHES:
            log("state reset after %d crashed wakes in a row" % st["crashes"])
            st = state.reset(st)
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
