# A02YYUW driver against scripted byte streams (faults included) and its allocation budget.
import gc

import check
from drivers import a02yyuw
from drivers.a02yyuw import A02YYUW
from fakes import FakeClock, LoopUART, ScriptUART


def frame(mm):
    h, lo = mm >> 8, mm & 0xFF
    return bytes([0xFF, h, lo, (0xFF + h + lo) & 0xFF])


def reads(data, n, chunk=64, timeout_ms=100):
    s = A02YYUW(ScriptUART(data, chunk), FakeClock())
    return [s.read_mm(timeout_ms) for _ in range(n)]


check.eq(frame(1234), bytes([0xFF, 0x04, 0xD2, 0xD5]), "worked frame 1234 mm")
check.eq(reads(frame(1234), 1), [1234], "clean frame")
check.eq(reads(b"\x12\x34\x00" + frame(800), 1), [800], "garbage before the header")
for chunk in (1, 2, 3):
    check.eq(reads(frame(700) + frame(701), 2, chunk), [700, 701], "split frames chunk %d" % chunk)
# the reference resync example: truncated frame, then two good ones
stream = bytes([0x12, 0xFF, 0x07, 0xFF, 0x07, 0xA1, 0xA7, 0xFF, 0x04, 0xD2, 0xD5])
check.eq(reads(stream, 2), [1953, 1234], "resync drops one byte at a time")
check.eq(reads(bytes([0xFF, 0x01, 0xFF, 0xFF]), 1), [511], "0xFF inside data and checksum")
bad = bytearray(frame(900))
bad[3] ^= 0x55
check.eq(reads(bytes(bad) + frame(901), 1), [901], "bad checksum skipped")
check.eq(reads(bytes(bad), 1), [a02yyuw.CHECKSUM], "only bad frames: checksum outcome")
check.eq(reads(b"", 1), [a02yyuw.TIMEOUT], "silence: timeout outcome")
check.eq(reads(frame(20), 1), [a02yyuw.DEAD_ZONE], "inside the dead zone")
check.eq(reads(frame(30), 1), [a02yyuw.DEAD_ZONE], "30 mm is still the dead zone")
check.eq(reads(frame(31), 1), [31], "just outside the dead zone")
check.eq(reads(frame(5000), 1), [a02yyuw.OUT_OF_RANGE], "beyond range")
check.eq(a02yyuw.reason(a02yyuw.TIMEOUT), "timeout", "reason text")

# timeouts end even when bytes keep coming but never form a frame
noise = ScriptUART(bytes([0xFF, 0x00, 0x00, 0x00]) * 200, 4)
s = A02YYUW(noise, FakeClock())
check.eq(s.read_mm(50), a02yyuw.CHECKSUM, "endless bad frames end at the timeout")

# flush drops stale bytes
u = ScriptUART(frame(100) + frame(200))
s = A02YYUW(u, FakeClock())
s.flush()
u.feed(frame(300))
check.eq(s.read_mm(100), 300, "flush then fresh frame")

# a burst: the outcomes of n read_mm calls, with as few UART reads as the stream allows
class CountingUART(ScriptUART):
    def __init__(self, data=b"", chunk=64):
        super().__init__(data, chunk)
        self.reads = 0

    def readinto(self, buf, n=-1):
        self.reads += 1
        return super().readinto(buf, n)


def burst(data, n, chunk=64, timeout_ms=300):
    u = CountingUART(data, chunk)
    return A02YYUW(u, FakeClock()).burst(n, timeout_ms), u.reads


bad = bytearray(frame(900))
bad[3] ^= 0x55
bad = bytes(bad)
clean = b"".join(frame(1000 + i) for i in range(7))
check.eq(burst(clean, 7), ([1000 + i for i in range(7)], 1), "seven clean frames: one read")
check.eq(burst(clean + frame(5), 7)[0], [1000 + i for i in range(7)],
         "a burst reads no byte past its last frame")
mixed = (b"\x12\x34" + frame(801) + bad + frame(802) + frame(20) + b"\xff\x07"
         + frame(5000) + frame(803) + bad + bad + frame(804) + frame(805))
