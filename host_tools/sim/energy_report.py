"""Energy figures of the report. Consumption, harvest, charge and brown-outs come from the
world's power model (loads taken from what the firmware did: awake time, modem sessions,
motor current); level changes and alerts only from what the broker delivered."""

from __future__ import annotations

from host_tools.sim.figures import Mean, Total

FULL_TRUE_PCT = 90.0     # a true fill this high must have raised a full alert...
FULL_CLEAR_PCT = 70.0    # ...in the stretch above this, or since the crew last emptied it
ALERT_GRACE_S = 3600     # (the firmware latches the alert until the fill falls well below)


def _events(subscriber, code: str) -> list[tuple[str, dict]]:
    out = []
    for m in subscriber.of_kind("event"):
        d = m.json()
        if d and d.get("ev") == code:
            out.append((m.bin_id, d))
    return out


def full_episodes(truth: list[tuple[int, float]]) -> list[tuple[float, float]]:
    """(start_s, end_s) of stretches where the true fill stayed above FULL_CLEAR_PCT and
    somewhere reached FULL_TRUE_PCT (truth: (t_ms, fill) at each sensor read)."""
    out = []
    start = None
    peak = 0.0
    last_t = 0.0
    for t_ms, fill in truth:
        t = t_ms / 1000
        if fill >= FULL_CLEAR_PCT:
            if start is None:
                start, peak = t, fill
            peak = max(peak, fill)
        elif start is not None:
            if peak >= FULL_TRUE_PCT:
                out.append((start, last_t))
            start = None
        last_t = t
    if start is not None and peak >= FULL_TRUE_PCT:
        out.append((start, last_t))
    return out


def figures(sim, subscriber) -> dict:
    bins = list(sim.bins.values())
    days = max(sim.cfg.days, 1e-9)
    n = max(1, len(bins))
    used = {"mcu": 0.0, "modem": 0.0, "motor": 0.0}
    solar = potential = empty_s = 0.0
    for b in bins:
        p = b.vbin.world.power
        for k in used:
            used[k] += p.used_wh[k]
        solar += p.solar_wh
        potential += p.solar_potential_wh
        empty_s += p.empty_s
    levels = _events(subscriber, "energy_level")
    fulls: dict[str, list[float]] = {}
    for bin_id, d in _events(subscriber, "full"):
        fulls.setdefault(bin_id, []).append(float(d.get("ts", 0)))
    episodes = missed = 0
    changes: dict[str, list[tuple[float, str]]] = {}
    for bin_id, d in levels:
        changes.setdefault(bin_id, []).append((float(d.get("ts", 0)), d.get("level")))
    for b in bins:
        ts = fulls.get(b.vbin.bin_id, [])
        emptied = [t for t, _ in b.vbin.world.collections]
        timeline = sorted(changes.get(b.vbin.bin_id, []))
        for s, e in full_episodes(b.vbin.truth):
            # only stretches the bin spent (partly) saving energy, as its delivered level
            # changes tell: did the saving cost an alert?
            before = [lv for t, lv in timeline if t <= s]
            saving = (before and before[-1] != "normal") or \
                any(s < t <= e and lv != "normal" for t, lv in timeline)
            if not saving:
                continue
            episodes += 1
            # an alert raised since the crew last emptied the bin still stands (latched)
            since = max((t for t in emptied if t <= s), default=float("-inf"))
            if not any(since <= t <= e + ALERT_GRACE_S for t in ts):
                missed += 1
    brownout_reports = sum(1 for _, d in _events(subscriber, "reset")
                           if d.get("cause") == "brownout")
    return {
        # per bin and day: the parts are the watt-hours and the bin-days
        "energy_wh_per_day": {k: Mean(v, n * days) for k, v in used.items()},
        "solar_wh_per_day": Mean(solar, n * days),
        "solar_potential_wh_per_day": Mean(potential, n * days),
        "brownouts": sum(b.vbin.world.power.brownouts for b in bins),
        "brownouts_reported": brownout_reports,
        # cold boots in an announced surge with the RTC memory lost: a cut or a brown-out,
        # reported as either (the board cannot tell them apart)
        "power_losses_in_surge_reported": sum(1 for _, d in _events(subscriber, "reset")
                                              if d.get("cause") == "power_loss"),
        "battery_soc_end_pct": round(min(b.vbin.world.power.soc for b in bins) * 100, 1),
        "battery_empty_hours": Total(empty_s, scale=1 / 3600),
        "energy_level_changes": len(levels),
        "energy_levels_seen": sorted({d.get("level") for _, d in levels if d.get("level")}),
        "full_episodes_saving": episodes,
        "full_alerts_missed_saving": missed,
    }
