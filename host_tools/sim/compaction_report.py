"""Compactor figures for the report, all from outside the firmware: the ram and the door in
the world model, the H-bridge and lock pins, the waste stream, and (for fault events only)
what the broker delivered."""

from __future__ import annotations

from host_tools.sim.figures import Total


def figures(sim, subscriber) -> dict:
    bins = list(sim.bins.values())
    jams = [j for b in bins for j in b.vbin.world.ram.jams if j.hits]
    # a jam the firmware could not clear by backing off: it must end in a fault, not in
    # endless retries (jam_hits_max shows how often the ram was driven into one jam)
    stuck = [j for j in jams
             if j.clears_after is None or j.backoffs < j.clears_after]
    faults = 0
    for m in subscriber.of_kind("event"):
        d = m.json() or {}
        if d.get("ev") == "motor_fault" and d.get("why") == "jam" and d.get("latched"):
            faults += 1
    return {
        "jams": len(jams),
        "jam_faults": len(stuck),
        "jam_hits_max": max((j.hits for j in jams), default=0),
        "jam_fault_events_received": faults,
        "collections_uncompacted_baseline": sum(b.vbin.world.waste.uncompacted_fulls
                                                for b in bins),
        "litres_deposited": Total(sum(b.vbin.world.waste.loose_total_l for b in bins), nd=1),
        "motor_temp_max_c": round(max(b.vbin.world.ram.temp_max_c for b in bins), 1)
        if any(b.vbin.world.ram.temp_c is not None for b in bins) else None,
        "door_lock_engagements": sum(b.vbin.world.door.engagements for b in bins),
        "door_forced_opens": sum(len(b.vbin.world.door.forced) for b in bins),
        "door_irq_edges": sum(b.vbin.irq_delivered for b in bins),
    }
