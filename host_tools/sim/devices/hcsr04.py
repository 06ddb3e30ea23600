"""Emulator of an HC-SR04 / JSN-SR04T trigger/echo ranger: a trigger pulse starts a ping,
the echo pin is then high for the round trip at the speed of sound in the bin's air. No
target: the echo outlasts any sensible timeout (clones end it after ~38 ms)."""

from __future__ import annotations

import random

from host_tools.sim.world.climate import sound_speed

NO_ECHO_US = 38000


class HCSR04Emu:
    def __init__(self, world, rng: random.Random, noise_mm: float = 3.0,
                 spike_rate: float = 0.04, min_gap_s: float = 0.06):
        self.world, self.rng = world, rng
        self.noise_mm, self.spike_rate, self.min_gap_s = noise_mm, spike_rate, min_gap_s
        self.triggered_at: float | None = None
        self.last_ping: float | None = None
        self.raw_log: list[tuple[float, int]] = []    # (t, echo us)

    def power_up(self, t: float) -> None:
        self.triggered_at = None

    def trigger(self, t: float) -> None:
        self.triggered_at = t

    def echo_us(self, t: float) -> int:
        d = self.world.surface_distance_mm(t)
        sensing = getattr(self.world, "sensing", None)
        fault = sensing.sensor_fault(t) if sensing else None
        if fault == "no target" or d > 4500:
            return NO_ECHO_US
        if fault == "blocked":
            d = 15.0
        elif self.rng.random() < self.spike_rate:
            d = self.rng.uniform(150, max(160.0, d * 0.8))
        if self.last_ping is not None and t - self.last_ping < self.min_gap_s:
            d = self.rng.uniform(100, 4000)    # caught the previous ping's echo
        d = max(5.0, d + self.rng.gauss(0, self.noise_mm))
        return int(round(2000 * d / sound_speed(self.world.air_c(t))))   # mm / (m/s) = ms

    def pulse_us(self, t: float, level: int, timeout_us: int) -> tuple[int, float]:
        """machine.time_pulse_us on the echo pin: (width or -2 no pulse / -1 timeout, t)."""
        if self.triggered_at is None or level != 1:
            return -2, t + timeout_us / 1e6
        start = self.triggered_at + 0.0005     # the module sends its burst first
        self.triggered_at = None
        us = self.echo_us(start)
        self.last_ping = start
        self.raw_log.append((start, us))
        if us > timeout_us:
            return -1, start + timeout_us / 1e6
        return us, start + us / 1e6
