"""Compactor ram physics: position from the H-bridge inputs over time, current from the
load the waste offers, limit switches at both ends of the stroke, jams (an obstruction the
ram stalls on), and the motor winding temperature."""

from __future__ import annotations

import math
from dataclasses import dataclass

from host_tools.sim.world.waste import Waste

SPEED_MM_S = 100.0      # ram speed, no load (a full cycle takes ~20 s)
RUN_MA = 3000           # free-running current
INRUSH_MA = 9000        # start current, decays over INRUSH_S
INRUSH_S = 0.15
LOAD_MA = 11000         # extra current at full compression resistance
STALL_MA = 24000        # ram blocked (motor stalled)
HEAT_C_PER_A2S = 0.007  # winding temperature rise per A^2 s of current
COOL_TAU_S = 900.0      # winding cooling time constant


@dataclass
class Jam:
    """An obstruction (a wedged bulky item) the ram stalls on at height_mm. It clears after
    `clears_after` back-offs, or never (a technician or the crew removes it)."""
    t: float
    height_mm: float
    clears_after: int | None
    hits: int = 0           # times the ram was driven into it until it stalled
    backoffs: int = 0
    cleared_t: float | None = None
    last_hit_t: float | None = None


class Ram:
    def __init__(self, waste: Waste, home_mm: float, end_mm: float):
        self.waste = waste
        self.home_mm = home_mm        # height of the ram face above the floor when parked
        self.end_mm = end_mm          # height at the end switch
        self.y = home_mm
        self.in1 = 0
        self.in2 = 0
        self.t = 0.0                  # time the state above refers to (s)
        self.started = 0.0
        self.resistance = 0.0
        self.blocked = False
        self.strokes = 0
        self.packed = False           # pressing on fully packed waste
        self.jam: Jam | None = None
        self.jams: list[Jam] = []
        self.ambient_c = 20.0
        self.temp_c: float | None = None    # winding; the air's until the motor first runs
        self.temp_max_c = -273.0
        self._on_obstruction = False
        self._hit_pending = False

    def direction(self) -> int:
        if self.in1 and not self.in2:
            return -1   # down (compress)
        if self.in2 and not self.in1:
            return 1    # up (retract)
        return 0        # coast or brake (both high is a shoot-through, see SafetyMonitor)

    def obstruct(self, jam: Jam) -> None:
        self.jam = jam
        self.jams.append(jam)

    def clear_jam(self, t: float) -> None:
        if self.jam is not None:
            self.jam.cleared_t = t
            self.jam = None

    def advance(self, t: float) -> None:
        d = self.direction()
        if self.temp_c is None:
            self.temp_c = self.ambient_c
        if not d and t > self.t:   # idle: the winding cools towards the air
            k = math.exp(-(t - self.t) / COOL_TAU_S)
            self.temp_c = self.ambient_c + (self.temp_c - self.ambient_c) * k
        while self.t < t and d:
            dt = min(0.05, t - self.t)
            i_a = self._current(self.t) / 1000
            self.temp_c += i_a * i_a * dt * HEAT_C_PER_A2S \
                - (self.temp_c - self.ambient_c) * dt / COOL_TAU_S
            self.temp_max_c = max(self.temp_max_c, self.temp_c)
            if d < 0:
                target = max(self.end_mm, self.y - SPEED_MM_S * dt)
                stop = self.jam.height_mm if self.jam is not None else self.end_mm
                if target <= stop and self.jam is not None:
                    target = stop
                self.resistance = self.waste.press_to(target)
                floor = max(self.end_mm, self.waste.packed_height_mm())
                self.y = max(target, floor)
                on_jam = self.jam is not None and self.y <= self.jam.height_mm + 0.5 \
                    and self.jam.height_mm > floor
                if on_jam and not self._on_obstruction:
                    self.jam.hits += 1
                    self.jam.last_hit_t = self.t
                    self._hit_pending = True
                self._on_obstruction = on_jam
                self.blocked = on_jam
                self.packed = self.y <= floor + 0.5 and floor > self.end_mm + 0.5
            else:
                self.resistance = 0.0
                self.blocked = False
                self.packed = False
                self.y = min(self.home_mm, self.y + SPEED_MM_S * dt)
            self.t += dt
        self.t = max(self.t, t)

    def set_inputs(self, t: float, in1: int, in2: int) -> None:
        self.advance(t)
        was = self.direction()
        self.in1, self.in2 = in1, in2
        now = self.direction()
        if now and now != was:
            self.started = t
            if now < 0 and self.at_home(t):
                self.strokes += 1       # a compaction: the ram leaves its parked position
            if now > 0 and self._hit_pending and self.jam is not None:
                self._hit_pending = False
                self.jam.backoffs += 1  # backing off may shift the wedged item
                if self.jam.clears_after is not None \
                        and self.jam.backoffs >= self.jam.clears_after:
                    self.clear_jam(t)
        if now != was:
            self._on_obstruction = False
        if not now:
            self.blocked = False
            self.packed = False
            self.resistance = 0.0

    def current_ma(self, t: float) -> float:
        self.advance(t)
        return self._current(t)

    def _current(self, t: float) -> float:
        d = self.direction()
        if not d:
            return 0.0
        i = RUN_MA
        since = t - self.started
        if since < INRUSH_S:
            i += INRUSH_MA * (1 - since / INRUSH_S)
        if d < 0:
            if self.blocked:
                i = STALL_MA        # stalled on an obstruction
            elif self.packed:
                i = RUN_MA + LOAD_MA    # pressing on fully packed waste
            else:
                i += LOAD_MA * self.resistance
        elif self.y >= self.home_mm:
            i = STALL_MA  # driven into the top stop
        return i

    def at_home(self, t: float) -> bool:
        self.advance(t)
        return self.y >= self.home_mm - 1

    def at_end(self, t: float) -> bool:
        self.advance(t)
        return self.y <= self.end_mm + 1
