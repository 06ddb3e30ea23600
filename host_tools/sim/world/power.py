"""Sun, weather, solar panel, charge controller and LiFePO4 battery. Loads are what the
firmware actually did: time awake, modem attach and session time, motor current (reported to
this model by the simulator). A surge that pulls the battery bus below the board's brown-out
voltage resets the bin: this model decides and counts it."""

from __future__ import annotations

import math
import random

# 12.8 V LiFePO4 (4S) open-circuit voltage by state of charge (rest, 25 C).
OCV = [(0.0, 10.0), (0.10, 12.0), (0.20, 12.8), (0.30, 12.9), (0.40, 13.0), (0.50, 13.05),
       (0.60, 13.1), (0.70, 13.2), (0.80, 13.3), (0.90, 13.4), (1.0, 13.6)]
NOMINAL_V = 12.8

# Loads at the battery bus (regulator losses included).
SLEEP_W = 0.004         # deep sleep: MCU + regulators + dividers, modem off
AWAKE_W = 0.25          # MCU awake, 5 V sensor rail on
MODEM_ATTACH_W = 0.40   # SIM7080G cold attach: 60-120 mA at 3.8 V through the buck
LINK_W = 0.6            # modem registered, PDP up, TX bursts (average over a session)
MODEM_PEAK_A = 0.2      # TX burst (0.5 A at 3.8 V) as seen on the 12.8 V bus
LINK_OFF_W = 0.0

# Battery bus voltage under which the board resets: the BMS trips on undervoltage and the
# 3.8 V modem buck drops out during a surge.
BROWNOUT_V = 10.5
R_WIRING_OHM = 0.03     # fuse, BMS FETs and cabling in series with the cells

SYSTEM_FACTOR = 0.75    # charge controller, dirt, cell temperature, wiring
PANEL_VOC_V = 21.6      # open-circuit voltage of a 12 V-class panel
PANEL_VMP_V = 18.0

# Seeded weather: share of days by sky, and the clearness index each gives.
CLEAR, CLOUDY, OVERCAST, SNOW = "clear", "cloudy", "overcast", "snow"
CLEARNESS = {CLEAR: 0.75, CLOUDY: 0.4, OVERCAST: 0.12, SNOW: 0.10}
# Probability that a day brings snow, by month (Goyang: a handful of snow days each winter
# month).
SNOW_P = [0.2, 0.15, 0.05, 0, 0, 0, 0, 0, 0, 0, 0.05, 0.18]
SNOW_SHED_PER_DAY = 0.35   # fraction of the snow cover left after a day (20 degree panel)
SNOW_MEMORY_DAYS = 5


_OCV_SPANS = list(zip(OCV, OCV[1:], strict=False))


def ocv(soc: float) -> float:
    soc = min(1.0, max(0.0, soc))
    for (s0, v0), (s1, v1) in _OCV_SPANS:
        if soc <= s1:
            return v0 + (v1 - v0) * (soc - s0) / (s1 - s0)
    return OCV[-1][1]


