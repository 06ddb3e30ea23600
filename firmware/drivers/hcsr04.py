# HC-SR04 and JSN-SR04T (no mode resistor) trigger/echo ultrasonic rangers.
# A >= 10 us high pulse on TRIG starts a ping; ECHO is then high for the round trip.
# The echo width is measured with an injected time_pulse_us-like function
# (machine.time_pulse_us on the device: -2 = no echo started, -1 = echo still high at the
# timeout). Distances are reported at the 20 C sound speed, like the UART sensors; the
# temperature compensation is done once, in fill.py.
from micropython import const

from drivers.a02yyuw import DEAD_ZONE, OUT_OF_RANGE, TIMEOUT

_TRIG_US = const(10)          # trigger pulse width
_GAP_MS = const(60)           # datasheet: more than 60 ms between pings
_MM_PER_US_X10000 = const(1717)  # 343.4 m/s / 2: round trip at 20 C, mm per us x 10^4
_ECHO_TIMEOUT_US = const(30000)  # ~5 m: a longer echo is "no target"


class HCSR04:
    compensated = False   # raw time of flight at the 20 C reference

    def __init__(self, trig, echo, clock, pulse_us, sleep_us, min_mm=20, max_mm=4000):
        self._trig, self._echo, self._clock = trig, echo, clock
        self._pulse, self._sleep_us = pulse_us, sleep_us
        self._min_mm, self._max_mm = min_mm, max_mm
        self._last = None         # ticks_ms of the last ping
        self.echo_us = 0          # width of the last echo (raw time of flight)
        trig.value(0)

    def flush(self):
        """Nothing is buffered on a trigger/echo sensor."""

    def read_mm(self, timeout_ms=300):
        """Distance in mm at 20 C, or a negative outcome: TIMEOUT (no echo pulse at all:
        wiring or power), OUT_OF_RANGE (echo longer than the range: no target), DEAD_ZONE."""
        clock = self._clock
        if self._last is not None:
            wait = _GAP_MS - clock.ticks_diff(clock.ticks_ms(), self._last)
            if wait > 0:
                if wait > timeout_ms:
                    return TIMEOUT
                clock.sleep_ms(wait)
        limit_us = timeout_ms * 1000
        if limit_us > _ECHO_TIMEOUT_US:
            limit_us = _ECHO_TIMEOUT_US
        trig = self._trig
        trig.value(1)
        self._sleep_us(_TRIG_US)
        trig.value(0)
        self._last = clock.ticks_ms()
        us = self._pulse(self._echo, 1, limit_us)
        if us == -2:
            return TIMEOUT
        if us < 0:
            return OUT_OF_RANGE
        self.echo_us = us
        mm = (us * _MM_PER_US_X10000 + 5000) // 10000
        if mm < self._min_mm:
            return DEAD_ZONE
        if mm > self._max_mm:
            return OUT_OF_RANGE
        return mm
