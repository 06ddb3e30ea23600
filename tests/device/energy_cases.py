# Energy: SOC estimator, account, budget, brown-out guards, and the energy policy (levels,
# hysteresis, events, effective config, wake scheduling). Runs on the unix port.
import json

import check
import config
import energy
import power_policy as pp
import state
from fakes import FakeRTC


class R:
    def __init__(self, vbat_mv, vsolar_mv=0, fill=50.0):
        self.vbat_mv, self.vsolar_mv, self.fill = vbat_mv, vsolar_mv, fill


class Board:
    def __init__(self, cause="deepsleep", wake="timer"):
        self.rtc = FakeRTC()
        self.cause, self.wake = cause, wake

    def reset_cause(self):
        return self.cause

    def wake_reason(self):
        return self.wake


def near(got, want, tol, what):
    check.true(abs(got - want) <= tol, "%s: got %r, want %r +- %r" % (what, got, want, tol))


# SOC from the resting voltage: the LiFePO4 table, interpolated, clamped
check.eq(energy.soc_from_mv(13600), 100.0, "13.6 V is full")
check.eq(energy.soc_from_mv(14400), 100.0, "charging voltage clamps to full")
check.eq(energy.soc_from_mv(12800), 20.0, "12.8 V is 20 %")
check.eq(energy.soc_from_mv(12400), 15.0, "steep part: 12.4 V is 15 %")
check.eq(energy.soc_from_mv(9000), 0.0, "below the table is empty")
near(energy.soc_from_mv(13025), 45.0, 0.01, "flat middle interpolated")
near(energy.soc_from_mv(energy.mv_from_soc(37.0)), 37.0, 0.01, "mv_from_soc inverts")
# rest vs load: the drop over the internal resistance is added back
check.eq(energy.rest_mv(12000, 1000), 12080, "1 A under load reads 80 mV low")
check.eq(energy.rest_mv(12800, 0), 12800, "no load: as read")
# estimator: first reading from the voltage alone
check.eq(energy.estimate(None, 0, 154000, 12800, 0, False), 20.0, "first estimate")
# the account pulls the estimate down by what was used
cap = 154000
s = energy.estimate(50.0, 1540, cap, energy.mv_from_soc(49.0), 0, False)
near(s, 49.0, 0.01, "1 % used, voltage agrees")
# flat middle: a voltage 10 % off moves the estimate only a little per wake
s = energy.estimate(60.0, 0, cap, energy.mv_from_soc(50.0), 0, False)
check.true(55.0 < s < 60.0, "flat curve: weak pull (%r)" % s)
# steep bottom: the voltage wins quickly
s = energy.estimate(30.0, 0, cap, energy.mv_from_soc(12.0), 0, False)
check.true(s < 18.0, "steep curve: strong pull (%r)" % s)
# charging inflates the voltage: it may pull down, never up, except the full re-anchor
s = energy.estimate(40.0, 0, cap, energy.mv_from_soc(70.0), 0, True)
check.eq(s, 40.0, "charging: no pull up")
check.eq(energy.estimate(80.0, 0, cap, 14200, 0, True), 100.0, "charging at 14.2 V: full")
s = energy.estimate(40.0, 0, cap, energy.mv_from_soc(15.0), 0, True)
check.true(s < 40.0, "charging yet low voltage: pulls down")
check.true(energy.charging(13000, 18000), "panel above the battery: charging")
check.true(not energy.charging(13000, 13500), "panel barely above: not charging")
# brown-out guards: a 12 A inrush through 150 mOhm must leave 11.0 V
check.true(energy.motor_safe(12800), "motor at 12.8 V")
check.true(not energy.motor_safe(12300), "no motor at 12.3 V")
check.true(energy.tx_safe(11100), "modem at 11.1 V")
check.true(not energy.tx_safe(10900), "no modem at 10.9 V")
check.true(energy.tx_safe(0), "a dead battery ADC does not silence the bin")
check.true(not energy.motor_safe(0), "...but no stroke on it")
# boot cause: a power-on while a surge was announced is a brown-out
check.eq(energy.boot_cause("power_on", {"hi": "motor"}), "brownout", "cold boot mid-stroke")
check.eq(energy.boot_cause("power_on", {"hi": None}), "power_on", "plain power-on")
check.eq(energy.boot_cause("deepsleep", {"hi": None}), "deepsleep", "wake")
check.eq(energy.boot_cause("brownout", None), "brownout", "platform knows")
check.eq(energy.boot_cause("power_on", {"hi": "modem"}, False), "power_loss",
         "RTC memory lost too: a cut or a brown-out, not told apart")
