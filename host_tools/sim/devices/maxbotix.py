"""Emulator of a MaxBotix HRXL-MaxSonar-WR on serial: an identification header at power-up,
then "R" + 4 digits (mm) + CR about 6.7 times a second. The sensor filters and compensates
for temperature itself; it reports its minimum for a target too close and its maximum when
nothing echoes."""

from __future__ import annotations

import random

HEADER = (b"HRXL-MaxSonar-WRL\rPN:MB7389\rCopyright 2011-2013\rMaxBotix, Inc.\r"
          b"RoHS 1.8b090  0713\rTempI\r")
RX_BUFFER = 256


class MaxBotixEmu:
    PERIOD_S = 0.148
    MIN_MM, MAX_MM = 300, 5000

    def __init__(self, world, rng: random.Random, noise_mm: float = 5.0,
                 garbage_rate: float = 0.01):
        self.world, self.rng = world, rng
        self.noise_mm, self.garbage_rate = noise_mm, garbage_rate
        self.buf = bytearray()
        self.next_emit = 0.0
        self.header_at: float | None = None
        self.raw_log: list[tuple[float, int]] = []

    def power_up(self, t: float) -> None:
        self.buf.clear()
        self.header_at = t + 0.16
        self.next_emit = self.header_at + 0.05 + self.rng.random() * self.PERIOD_S

    def _measure(self, t: float) -> int:
        d = self.world.surface_distance_mm(t)
        sensing = getattr(self.world, "sensing", None)
        fault = sensing.sensor_fault(t) if sensing else None
        if fault == "blocked":
            d = 0.0
        elif fault == "no target":
            d = 99999.0
        mm = int(round(d + self.rng.gauss(0, self.noise_mm)))
        return min(self.MAX_MM, max(self.MIN_MM, mm))

    def _push(self, data: bytes) -> None:
        room = RX_BUFFER - len(self.buf)
        self.buf += data[:max(0, room)]

    def _generate(self, t: float) -> None:
        if self.header_at is not None and self.header_at <= t:
            self._push(HEADER)
            self.header_at = None
        if t - self.next_emit > 5.0:
            self.next_emit = t - 5.0
        while self.next_emit <= t:
            te = self.next_emit
            mm = self._measure(te)
            self.raw_log.append((te, mm))
            data = b"R%04d\r" % mm
            if self.rng.random() < self.garbage_rate:
                data = bytes([self.rng.randrange(256)]) + data
            self._push(data)
            self.next_emit = te + self.PERIOD_S + self.rng.uniform(-0.003, 0.003)

    def any(self, t: float) -> int:
        self._generate(t)
        return len(self.buf)

    def read(self, t: float, n: int, timeout_s: float) -> tuple[bytes, float]:
        self._generate(t)
        if not self.buf:
            first = self.next_emit if self.header_at is None else self.header_at
            if first > t + timeout_s:
                return b"", t + timeout_s
            t = first + 0.007   # 7 bytes at 9600 baud
            self._generate(t)
        if n < 0:
            n = len(self.buf)
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out, t

    def write(self, t: float, data: bytes) -> None:
        pass
