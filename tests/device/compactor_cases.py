# Compaction stroke against a scripted ram: limits, door interlock, jam, exceptions.
import check
import compactor
import config
from fakes import FakeClock


class Ram:
    """Ram position 0 (home) .. 100 (end), moving 1 unit per 50 ms tick of the clock."""

    def __init__(self, clock, jam_at=None, door_at=None, fail_at=None, jam_clears=None):
        self.clock = clock
        self.pos, self.dir, self.t = 0, 0, clock.t
        self.jam_at, self.door_at, self.fail_at = jam_at, door_at, fail_at
        self.jam_clears = jam_clears    # back-offs that shift the obstruction (None: never)
        self.backoffs = 0
        self.both = False
        self.on_with_door = 0
        self.ticks = 0
        self.isr = None
        self.locked = 0

    def step(self):
        while self.clock.t - self.t >= 50:
            self.t += 50
            self.ticks += 1
            if self.door_at is not None and self.ticks == self.door_at and self.isr:
                self.isr(None)      # the door interrupt
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
        r = self.ram
        if r.dir == 0 and r.jam_at is not None and r.pos >= r.jam_at:
            r.backoffs += 1
            if r.jam_clears is not None and r.backoffs >= r.jam_clears:
                r.jam_at = None
        r.dir = -1

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
    def __init__(self, f, ram=None):
        self.f = f
        self.ram = ram

    def active(self):
        return self.f()

    def on_active(self, handler):
        self.ram.isr = handler


class Lock:
    def __init__(self, ram, works=True):
        self.ram, self.works = ram, works

    def engage(self, timeout_ms=300):
        self.ram.locked = 1 if self.works else 0
        return bool(self.works)

    def release(self):
        self.ram.locked = 0


class Batt:
    def __init__(self, mv):
        self.mv = mv

    def read_mv(self):
        return self.mv


class B:
    def __init__(self, vbat=13000, lock_works=True, **kw):
        self.clock = FakeClock(step=0)
        self.ram = Ram(self.clock, **kw)
        self.motor = Motor(self.ram)
        r = self.ram
        self.door = Sw(lambda: (r.step(), r.door())[1], r)
        self.door_lock = Lock(r, lock_works)
        self.limit_home = Sw(lambda: (r.step(), r.pos == 0)[1])
        self.limit_end = Sw(lambda: (r.step(), r.pos == 100)[1])
        self.battery = Batt(vbat)


cfg = config.defaults()


def run(b, mem=None, home=False):
    ctl = compactor.Controller(b, cfg, mem if mem is not None else compactor.mem_fresh())
    return ctl.home() if home else ctl.stroke()


b = B()
res = run(b)
check.eq(res.outcome, compactor.OK, "full stroke")
check.eq((b.ram.pos, b.ram.dir, b.ram.locked), (0, 0, 0), "ram home, motor off, door unlocked")

b = B(door_at=30)
res = run(b)
check.eq(res.outcome, compactor.DOOR, "door opened mid-stroke")
check.eq(b.ram.on_with_door, 0, "the door IRQ stopped the motor at once")
check.eq((b.ram.pos > 0, b.ram.dir, b.ram.locked), (True, 0, 0),
         "door held open: the ram stays put, motor off, lock released")

b = B(door_at=0)
res = run(b)
check.eq((res.outcome, b.ram.pos), (compactor.DOOR, 0), "door open: no stroke at all")

b = B(vbat=11000)
res = run(b)
check.eq((res.outcome, b.ram.pos), (compactor.LOW_BATTERY, 0), "battery floor: no stroke")

b = B(lock_works=False)
res = run(b)
check.eq((res.outcome, b.ram.pos, res.ms), (compactor.LOCK, 0, 0), "lock not engaged: no stroke")

mem = compactor.mem_fresh()
b = B(jam_at=40)
res = run(b, mem)
check.eq(res.outcome, compactor.JAM, "persistent jam: fault after the retries")
check.eq(res.jams, cfg["jam_retries"] + 1, "tried exactly 1 + jam_retries times")
check.true(res.stall_ma >= 25000 and res.pos_mm > 0, "stall current and position recorded")
check.eq((b.ram.pos, b.ram.dir, b.ram.locked), (0, 0, 0), "backed off home after the jam")
check.eq(mem["fault"], compactor.JAM, "fault latched")
res = run(B(), mem)
check.eq(res.outcome, compactor.FAULTED, "a latched fault refuses the next stroke")

b = B(jam_at=40, jam_clears=1)
res = run(b)
check.eq((res.outcome, res.jams), (compactor.OK, 1), "a jam cleared by backing off")

mem = compactor.mem_fresh()
mem["lockout"] = True
b = B()
check.eq((run(b, mem).outcome, b.ram.pos), (compactor.LOCKED_OUT, 0), "lockout refuses")

mem = compactor.mem_fresh()
mem["heat_c"], mem["heat_ts"] = 60, FakeClock().time()
check.eq(run(B(), mem).outcome, compactor.HOT, "duty limit refuses a hot motor")

b = B(fail_at=20)
try:
    run(b)
    check.true(False, "exception propagated")
except OSError:
    pass
check.eq((b.ram.dir, b.ram.locked, b.ram.isr), (0, 0, None),
         "motor off, lock released, IRQ disarmed after an exception")

b = B()
b.ram.pos = 50
res = run(b, home=True)
check.eq((res.outcome, b.ram.pos, b.ram.dir), (compactor.OK, 0, 0), "home() parks the ram")

check.done()
