"""Turns observations into the JSON report. Every figure comes from an observer outside the
firmware: the world model (truth, motor, door), the network model (what went on the wire)
and the broker subscriber (what was delivered)."""

from __future__ import annotations

import bisect

from host_tools.sim.compaction_report import figures as compaction_figures
from host_tools.sim.delivery import figures as delivery_figures
from host_tools.sim.dispatch_report import figures as dispatch_figures
from host_tools.sim.energy_report import figures as energy_figures
from host_tools.sim.faults import figures as fault_figures
from host_tools.sim.figures import Mean, Total, finish
from host_tools.sim.network_report import figures as network_figures
from host_tools.sim.ota_report import figures as ota_figures
from host_tools.sim.sensing_report import figures as sensing_figures


def _overlap_ms(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> float:
    total = 0.0
    j = 0
    b = sorted(b)
    for s0, e0 in sorted(a):
        while j < len(b) and b[j][1] <= s0:
            j += 1
        k = j
        while k < len(b) and b[k][0] < e0:
            total += max(0.0, min(e0, b[k][1]) - max(s0, b[k][0]))
            k += 1
    return total * 1000


def fill_errors(sim, subscriber) -> list[float]:
    """|reported fill - true fill| for each delivered telemetry, the truth taken at the first
    sensor read of the wake the report describes."""
    errs = []
    for bin_id, b in sim.bins.items():
        errs += bin_fill_errors(b.vbin.truth, subscriber.of_kind("telemetry", bin_id))
    return errs


def bin_fill_errors(truth, telemetry) -> list[float]:
    """fill_errors() of one bin: its world's truth [(t_ms, fill)] and its delivered
    telemetry messages."""
    errs = []
    times = [t for t, _ in truth]
    for m in telemetry:
        d = m.json()
        if not d or d.get("fill") is None:
            continue
        i = bisect.bisect_left(times, int(d["ts"]) * 1000)
        if i < len(truth):
            errs.append(abs(float(d["fill"]) - min(120.0, truth[i][1])))
    return errs


SILENT_WINDOW_S = 24 * 3600


def silent_bins(sim, subscriber) -> int:
    """Bins with no report (telemetry or event) made in the run's last 24 h and delivered,
    among those whose battery was not empty at the end (the world model says). A bin that
    reported under another id (identity.json damaged) is silent under its own."""
    end_s = sim.end_ms / 1000
    n = 0
    for bin_id, b in sim.bins.items():
        if b.vbin.world.power.soc <= 0.0:
            continue
        since = max(sim.start_ms / 1000, end_s - SILENT_WINDOW_S)
        heard = any((m.json() or {}).get("ts", 0) >= since
                    for kind in ("telemetry", "event") for m in subscriber.of_kind(kind, bin_id))
        n += not heard
    return n


def flash_damage_figures(sim, subscriber) -> dict:
    """flash_damage events delivered per file damaged by the simulator (flash_damage.py);
    None when nothing was damaged. Counted over every bin id: a bin whose identity was
    damaged reports it as bin-unprovisioned."""
    damages = getattr(sim, "flash_damages", None)
    events = sum(1 for m in subscriber.of_kind("event")
                 if (m.json() or {}).get("ev") == "flash_damage")
    return {
        "flash_damages": len(damages) if damages else 0,
        "flash_damage_events": events,
        "flash_damage_events_per_damage": Mean(events, len(damages) if damages else 0, nd=3),
    }


def build(sim, subscriber, proxy, wall_s: float) -> dict:
    """The report as it is written (figures rounded)."""
    return finish(build_raw(sim, subscriber, proxy, wall_s))


def build_raw(sim, subscriber, proxy, wall_s: float) -> dict:
    """The report with its totals and means as parts (figures.py): what shards add up."""
    cfg = sim.cfg
    bins = list(sim.bins.values())
    with proxy.lock:
        published = proxy.stats.by_kind["telemetry"]
        bytes_up, bytes_down = proxy.stats.bytes_up, proxy.stats.bytes_down
    errs = fill_errors(sim, subscriber)
    door_on = 0.0
    both = 0.0
    for b in bins:
        m = b.vbin.motor
        on = list(m.intervals)
        if m.on_since is not None:
            on.append((m.on_since, b.vbin.world.t))
        door_on += _overlap_ms(on, b.vbin.world.door_windows)
        both += m.both_ms
    return {
        "days": cfg.days,
        "bins": cfg.bins,
        "seed": cfg.seed,
        "mode": cfg.mode,
        "wall_s": round(wall_s, 2),
        "wakes": sum(b.vbin.counters.wakes for b in bins),
        "telemetry_published": published,
        "telemetry_received": subscriber.count("telemetry"),
        "events_received": subscriber.count("event"),
        "fill_abs_error_mean_pct": Mean(sum(errs), len(errs)),
        "fill_abs_error_max_pct": round(max(errs), 2) if errs else None,
        "firmware_errors": sim.firmware_errors(),
        "watchdog_resets": sum(b.vbin.counters.watchdog_resets for b in bins),
        "compactions": sum(b.vbin.world.ram.strokes for b in bins),
        "collections_true": sum(len(b.vbin.world.collections) for b in bins),
        "overflow_hours": Total(sum(b.vbin.world.overflow_s for b in bins), scale=1 / 3600),
        "motor_on_with_door_open_ms": Total(door_on, nd=1),
        "motor_both_directions_ms": Total(both, nd=1),
        "bytes_up": bytes_up,
        "bytes_down": bytes_down,
        "battery_soc_min_pct": round(min(b.vbin.world.power.soc_min for b in bins) * 100, 1),
        "sim_requests": sim.requests,
        "silent_bins": silent_bins(sim, subscriber),
        **flash_damage_figures(sim, subscriber),
        **sensing_figures(sim, subscriber),
        **energy_figures(sim, subscriber),
        **compaction_figures(sim, subscriber),
        **network_figures(sim, subscriber, proxy),
        **delivery_figures(sim, subscriber),
        **ota_figures(sim, subscriber),
        **fault_figures(sim, subscriber, proxy),
        **dispatch_figures(sim, subscriber),
    }
