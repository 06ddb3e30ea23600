"""The hopper door and its lock. Users open the door to deposit; while the compactor holds
the door locked their deposit waits until it unlocks. A seeded lock failure lets someone
force the door open while it is locked (the compactor's door interrupt must then stop the
ram); a bolt may also fail to throw (the compactor must not start)."""

from __future__ import annotations

import random

FORCE_PROB = 0.02            # per lock engagement: the door is forced open while locked
ENGAGE_FAIL_PROB = 0.01      # per lock engagement: the bolt does not throw
FORCE_AFTER_S = (0.3, 20.0)  # when, after the bolt threw, the door is forced


class Door:
    def __init__(self, rng: random.Random, windows: list[tuple[float, float]],
                 force_prob: float = FORCE_PROB, engage_fail_prob: float = ENGAGE_FAIL_PROB):
        self.rng = rng
        self.windows = windows          # (open, close) times; shared with the world
        self.force_prob = force_prob
        self.engage_fail_prob = engage_fail_prob
        self.lock_out = 0               # the solenoid's drive pin
        self.bolt = False               # the bolt is thrown and holds the door
        self.forced_at: float | None = None
        self.waiting: list[float] = []  # litres of users waiting at the locked door
        self.forced: list[tuple[float, float]] = []     # forced-open windows
        self.engagements = 0
        self.engage_failures = 0

    def is_open(self, t: float) -> bool:
        return any(a <= t < b for a, b in self.windows[-4:])

    def set_lock(self, t: float, v: int) -> list[float]:
        """The firmware drives the lock. Returns the deposits released by unlocking."""
        if v and not self.lock_out:
            self.lock_out = 1
            self.engagements += 1
            if self.is_open(t) or self.rng.random() < self.engage_fail_prob:
                self.engage_failures += not self.is_open(t)
                self.bolt = False
            else:
                self.bolt = True
                if self.rng.random() < self.force_prob:
                    self.forced_at = t + self.rng.uniform(*FORCE_AFTER_S)
        elif not v and self.lock_out:
            self.lock_out = 0
            self.bolt = False
            self.forced_at = None
            released, self.waiting = self.waiting, []
            return released
        return []

    def force(self, t: float, dur_s: float) -> None:
        """The scheduled lock failure happens: the door opens although it is locked."""
        self.forced_at = None
        self.bolt = False
        self.windows.append((t, t + dur_s))
        self.forced.append((t, t + dur_s))
