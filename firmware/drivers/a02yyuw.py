# DFRobot A02YYUW (and JSN-SR04T in UART mode) ultrasonic distance sensor.
# UART 9600 8N1, auto output: a 4-byte frame every ~100 ms: 0xFF, H, L, SUM with
# SUM = (0xFF + H + L) & 0xFF and distance = H * 256 + L in mm (sensor's own sound speed).
# 0xFF also occurs inside frames, so a header only counts when its checksum does: the
# parser slides a 4-byte window and drops one byte on failure, never four.
from micropython import const

_HDR = const(0xFF)
_MIN_MM = const(30)      # vendor: values <= 30 mm are below the lower limit (dead zone)
_MAX_MM = const(4500)
_PERIOD_MS = const(100)  # one frame every ~100 ms (auto output)
_BUF = const(64)         # a burst's bytes: 16 frames (config "burst" is at most 15)

# Outcomes other than a distance (negative, so a reading is one small int: no allocation).
TIMEOUT = const(-1)      # no valid frame within the timeout: wiring, power, or no target
CHECKSUM = const(-2)     # frames arrived but none had a valid checksum
DEAD_ZONE = const(-3)    # target inside the blind zone: blocked or dirty transducer
OUT_OF_RANGE = const(-4)  # beyond the sensor's range: no target
_BAD = const(-5)         # (inside the driver) a frame that failed its checksum


def reason(code):
    if code == TIMEOUT:
        return "timeout"
    if code == CHECKSUM:
        return "checksum"
    if code == DEAD_ZONE:
        return "dead zone"
    if code == OUT_OF_RANGE:
        return "out of range"
    return "ok"


class A02YYUW:
    def __init__(self, uart, clock):
        self._uart, self._clock = uart, clock
        self._win = bytearray(4)   # the sliding window
        self._rx = bytearray(4)    # never read more than the window is missing
        self._n = 0                # bytes currently in the window
        self._buf = bytearray(_BUF)  # a burst's frames, read in one go
        self.bad_frames = 0

    def flush(self):
        """Drop buffered (stale) bytes so the next reading is fresh: what the UART holds now
        (up to its RX buffer after a long wait), a buffer at a time."""
        n = self._uart.any()
        while n > 0:
            got = self._uart.readinto(self._buf, min(n, _BUF))
            if not got:
                break
            n -= got
        self._n = 0

    def read_mm(self, timeout_ms=300):
        """Distance in mm, or a negative outcome (TIMEOUT, CHECKSUM, DEAD_ZONE, OUT_OF_RANGE)."""
        clock, uart = self._clock, self._uart  # (unpacking 4 at once would build a tuple)
        rx = self._rx
        t0 = clock.ticks_ms()
        bad = False
        while clock.ticks_diff(clock.ticks_ms(), t0) < timeout_ms:
            got = uart.readinto(rx, 4 - self._n)
            if not got:
                continue
            for i in range(got):   # at most the bytes the window misses: one frame
                r = self._push(rx[i])
                if r == _BAD:
                    bad = True
                elif r is not None:
                    return r
        return CHECKSUM if bad else TIMEOUT

    def _push(self, b):
        """One received byte into the sliding window: None while no frame is complete, the
        frame's outcome (distance, DEAD_ZONE, OUT_OF_RANGE) when a clean one completes, _BAD
        when one fails its checksum (one byte dropped, the window slid to the next header
        candidate inside it)."""
        w = self._win
        if self._n or b == _HDR:
            w[self._n] = b
            self._n += 1
        if self._n < 4:
            return None
        if (w[0] + w[1] + w[2]) & 0xFF == w[3]:
            self._n = 0
            return self._classify(w[1] << 8 | w[2])
        self.bad_frames += 1
        n = 3
        w[0], w[1], w[2] = w[1], w[2], w[3]
        while n and w[0] != _HDR:
            w[0], w[1] = w[1], w[2]
            n -= 1
        self._n = n
        return _BAD

    def burst(self, n, timeout_ms=300):
        """n readings from consecutive frames, as n calls of read_mm(timeout_ms) give them,
        read with as few UART calls as the stream allows: one readinto of the bytes n clean
        frames take (the UART's timeout and timeout_char must exceed the frame period, so
        the read waits out the gaps between frames). A list of n outcomes: a frame's
        distance or verdict; when timeout_ms passes without a valid frame, CHECKSUM if a bad
        one came and TIMEOUT otherwise, as read_mm says. Time decides, as in read_mm, never
        a count of checksum failures: a stray byte (0xFF runs, line noise) makes the window
        slide by one byte and fail once per byte, which is a resync, not a bad frame. A
        reading that got no byte at all ends the burst: the sensor is silent, and the rest
        is TIMEOUT too rather than waited for one by one."""
        clock, uart = self._clock, self._uart
        buf = self._buf
        out = []
        bad = False        # a checksum failed since the last outcome
        heard = False      # bytes since the last outcome
        t0 = clock.ticks_ms()
        while len(out) < n:
            got = uart.readinto(buf, min(_BUF, 4 * (n - len(out)) - self._n))
            if got:
                heard = True
                for i in range(got):
                    r = self._push(buf[i])
                    if r is None:
                        continue
                    if r == _BAD:
                        bad = True
                        continue
                    out.append(r)   # (the read is sized: the n-th frame ends it)
                    bad, heard, t0 = False, False, clock.ticks_ms()
            if len(out) < n and clock.ticks_diff(clock.ticks_ms(), t0) >= timeout_ms:
                if bad:
                    out.append(CHECKSUM)
                elif heard:
                    out.append(TIMEOUT)
                else:
                    while len(out) < n:
                        out.append(TIMEOUT)
                bad, heard, t0 = False, False, clock.ticks_ms()
        return out

    @staticmethod
    def _classify(mm):
        if mm <= _MIN_MM:
            return DEAD_ZONE
        if mm > _MAX_MM:
            return OUT_OF_RANGE
        return mm
