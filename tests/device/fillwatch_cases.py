# Fill estimation edge cases: robust bursts, fusion, sensor faults with reasons, fire and
# tilt alerts, collections told apart from compactions, the hourly-profile forecast.
import check
import config
import fill
import fillwatch
from sense import Reading, SensorStat

cfg = config.defaults()
cfg["utc_offset_min"] = 0

# robust burst: condensation spikes pull the median off the surface; the cluster wins
d, k = fill.robust_mm([180, 200, 240, 700, 702, 698, 701])
check.true(d is not None and abs(d - 700) < 3, "three spikes of seven: the surface wins")
check.eq(fill.robust_mm([150, 700, 300, 900, 1050])[0], None, "scatter: no reading")
# fusion: the highest fill, disagreement flagged, a failed sensor degrades gracefully
check.eq(fill.fuse_mm([700, 690], 80), (690, False), "two sensors agree")
check.eq(fill.fuse_mm([700, 500], 80), (500, True), "two sensors disagree")
check.eq(fill.fuse_mm([None, 640], 80), (640, False), "one failed sensor")
check.eq(fill.fuse_mm([None, None], 80), (None, False), "all failed")


def reading(ts, mm=700, temp=20.0, tilted=False, **faults):
    r = Reading()
    r.ts, r.temp_c, r.tilted = ts, temp, tilted
    s = SensorStat()
    for key, v in faults.items():
        setattr(s, key, v)
    if not faults:
        s.ok, s.kept, s.first_mm, s.spread_mm, s.distance_mm = 7, 7, mm, 9, mm
    r.sensors.append(s)
    r.distance_mm = s.distance_mm
    r.fill = None if s.distance_mm is None or tilted else \
        fill.fill_pct(s.distance_mm, cfg["empty_mm"], cfg["depth_mm"])
    return r


def wakes(readings):
    st = {"compactions": 0, "hist": [], "fs": {}}
    out = []
    for r in readings:
        ev = []
        fillwatch.check(r, st, cfg, ev)
        out.append([(c, d.get("why")) for c, d in ev])
    return out, st


T = 1_800_000_000
# blocked: two wakes of dead-zone echoes raise it once, with the reason; two good clear it
ev, _ = wakes([reading(T + i * 900, dead=7) for i in range(4)] +
              [reading(T + 4 * 900), reading(T + 5 * 900)])
check.eq(ev[0], [], "one blocked burst is not yet a fault")
check.eq(ev[1], [("sensor_fault", "blocked")], "blocked on the second wake")
check.eq(ev[2] + ev[3] + ev[4], [], "raised once")
check.eq(ev[5], [("sensor_ok", None)], "cleared after two good wakes")
ev, _ = wakes([reading(T + i * 900, far=7) for i in range(3)])
check.eq(ev[2], [("sensor_fault", "no target")], "permanent no target after three wakes")
ev, _ = wakes([reading(T + i * 900, silent=7) for i in range(2)])
check.eq(ev[1], [("sensor_fault", "silent")], "no echo at all: silent")
# stuck: identical bursts of one value; the stuck sensor is dropped from the reading
stuck = [reading(T + i * 900, ok=7, kept=7, first_mm=812, spread_mm=0, distance_mm=812)
         for i in range(4)]
ev, _ = wakes(stuck)
check.eq(ev[2], [("sensor_fault", "stuck")], "stuck after identical bursts")
check.eq(stuck[3].fill, None, "a stuck sensor gives no reading")
# fire: absolute threshold, rise rate, and no alarm for a hot afternoon
ev, _ = wakes([reading(T, temp=40.0), reading(T + 900, temp=44.0)])
check.eq(ev, [[], []], "a hot afternoon is not a fire")
ev, _ = wakes([reading(T, temp=25.0), reading(T + 900, temp=38.0)])
check.eq(ev[1], [("fire", None)], "13 C in 15 minutes: fire")
ev, _ = wakes([reading(T, temp=61.0), reading(T + 900, temp=70.0),
               reading(T + 1800, temp=30.0)])
