# Pure logic: fill estimation, decisions, config validation. Runs on MicroPython and CPython.
import check
import config
import decide
import fill

# robust statistics
check.eq(fill.robust_mm([]), (None, 0), "empty burst")
check.eq(fill.robust_mm([500, 502, 498, 120, 501, 499, 503])[0], 500.5, "spike rejected")
check.eq(fill.robust_mm([500, 100, 900, 1500])[0], None, "no majority: untrustworthy")
# speed of sound: a 20 C reading needs no correction; hot air reads short
check.eq(round(fill.compensate_mm(1000, 20.0)), 1000, "20 C is the reference")
check.true(fill.compensate_mm(1000, 35.0) > 1020, "35 C: true distance longer")
check.true(fill.compensate_mm(1000, -10.0) < 960, "-10 C: true distance shorter")
check.eq(fill.compensate_mm(1000, None), 1000, "no temperature: uncorrected")
# calibration
check.eq(fill.fill_pct(1100, 1100, 800), 0.0, "empty")
check.eq(fill.fill_pct(300, 1100, 800), 100.0, "full line")
check.eq(fill.fill_pct(700, 1100, 800), 50.0, "half")
check.eq(fill.fill_pct(1300, 1100, 800), 0.0, "below the floor clamps to 0")
check.eq(fill.fill_pct(None, 1100, 800), None, "no reading stays None")
check.eq(fill.fill_pct(50, 1100, 800), 120.0, "overflow clamps at 120")
# forecast
check.eq(fill.forecast_full([[0, 10.0]], 0, 85), None, "one point")
check.eq(fill.forecast_full([[0, 10.0], [3600, 20.0]], 3600, 85), 3600 + 6.5 * 3600, "linear")
check.eq(fill.forecast_full([[0, 30.0], [3600, 20.0]], 3600, 85), None, "falling")

cfg = config.defaults()
st = {"last_report": 1000, "last_fill": 40.0, "hist": [], "cmp_after": None}
# report rule: MaxTime heartbeat, MinTime floor, ReportableChange
check.eq(decide.report_due(1000 + cfg["report_max_s"], 40.0, st, cfg), True, "heartbeat")
check.eq(decide.report_due(999 + cfg["report_max_s"], 40.0, st, cfg), False, "no change")
check.eq(decide.report_due(1000 + 600, 60.0, st, cfg), False, "change but inside MinTime")
check.eq(decide.report_due(1000 + 900, 46.0, st, cfg), True, "change after MinTime")
check.eq(decide.report_due(1000 + 900, 42.0, st, cfg), False, "small change")
check.eq(decide.report_due(1000 + 900, None, st, cfg), True, "reading lost")
# full alert with hysteresis
check.eq(decide.full_alert(84.9, False, cfg), (False, False), "below full")
check.eq(decide.full_alert(85.0, False, cfg), (True, True), "crosses full")
check.eq(decide.full_alert(80.0, True, cfg), (True, False), "stays latched")
check.eq(decide.full_alert(69.0, True, cfg), (False, False), "clears below 70")
check.eq(decide.full_alert(None, True, cfg), (True, False), "no reading keeps the latch")


class R:
    def __init__(self, fill, door=False, vbat=13000):
        self.fill, self.door_open, self.vbat_mv = fill, door, vbat


check.eq(decide.compact_wanted(R(80), st, cfg), True, "above threshold")
check.eq(decide.compact_wanted(R(70), st, cfg), False, "below threshold")
check.eq(decide.compact_wanted(R(80, door=True), st, cfg), False, "door open")
check.eq(decide.compact_wanted(R(80, vbat=11000), st, cfg), False, "battery too low")
check.eq(decide.compact_wanted(R(None), st, cfg), False, "no reading")
st2 = dict(st, cmp_after=78.0)
check.eq(decide.compact_wanted(R(80), st2, cfg), False, "no new waste since the last stroke")
check.eq(decide.compact_wanted(R(84), st2, cfg), False, "too little new waste")
check.eq(decide.compact_wanted(R(88), st2, cfg), True, "new waste since the last stroke")

# config: validated as a whole
good = config.validate({"wake_s": 600}, cfg)
check.eq(good["wake_s"], 600, "valid change")
for bad in ({"wake_s": 5}, {"wake_s": "600"}, {"nope": 1}, {"full_pct": True},
            {"report_min_s": 7200, "report_max_s": 3600}, {"full_clear_pct": 90},
            {"broker_host": ""}, {"press_ma": 20000}, [1, 2]):
    try:
        config.validate(bad, cfg)
        check.true(False, "accepted %r" % (bad,))
    except ValueError as e:
        check.true(len(str(e)) > 10, "readable error for %r" % (bad,))
check.eq(cfg["wake_s"], 900, "a rejected change leaves the base untouched")

check.done()
