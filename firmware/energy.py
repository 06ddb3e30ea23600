# Energy: battery state of charge from voltage (12.8 V LiFePO4 curve, corrected for the
# load and for charging), a running energy account by load (mcu, modem, motor) kept in the
# state across deep sleep, the solar harvest per day and the daily energy budget, and the
# brown-out guards that keep a surge from resetting the board. Pure functions of numbers and
# the state dict st["pwr"]; no I/O.
from micropython import const

# Resting open-circuit voltage by state of charge, 4S LiFePO4 at 25 C: (percent, mV).
_OCV = ((0, 10000), (10, 12000), (20, 12800), (30, 12900), (40, 13000), (50, 13050),
        (60, 13100), (70, 13200), (80, 13300), (90, 13400), (100, 13600))

_R_INT_MOHM = const(80)       # cells + BMS + wiring, typical at mid charge
_R_SURGE_MOHM = const(150)    # what a surge sees at low charge and in the cold (worst case)
_BOR_MV = const(10500)        # battery bus voltage at which the board resets
_MARGIN_MV = const(500)
_INRUSH_MA = const(12000)     # motor start current (run + inrush)
_TX_PEAK_MA = const(200)      # modem TX burst seen on the 12.8 V bus
_MIN_PLAUSIBLE_MV = const(9000)
_MAX_PLAUSIBLE_MV = const(16000)
_CHARGING_MV = const(1000)    # panel this much above the battery: the controller charges

# Loads for the account, at the battery (regulator losses included).
_SLEEP_MW = const(4)
_AWAKE_MW = const(250)
_MODEM_MW = const(450)        # attach + session average
_MOTOR_AVG_MA = const(6000)
_NOMINAL_MV = const(12800)

_DAY_S = const(86400)
_BUDGET_DAYS = const(7)       # the charge above the reserve may be spent over this many days
_RESERVE_PCT = const(30)

MCU = 0
MODEM = 1
MOTOR = 2


def fresh(soc_pct=None, now=0):
    """The energy part of the state (st["pwr"])."""
    return {
        "soc": soc_pct,        # estimated state of charge, percent
        "lvl": 0,              # energy level (power_policy)
        "lvl_t": now,          # time of the last level change
        "t": now,              # time of the last account update
        "use": [0.0, 0.0, 0.0],  # mWh used today by mcu, modem, motor
        "day": now // _DAY_S,
        "soc0": soc_pct,       # estimate at the start of the day
        "harv": None,          # solar harvest per day, mWh (running average)
        "used": None,          # energy used per day, mWh (running average)
        "sun": 0,              # wakes today that saw the panel charging
        "hi": None,            # a surge in progress ("motor", "modem"): brown-out evidence
        "wake_at": 0,          # when the timer wake is due
    }


def soc_from_mv(rest_mv):
    """State of charge in percent from the resting voltage (linear between table points)."""
    if rest_mv <= _OCV[0][1]:
        return 0.0
    for i in range(1, len(_OCV)):
        p1, v1 = _OCV[i]
        if rest_mv <= v1:
            p0, v0 = _OCV[i - 1]
            return p0 + (p1 - p0) * (rest_mv - v0) / (v1 - v0)
    return 100.0


def mv_from_soc(pct):
    """Resting voltage for a state of charge (inverse of soc_from_mv)."""
    if pct <= 0:
        return _OCV[0][1]
    for i in range(1, len(_OCV)):
        p1, v1 = _OCV[i]
        if pct <= p1:
            p0, v0 = _OCV[i - 1]
            return v0 + (v1 - v0) * (pct - p0) / (p1 - p0)
    return _OCV[-1][1]


def _slope_mv_per_pct(pct):
    for i in range(1, len(_OCV)):
        p1, v1 = _OCV[i]
        if pct <= p1:
            p0, v0 = _OCV[i - 1]
            return (v1 - v0) / (p1 - p0)
    return 20


def rest_mv(loaded_mv, load_ma):
    """Resting voltage from one measured under load_ma: add back the internal drop."""
    return loaded_mv + load_ma * _R_INT_MOHM // 1000


def charging(vbat_mv, vsolar_mv):
    return vsolar_mv > vbat_mv + _CHARGING_MV


