"""One bin's world: waste, ram, air, sun and battery, users at the hopper door, and the crew
that empties it. Knows physics, not firmware."""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field

from host_tools.sim.world.climate import Climate
from host_tools.sim.world.door import Door
from host_tools.sim.world.motor import Jam, Ram
from host_tools.sim.world.power import Power
from host_tools.sim.world.sensing import SensingScenario
from host_tools.sim.world.waste import Geometry, Waste, field_litres_per_day

COLLECT_HOURS = (5, 10, 14, 19)     # the crew's rounds, local time
COLLECT_ABOVE_PCT = 85.0    # the crew always empties a bin it finds at least this full...
COLLECT_PACKED_PCT = 78.0   # ...and one whose packed waste would pass this by its next round
COLLECT_MARGIN = 1.25       # the crew plans for a busier than usual spell
FULL_LINE_PCT = 85.0        # true crossings of this fill are kept (forecasts are judged on it)


@dataclass
class WorldSettings:
    litres_per_day: float = 90.0
    lat: float = 37.7
    panel_w: float = 20.0
    battery_ah: float = 12.0
    panel_tilt_deg: float = 20.0    # south-facing panel on the lid
    geometry: Geometry = field(default_factory=Geometry)
    scenario: str = "default"       # "sensing": see world/sensing.py
    sensors: tuple = ("a02yyuw",)   # level sensors fitted: a02yyuw, maxbotix, hcsr04
    jam_every_days: float = 10.0    # mean time between obstructions the ram stalls on
    jam_persistent: bool = False    # True: jams never clear by backing off (a technician)
    door_force_prob: float | None = None   # per lock engagement (None: world/door.py)
    fleet: str = "uniform"          # "field": each bin its own volume (waste.py FIELD_*)
    crew: str = "rounds"            # "rounds": the world's own crew; "visits": only the
                                    # visits scheduled with visit() (a dispatched crew)


