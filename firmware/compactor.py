# Compactor controller: an explicit state machine, the only code that drives the H-bridge
# and the hopper door lock.
#
#   idle -> precheck -> compress -> dwell -> retract -> idle
#                          |  jam: backoff -> compress (limited retries) -> homing -> fault
#   any moving state: door -> door_wait -> (door shut, relocked) homing -> idle
#   timeout / stall on the way up -> homing or fault; fault and lockout refuse every stroke
#
# Safe by construction: each tick reads the inputs, computes the next state, then applies
# the one output the state asks for through a gate (_apply) that refuses to drive with the
# door open, the door IRQ tripped, the lock not verified, the battery under its floor, or
# the limit in that direction reached. The door IRQ switches the bridge off at once,
# between ticks. Every path out of the controller leaves the bridge off and the lock open.
import math

from micropython import const

_TICK_MS = const(50)
_INRUSH_BLANK_MS = const(300)
_STALL_SAMPLES = const(5)   # stall (jam) confirmed over this many consecutive ticks
_PRESS_SAMPLES = const(2)   # full pressure confirmed over this many consecutive ticks
_DWELL_MS = const(1000)
_BACKOFF_MS = const(1500)   # after a jam: reverse this long, then try again
_DOOR_WAIT_MS = const(30000)
_LOCK_MS = const(300)
_RAM_MM_S = const(100)      # nominal ram speed: the position estimate
_HEAT_TAU_S = const(900)    # winding cooling time constant of the duty model
_HEAT_C_PER_KA2S = const(6)  # winding rise: 6 C per 1000 A^2 s (a 15 s stroke: ~6 C)

IDLE = "idle"
PRECHECK = "precheck"
COMPRESS = "compress"
DWELL = "dwell"
RETRACT = "retract"
BACKOFF = "backoff"
HOMING = "homing"
DOOR_WAIT = "door_wait"
FAULT = "fault"
LOCKOUT = "lockout"

# outcomes
OK = "ok"
DOOR = "door_open"
LOW_BATTERY = "low_battery"
HOT = "motor_hot"
LOCK = "lock_failed"
JAM = "jam"
TIMEOUT = "timeout"
NOT_HOME = "not_home"
FAULTED = "faulted"         # refused: a fault is latched (remote reset or technician)
LOCKED_OUT = "locked_out"   # refused: locked out by command
FAULTS = (JAM, TIMEOUT, NOT_HOME)   # these latch the fault state

_REST = (IDLE, FAULT, LOCKOUT)


def _drive(state):
    if state == COMPRESS:
        return 1
    if state == RETRACT or state == BACKOFF or state == HOMING:
        return -1
    return 0


def mem_fresh():
    """What the controller keeps across deep sleep (the app stores it in its state)."""
    return {"fault": None, "lockout": False, "heat_c": 0, "heat_ts": 0, "jams": 0}


class Result:
    def __init__(self):
        self.outcome = OK
        self.peak_ma = 0
        self.ms = 0             # motor-on time
        self.detail = ""
        self.jams = 0           # stalls confirmed in this run
        self.stall_ma = 0       # current of the last confirmed stall
        self.pos_mm = 0         # estimated ram position (below home) at the last stall/stop
        self.pressed = False    # stopped at full pressure before the end switch


