"""Waste arriving over the day and the week, and the pile it makes in the bin.

Volumes are litres of loose waste. Compaction packs the pile towards its fully compacted
volume; the ratio it reaches falls as the bin fills (packed waste does not pack again):
from RATIO_EMPTY for waste pressed into an empty bin to RATIO_FULL for the last layers
(vendors claim ~5x (Bigbelly HC) to up to 8x (CleanCUBE) the capacity of a plain bin).
Each deposit is a user opening the hopper door for a few seconds.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

# Relative arrival rate by hour of day: little at night, afternoon peak (field data:
# alerts rise through the afternoon, peak 12:00-18:00).
HOURLY = [0.15, 0.1, 0.08, 0.08, 0.1, 0.2, 0.45, 0.8, 1.0, 1.0, 1.1, 1.3,
          1.6, 1.7, 1.7, 1.6, 1.6, 1.7, 1.5, 1.1, 0.8, 0.55, 0.35, 0.2]
_HOURLY_MEAN = sum(HOURLY) / 24
WEEKEND = 1.15  # weekends bring ~1.1-1.2x the weekday volume
DEPOSIT_MEDIAN_L = 2.5   # one deposit's loose volume: lognormal
DEPOSIT_SIGMA = 0.7
RATIO_EMPTY = 8.0   # loose / fully compacted volume, first layers
RATIO_FULL = 4.0    # ... last layers of a full bin

# A fleet as the field data shows it (WorldSettings.fleet = "field"): most bins take days to
# fill, a minority of busy ones (transit stops, food courts) fill in under a day. Each bin's
# mean volume is drawn once per seed and bin: lognormal around the medians below. With the
# compactor, an ordinary bin's packed pile reaches 60 % in ~3 days (the field median for
# general waste is ~4) and its level passes 85 % in 4-5; busy bins get there in under a day.
FIELD_BUSY_SHARE = 0.1
FIELD_ORDINARY_L = 45.0       # median Waste rate (litres_per_day), ordinary bins
FIELD_ORDINARY_SIGMA = 0.35
FIELD_BUSY_L = 180.0          # ... busy bins
FIELD_BUSY_SIGMA = 0.1


def field_litres_per_day(seed: int, index: int) -> float:
    """One bin's mean loose litres a day in a field-like fleet (seeded per bin)."""
    rng = random.Random(f"{seed}:{index}:site")
    if rng.random() < FIELD_BUSY_SHARE:
        return rng.lognormvariate(math.log(FIELD_BUSY_L), FIELD_BUSY_SIGMA)
    return rng.lognormvariate(math.log(FIELD_ORDINARY_L), FIELD_ORDINARY_SIGMA)


@dataclass
class Geometry:
    empty_mm: int = 1100        # sensor to floor
    depth_mm: int = 800         # usable depth: 100 % full is empty_mm - depth_mm below sensor
    area_m2: float = 0.15       # 0.15 m2 x 0.8 m = 120 L usable
    ram_end_mm: int = 150       # ram end of stroke, height above the floor

    def litres_to_mm(self, litres: float) -> float:
        return litres / (self.area_m2 * 1000) * 1000

    def mm_to_litres(self, mm: float) -> float:
        return mm * self.area_m2