class BinWorld:
    def __init__(self, seed: int, index: int, start_s: float, settings: WorldSettings):
        self.settings = settings
        self.geo = settings.geometry
        tag = f"{seed}:{index}"
        litres = field_litres_per_day(seed, index) if settings.fleet == "field" \
            else settings.litres_per_day
        self.waste = Waste(random.Random(f"{tag}:deposits"), self.geo, litres)
        self.climate = Climate(str(seed), start_s)
        self.sensing = SensingScenario(seed, index, start_s) \
            if settings.scenario == "sensing" else None
        self.ram = Ram(self.waste, home_mm=self.geo.empty_mm, end_mm=self.geo.ram_end_mm)
        self.power = Power(str(seed), settings.lat, settings.panel_w, settings.battery_ah,
                           tilt_deg=settings.panel_tilt_deg)
        self.noise = random.Random(f"{tag}:noise")
        self.t = start_s
        self.ram.t = start_s
        self.power.advance(start_s)
        self._next_dep = self.waste.next_deposit(start_s)
        self._next_collect = self._collect_after(start_s) if settings.crew == "rounds" \
            else float("inf")
        self._visits: list[float] = []     # a dispatched crew's arrival times (a heap)
        self.door_windows: list[tuple[float, float]] = []
        self.door = Door(random.Random(f"{tag}:door"), self.door_windows)
        if settings.door_force_prob is not None:
            self.door.force_prob = settings.door_force_prob
        self._jam_rng = random.Random(f"{tag}:jams")
        self._next_jam = self._jam_after(start_s)
        self.collections: list[tuple[float, float]] = []   # (time, true fill before)
        self.overflow_s = 0.0
        self.overflow_starts: list[float] = []   # times the true fill passed 100 %
        self.overflow_spells: list[tuple[float, float]] = []   # (from, to) above 100 %
        self._over_since: float | None = None
        self.full_spells: list[tuple[float, float]] = []   # (from, to) above FULL_LINE_PCT
        self._full_since: float | None = None

    @staticmethod
    def _collect_after(t: float) -> float:
        """The next route after t (seconds)."""
        day = (t + 9 * 3600) // 86400
        times = [(day + d) * 86400 + h * 3600 - 9 * 3600 for d in (0, 1) for h in COLLECT_HOURS]
        return min(at for at in times if at > t)

    def _jam_after(self, t: float) -> float:
        days = self.settings.jam_every_days
        return t + self._jam_rng.expovariate(1 / (days * 86400)) if days > 0 else float("inf")

    def advance(self, t: float) -> None:
        """Move the world forward to time t (seconds); never backwards."""
        while True:
            dep_t, litres = self._next_dep
            forced = self.door.forced_at if self.door.forced_at is not None else float("inf")
            visit = self._visits[0] if self._visits else float("inf")
            nxt = min(dep_t, self._next_collect, forced, self._next_jam, visit)
            if nxt > t:
                break
            self._step_to(nxt)
            if nxt == dep_t:
                if self.door.bolt:      # locked: the user waits for the door to unlock
                    self.door.waiting.append(litres)
                else:
                    self._deposit(dep_t, litres)
                self._next_dep = self.waste.next_deposit(dep_t)
            elif nxt == forced:
                self.door.force(nxt, 2.0 + self.noise.random() * 6.0)
            elif nxt == self._next_jam:
                self._jam(nxt)
            elif nxt == visit:
                heapq.heappop(self._visits)
                self._visited(nxt)
            else:
                self._collect(nxt)
                self._next_collect = self._collect_after(nxt)
        self._step_to(t)

    def _deposit(self, t: float, litres: float) -> None:
        was = self.waste.fill_pct()
        self.waste.add(litres)
        if was <= 100.0 < self.waste.fill_pct():
            self.overflow_starts.append(t)
            if self._over_since is None:
                self._over_since = t
        if was < FULL_LINE_PCT <= self.waste.fill_pct() and self._full_since is None:
            self._full_since = t
        dur = 2.0 + self.noise.random() * 6.0
        self.door_windows.append((t, t + dur))

    def _jam(self, t: float) -> None:
        """A bulky item wedges in the hopper: the next stroke stalls on it."""
        self._next_jam = self._jam_after(t)
        if self.ram.jam is not None:
            return
        top = self.geo.empty_mm - 150
        h = min(top, max(350.0, self.waste.height_mm() + 50))
        rng = self._jam_rng
        clears = None if self.settings.jam_persistent else rng.choice((1, 1, 2))
        self.ram.obstruct(Jam(t, h, clears))

    def _collect(self, t: float) -> None:
        """The placeholder crew: empties a bin it finds nearly full, or one whose packed
        waste would pass COLLECT_PACKED_PCT before the next route (it judges what it
        sees in the bin and how busy the site is)."""
        w = self.waste
        if not self.ram.at_home(t):
            return
        coming_l = w.expected_litres(t, self._collect_after(t)) * COLLECT_MARGIN
        packed_next = (w.packed_l + coming_l / w.ratio_now()) / w.capacity_l() * 100
        fill = w.fill_pct()
        if fill >= COLLECT_ABOVE_PCT or packed_next >= COLLECT_PACKED_PCT:
            self.collections.append((t, fill))
            w.empty()
            self._full_ended(t)
            self.ram.clear_jam(t)

    def visit(self, t: float) -> None:
        """A dispatched crew arrives at time t and empties the bin (a time already past is
        taken as now)."""
        heapq.heappush(self._visits, max(t, self.t))

    def _visited(self, t: float) -> None:
        if not self.ram.at_home(t):     # the crew waits for the ram to park
            heapq.heappush(self._visits, t + 60.0)
            return
        self.collections.append((t, self.waste.fill_pct()))
        self.waste.empty()
        self._full_ended(t)
        self.ram.clear_jam(t)

    def set_door_lock(self, t: float, v: int) -> None:
        """The firmware drives the door lock; unlocking lets waiting users deposit."""
        self.advance(t)
        for litres in self.door.set_lock(t, v):
            self._deposit(t, litres)

    def next_door_open(self, until: float) -> float | None:
        """When the door next opens in (now, until], if nothing else changes meanwhile."""
        c = [self.door.forced_at] if self.door.forced_at is not None else []
        if not self.door.bolt:
            c.append(self._next_dep[0])
        e = min(c, default=None)
        return e if e is not None and self.t < e <= until else None

    def _step_to(self, t: float) -> None:
        if t <= self.t:
            return
        if self.waste.fill_pct() > 100:
            self.overflow_s += t - self.t
        self.ram.advance(t)
        self.power.motor_a = self.ram.current_ma(t) / 1000
        self.power.advance(t)
        self.t = t
        self._full_ended(t)

    def _full_ended(self, t: float) -> None:
        """A stroke or a crew took the level back under the full line: the spell ends (and
        an overflow's, once the level is back under the rim)."""
        if self._over_since is not None and self.waste.fill_pct() <= 100.0:
            self.overflow_spells.append((self._over_since, t))
            self._over_since = None
        if self._full_since is not None and self.waste.fill_pct() < FULL_LINE_PCT:
            self.full_spells.append((self._full_since, t))
            self._full_since = None

    def overflow_spells_until(self, t: float) -> list[tuple[float, float]]:
        """The spells above the rim, one still open ending at t."""
        open_ = [(self._over_since, t)] if self._over_since is not None else []
        return self.overflow_spells + open_

    def full_spells_until(self, t: float) -> list[tuple[float, float]]:
        """The spells above the full line, one still open ending at t."""
        open_ = [(self._full_since, t)] if self._full_since is not None else []
        return self.full_spells + open_

    # what sensors see ------------------------------------------------------------------
    def door_open(self, t: float) -> bool:
        self.advance(t)
        return self.door.is_open(t)

    def surface_distance_mm(self, t: float) -> float:
        """Distance from the sensor to the waste under its cone at time t (a pile is uneven:
        each echo sees a slightly different footprint)."""
        self.advance(t)
        h = self.waste.height_mm() + self.noise.gauss(0, self.waste.roughness_mm / 3)
        return max(0.0, self.geo.empty_mm - max(0.0, h))

    def true_fill_pct(self) -> float:
        return self.waste.fill_pct()

    def air_c(self, t: float) -> float:
        if self.sensing is not None:
            return self.sensing.air_c(t)
        return self.climate.air_c(t)
