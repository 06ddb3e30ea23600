# Compaction stroke: the only code that drives the H-bridge. Interlocks are checked before
# and on every control tick; every path out leaves the bridge off.
from micropython import const

_TICK_MS = const(50)
_INRUSH_BLANK_MS = const(300)
_STALL_SAMPLES = const(5)   # stall confirmed over this many consecutive ticks
_PRESS_SAMPLES = const(2)   # full pressure confirmed over this many consecutive ticks
_DWELL_MS = const(1000)

OK = "ok"
PRESSED = "pressed"         # the ram reached full pressure before its end switch: packed
DOOR = "door_open"
LOW_BATTERY = "low_battery"
JAM = "jam"
TIMEOUT = "timeout"
NOT_HOME = "not_home"


class Result:
    def __init__(self):
        self.outcome = OK
        self.peak_ma = 0
        self.ms = 0
        self.detail = ""


def _drive(board, cfg, direction, stop_switch, res):
    """Run the motor one way until stop_switch is active. Returns an outcome."""
    clock, motor = board.clock, board.motor
    t0 = clock.ticks_ms()
    stalled = pressed = 0
    try:
        if direction > 0:
            motor.forward()
        else:
            motor.reverse()
        while True:
            clock.sleep_ms(_TICK_MS)
            elapsed = clock.ticks_diff(clock.ticks_ms(), t0)
            if board.door.active():
                res.detail = "door opened %d ms into the stroke" % elapsed
                return DOOR
            if stop_switch.active():
                return OK
            ma = motor.current_ma()
            if ma > res.peak_ma:
                res.peak_ma = ma
            if elapsed > _INRUSH_BLANK_MS:
                stalled = stalled + 1 if ma >= cfg["stall_ma"] else 0
                if stalled >= _STALL_SAMPLES:
                    res.detail = "stalled at %d mA after %d ms" % (ma, elapsed)
                    return JAM
                # pressing: the load current says the waste is packed as far as it goes
                pressing = direction > 0 and cfg["press_ma"] <= ma < cfg["stall_ma"]
                pressed = pressed + 1 if pressing else 0
                if pressed >= _PRESS_SAMPLES:
                    return PRESSED
            if elapsed > cfg["stroke_timeout_ms"]:
                res.detail = "no limit switch within %d ms" % elapsed
                return TIMEOUT
    finally:
        motor.off()
        res.ms += clock.ticks_diff(clock.ticks_ms(), t0)


def home(board, cfg):
    """Retract the ram to its home switch if it is not there (after an interrupted stroke).
    Returns OK, DOOR, JAM, TIMEOUT, or LOW_BATTERY."""
    res = Result()
    if board.limit_home.active():
        return res
    if board.door.active():
        res.outcome = DOOR
        return res
    res.outcome = _drive(board, cfg, -1, board.limit_home, res)
    return res


def stroke(board, cfg):
    """One compaction: press down to the end switch, dwell, retract home.
    A door opened mid-stroke stops the ram where it is (no motion while a hand may be in)."""
    res = Result()
    if board.door.active():
        res.outcome, res.detail = DOOR, "door open before the stroke"
        return res
    if board.battery.read_mv() < cfg["vbat_motor_min_mv"]:
        res.outcome, res.detail = LOW_BATTERY, "battery below the motor floor"
        return res
    try:
        out = _drive(board, cfg, 1, board.limit_end, res)
        if out == PRESSED:
            out = OK
        if out == DOOR:
            res.outcome = DOOR
            return res
        board.clock.sleep_ms(_DWELL_MS)
        back = _drive(board, cfg, -1, board.limit_home, res)
        if out != OK:
            res.outcome = out
        elif back != OK:
            res.outcome = DOOR if back == DOOR else NOT_HOME
    finally:
        board.motor.off()
    return res