def estimate(prev_pct, used_mwh, capacity_mwh, vbat_mv, load_ma, is_charging):
    """New SOC estimate: the previous one minus what was used (the account), pulled towards
    the voltage reading. The pull is strong where the curve is steep (below 20 %, above 90 %)
    and weak on its flat middle. While charging the terminal voltage reads high, so it may
    only pull down, or re-anchor at full."""
    v_pct = soc_from_mv(rest_mv(vbat_mv, load_ma))
    if prev_pct is None:
        return v_pct
    counted = max(0.0, prev_pct - used_mwh * 100 / capacity_mwh)
    if is_charging:
        if v_pct >= 99.5:
            return 100.0
        if v_pct >= counted:
            return counted
    k = min(0.8, _slope_mv_per_pct(v_pct) / 50)
    return counted + k * (v_pct - counted)


def motor_safe(vbat_mv):
    """A motor start (inrush) keeps the bus above the brown-out voltage."""
    return vbat_mv - _INRUSH_MA * _R_SURGE_MOHM // 1000 >= _BOR_MV + _MARGIN_MV


def plausible(vbat_mv):
    """A reading the running board can have: below the BMS cut-off it could not be awake,
    so such a value is a divider or ADC fault."""
    return _MIN_PLAUSIBLE_MV <= vbat_mv <= _MAX_PLAUSIBLE_MV


def tx_safe(vbat_mv):
    """A modem attach / TX burst keeps the bus above the brown-out voltage. A faulty battery
    reading does not silence the bin: it reports, and the fault shows in `vbat`."""
    if not plausible(vbat_mv):
        return True
    return vbat_mv - _TX_PEAK_MA * _R_SURGE_MOHM // 1000 >= _BOR_MV + _MARGIN_MV


def motor_mwh(ms):
    return ms * (_MOTOR_AVG_MA * _NOMINAL_MV / 1000) / 3600000   # mW x h


def add_use(p, load, mwh):
    p["use"][load] += mwh


def note_wake(p, awake_ms, modem_ms, motor_ms):
    """Account one wake: the MCU awake, the modem on and the motor running for part of it.
    Returns the mWh the wake used."""
    u = awake_ms * _AWAKE_MW / 3600000
    m = modem_ms * _MODEM_MW / 3600000
    k = motor_mwh(motor_ms)
    add_use(p, MCU, u)
    add_use(p, MODEM, m)
    add_use(p, MOTOR, k)
    return u + m + k


def sleep_mwh(slept_s):
    return slept_s * _SLEEP_MW / 3600


def used_today(p):
    u = p["use"]
    return u[0] + u[1] + u[2]


def _avg(old, new):
    return new if old is None else 0.5 * old + 0.5 * new


def roll_day(p, now, capacity_mwh):
    """At the first wake of a new day: the finished day's harvest (energy balance: what
    was used plus what the battery gained) and use go into the running averages. Returns
    True if a day was closed."""
    day = now // _DAY_S
    if day == p["day"]:
        return False
    used = used_today(p)
    if p["soc0"] is not None and p["soc"] is not None and day == p["day"] + 1:
        gained = (p["soc"] - p["soc0"]) * capacity_mwh / 100
        p["harv"] = _avg(p["harv"], max(0.0, used + gained))
        p["used"] = _avg(p["used"], used)
    p["day"] = day
    p["soc0"] = p["soc"]
    p["use"] = [0.0, 0.0, 0.0]
    p["sun"] = 0
    return True


def budget_mwh(p, capacity_mwh):
    """What the bin may spend per day: the expected harvest plus the charge above the
    reserve spread over a week. None until a day has been seen."""
    if p["harv"] is None or p["soc"] is None:
        return None
    spare = max(0.0, p["soc"] - _RESERVE_PCT) * capacity_mwh / 100
    return p["harv"] + spare / _BUDGET_DAYS


def boot_cause(cause, p, rtc_kept=True):
    """The reset cause, with a brown-out recognised where the platform cannot tell it from
    a power-on: the board came up cold while a surge it had announced was in progress and
    its RTC memory held (the supply sagged, it did not go away). With the RTC memory lost
    too, the supply failed during the surge: a power cut or a brown-out deep enough to
    clear it, which this board cannot tell apart: "power_loss". A cold boot with no surge
    announced is a power-on, never a brown-out."""
    if cause == "brownout":
        return cause
    if cause in ("power_on", "hard") and p is not None and p.get("hi"):
        return "brownout" if rtc_kept else "power_loss"
    return cause
    if cause in ("power_on", "hard") and p is not None and p.get("hi"):
        return "brownout"
    return cause