def _declination(t_s: float) -> float:
    n = (t_s // 86400) % 365.25 + 1
    return math.radians(23.45) * math.sin(math.radians(360 * (284 + n) / 365))


def _hour_angle(t_s: float) -> float:
    solar_h = ((t_s / 3600) + 8.47) % 24   # Korea, 127 E: solar time ~ UTC + 8.5 h
    return math.radians(15 * (solar_h - 12))


def _elevation(decl: float, omega: float, lat_deg: float) -> float:
    lat = math.radians(lat_deg)
    s = math.sin(lat) * math.sin(decl) + math.cos(lat) * math.cos(decl) * math.cos(omega)
    return math.degrees(math.asin(max(-1.0, min(1.0, s))))


def _incidence(decl: float, omega: float, lat_deg: float, tilt_deg: float) -> float:
    x = math.radians(lat_deg - tilt_deg)
    return math.sin(decl) * math.sin(x) + math.cos(decl) * math.cos(x) * math.cos(omega)


def sun_elevation(t_s: float, lat_deg: float) -> float:
    """Solar elevation in degrees."""
    return _elevation(_declination(t_s), _hour_angle(t_s), lat_deg)


def incidence_cos(t_s: float, lat_deg: float, tilt_deg: float) -> float:
    """cos of the angle between the sun and the normal of a south-facing panel."""
    return _incidence(_declination(t_s), _hour_angle(t_s), lat_deg, tilt_deg)


def local_day(t_s: float) -> int:
    return int((t_s + 9 * 3600) // 86400)


def month_of_day(day: int) -> int:
    import datetime as dt

    return (dt.date(1970, 1, 1) + dt.timedelta(days=day)).month


class Power:
    def __init__(self, seed: str, lat_deg: float = 37.7, panel_w: float = 20.0,
                 battery_ah: float = 12.0, soc: float = 0.8, r_int_ohm: float = 0.05,
                 tilt_deg: float = 20.0):
        self.seed, self.lat, self.panel_w, self.tilt = seed, lat_deg, panel_w, tilt_deg
        self.capacity_wh = battery_ah * NOMINAL_V
        self.soc = soc
        self.r_cells = r_int_ohm
        self.t = None
        self.mcu_w = SLEEP_W
        self.modem_w = 0.0
        self.motor_a = 0.0
        self.charge_a = 0.0
        self.used_wh = {"mcu": 0.0, "modem": 0.0, "motor": 0.0}
        self.solar_wh = 0.0             # into the battery (after the controller)
        self.solar_potential_wh = 0.0   # what the panel could have given
        self.soc_min = soc
        self.brownouts = 0
        self.empty_s = 0.0
        self._sky: dict[int, str] = {}
        self._days: dict[int, tuple[float, float]] = {}   # day -> (sky factor, not snowed)

    # loads set by the simulator --------------------------------------------------------
    @property
    def load_w(self) -> float:
        return self.mcu_w + self.modem_w

    @load_w.setter
    def load_w(self, w: float) -> None:
        self.mcu_w = min(w, AWAKE_W)
        self.modem_w = max(0.0, w - AWAKE_W)

    # weather ---------------------------------------------------------------------------
    def sky(self, day: int) -> str:
        if day not in self._sky:
            rng = random.Random(f"{self.seed}:sky:{day}")
            r, s = rng.random(), rng.random()
            if s < SNOW_P[month_of_day(day) - 1]:
                self._sky[day] = SNOW
            else:
                self._sky[day] = CLEAR if r < 0.45 else (CLOUDY if r < 0.8 else OVERCAST)
        return self._sky[day]

    def clearness(self, day: int) -> float:
        return CLEARNESS[self.sky(day)]

    def snow_cover(self, day: int) -> float:
        """Fraction of the panel under snow: full on a snow day, then shed day by day."""
        cover = 0.0
        for k in range(SNOW_MEMORY_DAYS):
            if self.sky(day - k) == SNOW:
                cover = max(cover, SNOW_SHED_PER_DAY ** k)
        return cover

    def _day(self, day: int) -> tuple[float, float]:
        """The day's weather as solar_w() uses it: (sky factor, share not under snow)."""
        f = self._days.get(day)
        if f is None:
            f = self._days[day] = (self.clearness(day) / CLEARNESS[CLEAR],
                                   1 - self.snow_cover(day))
        return f

    def solar_w(self, t_s: float) -> float:
        """Panel output at its maximum power point, before the charge controller."""
        decl, omega = _declination(t_s), _hour_angle(t_s)   # the sun's place, worked out once
        el = _elevation(decl, omega, self.lat)
        if el <= 0:
            return 0.0
        z = 90 - el
        am = 1 / (math.cos(math.radians(z)) + 0.50572 * (96.07995 - z) ** -1.6364)
        dni = 1353 * 0.7 ** (am ** 0.678)
        beam = dni * max(0.0, _incidence(decl, omega, self.lat, self.tilt))
        diffuse = 0.1 * dni * math.sin(math.radians(el)) \
            * (1 + math.cos(math.radians(self.tilt))) / 2
        sky, clear = self._day(local_day(t_s))
        return self.panel_w * (beam + diffuse) / 1000 * sky * clear

    # battery ---------------------------------------------------------------------------
    def r_int(self) -> float:
        """Internal resistance: rises steeply as the pack nears empty."""
        low = max(0.0, 0.15 - self.soc) / 0.15
        return self.r_cells * (1 + 3 * low) + R_WIRING_OHM

    def advance(self, t_s: float) -> None:
        if self.t is None:
            self.t = t_s
            return
        while self.t < t_s:
            dt = min(300.0, t_s - self.t)
            mid = self.t + dt / 2
            panel = self.solar_w(mid)
            motor_w = self.motor_a * self.voltage()
            load = self.load_w + motor_w
            wh_avail = panel * SYSTEM_FACTOR * dt / 3600
            wh_out = load * dt / 3600
            wh_in = wh_avail
            if self.soc >= 1.0:
                wh_in = min(wh_in, wh_out)  # charge controller stops at full
            self.charge_a = wh_in / max(dt / 3600, 1e-9) / NOMINAL_V
            self.solar_wh += wh_in
            self.solar_potential_wh += wh_avail
            self.used_wh["mcu"] += self.mcu_w * dt / 3600
            self.used_wh["modem"] += self.modem_w * dt / 3600
            self.used_wh["motor"] += motor_w * dt / 3600
            self.soc = min(1.0, max(0.0, self.soc + (wh_in - wh_out) / self.capacity_wh))
            self.soc_min = min(self.soc_min, self.soc)
            if self.soc <= 0.0:
                self.empty_s += dt
            self.t += dt

    def voltage(self, extra_a: float = 0.0) -> float:
        """Battery bus voltage: OCV, minus the load current, plus the charge current, each
        through the internal resistance."""
        load_a = self.motor_a + extra_a + self.load_w / NOMINAL_V
        return ocv(self.soc) + (self.charge_a - load_a) * self.r_int()

    def surge(self, extra_a: float) -> bool:
        """A load of extra_a starts now. False (and a brown-out counted) if the bus would
        sag below the board's brown-out voltage."""
        if self.voltage(extra_a) < BROWNOUT_V:
            self.brownouts += 1
            return False
        return True

    def panel_voltage(self, t_s: float) -> float:
        w = self.solar_w(t_s)
        if w <= 0:
            return 0.0
        # open circuit in the slightest light; held near the battery while charging
        v = PANEL_VOC_V * min(1.0, w / max(0.1, self.panel_w * 0.02)) ** 0.1
        return min(v, PANEL_VMP_V) if self.soc < 1.0 else v
