# Fakes for device-side tests: injected through constructors, never patched into machine.


class FakeClock:
    """Each ticks_ms() call costs 1 ms, so deadline loops always end."""

    def __init__(self, t=0, step=1):
        self.t, self.step = t, step
        self.unix = 1_800_000_000

    def ticks_ms(self):
        self.t += self.step
        return self.t

    def ticks_diff(self, a, b):
        return a - b

    def ticks_add(self, t, d):
        return t + d

    def sleep_ms(self, ms):
        self.t += ms

    def time(self):
        return self.unix + self.t // 1000


class ScriptUART:
    """Delivers a scripted byte stream in chunks of at most `chunk` bytes per read."""

    def __init__(self, data=b"", chunk=64):
        self.data = bytearray(data)
        self.chunk = chunk
        self.pos = 0

    def feed(self, data):
        self.data.extend(data)

    def any(self):
        return len(self.data) - self.pos

    def readinto(self, buf, n=-1):
        if n < 0:
            n = len(buf)
        n = min(n, self.chunk, len(self.data) - self.pos)
        if n <= 0:
            return None
        for i in range(n):
            buf[i] = self.data[self.pos + i]
        self.pos += n
        return n

    def read(self, n=-1):
        if self.pos >= len(self.data):
            return None
        if n < 0:
            n = len(self.data) - self.pos
        out = bytes(self.data[self.pos:self.pos + n])
        self.pos += len(out)
        return out

    def write(self, buf):
        return len(buf)


class LoopUART:
    """Repeats one preallocated frame forever without allocating (for allocation tests)."""

    def __init__(self, frame):
        self.frame = bytearray(frame)
        self.i = 0

    def any(self):
        return 4

    def readinto(self, buf, n=-1):
        if n < 0:
            n = len(buf)
        fr = self.frame
        for k in range(n):
            buf[k] = fr[self.i]
            self.i = (self.i + 1) & 3
        return n


class FakePin:
    def __init__(self, v=0, log=None, name=""):
        self.v, self.log, self.name = v, log, name

    def value(self, v=None):
        if v is None:
            return self.v
        self.v = 1 if v else 0
        if self.log is not None:
            self.log.append((self.name, self.v))
        return None


class FakeRTC:
    """RTC slow memory: kept across deep sleep."""

    def __init__(self):
        self.mem = b""

    def memory(self, data=None):
        if data is None:
            return self.mem
        self.mem = bytes(data)
        return None
