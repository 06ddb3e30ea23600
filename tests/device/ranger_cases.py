# HC-SR04 (trigger/echo) and MaxBotix (serial) drivers: fault streams and allocation budget.
import gc

import check
from drivers import a02yyuw
from drivers.hcsr04 import HCSR04
from drivers.maxbotix import MaxBotix
from fakes import FakeClock, FakePin, ScriptUART


def allocated(read, n):
    read(300)
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    i = 0
    while i < n:
        read(300)
        i += 1
    used = gc.mem_alloc() - before
    gc.enable()
    return used


# --- HC-SR04 -----------------------------------------------------------------------------
class Echo:
    """time_pulse_us stand-in: plays back scripted widths, records the timeouts asked for."""

    def __init__(self, widths):
        self.widths = list(widths)
        self.timeouts = []
        self.at = []

    def __call__(self, pin, level, timeout_us):
        self.timeouts.append(timeout_us)
        self.at.append(clock.t)
        return self.widths.pop(0) if self.widths else 5824


def hc(widths, **kw):
    global clock
    clock = FakeClock()
    log = []
    trig = FakePin(0, log, "trig")
    echo = Echo(widths)
    s = HCSR04(trig, FakePin(), clock, echo, lambda us: None, **kw)
    return s, echo, log


s, echo, log = hc([5824])
check.eq(s.read_mm(300), 1000, "5824 us echo is 1000 mm at 20 C")
check.eq(log[-2:], [("trig", 1), ("trig", 0)], "trigger pulse: high then low")
check.eq(s.echo_us, 5824, "raw time of flight kept")
check.eq(echo.timeouts[0], 30000, "echo timeout capped at 30 ms (about 5 m)")
s, echo, log = hc([-2])
check.eq(s.read_mm(300), a02yyuw.TIMEOUT, "no echo pulse at all: timeout")
s, echo, log = hc([-1])
check.eq(s.read_mm(300), a02yyuw.OUT_OF_RANGE, "echo still high at the timeout: no target")
s, echo, log = hc([50])
check.eq(s.read_mm(300), a02yyuw.DEAD_ZONE, "8 mm: inside the dead zone")
s, echo, log = hc([1200], min_mm=250)
check.eq(s.read_mm(300), a02yyuw.DEAD_ZONE, "JSN-SR04T: 206 mm is inside its 250 mm blind zone")
s, echo, log = hc([25000])
check.eq(s.read_mm(300), a02yyuw.OUT_OF_RANGE, "beyond the configured range")
s, echo, log = hc([5824])
check.eq(s.read_mm(20) > 0, True, "short read timeout still pings")
check.eq(echo.timeouts[0], 20000, "echo timeout follows a shorter read timeout")
# minimum spacing: two reads back to back are at least 60 ms apart
s, echo, log = hc([5824, 5824, 5824])
s.read_mm(300)
s.read_mm(300)
check.true(echo.at[1] - echo.at[0] >= 60, "pings at least 60 ms apart")
check.eq(s.read_mm(10), a02yyuw.TIMEOUT, "spacing longer than the timeout: no ping")


def fixed_echo(pin, level, timeout_us):
    return 5824


def no_sleep(us):
    pass


s = HCSR04(FakePin(), FakePin(), FakeClock(), fixed_echo, no_sleep)
check.eq(allocated(s.read_mm, 200), 0, "HC-SR04: bytes allocated by 200 readings")

# --- MaxBotix ------------------------------------------------------------------------------
def mb(data, n, chunk=64, **kw):
    s = MaxBotix(ScriptUART(data, chunk), FakeClock(), **kw)
    return [s.read_mm(200) for _ in range(n)]


check.eq(mb(b"R1234\r", 1), [1234], "clean frame")
header = (b"HRXL-MaxSonar-WRL\rPN:MB7389\rCopyright 2011-2013\rMaxBotix, Inc.\r"
          b"RoHS 1.8b090  0713\rTempI\r")
check.eq(mb(header + b"R0812\r", 1), [812], "identification header skipped")
for chunk in (1, 2, 5):
    check.eq(mb(b"R0700\rR0701\r", 2, chunk), [700, 701], "split frames chunk %d" % chunk)
check.eq(mb(b"\x00\x13R07R0702\r", 1), [702], "truncated frame, then a good one")
check.eq(mb(b"R12a4\rR0999\r", 1), [999], "malformed frame skipped")
check.eq(mb(b"R12a4\r", 1), [a02yyuw.CHECKSUM], "only malformed frames: bad frame outcome")
check.eq(mb(b"R12345\r", 1), [a02yyuw.CHECKSUM], "five digits is not a frame")
check.eq(mb(b"", 1), [a02yyuw.TIMEOUT], "silence: timeout")
check.eq(mb(b"R0300\r", 1), [a02yyuw.DEAD_ZONE], "the minimum: target too close")
check.eq(mb(b"R5000\r", 1), [a02yyuw.OUT_OF_RANGE], "the maximum: no target")
check.eq(mb(b"R9999\r", 1, max_mm=9999), [a02yyuw.OUT_OF_RANGE], "10 m model: no target")
check.eq(mb(b"R056\r", 1, digits=3, min_mm=200, max_mm=7650), [560], "XL model: cm frames")
check.eq(MaxBotix.compensated, True, "HRXL compensates for temperature itself")
check.eq(HCSR04.compensated, False, "HC-SR04 reports at the 20 C reference")
noise = ScriptUART(b"R1x" * 300, 3)
check.eq(MaxBotix(noise, FakeClock()).read_mm(50), a02yyuw.CHECKSUM, "endless junk ends")
u = ScriptUART(b"R0100\rR0200\r")
s = MaxBotix(u, FakeClock())
s.flush()
u.feed(b"R0400\r")
check.eq(s.read_mm(100), 400, "flush then fresh frame")


class LoopFrame:
    def __init__(self, frame):
        self.frame = bytearray(frame)
        self.n = len(frame)
        self.i = 0

    def any(self):
        return self.n

    def readinto(self, buf, n=-1):
        fr = self.frame
        for k in range(n):
            buf[k] = fr[self.i]
            self.i = (self.i + 1) % self.n
        return n


s = MaxBotix(LoopFrame(b"R1500\r"), FakeClock())
check.eq(allocated(s.read_mm, 200), 0, "MaxBotix: bytes allocated by 200 readings")

check.done()
