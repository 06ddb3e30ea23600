"""Collection planning from what the bins reported (python -m host_tools.plan)."""

from __future__ import annotations

from dataclasses import dataclass

from host_tools.binview import BinView
from host_tools.site import local

FULL_PCT = 85.0   # the firmware's default full threshold: its forecasts aim at it
OVER_PCT = 100.0  # ...and the rim: `ovf` forecasts when the bin overflows


@dataclass
class Stop:
    bin_id: str
    fill: float | None
    eta: int | None       # when the bin passes the threshold (Unix time), None = unknown
    why: str


def eta_for(view: BinView, threshold: float, full_pct: float = FULL_PCT) -> int | None:
    """When the bin passes `threshold`, from its last fill and its own forecasts of when it
    passes full_pct (`fcst`) and OVER_PCT (`ovf`, it overflows): a straight line between
    the two points that bracket the threshold."""
    if view.fill is None or view.fill_ts is None:
        return None
    if view.fill >= threshold:
        return view.fill_ts
    points = [(view.fill, view.fill_ts)]
    for pct, ts in ((full_pct, view.forecast_full), (OVER_PCT, view.forecast_over)):
        if ts is not None and pct > points[-1][0] and ts >= points[-1][1]:
            points.append((pct, ts))
    for (f0, t0), (f1, t1) in zip(points, points[1:], strict=False):
        if threshold <= f1:
            return int(t0 + (threshold - f0) / (f1 - f0) * (t1 - t0))
    return None


def _when(ts: float) -> str:
    return f"{local(ts):%a %H:%M}"


def _date(ts: float) -> str:
    return f"{local(ts):%a %m-%d %H:%M}"


def plan(views: list[BinView], horizon: float, threshold: float = FULL_PCT) -> list[Stop]:
    """Bins to collect on the upcoming route: above the threshold now, or forecast to pass it
    before `horizon` (when the route after this one starts). In order of when each passes
    the threshold: the bins over it first (the earliest reading first), then by their own
    forecast, the earliest first."""
    stops = []
    for v in views:
        eta = eta_for(v, threshold)
        if v.fill is not None and v.fill >= threshold:
            seen = f" at {_when(v.fill_ts)}" if v.fill_ts else ""
            stops.append(Stop(v.bin_id, v.fill, eta, f"reported {v.fill:.0f} %{seen}: over "
                                                     f"{threshold:g} % now"))
        elif eta is not None and eta <= horizon:
            stops.append(Stop(v.bin_id, v.fill, eta, f"its forecast: {threshold:g} % by "
                                                     f"{_when(eta)}, before {_when(horizon)}"))
    stops.sort(key=lambda s: (s.eta or 0, s.bin_id))
    return stops


def left_off(views: list[BinView], horizon: float, threshold: float = FULL_PCT) \
        -> list[tuple[str, float | None, str]]:
    """(bin, fill, why not) for the bins plan() leaves for a later route."""
    on = {s.bin_id for s in plan(views, horizon, threshold)}
    out = []
    for v in sorted(views, key=lambda v: v.bin_id):
        if v.bin_id in on:
            continue
        eta = eta_for(v, threshold)
        if v.fill is None:
            why = "no fill in its last report: look at its faults" if v.fill_ts else \
                "no fill reported yet"
        elif eta is not None:
            why = (f"its forecast: {threshold:g} % by {_date(eta)}; it can wait for "
                   f"{_date(horizon)}")
        else:
            why = f"at {v.fill:.0f} %, no forecast of {threshold:g} % yet"
        out.append((v.bin_id, v.fill, why))
    return out