class Waste:
    def __init__(self, rng: random.Random, geometry: Geometry, litres_per_day: float,
                 packed_ratio: float | None = None):
        self.rng = rng
        self.geo = geometry
        self.rate = litres_per_day
        self.packed_ratio = packed_ratio   # fixed loose/compacted ratio (None: by fill)
        self.loose_l = 0.0                 # volume the pile occupies now
        self.packed_l = 0.0                # volume it would have fully compacted
        self.deposits = 0
        self.roughness_mm = 0.0            # pile unevenness the sensor cone averages over
        self.loose_total_l = 0.0           # every litre deposited, loose
        self.uncompacted_l = 0.0           # the same waste in a plain bin emptied at 100 %
        self.uncompacted_fulls = 0         # ...the times that plain bin reached 100 %

    # arrivals -------------------------------------------------------------------------
    def rate_per_s(self, t_s: float) -> float:
        lt = t_s + 9 * 3600  # local time, Korea (UTC+9)
        hour = int(lt // 3600) % 24
        dow = int(lt // 86400 + 3) % 7  # 1970-01-01 was a Thursday (dow 3, Monday = 0)
        w = WEEKEND if dow >= 5 else 1.0
        return self.rate / 86400 * HOURLY[hour] / _HOURLY_MEAN * w / (5 + 2 * WEEKEND) * 7

    def next_deposit(self, t_s: float) -> tuple[float, float]:
        """Time and loose volume of the next deposit after t_s (thinning of a Poisson
        process whose rate follows the hour and weekday)."""
        peak = self.rate / 86400 * max(HOURLY) / _HOURLY_MEAN * WEEKEND * 1.1
        t = t_s
        while True:
            t += self.rng.expovariate(peak)
            if self.rng.random() * peak <= self.rate_per_s(t):
                return t, self.rng.lognormvariate(math.log(DEPOSIT_MEDIAN_L), DEPOSIT_SIGMA)

    def capacity_l(self) -> float:
        return self.geo.mm_to_litres(self.geo.depth_mm)

    def ratio_now(self) -> float:
        """The compaction ratio new waste reaches: it falls as the packed pile grows."""
        if self.packed_ratio is not None:
            return self.packed_ratio
        f = min(1.0, self.packed_l / self.capacity_l())
        return RATIO_EMPTY - (RATIO_EMPTY - RATIO_FULL) * f

    def packed_pct(self) -> float:
        return self.packed_l / self.capacity_l() * 100

    def expected_litres(self, t0: float, t1: float) -> float:
        """Loose litres the site usually brings between t0 and t1 (what a crew knows)."""
        mean_l = math.exp(math.log(DEPOSIT_MEDIAN_L) + DEPOSIT_SIGMA ** 2 / 2)
        n, t = 0.0, t0
        while t < t1:
            dt = min(3600.0, t1 - t)
            n += self.rate_per_s(t + dt / 2) * dt
            t += dt
        return n * mean_l

    def add(self, litres: float) -> None:
        self.loose_l += litres
        self.packed_l += litres / self.ratio_now()
        self.loose_total_l += litres
        self.uncompacted_l += litres
        if self.uncompacted_l >= self.capacity_l():
            self.uncompacted_fulls += 1
            self.uncompacted_l = 0.0
        self.deposits += 1
        self.roughness_mm = min(60.0, self.roughness_mm + 4.0)

    # state ----------------------------------------------------------------------------
    def height_mm(self) -> float:
        return self.geo.litres_to_mm(self.loose_l)

    def packed_height_mm(self) -> float:
        return self.geo.litres_to_mm(self.packed_l)

    def fill_pct(self) -> float:
        return self.height_mm() / self.geo.depth_mm * 100

    def press_to(self, ram_height_mm: float) -> float:
        """The ram is at ram_height_mm: compress the pile under it. Returns the compression
        resistance 0..1 (1 = fully packed: the ram cannot go lower)."""
        h = self.height_mm()
        if ram_height_mm >= h:
            return 0.0
        floor = self.packed_height_mm()
        new_h = max(floor, ram_height_mm)
        self.loose_l = self.geo.mm_to_litres(new_h)
        self.roughness_mm = 5.0
        if h <= floor + 1e-6:
            return 1.0
        # the resistance climbs steeply in the last few percent: the ram reaches full
        # pressure (where the firmware stops) just above the packed height
        return min(1.0, (floor / new_h) ** 8) if new_h > 0 else 1.0

    def empty(self) -> None:
        self.loose_l = 0.0
        self.packed_l = 0.0
        self.roughness_mm = 0.0
