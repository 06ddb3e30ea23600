"""Modem and network figures for the report, all from outside the firmware: the SIM7080G
emulator's power key and power state, the network model's connections, and (for modem fault
events only) what the broker delivered. The outage schedule is listed as it was applied."""

from __future__ import annotations

from collections import Counter

OUTAGE_LIST_MAX = 200    # longer schedules are summarised by kind only


def figures(sim, subscriber, proxy) -> dict:
    bins = list(sim.bins.values())
    emus = [b.vbin.modem for b in bins]
    with proxy.lock:
        nets = [proxy.bins.get(b.vbin.bin_id) for b in bins]
    nets = [n for n in nets if n is not None]
    denied_events = 0
    for m in subscriber.of_kind("event"):
        d = m.json() or {}
        if d.get("ev") == "modem_fault" and d.get("why") == "denied":
            denied_events += 1
    out = {
        "modem_power_cycles": sum(e.power_cycles for e in emus),
        "modem_toggle_offs_while_answering": sum(e.key_off_responsive for e in emus),
        "modem_power_ons": sum(e.power_ons for e in emus),
        "modem_left_on": sum(1 for e in emus if e.powered),
        "modem_at_commands": sum(e.commands for e in emus),
        "modem_sessions": sum(e.sessions for e in emus),
        "modem_hangs": sum(e.hangs for e in emus),
        "modem_reboots": sum(e.reboots for e in emus),
        "registrations_denied": sum(e.denials for e in emus),
        "registration_denied_events_received": denied_events,
        "reconnects": sum(n.reconnects for n in nets),
        "connections": sum(n.connections for n in nets),
        "connections_refused": sum(n.refused for n in nets),
        "connections_cut": sum(n.cuts for n in nets),
    }
    scheduled = [(b.vbin.bin_id, o) for b in bins if b.vbin.outages is not None
                 for o in b.vbin.outages.items if o.start * 1000 < sim.end_ms]
    if scheduled:
        kinds = Counter()
        for _, o in scheduled:
            kinds[o.kind, "scheduled"] += 1
            kinds[o.kind, "applied"] += 1 if o.applied else 0
        out["outages_by_kind"] = {k: {"scheduled": kinds[k, "scheduled"],
                                      "applied": kinds[k, "applied"]}
                                  for k in sorted({k for k, _ in kinds})}
        if len(scheduled) <= OUTAGE_LIST_MAX:
            out["outages"] = [{"bin": bid, "kind": o.kind, "start": round(o.start),
                               "end": round(o.end), "applied": o.applied}
                              for bid, o in scheduled]
    return out