check.eq([e[0][0] if e else None for e in ev], ["fire", None, "fire_out"], "fire, once, out")
# tilt
ev, _ = wakes([reading(T, tilted=True), reading(T + 900, tilted=True),
               reading(T + 1800)])
check.eq([e[0][0] if e else None for e in ev], ["tilt", None, "upright"], "tilt and upright")

# collections vs compactions
st = {"compactions": 0, "hist": [], "fs": {}}
fillwatch.remember(st, 80.0, T)
check.eq(fillwatch.level_step(st, 3.0, T + 900, cfg), (True, 80.0), "sharp drop: collected")
st = {"compactions": 0, "hist": [], "fs": {}}
fillwatch.remember(st, 80.0, T)
st["compactions"] = 1       # a stroke ran, its after-reading failed
fillwatch.remember(st, None, T)
check.eq(fillwatch.level_step(st, 3.0, T + 900, cfg)[0], False, "drop after a stroke")
st = {"compactions": 1, "hist": [], "fs": {}}
fillwatch.remember(st, 18.0, T)  # after the stroke
check.eq(fillwatch.level_step(st, 19.0, T + 900, cfg)[0], False, "rising after a stroke")
check.eq(fillwatch.level_step(st, None, T + 900, cfg)[0], False, "no reading: nothing")
st = {"compactions": 0, "hist": [], "fs": {}}
fillwatch.remember(st, 60.0, T)
check.eq(fillwatch.level_step(st, 45.0, T + 900, cfg)[0], False, "settling is not emptying")

