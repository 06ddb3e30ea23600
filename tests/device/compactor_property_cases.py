# Property test of the compactor controller on the unix port: thousands of random sequences
# of door / limit / current / voltage / lock / exception events against the real module.
# A fake board records every pin change with the tick it happened in; after every change
# and at every tick boundary the safety properties are checked:
#   the motor is never energised with the door open (the door IRQ acts at once),
#   never both directions, off within one tick of a limit / low-voltage interlock,
#   off with the lock released after any exception and at every return.
import random
import sys

import check
import compactor
import config

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10000


class Bad(Exception):
    pass


class World:
    def __init__(self, seed):
        random.seed(seed)
        r = random.random
        self.p_door = r() * 0.08
        self.p_lim = r() * 0.1
        self.p_stall = r() * 0.2
        self.p_press = r() * 0.1
        self.p_low = r() * 0.03
        self.p_exc = r() * 0.01
        self.p_lock_fail = r() * 0.2
        self.tick = 0
        self.t_ms = 0
        self.door = r() < 0.05
        self.home = r() < 0.8
        self.end = False
        self.ma = 3000
        self.mv = 13000 if r() < 0.95 else 11000
        self.in1 = self.in2 = 0
        self.lock = 0
        self.isr = None
        self.bad = []
        self.irq_trips = 0
        self.jammed = False
        self.exc_armed = False

    # monitors -------------------------------------------------------------------------
    def pin(self, name, v):
        if name == "in1":
            self.in1 = v
        else:
            self.in2 = v
        if self.in1 and self.in2:
            self.bad.append("both directions at tick %d" % self.tick)
        if v and self.door:
            self.bad.append("motor switched on with the door open at tick %d" % self.tick)

    def boundary(self):
        """A tick ends: interlocks set at the last boundary must have stopped the motor."""
        if self.in1 and (self.end or self.mv < 10500):
            self.bad.append("forward past an interlock at tick %d" % self.tick)
        if self.in2 and (self.home or self.mv < 10500):
            self.bad.append("reverse past an interlock at tick %d" % self.tick)
        self.tick += 1
        r = random.random
        if r() < self.p_door:
            self.door = not self.door
            if self.door and self.isr is not None:
                self.irq_trips += 1
                self.isr(None)      # the interrupt: runs before anything else
        if self.door and (self.in1 or self.in2):
            self.bad.append("motor still on after the door IRQ at tick %d" % self.tick)
        if self.in1:
            self.home = False
        if self.in2:
            self.end = False
        if r() < self.p_lim:
            if self.in1:
                self.end = True
            elif self.in2:
                self.home = True
            else:
                self.end = r() < 0.5
        if self.in1 and r() < self.p_stall:
            self.jammed = True      # an obstruction: stalls until a back-off shifts it
        elif self.in2 and r() < 0.3:
            self.jammed = False
        if self.in1 or self.in2:
            x = r()
            self.ma = 24000 if (self.jammed and self.in1) or x < self.p_stall / 4 else (
                12000 if x < self.p_stall + self.p_press else 3000 + int(r() * 6000))
        else:
            self.ma = 0
        if r() < self.p_low:
            self.mv = 10000 if self.mv > 10500 else 13000
        self.exc_armed = r() < self.p_exc

    def maybe_raise(self):
        if self.exc_armed:
            self.exc_armed = False
            raise Bad("sensor read failed")


class Clock:
    def __init__(self, w):
        self.w = w

    def ticks_ms(self):
        return self.w.t_ms

    def ticks_diff(self, a, b):
        return a - b

    def sleep_ms(self, ms):
        w = self.w
        w.t_ms += ms
        if ms >= 50:
            w.boundary()

    def time(self):
        return 1_800_000_000 + self.w.t_ms // 1000


class Pin:
    def __init__(self, w, name):
        self.w, self.name = w, name

    def value(self, v):
        self.w.pin(self.name, v)


class Motor:
    def __init__(self, w):
        self.w = w
        self.a, self.b = Pin(w, "in1"), Pin(w, "in2")

    def off(self):
        self.a.value(0)
        self.b.value(0)

    def forward(self):
        self.b.value(0)
        self.a.value(1)

    def reverse(self):
        self.a.value(0)
        self.b.value(1)

    def current_ma(self):
        self.w.maybe_raise()
        return self.w.ma


class Door:
    def __init__(self, w):
        self.w = w

    def active(self):
        self.w.maybe_raise()
        return self.w.door

    def on_active(self, handler):
        self.w.isr = handler


class Limit:
    def __init__(self, w, end):
        self.w, self.end = w, end

    def active(self):
        self.w.maybe_raise()
        return self.w.end if self.end else self.w.home


class Batt:
    def __init__(self, w):
        self.w = w

    def read_mv(self):
        self.w.maybe_raise()
        return self.w.mv


class Lock:
    def __init__(self, w):
        self.w = w

    def engage(self, timeout_ms=300):
        w = self.w
        w.lock = 1
        if w.door or random.random() < w.p_lock_fail:
            w.lock = 0
            return False
        return True

    def release(self):
        self.w.lock = 0


class Board:
    def __init__(self, w):
        self.clock = Clock(w)
        self.motor = Motor(w)
        self.door = Door(w)
        self.limit_home = Limit(w, False)
        self.limit_end = Limit(w, True)
        self.battery = Batt(w)
        self.door_lock = Lock(w)


cfg = config.defaults()
cfg["stroke_timeout_ms"] = 5000
outcomes = {}
exceptions = trips = faults = 0
max_ticks = 0
for seed in range(N):
    w = World(seed)
    b = Board(w)
    mem = compactor.mem_fresh()
    ctl = compactor.Controller(b, cfg, mem)
    raised = False
    try:
        res = ctl.home() if random.random() < 0.2 else ctl.stroke()
        outcomes[res.outcome] = outcomes.get(res.outcome, 0) + 1
    except Bad:
        raised = True
        exceptions += 1
    trips += w.irq_trips
    faults += bool(mem["fault"])
    max_ticks = max(max_ticks, w.tick)
    end_ok = not w.in1 and not w.in2 and not w.lock and w.isr is None
    if not end_ok:
        w.bad.append("bridge on / lock held / IRQ armed at the end (raised=%s)" % raised)
    check.true(not w.bad, "seed %d: %s" % (seed, w.bad[:3]))

print("outcomes", outcomes, "exceptions", exceptions, "door IRQ trips", trips,
      "faults", faults, "longest run", max_ticks, "ticks")
# the sequences reached every corner worth reaching
check.true(exceptions > N // 50, "exceptions injected")
check.true(trips > N // 20, "door IRQ fired mid-run")
check.true(outcomes.get(compactor.OK, 0) > N // 20, "complete strokes")
check.true(outcomes.get(compactor.JAM, 0) > 0, "jams that ended in a fault")
check.true(outcomes.get(compactor.DOOR, 0) > N // 50, "strokes stopped by the door")
check.true(outcomes.get(compactor.LOW_BATTERY, 0) > 0, "low battery stops")
check.true(max_ticks < 2000, "every run ends (deadlines)")
check.done()
