"""Analog front ends as the ADC sees them (inverse of firmware/drivers/analog.py)."""

from __future__ import annotations

import math

VREF_UV = 3_300_000


def ntc_uv(temp_c: float, r_fixed=10_000, r25=10_000, beta=3950) -> int:
    r = r25 * math.exp(beta * (1 / (temp_c + 273.15) - 1 / 298.15))
    return int(VREF_UV * r / (r + r_fixed))


def divider_uv(volts: float, ratio: float) -> int:
    return int(min(VREF_UV, max(0.0, volts / ratio * 1e6)))


def isense_uv(current_ma: float) -> int:
    return int(min(VREF_UV, max(0.0, current_ma * 100)))
