# From raw echoes to a fill level: robust burst statistics, speed-of-sound compensation
# (done here and only here), calibration to percent of usable depth.
from micropython import const

_C20_X10 = const(3434)  # speed of sound at 20 C in 0.1 m/s: the sensors' own reference
_TOL_MM = const(30)     # a pile's roughness: pings this close describe the same surface


def sound_speed_x10(temp_c):
    """Speed of sound in 0.1 m/s at temp_c (331.3 + 0.606 T m/s)."""
    return 3313 + 6.06 * temp_c


def compensate_mm(raw_mm, temp_c):
    """A distance reported at the 20 C sound speed, corrected for the actual air temperature."""
    if temp_c is None:
        return raw_mm
    return raw_mm * sound_speed_x10(temp_c) / _C20_X10


def robust_mm(values):
    """Median of the burst after dropping values far from it (multipath, lid and droplet
    echoes are short and scattered). When the median lands between the surface and the
    spikes, the densest cluster (a pile's roughness wide) is tried instead. Returns
    (distance_mm, kept), or (None, kept) when no majority of the burst agrees: no reading is
    better than a guess."""
    n = len(values)
    if n == 0:
        return None, 0
    s = sorted(values)
    d, k = _trimmed(s, s[n // 2] if n & 1 else (s[n // 2 - 1] + s[n // 2]) / 2)
    if k * 2 > n:
        return d, k
    best_i, best_k = 0, 0
    j = 0
    for i in range(n):
        width = 2 * max(_TOL_MM, s[i] // 20)
        if j < i:
            j = i
        while j < n and s[j] - s[i] <= width:
            j += 1
        if j - i >= best_k:   # a tie goes to the longer distance: spikes are short echoes
            best_i, best_k = i, j - i
    if best_k * 2 <= n:
        return None, best_k
    c = s[best_i:best_i + best_k]
    d, k = _trimmed(c, c[best_k // 2])
    if k * 2 <= n:
        return None, k
    return d, k


def _trimmed(s, med):
    tol = max(_TOL_MM, med // 20)
    kept = [v for v in s if abs(v - med) <= tol]
    if not kept:
        return None, 0
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


def fuse_mm(estimates, disagree_mm):
    """Fuse per-sensor robust estimates (None = that sensor failed): the shortest distance
    (the highest fill: a crew is never sent late because one sensor sees a low corner) and
    whether the working sensors disagree by more than disagree_mm. (distance_mm, disagree)."""
    best = None
    worst = None
    for d in estimates:
        if d is None:
            continue
        if best is None or d < best:
            best = d
        if worst is None or d > worst:
            worst = d
    if best is None:
        return None, False
    return best, worst - best > disagree_mm
