# Virtual clock of the sim board. Time moves only when the firmware sleeps, when the host
# simulator says an operation took time, or by a fixed cost per ticks_ms() call (so a
# polling loop with a deadline always ends). It starts just before ticks_ms wraps, so every
# boot crosses the wrap within two virtual seconds.
from micropython import const

_PERIOD = const(1 << 30)
_HALF = const(1 << 29)
_MASK = const((1 << 30) - 1)
_POLLS_PER_MS = const(20)  # each ticks_ms() call costs 50 us of virtual time


class SimClock:
    def __init__(self, now_ms):
        self.now_ms = now_ms            # Unix time in ms, virtual
        self._boot_ms = now_ms
        self._polls = 0
        self.carries = 0                # ms added by polls since this boot

    def ticks_ms(self):
        self._polls += 1
        if self._polls == _POLLS_PER_MS:
            self._polls = 0
            self.carries += 1
            self.now_ms += 1
        return (self.now_ms - self._boot_ms + _PERIOD - 2000) & _MASK

    def polls(self):
        """ticks_ms() calls since this boot."""
        return self.carries * _POLLS_PER_MS + self._polls

    def carries_in(self, p0, p1):
        """ms the ticks_ms() calls after the p0-th up to the p1-th add."""
        return p1 // _POLLS_PER_MS - p0 // _POLLS_PER_MS

    def ticks_diff(self, a, b):
        d = (a - b) & _MASK
        return d - _PERIOD if d >= _HALF else d

    def ticks_add(self, t, delta):
        return (t + delta) & _MASK

    def sleep_ms(self, ms):
        if ms > 0:
            self.now_ms += ms

    def sleep_us(self, us):
        """Microsecond waits (a trigger pulse) add up to virtual milliseconds."""
        self._us = getattr(self, "_us", 0) + us
        if self._us >= 1000:
            self.now_ms += self._us // 1000
            self._us %= 1000

    def time(self):
        return self.now_ms // 1000

    def advance_to(self, t_ms):
        if t_ms > self.now_ms:
            self.now_ms = t_ms
