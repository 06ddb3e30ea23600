"""Per-bin time series for plots (`python -m host_tools.report`), from the same observers as
the report's figures: world truth, bridge pins, broker messages, network model."""

from __future__ import annotations

from host_tools.sim.report import bin_fill_errors


def build_series(sim, subscriber) -> dict:
    out = {}
    telemetry = {}
    events = {}
    for m in subscriber.of_kind("telemetry"):
        d = m.json()
        if d:
            telemetry.setdefault(m.bin_id, []).append(
                [d.get("ts"), d.get("fill"), len(m.payload)])
    for m in subscriber.of_kind("event"):
        d = m.json()
        if d:
            events.setdefault(m.bin_id, []).append([d.get("ts"), d.get("ev")])
    for bin_id, b in sim.bins.items():
        v = b.vbin
        truth, last = [], None
        for t_ms, fill in v.truth:     # one point per wake: the first sensor read
            t = t_ms // 1000
            if last is None or t - last > 60:
                truth.append([t, round(fill, 2)])
            last = t
        out[bin_id] = {
            "truth": truth,
            "reported": sorted(telemetry.get(bin_id, []), key=lambda r: r[0] or 0),
            "strokes": [[round(s0), round(e0 - s0, 1)] for s0, e0 in v.motor.intervals],
            "collections": [[round(t), round(f, 1)] for t, f in v.world.collections],
            "power": [list(p) for p in v.power_log],
            "events": sorted(events.get(bin_id, []), key=lambda r: r[0] or 0),
            "figures": _figures(v, subscriber.of_kind("telemetry", bin_id)),
        }
    return out



def _figures(v, telemetry) -> dict:
    """This bin's own figures, as the report's fleet figures are counted (the plot titles)."""
    errs = bin_fill_errors(v.truth, telemetry)
    return {
        "telemetry_received": len(telemetry),
        "fill_abs_error_mean_pct": round(sum(errs) / len(errs), 2) if errs else None,
        "compactions": v.world.ram.strokes,
        "collections_true": len(v.world.collections),
        "overflow_hours": round(v.world.overflow_s / 3600, 2),
    }
