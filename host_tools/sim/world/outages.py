"""Seeded outage schedule of the `outages` scenario: the broker down for hours, modem hangs,
registration denied, coverage lost (also in the middle of a publish) and PDP contexts
deactivated mid-session. Knows times, not firmware; the modem emulator and the network model
apply it and record what they actually applied."""

from __future__ import annotations

import random
from dataclasses import dataclass

HORIZON_DAYS = 400

# kind: (mean days between, min duration s, max duration s); duration 0 = one-shot
KINDS = {
    "broker_down": (3.0, 2 * 3600, 6 * 3600),     # the broker refuses every connection
    "modem_hang": (2.0, 0, 0),                    # the next AT command is never answered
    "reg_denied": (4.0, 3600, 3 * 3600),          # attach attempts end in CEREG stat 3
    "no_coverage": (4.0, 1800, 3 * 3600),         # searching (stat 2) and never registered
    "coverage_cut": (2.5, 1200, 3600),            # lost in the middle of a session
    "pdp_drop": (2.5, 0, 0),                      # +APP PDP: 0,DEACTIVE mid-session
    "modem_reboot": (3.0, 0, 0),                  # a TX burst browns the modem out: RDY
}
GLOBAL = {"broker_down"}                          # the same for every bin
ONE_SHOT_S = 86400.0                              # a one-shot not met by then lapses


@dataclass
class Outage:
    kind: str
    start: float
    end: float
    applied: int = 0      # times the emulator or network model acted on it


def schedule(seed: int, index: int, start_s: float) -> list[Outage]:
    out: list[Outage] = []
    for kind, (mean_days, lo, hi) in KINDS.items():
        rng = random.Random(f"{seed}:{'all' if kind in GLOBAL else index}:outage:{kind}")
        t = start_s + rng.uniform(0.3, 1.0) * 86400 * mean_days
        while t < start_s + HORIZON_DAYS * 86400:
            dur = rng.uniform(lo, hi) if hi else 0.0
            out.append(Outage(kind, t, t + dur))
            t += dur + rng.expovariate(1 / (mean_days * 86400))
    out.sort(key=lambda o: o.start)
    return out


class Outages:
    """Lookups for the emulator: windows active at t, one-shot events due by t."""

    def __init__(self, items: list[Outage]):
        self.items = items

    def active(self, kind: str, t: float) -> Outage | None:
        for o in self.items:
            if o.start > t:
                return None
            if o.kind == kind and o.start <= t < o.end:
                return o
        return None

    def due(self, kind: str, t: float) -> Outage | None:
        """A one-shot of this kind that started by t, less than a day ago, never applied."""
        for o in self.items:
            if o.start > t:
                return None
            if o.kind == kind and not o.applied and t - o.start < ONE_SHOT_S:
                return o
        return None

    def applied(self, until: float) -> list[dict]:
        return [{"kind": o.kind, "start": round(o.start), "end": round(o.end),
                 "applied": o.applied} for o in self.items if o.start < until]
