"""One bin's world: waste, ram, air, sun and battery, users at the hopper door, and the crew
that empties it. Knows physics, not firmware."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from host_tools.sim.world.climate import Climate
from host_tools.sim.world.motor import Ram
from host_tools.sim.world.power import Power
from host_tools.sim.world.waste import Geometry, Waste

COLLECT_HOURS = (5, 14)     # the crew's routes, local time
COLLECT_ABOVE_PCT = 70.0    # the world's crew empties bins it finds at least this full


@dataclass
class WorldSettings:
    litres_per_day: float = 90.0
    lat: float = 37.7
    panel_w: float = 20.0
    battery_ah: float = 12.0
    geometry: Geometry = field(default_factory=Geometry)


class BinWorld:
    def __init__(self, seed: int, index: int, start_s: float, settings: WorldSettings):
        self.settings = settings
        self.geo = settings.geometry
        tag = f"{seed}:{index}"
        self.waste = Waste(random.Random(f"{tag}:deposits"), self.geo, settings.litres_per_day)
        self.climate = Climate(str(seed), start_s)
        self.ram = Ram(self.waste, home_mm=self.geo.empty_mm, end_mm=self.geo.ram_end_mm)
        self.power = Power(str(seed), settings.lat, settings.panel_w, settings.battery_ah)
        self.noise = random.Random(f"{tag}:noise")
        self.t = start_s
        self.ram.t = start_s
        self.power.advance(start_s)
        self._next_dep = self.waste.next_deposit(start_s)
        self._next_collect = self._collect_after(start_s)
        self.door_windows: list[tuple[float, float]] = []
        self.collections: list[tuple[float, float]] = []   # (time, true fill before)
        self.overflow_s = 0.0

    @staticmethod
    def _collect_after(t: float) -> float:
        """The next route after t (seconds)."""
        day = (t + 9 * 3600) // 86400
        times = [(day + d) * 86400 + h * 3600 - 9 * 3600 for d in (0, 1) for h in COLLECT_HOURS]
        return min(at for at in times if at > t)

    def advance(self, t: float) -> None:
        """Move the world forward to time t (seconds); never backwards."""
        while True:
            dep_t, litres = self._next_dep
            nxt = min(dep_t, self._next_collect)
            if nxt > t:
                break
            self._step_to(nxt)
            if nxt == dep_t:
                self.waste.add(litres)
                dur = 2.0 + self.noise.random() * 6.0
                self.door_windows.append((dep_t, dep_t + dur))
                self._next_dep = self.waste.next_deposit(dep_t)
            else:
                fill = self.waste.fill_pct()
                if fill >= COLLECT_ABOVE_PCT and self.ram.at_home(nxt):
                    self.collections.append((nxt, fill))
                    self.waste.empty()
                self._next_collect = self._collect_after(nxt)
        self._step_to(t)

    def _step_to(self, t: float) -> None:
        if t <= self.t:
            return
        if self.waste.fill_pct() > 100:
            self.overflow_s += t - self.t
        self.ram.advance(t)
        self.power.motor_a = self.ram.current_ma(t) / 1000
        self.power.advance(t)
        self.t = t

    # what sensors see ------------------------------------------------------------------
    def door_open(self, t: float) -> bool:
        self.advance(t)
        return bool(self.door_windows) and self.door_windows[-1][0] <= t < self.door_windows[-1][1]

    def surface_distance_mm(self, t: float) -> float:
        """Distance from the sensor to the waste under its cone at time t (a pile is uneven:
        each echo sees a slightly different footprint)."""
        self.advance(t)
        h = self.waste.height_mm() + self.noise.gauss(0, self.waste.roughness_mm / 3)
        return max(0.0, self.geo.empty_mm - max(0.0, h))

    def true_fill_pct(self) -> float:
        return self.waste.fill_pct()

    def air_c(self, t: float) -> float:
        return self.climate.air_c(t)
