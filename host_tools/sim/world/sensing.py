"""The `sensing` scenario: what the fill sensors must survive, on a seeded schedule.

- air in the bin sweeping from about -15 C to +45 C over a 30-day "season", with a large
  day/night swing and the sun heating the enclosure;
- condensation on cold mornings: droplets on the transducer give short echoes (spikes);
- sensor faults for a few hours each: blocked (echoes inside the dead zone), stuck (a frozen
  value), no target (the sensor reports its maximum);
- a fire in the bin (the air heats by ~70 C within 20 minutes) and a knock-over (the tilt
  switch opens).
The schedule repeats every CYCLE_DAYS, so a 30-day run sees each incident twice.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

CYCLE_DAYS = 15.0
SEASON_DAYS = 30.0
FIRE_RAMP_S = 1200.0      # to full heat
FIRE_HOLD_S = 2400.0
FIRE_COOL_S = 7200.0      # time constant of the cool-down
FIRE_HEAT_C = 70.0


@dataclass
class Incident:
    kind: str        # blocked | stuck | no target | fire | tilt
    start: float     # Unix s
    end: float


class SensingScenario:
    def __init__(self, seed: int, index: int, start_s: float, days: float = 60.0):
        rng = random.Random(f"{seed}:{index}:sensing")
        self.start = start_s
        self.incidents: list[Incident] = []
        plan = [("blocked", 2.3, 5.0), ("stuck", 5.6, 3.0), ("no target", 8.4, 4.0),
                ("fire", 10.6, 1.0), ("tilt", 12.9, 0.5)]
        cycle = 0
        while cycle * CYCLE_DAYS < days:
            for kind, day, hours in plan:
                t0 = start_s + (cycle * CYCLE_DAYS + day + rng.uniform(0, 1.5)) * 86400
                self.incidents.append(Incident(kind, t0, t0 + hours * 3600))
            cycle += 1
        self._noise = random.Random(f"{seed}:{index}:sensing-noise")
        self.stuck_mm: int | None = None

    def of_kind(self, kind: str) -> list[Incident]:
        return [i for i in self.incidents if i.kind == kind]

    def active(self, kind: str, t: float) -> bool:
        return any(i.start <= t < i.end for i in self.incidents if i.kind == kind)

    def sensor_fault(self, t: float) -> str | None:
        for kind in ("blocked", "stuck", "no target"):
            if self.active(kind, t):
                return kind
        return None

    def tilted(self, t: float) -> bool:
        return self.active("tilt", t)

    def fire_heat_c(self, t: float) -> float:
        heat = 0.0
        for i in self.of_kind("fire"):
            dt = t - i.start
            if dt < 0:
                continue
            if dt < FIRE_RAMP_S:
                heat = max(heat, FIRE_HEAT_C * dt / FIRE_RAMP_S)
            elif dt < FIRE_RAMP_S + FIRE_HOLD_S:
                heat = max(heat, FIRE_HEAT_C)
            else:
                cool = dt - FIRE_RAMP_S - FIRE_HOLD_S
                heat = max(heat, FIRE_HEAT_C * math.exp(-cool / FIRE_COOL_S))
        return heat

    def air_c(self, t: float) -> float:
        """-15..+45 C: a season's mean sweep, a 10 C day/night swing, the sun, a fire."""
        season = (t - self.start) / 86400 / SEASON_DAYS * 2 * math.pi
        mean = 12.5 - 17.5 * math.cos(season)
        hour = ((t + 9 * 3600) % 86400) / 3600
        daily = 10.0 * math.cos((hour - 15) / 24 * 2 * math.pi)
        sun = max(0.0, math.cos((hour - 13) / 12 * math.pi)) * 5.0
        return mean + daily + sun + self.fire_heat_c(t)

    def condensation(self, t: float) -> float:
        """Extra rate of short echoes from droplets on the transducer (cold air)."""
        c = self.air_c(t)
        return 0.15 if c < 3.0 else 0.0
