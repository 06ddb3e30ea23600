# Sense step: read every sensor once per wake and return one Reading.
from drivers.a02yyuw import reason
from fill import compensate_mm, fill_pct, robust_mm

_PING_GAP_MS = 70  # stagger pings: no echo of the previous ping is caught


class Reading:
    def __init__(self):
        self.ts = 0
        self.fill = None        # percent of usable depth, or None (no trustworthy reading)
        self.distance_mm = None
        self.pings_ok = 0
        self.pings = 0
        self.errors = {}        # reason -> count
        self.temp_c = None
        self.vbat_mv = 0
        self.vsolar_mv = 0
        self.door_open = False

    def quality(self):
        """LwM2M 6042-style indicator: 4 accepted, 3 suspicious, 1 rejected."""
        if self.fill is None:
            return 1
        return 4 if self.pings_ok * 4 >= self.pings * 3 else 3


def read(board, cfg):
    r = Reading()
    r.ts = board.clock.time()
    r.temp_c = board.temp.read_c()
    r.door_open = board.door.active()
    good = []
    for sensor in board.level_sensors:
        sensor.flush()
        for _ in range(cfg["burst"]):
            mm = sensor.read_mm(300)
            r.pings += 1
            if mm > 0:
                good.append(mm)
            else:
                why = reason(mm)
                r.errors[why] = r.errors.get(why, 0) + 1
            board.clock.sleep_ms(_PING_GAP_MS)
    raw, kept = robust_mm(good)
    r.pings_ok = kept
    if raw is not None:
        r.distance_mm = compensate_mm(raw, r.temp_c)
        r.fill = fill_pct(r.distance_mm, cfg["empty_mm"], cfg["depth_mm"])
    r.vbat_mv = board.battery.read_mv()
    r.vsolar_mv = board.solar.read_mv()
    return r
