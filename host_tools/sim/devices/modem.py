"""Minimal SIM7080G stand-in on the modem UART: answers AT with OK while powered, toggles
power on a PWRKEY pulse. (The data path of the sim board goes through the network model.)"""

from __future__ import annotations


class ModemEmu:
    def __init__(self):
        self.powered = False
        self.rx = bytearray()
        self._key_down_at: float | None = None
        self.power_cycles = 0

    def pwrkey(self, t: float, asserted: int) -> None:
        if asserted:
            self._key_down_at = t
        elif self._key_down_at is not None:
            if t - self._key_down_at >= 1.0:
                self.powered = not self.powered
                self.power_cycles += 1
            self._key_down_at = None

    def write(self, t: float, data: bytes) -> None:
        if not self.powered:
            return
        for line in data.replace(b"\n", b"\r").split(b"\r"):
            line = line.strip()
            if line == b"AT+CPOWD=1":
                self.rx += b"\r\nNORMAL POWER DOWN\r\n"
                self.powered = False
            elif line.startswith(b"AT"):
                self.rx += b"\r\nOK\r\n"

    def any(self, t: float) -> int:
        return len(self.rx)

    def read(self, t: float, n: int, timeout_s: float) -> tuple[bytes, float]:
        if not self.rx:
            return b"", t + timeout_s
        if n < 0:
            n = len(self.rx)
        out = bytes(self.rx[:n])
        del self.rx[:n]
        return out, t + 0.001
