"""Emulator of the A02YYUW UART ultrasonic sensor: one 4-byte frame every ~100 ms
(0xFF, H, L, SUM), distance at the sensor's own 20 C sound speed, with echo noise,
multipath spikes, garbage bytes and bad checksums at configurable rates."""

from __future__ import annotations

import random
from dataclasses import dataclass

from host_tools.sim.world.climate import sound_speed

C20 = sound_speed(20.0)
NO_TARGET_MM = 4800  # what a clone reports with no echo (configurable on real parts)
RX_BUFFER = 256     # bytes the board's UART driver holds; newer bytes are lost when full
FRAME_S = 0.004     # a frame's 4 bytes at 9600 baud


@dataclass
class EchoFaults:
    noise_mm: float = 4.0
    spike_rate: float = 0.04      # multipath / lid echoes: a much shorter distance
    garbage_rate: float = 0.02    # stray bytes between frames
    bad_sum_rate: float = 0.01    # corrupted frame


def frame(mm: int) -> bytes:
    mm = max(0, min(0xFFFF, mm))
    h, lo = mm >> 8, mm & 0xFF
    return bytes([0xFF, h, lo, (0xFF + h + lo) & 0xFF])


class A02YYUWEmu:
    PERIOD_S = 0.1

    def __init__(self, world, rng: random.Random, faults: EchoFaults | None = None):
        self.world = world
        self.rng = rng
        self.faults = faults or EchoFaults()
        self.buf = bytearray()
        self.next_emit = 0.0
        self.raw_log: list[tuple[float, int]] = []   # (t, mm) of every frame emitted
        self.stuck_mm: int | None = None

    def power_up(self, t: float) -> None:
        """Board reset: the UART buffer is empty; the sensor's first frame follows soon."""
        self.buf.clear()
        self.next_emit = t + 0.05 + self.rng.random() * self.PERIOD_S

    def _measure(self, t: float) -> int:
        f = self.faults
        d = self.world.surface_distance_mm(t)
        sensing = getattr(self.world, "sensing", None)
        if sensing is not None:
            fault = sensing.sensor_fault(t)
            if fault == "blocked":         # debris or frost on the transducer
                return self.rng.randint(18, 29)
            if fault == "no target":       # the sensor's maximum (clone-dependent)
                return NO_TARGET_MM
            if fault == "stuck":           # a frozen output: the last value, forever
                if self.stuck_mm is None:
                    self.stuck_mm = self.raw_log[-1][1] if self.raw_log else 900
                return self.stuck_mm
            self.stuck_mm = None
            if self.rng.random() < sensing.condensation(t):
                d = self.rng.uniform(150, 320)   # a droplet's short echo
        if self.rng.random() < f.spike_rate:
            d = self.rng.uniform(150, max(160.0, d * 0.8))
        c = sound_speed(self.world.air_c(t))
        mm = d * C20 / c + self.rng.gauss(0, f.noise_mm)
        return int(round(mm))

    def _generate(self, t: float) -> None:
        if t - self.next_emit > 5.0:  # long idle: only the newest frames matter
            self.next_emit = t - 5.0
        while self.next_emit <= t:
            te = self.next_emit
            mm = self._measure(te)
            self.raw_log.append((te, mm))
            data = bytearray(frame(mm))
            if self.rng.random() < self.faults.bad_sum_rate:
                data[3] ^= 0x5A
            if self.rng.random() < self.faults.garbage_rate:
                data = bytearray(self.rng.randbytes(self.rng.randint(1, 3))) + data
            room = RX_BUFFER - len(self.buf)
            self.buf += data[:max(0, room)]
            self.next_emit = te + self.PERIOD_S + self.rng.uniform(-0.005, 0.005)

    def any(self, t: float) -> int:
        self._generate(t)
        return len(self.buf)

    def read(self, t: float, n: int, timeout_s: float,
             char_s: float = 0.0) -> tuple[bytes, float]:
        """Bytes for a read of up to n bytes started at t, and the time it returns: the
        first byte waited for up to timeout_s, then more until n are in or none comes for
        char_s (machine.UART's timeout_char; 0: what arrived with the first frame)."""
        self._generate(t)
        if not self.buf:
            if self.next_emit > t + timeout_s:
                return b"", t + timeout_s
            t = self.next_emit + FRAME_S
            self._generate(t)
        if n < 0:
            n = len(self.buf)
        out = bytearray(self.buf[:n])
        del self.buf[:n]
        while len(out) < n and char_s > 0:
            nxt = self.next_emit + FRAME_S    # the next frame's last byte
            if nxt - FRAME_S - t > char_s:    # the gap before its first byte
                break
            t = nxt
            self._generate(t)
            k = n - len(out)
            out += self.buf[:k]
            del self.buf[:k]
        return bytes(out), t

    def write(self, t: float, data: bytes) -> None:
        pass  # auto-output mode: the sensor ignores its RX line
