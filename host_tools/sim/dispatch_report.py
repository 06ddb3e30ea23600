"""Service figures of a dispatched crew (--dispatch), from outside the firmware: the true
fill each visit found (world model), the crew's routes (km, minutes), and the bins'
forecasts as the broker delivered them against the world's true crossings."""

from __future__ import annotations

import bisect
from statistics import mean

EMPTY_PCT = 10.0
LEAD_H = (42.0, 54.0)   # "48 h ahead" forecasts


def forecast_errors_h(sim, subscriber, lead_h=LEAD_H) -> list[float]:
    """forecast - true crossing, in hours, for each delivered forecast made lead_h ahead of
    the true fill passing the world's FULL_LINE_PCT (the firmware's default full_pct). A
    forecast whose truth was cut short (a collection before the crossing, or the run's end)
    is left out: it cannot be judged."""
    errs = []
    end_s = sim.end_ms / 1000
    for bin_id, b in sim.bins.items():
        w = b.vbin.world
        crossings = sorted(w.full_starts)
        emptied = sorted(t for t, _ in w.collections)
        for m in subscriber.of_kind("telemetry", bin_id):
            d = m.json()
            if not isinstance(d, dict) or not d.get("fcst") or not d.get("ts"):
                continue
            ts, fcst = float(d["ts"]), float(d["fcst"])
            if not lead_h[0] <= (fcst - ts) / 3600 <= lead_h[1]:
                continue
            i = bisect.bisect_right(crossings, ts)
            if i >= len(crossings) or crossings[i] > end_s:
                continue
            cross = crossings[i]
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

    def pct(k: int) -> float | None:
        return round(100 * k / n, 1) if n else None

    errs = forecast_errors_h(sim, subscriber)
    routes = crew.routes
    return {
        "dispatch": crew.dispatcher.policy,
        "dispatch_threshold_pct": thr,
        "collections": n,
        "premature_collections_pct": pct(sum(f < thr for f in fills)),
        "empty_collections_pct": pct(sum(f < EMPTY_PCT for f in fills)),
        "mean_fill_at_collection_pct": round(mean(fills), 1) if fills else None,
        "overflow_collections_pct": pct(sum(f > 100.0 for f in fills)),
        "truck_km": round(sum(r.km for r in routes), 1),
        "crew_minutes": round(sum(r.crew_minutes for r in routes), 1),
        "dispatch_deferred": sum(len(r.deferred) for r in routes),
        "forecast_mae_h": round(mean(abs(e) for e in errs), 2) if errs else None,
        "forecast_bias_h": round(mean(errs), 2) if errs else None,   # + late, - early
        "forecast_pairs": len(errs),
        "dispatch_fills_pct": [round(f, 1) for f in fills],
    }
