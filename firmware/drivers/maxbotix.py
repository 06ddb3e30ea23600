# MaxBotix HRXL-MaxSonar-WR serial output: "R" + 4 ASCII digits (mm) + CR, 9600 8N1, about
# 6.7 frames a second (XL-MaxSonar: 3 digits in cm, digits=3). The non-"T" parts use
# RS-232 polarity: open the UART with invert=UART.INV_RX. At power-up the sensor prints an
# identification header; anything that is not a whole frame is skipped. The sensor
# compensates for temperature itself (compensated = True), reports its minimum for a target
# too close and its maximum when there is no target.
from micropython import const

from drivers.a02yyuw import CHECKSUM, DEAD_ZONE, OUT_OF_RANGE, TIMEOUT

_R = const(0x52)
_CR = const(0x0D)
_ZERO = const(0x30)


class MaxBotix:
    compensated = True    # HRXL parts compensate internally: fill.py must not do it again

    def __init__(self, uart, clock, min_mm=300, max_mm=5000, digits=4):
        self._uart, self._clock = uart, clock
        self._min_mm, self._max_mm = min_mm, max_mm
        self._digits = digits
        self._scale = 1 if digits == 4 else 10   # 3-digit XL frames are in cm
        self._len = digits + 2
        self._rx = bytearray(digits + 2)
        self._state = 0           # bytes of the current frame matched so far
        self._val = 0
        self.bad_frames = 0

    def flush(self):
        n = self._uart.any()
        while n:
            self._uart.readinto(self._rx, min(n, self._len))
            n = self._uart.any()
        self._state = 0

    def read_mm(self, timeout_ms=300):
        """Distance in mm, or a negative outcome: TIMEOUT, CHECKSUM (only malformed frames),
        DEAD_ZONE (the sensor's minimum: target too close), OUT_OF_RANGE (its maximum)."""
        clock, uart, rx = self._clock, self._uart, self._rx
        last = self._len - 1
        t0 = clock.ticks_ms()
        bad = False
        while clock.ticks_diff(clock.ticks_ms(), t0) < timeout_ms:
            # never read past the end of the frame being matched: nothing is lost
            got = uart.readinto(rx, self._len - self._state)
            if not got:
                continue
            for i in range(got):
                b = rx[i]
                s = self._state
                if b == _R:
                    if s:
                        bad = True
                        self.bad_frames += 1
                    self._state, self._val = 1, 0
                elif 1 <= s < last and _ZERO <= b <= _ZERO + 9:
                    self._val = self._val * 10 + b - _ZERO
                    self._state = s + 1
                elif s == last and b == _CR:
                    self._state = 0
                    return self._classify(self._val * self._scale)
                elif s:
                    bad = True
                    self.bad_frames += 1
                    self._state = 0
        return CHECKSUM if bad else TIMEOUT

    def _classify(self, mm):
        if mm <= self._min_mm:
            return DEAD_ZONE
        if mm >= self._max_mm:
            return OUT_OF_RANGE
        return mm
