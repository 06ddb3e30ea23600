"""Sun, solar panel and LiFePO4 battery. Loads are what the firmware actually did: time
awake, link sessions, motor current (reported to this model by the simulator)."""

from __future__ import annotations

import math
import random

# 12.8 V LiFePO4 (4S) open-circuit voltage by state of charge (rest, 25 C).
OCV = [(0.0, 10.0), (0.10, 12.0), (0.20, 12.8), (0.30, 12.9), (0.40, 13.0), (0.50, 13.05),
       (0.60, 13.1), (0.70, 13.2), (0.80, 13.3), (0.90, 13.4), (1.0, 13.6)]

SLEEP_W = 0.004        # deep sleep: MCU + regulators + modem off
AWAKE_W = 0.25         # MCU awake, sensors powered
LINK_W = 0.6           # modem registered / transmitting (average over a session)


def ocv(soc: float) -> float:
    soc = min(1.0, max(0.0, soc))
    for (s0, v0), (s1, v1) in zip(OCV, OCV[1:], strict=False):
        if soc <= s1:
            return v0 + (v1 - v0) * (soc - s0) / (s1 - s0)
    return OCV[-1][1]


def sun_elevation(t_s: float, lat_deg: float) -> float:
    """Solar elevation in degrees (Korea, 127 E; solar time ~ UTC + 8.5 h)."""
    n = (t_s // 86400) % 365.25 + 1
    decl = math.radians(23.45) * math.sin(math.radians(360 * (284 + n) / 365))
    solar_h = ((t_s / 3600) + 8.47) % 24
    omega = math.radians(15 * (solar_h - 12))
    lat = math.radians(lat_deg)
    s = math.sin(lat) * math.sin(decl) + math.cos(lat) * math.cos(decl) * math.cos(omega)
    return math.degrees(math.asin(max(-1.0, min(1.0, s))))


class Power:
    def __init__(self, seed: str, lat_deg: float = 37.7, panel_w: float = 20.0,
                 battery_ah: float = 12.0, soc: float = 0.8, r_int_ohm: float = 0.05):
        self.seed, self.lat, self.panel_w = seed, lat_deg, panel_w
        self.capacity_wh = battery_ah * 12.8
        self.soc = soc
        self.r_int = r_int_ohm
        self.t = None
        self.load_w = SLEEP_W
        self.motor_a = 0.0
        self.used_wh = {"mcu": 0.0, "modem": 0.0, "motor": 0.0}
        self.solar_wh = 0.0
        self.soc_min = soc
        self._clearness: dict[int, float] = {}

    def clearness(self, day: int) -> float:
        if day not in self._clearness:
            r = random.Random(f"{self.seed}:sky:{day}").random()
            self._clearness[day] = 0.75 if r < 0.45 else (0.4 if r < 0.8 else 0.12)
        return self._clearness[day]

    def solar_w(self, t_s: float) -> float:
        el = sun_elevation(t_s, self.lat)
        if el <= 0:
            return 0.0
        z = math.radians(90 - el)
        am = 1 / (math.cos(z) + 0.50572 * (96.07995 - (90 - el)) ** -1.6364)
        ghi = 1.1 * 1353 * 0.7 ** (am ** 0.678) * math.sin(math.radians(el))
        day = int((t_s + 9 * 3600) // 86400)
        return self.panel_w * ghi / 1000 * self.clearness(day) / 0.75 * 0.75

    def advance(self, t_s: float) -> None:
        if self.t is None:
            self.t = t_s
            return
        while self.t < t_s:
            dt = min(300.0, t_s - self.t)
            mid = self.t + dt / 2
            sun = self.solar_w(mid)
            motor_w = self.motor_a * self.voltage()
            load = self.load_w + motor_w
            wh_in = sun * dt / 3600
            wh_out = load * dt / 3600
            if self.soc >= 1.0:
                wh_in = min(wh_in, wh_out)  # charge controller stops at full
            self.solar_wh += wh_in
            self.used_wh["mcu"] += min(self.load_w, AWAKE_W) * dt / 3600
            self.used_wh["modem"] += max(0.0, self.load_w - AWAKE_W) * dt / 3600
            self.used_wh["motor"] += motor_w * dt / 3600
            self.soc = min(1.0, max(0.0, self.soc + (wh_in - wh_out) / self.capacity_wh))
            self.soc_min = min(self.soc_min, self.soc)
            self.t += dt

    def voltage(self) -> float:
        return ocv(self.soc) - self.motor_a * self.r_int - self.load_w / 12.8 * self.r_int

    def panel_voltage(self, t_s: float) -> float:
        return 18.0 * min(1.0, self.solar_w(t_s) / max(1.0, self.panel_w * 0.05)) ** 0.1 \
            if self.solar_w(t_s) > 0 else 0.0