class Controller:
    def __init__(self, board, cfg, mem):
        self._b = board
        self._motor = board.motor
        self._lock = board.door_lock
        self._cfg = cfg
        self.mem = mem
        self.state = LOCKOUT if mem.get("lockout") else (FAULT if mem.get("fault") else IDLE)
        self.tripped = False    # set by the door IRQ; cleared only with the door shut
        self._dir = 0
        self._locked = False
        self._t_dir = 0
        self._t_state = 0
        self._door = True
        self._lim = False
        self._ma = 0
        self._mv = 0
        self._stalled = 0
        self._pressed = 0
        self._tries = 0
        self._pos_ms = 0
        self._t_pos = 0
        self._i2t = 0           # sum of A^2 over ticks with the motor on
        self._pending = OK      # outcome to end with once the ram is home
        self._isr_ref = self._isr   # bound once: the IRQ handler must not allocate

    # interrupt ------------------------------------------------------------------------
    def _isr(self, pin):
        self._motor.off()
        self.tripped = True

    # public ---------------------------------------------------------------------------
    def stroke(self):
        """One compaction: lock, press down to the end switch (or full pressure), dwell,
        retract home, unlock. Returns a Result."""
        return self._run(COMPRESS)

    def home(self):
        """Park the ram at its home switch (after an interrupted stroke)."""
        if self.state == IDLE and self._b.limit_home.active():
            return Result()
        return self._run(HOMING)

    # the machine ----------------------------------------------------------------------
    def _refusal(self, res):
        b, cfg = self._b, self._cfg
        if self.state == LOCKOUT:
            return LOCKED_OUT, "locked out by command"
        if self.state == FAULT:
            return FAULTED, "fault latched: %s" % self.mem.get("fault")
        if b.door.active():
            return DOOR, "door open before the stroke"
        if b.battery.read_mv() < cfg["vbat_motor_min_mv"]:
            return LOW_BATTERY, "battery below the motor floor"
        if self.heat_c() >= cfg["motor_heat_max_c"]:
            return HOT, "motor duty limit: winding about %d C over ambient" % self.heat_c()
        return None, ""

    def heat_c(self):
        """Estimated winding temperature rise now (duty model, decays between strokes)."""
        m = self.mem
        dt = self._b.clock.time() - m.get("heat_ts", 0)
        if dt <= 0:
            return m.get("heat_c", 0)
        return m.get("heat_c", 0) * math.exp(-dt / _HEAT_TAU_S)

    def _run(self, first):
        res = Result()
        why, res.detail = self._refusal(res)
        if why is not None:
            if why == DOOR and first == HOMING:
                res.detail = "door open: ram not parked"
            res.outcome = why
            return res
        b = self._b
        clock = b.clock
        self.tripped = False
        self._tries = 0
        self._pending = OK
        self._pos_ms = 0 if b.limit_home.active() else -1
        self._i2t = 0
        heat0 = self.heat_c()
        b.door.on_active(self._isr_ref)
        try:
            self._go(PRECHECK)
            self._mv = b.battery.read_mv()
            if self._lock.engage(_LOCK_MS) and not b.door.active():
                self._locked = True
                self._door = False
                self._go(first)
            else:
                res.outcome, res.detail = LOCK, "door lock not engaged"
                self._go(IDLE)
            self._apply(res)
            while self.state not in _REST:
                clock.sleep_ms(_TICK_MS)
                self._sense()
                self._step(res)
                self._apply(res)
        finally:
            try:
                self._motor.off()
                self._stopped(res)
            finally:
                try:
                    self._lock.release()
                    self._locked = False
                finally:
                    b.door.on_active(None)
                    self._bank_heat(heat0)
        return res

    def _bank_heat(self, heat0):
        m = self.mem
        m["heat_c"] = round(heat0 + self._i2t * _TICK_MS * _HEAT_C_PER_KA2S / 1000000, 1)
        m["heat_ts"] = self._b.clock.time()

    def _go(self, state):
        self.state = state
        self._t_state = self._b.clock.ticks_ms()
        want = _drive(state)    # a driving state starts from fresh reads of its interlocks
        if want > 0:
            self._lim = self._b.limit_end.active()
        elif want < 0:
            self._lim = self._b.limit_home.active()
        if want:
            self._mv = self._b.battery.read_mv()

    def _since(self, t):
        clock = self._b.clock
        return clock.ticks_diff(clock.ticks_ms(), t)

    def _sense(self):
        b = self._b
        self._door = b.door.active()
        want = _drive(self.state)
        if want > 0:
            self._lim = b.limit_end.active()
        elif want < 0:
            self._lim = b.limit_home.active()
        if want:
            self._mv = b.battery.read_mv()
        if self._dir:
            ma = self._motor.current_ma()
            self._ma = ma
            self._i2t += (ma * ma) // 1000000
            now = b.clock.ticks_ms()
            self._pos_ms += self._dir * b.clock.ticks_diff(now, self._t_pos)
            self._t_pos = now

    def _end(self, res, outcome, detail=""):
        """Stop here: outcome recorded; a latching fault moves to FAULT."""
        if res.outcome == OK or outcome in FAULTS:
            res.outcome = outcome
            if detail:
                res.detail = detail
        if outcome in FAULTS:
            self.mem["fault"] = outcome
            self._go(FAULT)
        else:
            self._go(IDLE)

    def _step(self, res):
        st, cfg = self.state, self._cfg
        if st == DOOR_WAIT:
            if not self._door:
                self.tripped = False    # shut again: relock, then park the ram
                if self._lock.engage(_LOCK_MS) and not self._b.door.active():
                    self._locked = True
                    self._go(HOMING)
                    return
            if self._since(self._t_state) > _DOOR_WAIT_MS:
                self._end(res, DOOR)
            return
        if self.tripped or self._door:
            if res.outcome == OK:
                res.outcome = DOOR
                res.detail = "door opened during %s" % st
            self._locked = False
            self._lock.release()
            self._go(DOOR_WAIT)
            return
        if st == DWELL:
            if self._since(self._t_state) >= _DWELL_MS:
                self._go(RETRACT)
            return
        want = _drive(st)
        if not want:
            return
        if self._lim:
            if want > 0:
                self._go(DWELL)
            else:
                self._pos_ms = 0
                if st == BACKOFF:
                    self._retry()
                elif self._pending != OK:
                    self._end(res, self._pending)
                else:
                    self._end(res, res.outcome)
            return
        if self._mv < cfg["vbat_motor_stop_mv"]:
            res.pos_mm = self._pos_mm()
            self._end(res, LOW_BATTERY, "battery sagged to %d mV under load" % self._mv)
            return
        elapsed = self._since(self._t_dir)
        ma = self._ma
        if self._dir and ma > res.peak_ma:
            res.peak_ma = ma
        if self._dir and elapsed > _INRUSH_BLANK_MS:
            self._stalled = self._stalled + 1 if ma >= cfg["stall_ma"] else 0
            if self._stalled >= _STALL_SAMPLES:
                self._stall(res, st, ma)
                return
            if want > 0:
                pressing = cfg["press_ma"] <= ma < cfg["stall_ma"]
                self._pressed = self._pressed + 1 if pressing else 0
                if self._pressed >= _PRESS_SAMPLES:
                    res.pressed = True
                    self._go(DWELL)
                    return
        if st == BACKOFF and self._since(self._t_state) >= _BACKOFF_MS:
            self._retry()
            return
        if self._since(self._t_state) > cfg["stroke_timeout_ms"]:
            res.pos_mm = self._pos_mm()
            detail = "no limit switch within %d ms of %s" % (self._since(self._t_state), st)
            if want > 0:
                self._pending = TIMEOUT
                res.outcome, res.detail = TIMEOUT, detail
                self._go(HOMING)
            else:
                self._end(res, TIMEOUT, detail)

    def _stall(self, res, st, ma):
        res.stall_ma = ma
        res.pos_mm = self._pos_mm()
        detail = "stalled at %d mA, ram about %d mm down, during %s" % (ma, res.pos_mm, st)
        if st == COMPRESS:
            res.jams += 1
            self.mem["jams"] = self.mem.get("jams", 0) + 1
            if self._tries < self._cfg["jam_retries"]:
                self._tries += 1
                self._go(BACKOFF)
            else:
                self._pending = JAM
                res.outcome, res.detail = JAM, detail + " after %d retries" % self._tries
                self._go(HOMING)
        else:
            # blocked on the way up: nothing safe left to try
            self._end(res, NOT_HOME, detail)

    def _retry(self):
        self._go(COMPRESS)

    def _pos_mm(self):
        return max(0, self._pos_ms) * _RAM_MM_S // 1000

    def _stopped(self, res):
        if self._dir:
            res.ms += self._since(self._t_dir)
            self._dir = 0

    def _apply(self, res):
        """The only place the bridge is switched on, behind every interlock."""
        want = _drive(self.state)
        if want and (self.tripped or self._door or not self._locked
                     or self._lim or self._mv < self._cfg["vbat_motor_stop_mv"]):
            want = 0
        if want == self._dir:
            return
        self._motor.off()
        self._stopped(res)
        self._stalled = self._pressed = 0
        if want == 0:
            return
        if self.tripped:    # the IRQ may have fired during the reads above
            return
        if want > 0:
            self._motor.forward()
        else:
            self._motor.reverse()
        self._dir = want
        self._t_dir = self._t_pos = self._b.clock.ticks_ms()


def stroke(board, cfg, mem=None):
    """One stroke by a fresh controller (technician tools). mem: the persisted record
    (compaction.memory(st)) so that a latched fault or lockout still refuses."""
    return Controller(board, cfg, mem if mem is not None else mem_fresh()).stroke()


def home(board, cfg, mem=None):
    return Controller(board, cfg, mem if mem is not None else mem_fresh()).home()