# forecast: learns 2 %/h in the day, nothing at night
st = {"compactions": 0, "hist": [], "fs": {}}
f = 10.0
t = T - T % 86400
for _ in range(4 * 96):
    h = (t // 3600) % 24
    fillwatch.level_step(st, f, t, cfg)
    fillwatch.remember(st, f, t)
    if 8 <= h < 20:
        f += 0.5
    t += 900
    if f > 70:
        f = 10.0
        st["compactions"] += 1
        fillwatch.remember(st, f, t)
t = t - t % 86400 + 6 * 3600   # 06:00, 50 %: 24 % by 20:00, the rest from 08:00 next day
got = fillwatch.forecast(st, 50.0, t, cfg)
want = t + 31 * 3600 + 1800
check.true(got is not None and abs(got - want) < 3600,
           "forecast knows the quiet night (%r vs %r)" % (got, want))
check.eq(fillwatch.forecast(st, 90.0, t, cfg), t, "already full: now")

# blind sensor: the last trusted fill carried along the learnt profile, never below it
fillwatch.remember(st, 40.0, t)               # 06:00: the night is quiet
check.eq(fillwatch.estimate(st, t + 3600, cfg), 40.0, "a quiet hour adds nothing")
est = fillwatch.estimate(st, t + 6 * 3600, cfg)   # 08:00-12:00 at ~2 %/h
check.true(est is not None and 46.0 <= est <= 50.0, "carried forward (%r)" % est)
st["compactions"] += 1                         # a blind stroke keeps the baseline
fillwatch.remember(st, None, t + 6 * 3600)
check.eq(fillwatch.estimate(st, t + 6 * 3600, cfg), est, "a blind stroke keeps the estimate")
check.eq(fillwatch.estimate({"compactions": 0, "hist": [], "fs": {}}, t, cfg), None,
         "no baseline: no estimate")
fresh = {"compactions": 0, "hist": [], "fs": {}}
fillwatch.remember(fresh, 30.0, t)
check.eq(fillwatch.estimate(fresh, t + 7200, cfg), 30.0, "nothing learnt yet: the baseline")

# a reading taken after a stroke in the same wake gets the wake's stuck verdict
st = {"compactions": 0, "hist": [], "fs": {"sf": [["stuck", "stuck", 9, 700],
                                                  ["", "", 0, 0]]}}
again = fillwatch.vet(reading(T, mm=700), st, cfg)
check.eq((again.fill, again.distance_mm), (None, None), "stuck sensor not believed twice")
ok = fillwatch.vet(reading(T, mm=700), {"compactions": 0, "hist": [], "fs": {}}, cfg)
check.true(ok.fill is not None, "a healthy sensor is")

# the forecast knows the compactor: a learnt stroke share lowers the level again and again
st = {"compactions": 0, "hist": [], "fs": {"fl": 50.0, "fp": 1}}
fillwatch.remember(st, 50.0, T - 900)          # the last wake
fillwatch.level_step(st, 80.0, T, cfg)        # this wake's level before the stroke
st["compactions"], st["cmp_pr"] = 1, True      # stopped at full pressure
fillwatch.remember(st, 60.0, T)                # after it: 10 of the 30 points stayed
check.eq(st["fs"]["q"], 0.25, "stroke share learnt, scaled to an empty floor")
check.eq(st["fs"]["fl"], 60.0, "the new floor")
check.eq(st["fs"]["pk"], 60.0, "the packed pile in view")
# a stroke that runs to the end switch shows the ram's end, not the pile under it
st = {"compactions": 0, "hist": [], "fs": {"fl": 0.0, "fp": 1, "pk": 0.0, "q": 0.125}}
fillwatch.remember(st, 0.0, T - 900)
fillwatch.level_step(st, 76.0, T, cfg)
st["compactions"], st["cmp_pr"] = 1, False
fillwatch.remember(st, 19.0, T)
fs = st["fs"]
check.eq((fs["q"], fs["re"], fs["fl"], fs["fp"]), (0.125, 19.0, 19.0, 0),
         "end switch: nothing learnt of the share, the ram's end seen")
check.true(9.0 <= fs["pk"] <= 10.0, "the hidden pile carried forward (%r)" % fs["pk"])
fillwatch.level_step(st, 76.0, T + 900, cfg)  # the next stroke stops at full pressure
st["compactions"], st["cmp_pr"] = 2, True
fillwatch.remember(st, 24.0, T + 900)
check.eq(st["fs"]["q"], 0.125, "not learnt against the ram's end")
check.eq((st["fs"]["pk"], st["fs"]["fp"]), (24.0, 1), "the pile in view again")
# one odd stroke moves the learnt share a little; learning starts from the installer's
st = {"compactions": 0, "hist": [], "fs": {"fl": 50.0, "fp": 1, "q": 0.125}}
fillwatch.remember(st, 50.0, T - 900)
fillwatch.level_step(st, 80.0, T, cfg)
st["compactions"], st["cmp_pr"] = 1, True
fillwatch.remember(st, 75.0, T)                # 25 of 30 points stayed: not a share
check.eq(st["fs"]["q"], 0.15, "an outlier clamped to twice the share, a fifth of the way")
cfg_prior = dict(cfg)
cfg_prior["pack_prior_pct"] = 13
st = {"compactions": 0, "hist": [], "fs": {"fl": 50.0, "fp": 1}}
fillwatch.remember(st, 50.0, T - 900, cfg_prior)
fillwatch.level_step(st, 80.0, T, cfg_prior)
st["compactions"], st["cmp_pr"] = 1, True
fillwatch.remember(st, 60.0, T, cfg_prior)
check.eq(st["fs"]["q"], 0.154, "the first stroke moves the installer's prior")
flat = [400] * 24                              # 4 %/h at every hour
st = {"compactions": 0, "hist": [], "cmp_after": 50.0,
      "fs": {"wd": list(flat), "we": list(flat), "n": 200, "nwd": 200, "nwe": 200}}
plain = fillwatch.forecast(st, 50.0, T, cfg)
check.eq(plain, T + 35 * 900, "no stroke learnt yet: the loose level's rise (8.75 h)")
cfg_prior = dict(cfg)
cfg_prior["pack_prior_pct"] = 20
hours = (fillwatch.forecast(st, 50.0, T, cfg_prior) - T) / 3600
check.true(23 <= hours <= 26, "nothing learnt: the installer's prior (%r h)" % hours)
st["fs"]["q"] = 0.2
packed = fillwatch.forecast(st, 50.0, T, cfg)
hours = (packed - T) / 3600
check.true(23 <= hours <= 26, "strokes in the forecast: full in %r h, not 8.75" % hours)
full, over = fillwatch.forecasts(st, 50.0, T, cfg)
check.eq(full, packed, "forecasts: the same full time")
check.true(over is not None and over > full, "then the overflow (%r)" % over)
check.eq(fillwatch.forecasts(st, 100.0, T, cfg), (T, T), "overflowing: now")
hidden = dict(st)
hidden["cmp_after"] = 19.0                     # the ram's end in view, the pile below it
hidden["fs"] = dict(st["fs"], pk=5.0, re=19.0)
seen = dict(st)
seen["cmp_after"] = 19.0
seen["fs"] = dict(st["fs"], pk=19.0)
check.true(fillwatch.forecast(hidden, 19.0, T, cfg) > fillwatch.forecast(seen, 19.0, T, cfg),
           "a pile hidden under the ram's end has room yet")
cfg_eco = dict(cfg)
cfg_eco["compact_pct"] = cfg["full_pct"]       # economy: strokes only at full
check.eq(fillwatch.forecast(st, 50.0, T, cfg_eco), plain, "no stroke before full: the rise")
# the weekend before the bin has seen one: the weekdays' volume times the site's prior
sat = T + 86400                                # T is a Friday, 00:00 UTC
check.true((sat // 86400 + 3) % 7 == 5, "the case starts on a Saturday")
st = {"compactions": 0, "hist": [], "cmp_after": 10.0,
      "fs": {"wd": list(flat), "we": [0] * 24, "n": 200, "nwd": 200, "nwe": 0}}
cfg_same = dict(cfg)
cfg_same["weekend_pct"] = 100
same = fillwatch.forecast(st, 10.0, sat, cfg_same)
check.eq(same, sat + 75 * 900, "a weekend like the weekdays: 75 % in 18.75 h")
more = fillwatch.forecast(st, 10.0, sat, cfg)   # the default: 115 %
hours = (more - sat) / 3600
check.true(16.0 <= hours <= 16.5, "a weekend brings 15 %% more: full in %r h" % hours)
# a wake a deposit caused is not a sample of the fill rate
st = {"compactions": 0, "hist": [], "fs": {}, "pwr": {"wake": "door"}}
fillwatch.remember(st, 20.0, T)
fillwatch.level_step(st, 30.0, T + 900, cfg)
check.eq(st["fs"].get("n", 0), 0, "door wake: nothing learnt")
st["pwr"]["wake"] = "timer"
fillwatch.level_step(st, 30.0, T + 900, cfg)
check.eq(st["fs"].get("n", 0), 1, "timer wake: learnt")


# no fused reading (no majority in the burst): a fault only when it persists, raised once
def nr_wakes(kinds):
    st = {"fs": {}}
    out = []
    for i, k in enumerate(kinds):
        if k == "ok":
            r = reading(T + i * 900)
        elif k == "tilt":
            r = reading(T + i * 900, tilted=True)
        else:
            r = reading(T + i * 900, ok=7, kept=3)
        ev = []
        flag = fillwatch.no_reading(r, st, ev)
        out.append((flag, [(c, d.get("why")) for c, d in ev]))
    return out


got = nr_wakes(["none", "ok", "none", "none", "ok", "none", "ok"])
check.eq([f for f, _ in got], [False] * 7, "single odd wakes: no fault, no flag")
check.eq(sum(len(e) for _, e in got), 0, "single odd wakes: no event")
got = nr_wakes(["none", "none", "none", "none", "none", "ok", "none"])
check.eq([e for _, e in got][2], [("sensor_fault", "no reading")], "third wake in a row: fault")
check.eq(sum(len(e) for _, e in got), 1, "raised once while it lasts")
check.eq([f for f, _ in got], [False, False, True, True, True, False, False],
         "flag while it stands, cleared by a reading")
got = nr_wakes(["none", "none", "tilt", "tilt", "ok"])
check.eq(sum(len(e) for _, e in got), 0, "a knocked-over bin has no level: not counted")

check.done()
