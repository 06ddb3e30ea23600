"""Service figures of a dispatched crew (--dispatch), from outside the firmware: the true
fill each visit found (world model), the crew's routes (km, minutes), and the bins'
forecasts as the broker delivered them against the world's true crossings."""

from __future__ import annotations

import bisect

from host_tools.dispatch import afternoon_text
from host_tools.sim.figures import Mean, Total

EMPTY_PCT = 10.0
LEAD_H = (42.0, 54.0)   # "48 h ahead" forecasts
FULL_SPELL_S = 3600.0   # a bin is full once its level stays over the line this long


def forecast_errors_h(sim, subscriber, lead_h=LEAD_H, by="truth") -> list[float]:
    """forecast - true crossing, in hours, for each delivered forecast made lead_h ahead of
    the true fill passing the world's FULL_LINE_PCT (the firmware's default full_pct) to
    stay there (FULL_SPELL_S or more: a big bag dumped on the loose pile that the next
    stroke presses down again has not filled the bin), the first such crossing after the
    forecast was made. by="truth": made lead_h before that
    crossing; by="claim": saying the crossing is lead_h away (a sample the forecasts choose
    themselves: those that claim 48 h when the bin is collected first go unjudged). A
    forecast whose truth was cut short (a collection before the crossing, or the run's end)
    is left out: it cannot be judged."""
    errs = []
    end_s = sim.end_ms / 1000
    for bin_id, b in sim.bins.items():
        w = b.vbin.world
        crossings = sorted(a for a, b in w.full_spells_until(end_s) if b - a >= FULL_SPELL_S)
        emptied = sorted(t for t, _ in w.collections)
        for m in subscriber.of_kind("telemetry", bin_id):
            d = m.json()
            if not isinstance(d, dict) or not d.get("fcst") or not d.get("ts"):
                continue
            ts, fcst = float(d["ts"]), float(d["fcst"])
            i = bisect.bisect_right(crossings, ts)
            if i >= len(crossings) or crossings[i] > end_s:
                continue
            cross = crossings[i]
            lead = (cross if by == "truth" else fcst) - ts
            if not lead_h[0] <= lead / 3600 <= lead_h[1]:
                continue
            j = bisect.bisect_right(emptied, ts)
            if j < len(emptied) and emptied[j] < cross:
                continue
            errs.append((fcst - cross) / 3600)
    return errs


def figures(sim, subscriber) -> dict:
    crew = sim.hook
    if crew is None or not hasattr(crew, "dispatcher"):
        return {}
    bins = list(sim.bins.values())
    fills = [f for b in bins for _, f in b.vbin.world.collections]
    n = len(fills)
    thr = crew.cs.threshold_pct

    def pct(k: int) -> Mean:
        return Mean(k, n, nd=1, scale=100)

    errs = forecast_errors_h(sim, subscriber)
    claimed = forecast_errors_h(sim, subscriber, by="claim")
    routes = crew.routes
    return {
        "dispatch": crew.dispatcher.policy,
        "dispatch_threshold_pct": thr,
        "dispatch_collect_before_pct": crew.cs.over_pct,
        "dispatch_afternoon": afternoon_text(crew.cs) if crew.dispatcher.afternoon else "none",
        "afternoon_collections": sum(len(r.visits) for r in routes if r.afternoon),
        "collections": n,
        "premature_collections_pct": pct(sum(f < thr for f in fills)),
        "empty_collections_pct": pct(sum(f < EMPTY_PCT for f in fills)),
        "mean_fill_at_collection_pct": Mean(sum(fills), n, nd=1),
        "overflow_collections_pct": pct(sum(f > 100.0 for f in fills)),
        "truck_km": Total(sum(r.km for r in routes), nd=1),
        "crew_minutes": Total(sum(r.crew_minutes for r in routes), nd=1),
        "dispatch_deferred": sum(len(r.deferred) for r in routes),
        "forecast_mae_h": Mean(sum(abs(e) for e in errs), len(errs)),
        "forecast_bias_h": Mean(sum(errs), len(errs)),   # + late, - early
        "forecast_pairs": len(errs),
        "forecast_mae_claim48_h": Mean(sum(abs(e) for e in claimed), len(claimed)),
        "forecast_pairs_claim48": len(claimed),
        "dispatch_fills_pct": [round(f, 1) for f in fills],
    }
