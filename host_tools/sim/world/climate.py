"""Air temperature in the bin: season (Goyang, 37.7 N), day/night swing, seeded weather,
and the sun heating the enclosure."""

from __future__ import annotations

import math
import random

# Monthly mean air temperature, Seoul/Goyang area, degrees C (Jan..Dec).
MONTHLY_MEAN = [-2.4, 0.4, 5.7, 12.5, 17.8, 22.2, 24.9, 25.7, 21.2, 14.8, 7.2, 0.4]


class Climate:
    def __init__(self, seed: str, start_s: float, swing_c: float = 5.0):
        self.seed = seed
        self.swing = swing_c
        self._first_day = int((start_s + 9 * 3600) // 86400) - 7
        self._day_offsets: dict[int, float] = {}

    def _day_offset(self, day: int) -> float:
        # weather: an AR(1) walk over days from a fixed first day, each day's noise seeded by
        # (seed, day), so the answer does not depend on the order of queries
        if day <= self._first_day:
            return 0.0
        if day not in self._day_offsets:
            prev = self._day_offset(day - 1) if day - 1 in self._day_offsets else 0.0
            if day - 1 not in self._day_offsets and day - 1 > self._first_day:
                for d in range(self._first_day + 1, day):
                    self._day_offset(d)
                prev = self._day_offsets[day - 1]
            noise = random.Random(f"{self.seed}:climate:{day}").gauss(0, 2.0)
            self._day_offsets[day] = 0.7 * prev + noise
        return self._day_offsets[day]

    def air_c(self, t_s: float) -> float:
        lt = t_s + 9 * 3600
        day = int(lt // 86400)
        doy = (day + 0.5) % 365.25  # close enough for a seasonal curve
        m = doy / 365.25 * 12 - 0.5
        i = int(math.floor(m)) % 12
        frac = m - math.floor(m)
        base = MONTHLY_MEAN[i] * (1 - frac) + MONTHLY_MEAN[(i + 1) % 12] * frac
        hour = (lt % 86400) / 3600
        daily = self.swing * math.cos((hour - 15) / 24 * 2 * math.pi)
        sun = max(0.0, math.cos((hour - 13) / 12 * math.pi)) * 3.0  # enclosure in the sun
        return base + daily + sun + self._day_offset(day)


def sound_speed(temp_c: float) -> float:
    return 331.3 + 0.606 * temp_c
