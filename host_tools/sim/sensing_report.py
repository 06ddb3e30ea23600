"""Fill-sensing figures of the report. Truth comes from the world model (true fill at each
sensor read, collections, overflows, the sensing scenario's incidents) and the A02YYUW
emulator's raw frames; the bins' claims come only from what the broker delivered."""

from __future__ import annotations

import bisect

from host_tools.sim.figures import Mean, Rms, Total

FIRE_GRACE_S = 3 * 3600      # a fire alert this long after a fire's end still belongs to it
FAULT_GRACE_S = 3600         # a sensor_fault this long after a fault's end still belongs to it
PRESSED_S = 900              # an overflow the ram pressed back under the rim within this
                             # (one wake interval: the next wake's stroke) did not last
_FAULT_KINDS = ("blocked", "stuck", "no target")


def _rmse(errs: list[float]) -> Rms:
    return Rms(sum(e * e for e in errs), len(errs))


def _pct(mm: float, empty_mm: int, depth_mm: int) -> float:
    return min(120.0, max(0.0, (empty_mm - mm) * 100 / depth_mm))


def _events(subscriber, bin_id: str, code: str) -> list[dict]:
    out = []
    for m in subscriber.of_kind("event", bin_id):
        d = m.json()
        if d and d.get("ev") == code:
            out.append(d)
    return out


def figures(sim, subscriber) -> dict:
    empty_mm = int(sim.cfg.config.get("empty_mm", 1100))
    depth_mm = int(sim.cfg.config.get("depth_mm", 800))
    errs, naive = [], []
    full_alerts = 0
    leads: list[float] = []
    unwarned = 0
    overflows = 0
    detected = missed = phantom = 0
    fault_events = faults_true = faults_caught = 0
    fault_reasons: dict[str, int] = {}
    fire_alerts = false_fire = fires_true = fires_caught = 0
    tilt_alerts = tilts_true = 0
    false_faults = 0
    catch_h: list[float] = []
    unwarned_lasting = 0
    for b in sim.bins.values():
        v, w = b.vbin, b.vbin.world
        truth = v.truth
        times = [t for t, _ in truth]
        raw = v.level.raw_log
        raw_t = [t for t, _ in raw]
        for m in subscriber.of_kind("telemetry", v.bin_id):
            d = m.json()
            if not d or d.get("fill") is None:
                continue
            ts_ms = int(d["ts"]) * 1000
            i = bisect.bisect_left(times, ts_ms)
            j = bisect.bisect_left(raw_t, ts_ms / 1000)
            if i >= len(truth) or j >= len(raw):
                continue
            true = min(120.0, truth[i][1])
            errs.append(float(d["fill"]) - true)
            naive.append(_pct(raw[j][1], empty_mm, depth_mm) - true)
        # full alerts and their lead over each overflow (since the last collection)
        fulls = sorted(e["ts"] for e in _events(subscriber, v.bin_id, "full"))
        full_alerts += len(fulls)
        colls = [t for t, _ in w.collections]
        spells = w.overflow_spells_until(w.t)
        for t_over in w.overflow_starts:
            overflows += 1
            since = max([c for c in colls if c < t_over], default=float("-inf"))
            before = [f for f in fulls if since < f <= t_over]
            if before:
                leads.append((t_over - before[-1]) / 3600)
            else:
                unwarned += 1
                # how long the waste stood above the rim (a deposit the next stroke pressed
                # down at once, or one left there)
                end = next((e for a, e in spells if a <= t_over < e), w.t)
                unwarned_lasting += end - t_over > PRESSED_S
        # collections: each detection matched to a true one since the bin's previous report
        got = sorted(e["ts"] for e in _events(subscriber, v.bin_id, "collected"))
        detected += len(got)
        used = set()
        for ts in got:
            match = [k for k, c in enumerate(colls) if c <= ts and k not in used
                     and ts - c < 24 * 3600]
            if match:
                used.add(match[-1])
            else:
                phantom += 1
        missed += len(colls) - len(used)
        # sensor faults, fire, tilt against the scenario's incidents
        faults = _events(subscriber, v.bin_id, "sensor_fault")
        fault_events += len(faults)
        for e in faults:
            why = str(e.get("why", "no reading"))
            fault_reasons[why] = fault_reasons.get(why, 0) + 1
        sc = w.sensing
        fires = _events(subscriber, v.bin_id, "fire")
        fire_alerts += len(fires)
        tilt_alerts += len(_events(subscriber, v.bin_id, "tilt"))
        incidents = sc.incidents if sc else []
        for inc in incidents:
            if inc.start >= w.t:
                continue
            if inc.kind in _FAULT_KINDS:
                faults_true += 1
                hits = [e["ts"] for e in faults if inc.start <= e["ts"] <= inc.end]
                faults_caught += bool(hits)
                # how long the fault stood before it was reported (to the run's end if never)
                catch_h.append(((min(hits) if hits else min(inc.end, w.t)) - inc.start) / 3600)
            elif inc.kind == "fire":
                fires_true += 1
                fires_caught += any(inc.start <= e["ts"] <= inc.end + FIRE_GRACE_S
                                    for e in fires)
            elif inc.kind == "tilt":
                tilts_true += 1
        # a sensor_fault with no injected fault standing (or just ended) is a false alarm
        fault_windows = [(i.start, i.end + FAULT_GRACE_S) for i in incidents
                         if i.kind in _FAULT_KINDS]
        false_faults += sum(not any(a <= e["ts"] <= z for a, z in fault_windows)
                            for e in faults)
        fire_windows = [(i.start, i.end + FIRE_GRACE_S) for i in incidents if i.kind == "fire"]
        false_fire += sum(not any(a <= e["ts"] <= z for a, z in fire_windows) for e in fires)
    rmse, rmse_naive = _rmse(errs), _rmse(naive)
    return {
        "fill_rmse_pct": rmse,
        "fill_rmse_naive_pct": rmse_naive,
        "fill_rmse_reports": len(errs),
        "fill_sse": Total(sum(e * e for e in errs), nd=4),   # sums of squared errors
        "fill_sse_naive": Total(sum(e * e for e in naive), nd=4),
        "full_alerts": full_alerts,
        "full_alert_lead_h_min": round(min(leads), 2) if leads and not unwarned
        else (0.0 if unwarned else None),
        "overflows_true": overflows,
        "overflows_unwarned": unwarned,
        "overflows_unwarned_lasting": unwarned_lasting,
        "collections_detected": detected,
        "collections_missed": missed,
        "collections_phantom": phantom,
        "sensor_fault_events": fault_events,
        "sensor_fault_reasons": dict(sorted(fault_reasons.items())),
        "sensor_faults_true": faults_true,
        "sensor_faults_caught": faults_caught,
        "sensor_fault_false": false_faults,
        # per bin-month: the parts are the false events and the bin-months
        "sensor_fault_false_per_bin_month": Mean(false_faults, len(sim.bins) * sim.cfg.days / 30,
                                                 nd=3),
        "sensor_fault_catch_h_max": round(max(catch_h), 2) if catch_h else None,
        "fire_alerts": fire_alerts,
        "false_fire_alerts": false_fire,
        "fires_true": fires_true,
        "fires_caught": fires_caught,
        "tilt_alerts": tilt_alerts,
        "tilts_true": tilts_true,
    }