check.eq(energy.boot_cause("power_on", {"hi": None}, False), "power_on", "a cut, no surge")
# account and the daily roll: harvest = used + gained
p = energy.fresh(50.0, 86400 * 10)
energy.note_wake(p, 3600000, 0, 0)           # one hour awake: 250 mWh
near(energy.used_today(p), 250.0, 0.01, "awake hour")
check.eq(energy.motor_mwh(3600000) > 70000, True, "an hour of motor is ~77 Wh")
p["soc"] = 51.0                              # the battery gained 1 % = 1540 mWh
check.true(energy.roll_day(p, 86400 * 11 + 5, cap), "a new day")
near(p["harv"], 1790.0, 0.01, "harvest = used + gained")
near(p["used"], 250.0, 0.01, "use per day")
check.eq(p["use"], [0.0, 0.0, 0.0], "today's account restarts")
check.true(not energy.roll_day(p, 86400 * 11 + 900, cap), "same day")
near(energy.budget_mwh(p, cap), 1790.0 + 21 * 1540 / 7, 0.01, "budget: harvest + spare/7")

# levels: down at once, as far as the charge says
check.eq(pp.next_level(pp.NORMAL, 60, False, 0), pp.NORMAL, "60 %: normal")
check.eq(pp.next_level(pp.NORMAL, 39, False, 0), pp.ECONOMY, "39 %: economy")
check.eq(pp.next_level(pp.NORMAL, 19, False, 0), pp.CRITICAL, "19 %: straight to critical")
check.eq(pp.next_level(pp.ECONOMY, 7, False, 0), pp.SHUTDOWN, "7 %: shutdown")
check.eq(pp.next_level(pp.NORMAL, 65, True, 0), pp.ECONOMY, "budget deficit: economy")
check.eq(pp.next_level(pp.NORMAL, 75, True, 0), pp.NORMAL, "deficit but well charged")
# hysteresis in charge: back up only past a higher threshold
day = 86400
check.eq(pp.next_level(pp.ECONOMY, 45, False, day), pp.ECONOMY, "45 %: stays economy")
check.eq(pp.next_level(pp.ECONOMY, 50, False, day), pp.NORMAL, "50 %: normal again")
check.eq(pp.next_level(pp.CRITICAL, 25, False, day), pp.CRITICAL, "25 %: stays critical")
check.eq(pp.next_level(pp.CRITICAL, 60, False, day), pp.ECONOMY, "up one step at a time")
check.eq(pp.next_level(pp.SHUTDOWN, 12, False, day), pp.SHUTDOWN, "12 %: stays off")
check.eq(pp.next_level(pp.SHUTDOWN, 15, False, day), pp.CRITICAL, "15 %: back to critical")
# hysteresis in time: not up within 6 h of the last change
check.eq(pp.next_level(pp.ECONOMY, 80, False, 3600), pp.ECONOMY, "too soon to go up")
# no flapping: a charge wobbling around a threshold changes the level once
lvl, changes, t_last = pp.NORMAL, 0, 0
for i, soc in enumerate([41, 39, 41, 39.5, 42, 38, 44, 39, 46, 40] * 3):
    t = i * 3600
    new = pp.next_level(lvl, soc, False, t - t_last)
    if new != lvl:
        changes += 1
        lvl, t_last = new, t
check.eq(changes, 1, "wobble at 40 %: one change")
# the effective config per level
cfg = config.defaults()
check.true(pp.effective(cfg, pp.NORMAL) is cfg, "normal: config as stored")
eco = pp.effective(cfg, pp.ECONOMY)
check.eq(eco["wake_s"], 2 * cfg["wake_s"], "economy sleeps longer")
check.eq(eco["report_max_s"], 4 * cfg["report_max_s"], "economy reports less")
check.eq(eco["compact_pct"], cfg["compact_pct"] + 10, "economy compacts only fuller")
crit = pp.effective(cfg, pp.CRITICAL)
check.eq(crit["report_max_s"], 86400, "critical: one report a day")
check.eq(crit["wake_s"], 3600, "critical: hourly wakes")
check.eq(pp.effective(cfg, pp.SHUTDOWN)["wake_s"], 21600, "shutdown: 6 h wakes")
check.eq(cfg["wake_s"], 900, "the stored config is untouched")

