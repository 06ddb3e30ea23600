"""Which messages open an alert and which end one. An alert is one episode: raised once
when its condition starts (later triggers while it lasts only count), ended when the bin
says the condition cleared, and acknowledged / resolved by an operator."""

from __future__ import annotations

from dataclasses import dataclass

from host_tools.backoffice.parse import Record

KINDS = ("full", "fire", "tilt", "sensor_fault", "motor_fault", "modem_fault", "low_energy",
         "flash_damage", "safe_mode", "offline")
OFFLINE_H = 6.0          # no message from a bin for this long: an offline alert
MOTOR_FAULT_BIT = 2
LOW_LEVELS = ("critical", "shutdown")

_EVENT_TRIGGERS = {"full": "full", "fire": "fire", "tilt": "tilt",
                   "sensor_fault": "sensor_fault", "motor_fault": "motor_fault",
                   "modem_fault": "modem_fault", "flash_damage": "flash_damage",
                   "safe_mode": "safe_mode"}
_EVENT_CLEARS = {"collected": "full", "fire_out": "fire", "upright": "tilt",
                 "sensor_ok": "sensor_fault"}


@dataclass
class Change:
    kind: str
    ts: float
    detail: str
    trigger: bool        # True: the condition holds; False: it cleared


def changes(rec: Record) -> list[Change]:
    """The alert conditions a stored record starts or ends (offline ends with any message;
    the store does that)."""
    f, d = rec.fields, rec.data
    out: list[Change] = []
    if rec.kind == "event":
        ev, ts = f["ev"], f["ts"]
        detail = ", ".join(f"{k}={v}" for k, v in d.items() if k not in ("v", "ts", "ev"))
        if ev in _EVENT_TRIGGERS:
            out.append(Change(_EVENT_TRIGGERS[ev], ts, detail[:500], True))
        elif ev in _EVENT_CLEARS:
            out.append(Change(_EVENT_CLEARS[ev], ts, detail[:500], False))
        elif ev == "energy_level":
            low = d.get("level") in LOW_LEVELS
            out.append(Change("low_energy", ts, detail[:500], low))
    elif rec.kind == "telemetry":
        ts = f["ts"]
        if f["elvl"] is not None:
            low = f["elvl"] in LOW_LEVELS
            out.append(Change("low_energy", ts, f"level={f['elvl']}, soc={f['soc']}", low))
        if f["flags"] is not None and not f["flags"] & MOTOR_FAULT_BIT:
            out.append(Change("motor_fault", ts, "", False))
    elif rec.kind == "state":
        if f["st"] == "safe_mode":
            out.append(Change("safe_mode", f["ts"] or 0.0, "the bin is in safe mode", True))
        elif f["st"] == "online":
            out.append(Change("safe_mode", f["ts"] or 0.0, "", False))
    return out
