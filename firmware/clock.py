# Device clock: the only place firmware reads real time. The sim board has SimClock instead.
import time

from micropython import const

_EPOCH_2000 = const(946684800)


class Clock:
    def __init__(self):
        # Ports whose epoch is 2000-01-01 report Unix time through this offset.
        self._offset = _EPOCH_2000 if time.gmtime(0)[0] == 2000 else 0

    def ticks_ms(self):
        return time.ticks_ms()

    def ticks_diff(self, a, b):
        return time.ticks_diff(a, b)

    def ticks_add(self, t, delta):
        return time.ticks_add(t, delta)

    def sleep_ms(self, ms):
        if ms > 0:
            time.sleep_ms(ms)

    def time(self):
        """Unix time in whole seconds (set from the network on the device)."""
        return time.time() + self._offset