for chunk in (1, 3, 64):
    check.eq(burst(mixed, 7, chunk)[0], reads(mixed, 7, chunk),
             "garbage, bad frames, verdicts: as read one by one (chunk %d)" % chunk)
check.eq(burst(stream, 2)[0], [1953, 1234], "burst resyncs one byte at a time")
check.eq(burst(bad * 6, 2)[0], [a02yyuw.CHECKSUM, a02yyuw.TIMEOUT],
         "only bad frames until the timeout: checksum, then silence")
# stray 0xFF bytes (22 ms of line time) are a resync, not bad frames
ffs = b"\xff" * 21 + b"".join(frame(1200 + i) for i in range(8))
check.eq(burst(ffs, 7)[0], reads(ffs, 7, timeout_ms=300), "21 stray 0xFF: burst as read_mm")
check.true(all(r > 0 for r in burst(ffs, 7)[0][1:]), "21 stray 0xFF: distances found")


# random mixed streams: burst and read_mm agree on every one (a seeded LCG, same on any port)
class Lcg:
    def __init__(self, seed):
        self.x = seed

    def below(self, n):
        self.x = (self.x * 1103515245 + 12345) & 0x7FFFFFFF
        return (self.x >> 8) % n


def random_stream(g):
    out = bytearray()
    for _ in range(g.below(12)):
        k = g.below(6)
        if k == 0:
            out += frame(31 + g.below(4400))
        elif k == 1:
            b = bytearray(frame(200 + g.below(3000)))
            b[1 + g.below(3)] ^= 1 + g.below(255)
            out += b
        elif k == 2:
            out += b"\xff" * (1 + g.below(30))
        elif k == 3:
            out += bytes(g.below(256) for _ in range(1 + g.below(6)))
        elif k == 4:
            out += frame(g.below(31)) if g.below(2) else frame(4501 + g.below(60000))
        else:
            out += frame(31 + g.below(4400))[:1 + g.below(3)]
    return bytes(out)


g = Lcg(26)
disagree = found_only_one_by_one = 0
for _ in range(3000):
    data = random_stream(g)
    chunk = (1, 3, 64)[g.below(3)]
    got, want = burst(data, 7, chunk)[0], reads(data, 7, chunk, timeout_ms=300)
    if got != want:
        disagree += 1
        if max(want) > 0 and max(got) <= 0:
            found_only_one_by_one += 1
check.eq((disagree, found_only_one_by_one), (0, 0), "3,000 random streams: burst == read_mm")
check.eq(burst(bad * 2 + frame(700), 1)[0], [700], "two bad frames, then a good one")
check.eq(burst(b"", 7)[0], [a02yyuw.TIMEOUT] * 7, "silence: every reading times out")
check.eq(burst(frame(600) + frame(601), 4)[0], [600, 601, a02yyuw.TIMEOUT, a02yyuw.TIMEOUT],
         "the sensor stops mid-burst: the rest times out")
check.eq(burst(b"\x01\x02\x03", 2)[0], [a02yyuw.TIMEOUT] * 2, "stray bytes, no frame: timeout")
check.eq(burst(bad + b"", 2)[0], [a02yyuw.CHECKSUM, a02yyuw.TIMEOUT],
         "a bad frame, then silence: checksum, then timeout")
check.eq(burst(frame(20) + frame(5000) + frame(31), 3)[0],
         [a02yyuw.DEAD_ZONE, a02yyuw.OUT_OF_RANGE, 31], "per-frame verdicts kept")

# flush drops a full RX buffer a buffer at a time
u = CountingUART(frame(100) * 64)
s = A02YYUW(u, FakeClock())
s.flush()
check.eq((u.any(), u.reads), (0, 4), "256 stale bytes: four reads")

# the read path allocates nothing after construction
def allocated(sensor, n):
    read = sensor.read_mm
    read(100)
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    i = 0
    while i < n:
        read(100)
        i += 1
    used = gc.mem_alloc() - before
    gc.enable()
    return used


s = A02YYUW(LoopUART(frame(1500)), FakeClock())
check.eq(allocated(s, 200), 0, "bytes allocated by 200 readings")

check.done()
