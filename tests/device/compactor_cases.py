# Compaction stroke against a scripted ram: limits, door interlock, jam, exceptions.
import check
import compactor
import config
from fakes import FakeClock


class Ram:
    """Ram position 0 (home) .. 100 (end), moving 1 unit per 50 ms tick of the clock."""

    def __init__(self, clock, jam_at=None, door_at=None, fail_at=None):
        self.clock = clock
        self.pos, self.dir, self.t = 0, 0, clock.t
        self.jam_at, self.door_at, self.fail_at = jam_at, door_at, fail_at
        self.both = False
        self.on_with_door = 0
        self.ticks = 0

    def step(self):
        while self.clock.t - self.t >= 50:
            self.t += 50
            self.ticks += 1
            if self.dir and self.door():
                self.on_with_door += 1
            if self.dir == 1 and (self.jam_at is None or self.pos < self.jam_at):
                self.pos = min(100, self.pos + 1)
            elif self.dir == -1:
                self.pos = max(0, self.pos - 1)

    def door(self):
        return self.door_at is not None and self.ticks >= self.door_at


class Motor:
    def __init__(self, ram):
        self.ram = ram
        self.off_calls = 0

    def forward(self):
        self.ram.step()
        self.ram.dir = 1

    def reverse(self):
        self.ram.step()
        self.ram.dir = -1

    def off(self):
        self.ram.step()
        self.ram.dir = 0
        self.off_calls += 1

    def current_ma(self):
        r = self.ram
        r.step()
        if r.fail_at is not None and r.ticks >= r.fail_at:
            raise OSError("ADC read failed")
        if r.dir == 1 and r.jam_at is not None and r.pos >= r.jam_at:
            return 25000
        return 4000 if r.dir else 0


class Sw:
    def __init__(self, f):
        self.f = f

    def active(self):
        return self.f()


class Batt:
    def __init__(self, mv):
        self.mv = mv

    def read_mv(self):
        return self.mv


class B:
    def __init__(self, vbat=13000, **kw):
        self.clock = FakeClock(step=0)
        self.ram = Ram(self.clock, **kw)
        self.motor = Motor(self.ram)
        r = self.ram
        self.door = Sw(lambda: (r.step(), r.door())[1])
        self.limit_home = Sw(lambda: (r.step(), r.pos == 0)[1])
        self.limit_end = Sw(lambda: (r.step(), r.pos == 100)[1])
        self.battery = Batt(vbat)


cfg = config.defaults()

b = B()
res = compactor.stroke(b, cfg)
check.eq(res.outcome, compactor.OK, "full stroke")
check.eq((b.ram.pos, b.ram.dir), (0, 0), "ram home, motor off")

b = B(door_at=30)
res = compactor.stroke(b, cfg)
check.eq(res.outcome, compactor.DOOR, "door opened mid-stroke")
check.eq(b.ram.dir, 0, "motor off after the door opened")
check.true(b.ram.on_with_door <= 1, "stopped within one control tick")

b = B(door_at=0)
res = compactor.stroke(b, cfg)
check.eq((res.outcome, b.ram.pos), (compactor.DOOR, 0), "door open: no stroke at all")

b = B(vbat=11000)
res = compactor.stroke(b, cfg)
check.eq((res.outcome, b.ram.pos), (compactor.LOW_BATTERY, 0), "battery floor: no stroke")

b = B(jam_at=40)
res = compactor.stroke(b, cfg)
check.eq(res.outcome, compactor.JAM, "jam detected")
check.true(res.peak_ma >= 25000, "jam current recorded")
check.eq((b.ram.pos, b.ram.dir), (0, 0), "backed off home after the jam")

b = B(fail_at=20)
try:
    compactor.stroke(b, cfg)
    check.true(False, "exception propagated")
except OSError:
    pass
check.eq(b.ram.dir, 0, "motor off after an exception")

check.done()