# plan(): the level from a real wake, a change is an event
board = Board()
cfg = config.defaults()
now = 1_800_000_000


def fresh_state(pwr):
    st = state.fresh()
    st["pwr"], st["last_report"] = pwr, now
    return st


st = fresh_state(None)
ev = []
c = pp.plan(st, R(energy.mv_from_soc(60)), cfg, now, "power_on", ev)
check.eq((pp.level(st), ev), (pp.NORMAL, []), "60 %: normal, no event")
ev = []
for k in range(1, 40):   # the battery sags to 15 % over a day of wakes
    soc = 60 - k * 45 / 39
    c = pp.plan(st, R(energy.mv_from_soc(soc)), cfg, now + k * 900, "deepsleep", ev)
codes = [(e[1]["from"], e[1]["level"]) for e in ev]
check.eq(codes, [("normal", "economy"), ("economy", "critical")], "each change one event")
check.eq(pp.level(st), pp.CRITICAL, "ends critical")
check.eq(c["report_max_s"], 86400, "critical config returned")
# critical: alarms only, no stroke; a brown-out boot forces critical
r = R(12900)
check.true(not pp.may_compact(board, st, r), "no stroke at critical")
check.true(not pp.session_wanted([("collected", {})], st), "critical: not for a collection")
check.true(pp.session_wanted([("full", {})], st), "critical: a full alert goes out")
check.true(pp.may_transmit(board, st, r, [("full", {})]), "critical: alarm transmits")
check.true(not pp.may_transmit(board, st, R(10800), [("full", {})]), "never into a brown-out")
st2 = fresh_state(energy.fresh(70.0, now))
st2["pwr"]["hi"] = "motor"
check.eq(pp.boot_cause(Board("power_on", None), st2), "brownout", "announced surge: brown-out")
check.eq(st2["pwr"]["hi"], None, "marker cleared")
st4 = fresh_state(energy.fresh(70.0, now))
st4["pwr"]["hi"] = "modem"
ev = []
check.eq(pp.boot_cause(Board("power_on", None), st4, False, ev), "power_loss",
         "surge, RTC lost: power loss")
check.eq([(c, d["cause"], d["during"]) for c, d in ev], [("reset", "power_loss", "modem")],
         "reported as what it may be")
pp.plan(st4, R(energy.mv_from_soc(70)), cfg, now + 60, "power_loss", [])
check.eq(pp.level(st4), pp.NORMAL, "a power loss is no reason for the critical level")
ev = []
pp.plan(st2, R(energy.mv_from_soc(70)), cfg, now + 60, "brownout", ev)
check.eq(pp.level(st2), pp.CRITICAL, "after a brown-out: critical")
# normal: strokes announced in the state before the surge (brown-out evidence)
st3 = fresh_state(energy.fresh(80.0, now))
check.true(pp.may_compact(board, st3, R(13300)), "normal: stroke allowed")
check.eq(json.loads(board.rtc.mem)["pwr"]["hi"], "motor", "surge announced in RTC memory")
check.true(not pp.may_compact(board, st3, R(12300)), "inrush would brown out: no stroke")
# wake scheduling: the level's interval, sooner for a fast-filling bin
check.eq(pp.next_wake_s(st3, cfg, now, None), 900, "normal: 15 min")
check.eq(pp.next_wake_s(st3, cfg, now, now + 1000), 500, "full in 1000 s: check at half")
check.eq(pp.next_wake_s(st3, cfg, now, now + 400), 300, "never below 5 min")
check.eq(pp.next_wake_s(st3, cfg, now, now + 7200), 900, "full far off: regular")
check.eq(st3["pwr"]["wake_at"], now + 900, "the timer wake is remembered")
check.eq(pp.next_wake_s(st, c, now, now + 1000), 500, "critical: fast filling still checked")
# door and button wakes keep the timer's schedule; the button gets a report
pp.boot_cause(Board("deepsleep", "door"), st3)
check.eq(pp.next_wake_s(st3, cfg, now + 600, None), 300, "door wake: back on schedule")
check.eq(pp.next_wake_s(st3, cfg, now + 900, None), 900, "the timer wake: a full interval")
check.true(not pp.session_wanted([], st3), "a door wake alone reports nothing")
pp.boot_cause(Board("deepsleep", "button"), st3)
check.true(pp.session_wanted([], st3), "service button: a report")
check.done()
