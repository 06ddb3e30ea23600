# Sense step: read every sensor once per wake and return one Reading.
# Each level sensor gets its own burst and robust estimate; the estimates are fused here.
from drivers.a02yyuw import CHECKSUM, DEAD_ZONE, OUT_OF_RANGE, TIMEOUT, reason
from fill import compensate_mm, fill_pct, fuse_mm, robust_mm

_PING_GAP_MS = 70  # stagger pings: no echo of the previous ping is caught


class SensorStat:
    """One level sensor's burst in this wake (what fillwatch judges faults from)."""

    def __init__(self):
        self.distance_mm = None  # robust, compensated estimate, or None
        self.ok = 0              # pings with a distance
        self.kept = 0            # ...that agreed with the median
        self.dead = 0            # dead zone (blocked, dirty, condensation)
        self.far = 0             # out of range: no target
        self.silent = 0          # timeout: nothing came back at all
        self.garbled = 0         # only bad frames
        self.spread_mm = 0       # max - min of the good pings (0: suspiciously constant)
        self.first_mm = 0        # first good raw value (stuck detection)


class Reading:
    def __init__(self):
        self.ts = 0
        self.fill = None        # percent of usable depth, or None (no trustworthy reading)
        self.fill_est = None    # blind sensor: fill carried forward (alerts, compaction only)
        self.distance_mm = None
        self.pings_ok = 0
        self.pings = 0
        self.errors = {}        # reason -> count
        self.temp_c = None
        self.vbat_mv = 0
        self.vsolar_mv = 0
        self.door_open = False
        self.sensors = []       # SensorStat per level sensor
        self.disagree = False   # two sensors' estimates are far apart
        self.tilted = False     # the tilt switch says the bin is not upright

    def quality(self):
        """LwM2M 6042-style indicator: 4 accepted, 3 suspicious, 1 rejected."""
        if self.fill is None:
            return 1
        if self.disagree:
            return 3
        return 4 if self.pings_ok * 4 >= self.pings * 3 else 3


def _burst(board, sensor, n, r, temp_c):
    s = SensorStat()
    good = []
    sensor.flush()
    # a free-running sensor's frames come in one read (burst); a pinged one is pinged n times
    burst = getattr(sensor, "burst", None)
    got = burst(n, 300) if burst is not None else None
    for i in range(n):
        if got is None:
            mm = sensor.read_mm(300)
            board.clock.sleep_ms(_PING_GAP_MS)
        else:
            mm = got[i]
        r.pings += 1
        if mm > 0:
            good.append(mm)
        else:
            if mm == DEAD_ZONE:
                s.dead += 1
            elif mm == OUT_OF_RANGE:
                s.far += 1
            elif mm == TIMEOUT:
                s.silent += 1
            elif mm == CHECKSUM:
                s.garbled += 1
            why = reason(mm)
            r.errors[why] = r.errors.get(why, 0) + 1
    s.ok = len(good)
    if good:
        s.first_mm = good[0]
        s.spread_mm = max(good) - min(good)
    raw, s.kept = robust_mm(good)
    if raw is None and good:
        r.errors["no majority"] = r.errors.get("no majority", 0) + len(good) - s.kept
    if raw is not None:
        # one place for the speed of sound: sensors that compensate themselves say so
        s.distance_mm = raw if getattr(sensor, "compensated", False) else \
            compensate_mm(raw, temp_c)
    return s


def read(board, cfg):
    r = Reading()
    r.ts = board.clock.time()
    r.temp_c = board.temp.read_c()
    r.door_open = board.door.active()
    tilt = getattr(board, "tilt", None)
    r.tilted = tilt is not None and tilt.active()
    for sensor in board.level_sensors:
        s = _burst(board, sensor, cfg["burst"], r, r.temp_c)
        r.sensors.append(s)
        r.pings_ok += s.kept
    r.distance_mm, r.disagree = fuse_mm([s.distance_mm for s in r.sensors],
                                        cfg["depth_mm"] // 10)
    if r.distance_mm is not None and not r.tilted:
        # a bin on its side has no level: no reading is neither empty nor full
        r.fill = fill_pct(r.distance_mm, cfg["empty_mm"], cfg["depth_mm"])
    r.vbat_mv = board.battery.read_mv()
    r.vsolar_mv = board.solar.read_mv()
    return r
