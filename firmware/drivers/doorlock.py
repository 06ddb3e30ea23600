# Hopper door lock: a solenoid bolt (output, high = throw the bolt) with a bolt switch that
# reports the bolt engaged. The compactor locks the door before the ram moves and unlocks
# it once the ram is parked; a lock that does not report engaged means no stroke.
from micropython import const

_POLL_MS = const(20)


class DoorLock:
    def __init__(self, out_pin, sensed, clock):
        self._out, self._sensed, self._clock = out_pin, sensed, clock

    def engage(self, timeout_ms=300):
        """Throw the bolt and wait (bounded) until its switch reports it engaged. A bolt
        that does not report engaged in time is released again: False."""
        self._out.value(1)
        clock = self._clock
        t0 = clock.ticks_ms()
        while True:
            if self._sensed.active():
                return True
            if clock.ticks_diff(clock.ticks_ms(), t0) >= timeout_ms:
                self._out.value(0)
                return False
            clock.sleep_ms(_POLL_MS)

    def engaged(self):
        return self._sensed.active()

    def release(self):
        self._out.value(0)
