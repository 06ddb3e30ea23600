# From raw echoes to a fill level: robust burst statistics, speed-of-sound compensation
# (done here and only here), calibration to percent of usable depth.
from micropython import const

_C20_X10 = const(3434)  # speed of sound at 20 C in 0.1 m/s: the sensors' own reference


def sound_speed_x10(temp_c):
    """Speed of sound in 0.1 m/s at temp_c (331.3 + 0.606 T m/s)."""
    return 3313 + 6.06 * temp_c


def compensate_mm(raw_mm, temp_c):
    """A distance reported at the 20 C sound speed, corrected for the actual air temperature."""
    if temp_c is None:
        return raw_mm
    return raw_mm * sound_speed_x10(temp_c) / _C20_X10


def robust_mm(values):
    """Median of the burst after dropping values far from it (multipath spikes).
    Returns (distance_mm, kept) or (None, 0) when nothing usable came back."""
    n = len(values)
    if n == 0:
        return None, 0
    s = sorted(values)
    med = s[n // 2] if n & 1 else (s[n // 2 - 1] + s[n // 2]) / 2
    tol = max(30, med // 20)  # 5 % or 3 cm
    kept = [v for v in s if abs(v - med) <= tol]
    if len(kept) * 2 < n:  # no majority agrees: untrustworthy burst
        return None, len(kept)
    return sum(kept) / len(kept), len(kept)


def fill_pct(distance_mm, empty_mm, depth_mm):
    """Percent of usable depth; None stays None (no reading is neither empty nor full)."""
    if distance_mm is None:
        return None
    pct = (empty_mm - distance_mm) * 100 / depth_mm
    if pct < 0:
        return 0.0
    if pct > 120:
        return 120.0
    return pct


def forecast_full(hist, now, full_pct):
    """Unix time at which the fill passes full_pct, from the rate over the recent history,
    or None when the level is not rising."""
    if len(hist) < 2:
        return None
    t0, f0 = hist[0]
    t1, f1 = hist[-1]
    if t1 <= t0 or f1 <= f0:
        return None
    if f1 >= full_pct:
        return now
    rate = (f1 - f0) / (t1 - t0)  # percent per second
    return int(t1 + (full_pct - f1) / rate)
