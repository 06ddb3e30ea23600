"""Compactor ram physics: position from the H-bridge inputs over time, current from the
load the waste offers, limit switches at both ends of the stroke."""

from __future__ import annotations

from host_tools.sim.world.waste import Waste

SPEED_MM_S = 100.0      # ram speed, no load (a full cycle takes ~20 s)
RUN_MA = 3000           # free-running current
INRUSH_MA = 9000        # start current, decays over INRUSH_S
INRUSH_S = 0.15
LOAD_MA = 11000         # extra current at full compression resistance
STALL_MA = 24000        # ram blocked (motor stalled)


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

    def direction(self) -> int:
        if self.in1 and not self.in2:
            return -1   # down (compress)
        if self.in2 and not self.in1:
            return 1    # up (retract)
        return 0        # coast or brake (both high is a shoot-through, see SafetyMonitor)

    def advance(self, t: float) -> None:
        d = self.direction()
        while self.t < t and d:
            dt = min(0.05, t - self.t)
            if d < 0:
                target = max(self.end_mm, self.y - SPEED_MM_S * dt)
                self.resistance = self.waste.press_to(target)
                floor = max(self.end_mm, self.waste.packed_height_mm())
                self.y = max(target, floor)
                self.blocked = self.y <= floor + 0.5 and floor > self.end_mm + 0.5
            else:
                self.resistance = 0.0
                self.blocked = False
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
            if now < 0:
                self.strokes += 1
        if not now:
            self.blocked = False
            self.resistance = 0.0

    def current_ma(self, t: float) -> float:
        self.advance(t)
        d = self.direction()
        if not d:
            return 0.0
        i = RUN_MA
        since = t - self.started
        if since < INRUSH_S:
            i += INRUSH_MA * (1 - since / INRUSH_S)
        if d < 0:
            i = STALL_MA if self.blocked else i + LOAD_MA * self.resistance
        elif self.y >= self.home_mm:
            i = STALL_MA  # driven into the top stop
        return i

    def at_home(self, t: float) -> bool:
        self.advance(t)
        return self.y >= self.home_mm - 1

    def at_end(self, t: float) -> bool:
        self.advance(t)
        return self.y <= self.end_mm + 1
