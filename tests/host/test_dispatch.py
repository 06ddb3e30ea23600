"""The dispatcher decides from broker knowledge only: its code never imports the simulated
world (or any of the simulator), and its policies pick bins by what the bins reported."""

from __future__ import annotations

import ast
import datetime as dt
import math
from pathlib import Path

import pytest

from host_tools.binview import BinView
from host_tools.dispatch import (
    COLLECT_BEFORE_PCT,
    CrewSettings,
    Dispatcher,
    pm_start,
    route_start,
    views_from,
)
from host_tools.paths import ROOT

KST = dt.timezone(dt.timedelta(hours=9))
MONDAY_4H = dt.datetime(2025, 6, 2, 4, tzinfo=KST).timestamp()
DAY = 86400


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _module_file(name: str) -> Path | None:
    p = ROOT / Path(*name.split("."))
    if (p / "__init__.py").exists():
        return p / "__init__.py"
    if p.with_suffix(".py").exists():
        return p.with_suffix(".py")
    return None


def reachable(start: str) -> set[str]:
    """Every project module start imports, directly or through other project modules."""
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        f = _module_file(name)
        if f is not None:
            todo += [n for n in _imports(f) if n.split(".")[0] == "host_tools"]
    return seen


def test_dispatch_never_imports_the_world():
    mods = reachable("host_tools.dispatch")
    assert "host_tools.plan" in mods and "host_tools.binview" in mods   # the check sees
    assert not [m for m in mods if m.startswith("host_tools.sim")], sorted(mods)


def test_the_import_check_catches_a_world_import(tmp_path, monkeypatch):
    import tests.host.test_dispatch as me

    fake = tmp_path / "host_tools" / "dispatch"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("from host_tools.sim.world.bin import BinWorld\n")
    monkeypatch.setattr(me, "ROOT", tmp_path)
    assert "host_tools.sim.world.bin" in reachable("host_tools.dispatch")


def view(bin_id, fill, ts, fcst=None, ovf=None, cmp=0):
    v = BinView(bin_id)
    v.update("telemetry", {"ts": ts, "fill": fill, "fcst": fcst, "ovf": ovf, "cmp": cmp}, ts)
    return v


def test_threshold_takes_the_bins_at_or_above_it():
    d = Dispatcher("threshold", ["a", "b", "c"], CrewSettings(threshold_pct=75))
    views = {"a": view("a", 80, MONDAY_4H - 600), "b": view("b", 60, MONDAY_4H - 600),
             "c": view("c", 75, MONDAY_4H - 600)}
    route = d.plan(views, MONDAY_4H, MONDAY_4H + DAY)
    assert sorted(v.bin_id for v in route.visits) == ["a", "c"]
    assert all(MONDAY_4H < v.at < MONDAY_4H + 9 * 3600 for v in route.visits)
    assert route.km > 0


def test_forecast_takes_the_bins_that_would_overflow_before_the_next_route():
    # (the rim as the fill to keep them from: the margins below are in time alone)
    d = Dispatcher("forecast", ["soon", "later", "full", "flat", "old"],
                   CrewSettings(pm_start_h=0, learn_h=0, over_pct=100))
    t = MONDAY_4H - 600
    h = 3600
    # the crews are back by Tuesday 07:00 (the next route's first 3 h)
    views = {"soon": view("soon", 50, t, fcst=MONDAY_4H + 10 * h, ovf=MONDAY_4H + 26 * h),
             "later": view("later", 80, t, fcst=MONDAY_4H + 4 * h, ovf=MONDAY_4H + 3 * DAY),
             "full": view("full", 100, t, fcst=t, ovf=t),
             "flat": view("flat", 40, t, fcst=None),
             "old": view("old", 60, t, fcst=MONDAY_4H + 20 * h)}   # no overflow forecast
    route = d.plan(views, MONDAY_4H, MONDAY_4H + DAY)
    assert sorted(v.bin_id for v in route.visits) == ["full", "old", "soon"]
    assert [v.why for v in route.visits if v.bin_id == "soon"] == \
        ["would overflow Tue 06:00, before the next route"]
    # emptied since its last report: the old forecast is void
    route = d.plan(views, MONDAY_4H + DAY, MONDAY_4H + 2 * DAY)
    assert route.visits == []


def test_forecast_margin_grows_with_the_forecasts_lead():
    cs = CrewSettings(pm_start_h=0, learn_h=0, margin_h=2.0, margin_share=0.1, over_pct=100)
    d = Dispatcher("forecast", ["edge"], cs)
    t = MONDAY_4H - 600
    back = MONDAY_4H + 27 * 3600   # the crews are back by Tuesday 07:00
    # overflow forecast 2 h + 10 % of its 30 h lead after that: taken
    lead = 30 * 3600
    ovf = back + 2 * 3600 + 0.1 * lead - 60
    views = {"edge": view("edge", 70, t, fcst=MONDAY_4H + 3600, ovf=int(ovf))}
    assert [v.bin_id for v in d.plan(views, MONDAY_4H, MONDAY_4H + DAY).visits] == ["edge"]
    d = Dispatcher("forecast", ["edge"], cs)
    views = {"edge": view("edge", 70, t, fcst=MONDAY_4H + 3600, ovf=int(ovf + 3600))}
    assert d.plan(views, MONDAY_4H, MONDAY_4H + DAY).visits == []


def test_collect_before_empties_a_bin_before_its_forecast_reaches_that_fill():
    t, h = MONDAY_4H - 600, 3600
    # 85 % this evening, over the rim on Tuesday at 10:00: the crews are back by 07:00, so
    # at the rim (less its margin) it waits; 96 % comes at 06:00, before they are back
    views = {"edge": view("edge", 70, t, fcst=MONDAY_4H + 15 * h, ovf=MONDAY_4H + 30 * h)}
    rim = Dispatcher("forecast", ["edge"], CrewSettings(pm_start_h=0, learn_h=0, over_pct=100))
    assert rim.plan(views, MONDAY_4H, MONDAY_4H + DAY).visits == []
    safe = Dispatcher("forecast", ["edge"], CrewSettings(pm_start_h=0, learn_h=0, over_pct=96))
    assert [(v.bin_id, v.why) for v in safe.plan(views, MONDAY_4H, MONDAY_4H + DAY).visits] \
        == [("edge", "would pass 96 % Tue 06:00, before the next route")]


def test_collect_before_takes_a_fill_up_to_the_rim():
    from host_tools.sim.__main__ import parse_args

    assert parse_args(["--dispatch", "forecast", "--collect-before", "96"]).collect_before == 96
    assert parse_args([]).collect_before == COLLECT_BEFORE_PCT == CrewSettings().over_pct
    # the afternoon round: its window, or none
    assert parse_args([]).afternoon == {}
    assert parse_args(["--afternoon", "14-18"]).afternoon == {"pm_start_h": 14, "pm_end_h": 18}
    assert parse_args(["--afternoon", "none"]).afternoon == {"pm_start_h": 0}
    for bad in ("120", "20"):
        with pytest.raises(SystemExit):
            parse_args(["--dispatch", "forecast", "--collect-before", bad])
    for bad in ("9-12", "15", "18-15", "15-24"):
        with pytest.raises(SystemExit):
            parse_args(["--dispatch", "forecast", "--afternoon", bad])


def test_a_new_bins_forecast_is_not_used_until_it_has_learnt():
    d = Dispatcher("forecast", ["new", "full", "fast"], CrewSettings(learn_h=48))
    t = MONDAY_4H - 600
    h = 3600
    views = {"new": view("new", 50, t, fcst=MONDAY_4H + h, ovf=MONDAY_4H + 3 * DAY),
             "full": view("full", 90, t, fcst=t),
             "fast": view("fast", 30, t, fcst=MONDAY_4H + h, ovf=MONDAY_4H + 5 * h)}
    # heard for minutes only: a straight line through its first readings says little
    assert [v.bin_id for v in d.plan(views, MONDAY_4H, MONDAY_4H + DAY).visits] == ["full"]
    t1 = MONDAY_4H + DAY   # heard for a day: its straight line overflows before Wednesday
    views["fast"] = view("fast", 35, t1 - 600, fcst=t1 + h, ovf=t1 + 5 * h)
    assert [v.bin_id for v in d.plan(views, t1, t1 + DAY).visits] == ["fast"]
    t3 = MONDAY_4H + 2 * DAY
    views["new"] = view("new", 50, t3 - 600, fcst=t3 + h, ovf=t3 + 5 * h)
    assert [v.bin_id for v in d.plan(views, t3, t3 + DAY).visits] == ["new"]


def test_a_new_bin_that_compacts_again_and_again_is_busy():
    d = Dispatcher("forecast", ["busy", "calm"], CrewSettings(learn_h=48))
    t = MONDAY_4H - 600
    views = {"busy": view("busy", 30, t, cmp=2), "calm": view("calm", 30, t, cmp=2)}
    assert d.plan(views, MONDAY_4H, MONDAY_4H + DAY).visits == []
    t1 = MONDAY_4H + DAY   # a level of 40 % between strokes says little
    views = {"busy": view("busy", 40, t1 - 600, cmp=9), "calm": view("calm", 40, t1 - 600,
                                                                      cmp=4)}
    got = d.plan(views, t1, t1 + DAY).visits
    assert [(v.bin_id, v.why) for v in got] == \
        [("busy", "at 40 %, learning, 7 strokes already")]

def test_a_bin_reporting_no_reading_is_looked_at():
    for policy in ("threshold", "forecast"):
        d = Dispatcher(policy, ["blind", "ok"], CrewSettings(learn_h=0))
        t = MONDAY_4H - 600
        views = {"blind": view("blind", None, t), "ok": view("ok", 20, t, fcst=t + 9 * DAY)}
        got = d.plan(views, MONDAY_4H, MONDAY_4H + DAY).visits
        assert [(v.bin_id, v.why) for v in got] == [("blind", "no reading")]


def test_fixed_every_n_days_staggered():
    bins = [f"b{i}" for i in range(6)]
    d = Dispatcher("fixed", bins, CrewSettings(every_days=2))
    day1 = {v.bin_id for v in d.plan({}, MONDAY_4H, MONDAY_4H + DAY).visits}
    day2 = {v.bin_id for v in d.plan({}, MONDAY_4H + DAY, MONDAY_4H + 2 * DAY).visits}
    day3 = {v.bin_id for v in d.plan({}, MONDAY_4H + 2 * DAY, MONDAY_4H + 3 * DAY).visits}
    assert len(day1) == 3 and day1 | day2 == set(bins) and not day1 & day2
    assert day3 == day1


def test_crew_time_is_limited_the_most_urgent_go_first():
    bins = [f"b{i:03d}" for i in range(200)]
    d = Dispatcher("threshold", bins, CrewSettings(bins_per_crew=1000, threshold_pct=50))
    views = {b: view(b, 51 + i * 0.2, MONDAY_4H - 600) for i, b in enumerate(bins)}
    route = d.plan(views, MONDAY_4H, MONDAY_4H + DAY)
    assert 0 < len(route.visits) < 200 and route.deferred
    assert min(views[v.bin_id].fill for v in route.visits) > \
        max(views[b].fill for b in route.deferred)
    sunday = MONDAY_4H + 6 * DAY
    assert dt.datetime.fromtimestamp(sunday, KST).weekday() == 6
    d2 = Dispatcher("threshold", bins, CrewSettings(bins_per_crew=1000, threshold_pct=50))
    on_sunday = d2.plan(views, sunday, sunday + DAY)
    assert len(on_sunday.visits) < len(route.visits)
    assert all(v.at < sunday + 4 * 3600 for v in on_sunday.visits)


def test_views_keep_only_what_was_known_by_then():
    class M:
        def __init__(self, bin_id, kind, d):
            self.bin_id, self.kind, self._d = bin_id, kind, d

        def json(self):
            return self._d

    msgs = [M("a", "telemetry", {"ts": 100, "fill": 10}),
            M("a", "telemetry", {"ts": 300, "fill": 90}),
            M("a", "event", "not a dict")]
    v = views_from(msgs, upto=200)
    assert v["a"].fill == 10


@pytest.mark.parametrize("t,hour", [(MONDAY_4H - 1, 4), (MONDAY_4H + 1, 4)])
def test_route_start(t, hour):
    s = route_start(t, CrewSettings())
    assert dt.datetime.fromtimestamp(s, KST).hour == hour and s >= t


def test_the_bins_due_on_the_route_are_its_first_stops():
    bins = [f"b{i:02d}" for i in range(20)]
    d = Dispatcher("forecast", bins, CrewSettings(pm_start_h=0, learn_h=0, bins_per_crew=100))
    t = MONDAY_4H - 600
    h = 3600
    # one bin overflows at 07:00 today, nineteen on Wednesday (taken today all the same:
    # every one would overflow before the crews are back on Tuesday)
    views = {b: view(b, 70, t, fcst=MONDAY_4H + h, ovf=MONDAY_4H + 20 * h) for b in bins}
    far = max(bins, key=lambda b: math.dist((0, 0), d.pos[b]))
    views[far] = view(far, 95, t, fcst=t, ovf=MONDAY_4H + 3 * h)
    route = d.plan(views, MONDAY_4H, MONDAY_4H + DAY)
    assert len(route.visits) == 20
    assert route.visits[0].bin_id == far     # the farthest bin, but it is due first
    assert route.visits[0].at < MONDAY_4H + 3 * h


def test_a_bin_overflowing_already_goes_before_the_ones_due_later():
    bins = [f"b{i:02d}" for i in range(20)]
    d = Dispatcher("forecast", bins, CrewSettings(learn_h=0, bins_per_crew=100))
    t, h = MONDAY_4H - 600, 3600
    # nineteen due at 10:00; the farthest bin is over the rim now, the next farthest will be
    # in half an hour
    views = {b: view(b, 80, t, fcst=t, ovf=MONDAY_4H + 7 * h) for b in bins}
    far, second = sorted(bins, key=lambda b: -math.dist((0, 0), d.pos[b]))[:2]
    views[far] = view(far, 104, t, fcst=t - h, ovf=t - 600)
    views[second] = view(second, 95, t, fcst=t - h, ovf=MONDAY_4H + 1800)
    order = [v.bin_id for v in d.plan(views, MONDAY_4H, MONDAY_4H + DAY).visits]
    assert len(order) == 20 and set(order[:2]) == {far, second}


def test_bins_not_due_today_go_on_a_trip_that_ends_with_the_window():
    bins = [f"b{i:02d}" for i in range(10)]
    cs = CrewSettings(pm_start_h=0, learn_h=0, bins_per_crew=100)
    d = Dispatcher("forecast", bins, cs)
    t, h = MONDAY_4H - 600, 3600
    # b00 overflows at 08:00 today; the others tonight, before the crews are back
    views = {b: view(b, 70, t, fcst=MONDAY_4H + 10 * h, ovf=MONDAY_4H + 18 * h) for b in bins}
    views["b00"] = view("b00", 90, t, fcst=t, ovf=MONDAY_4H + 4 * h)
    route = d.plan(views, MONDAY_4H, MONDAY_4H + DAY)
    at = {v.bin_id: v.at for v in route.visits}
    assert set(at) == set(bins)
    end = MONDAY_4H + (cs.route_end_h - cs.route_start_h) * h
    assert at["b00"] < MONDAY_4H + h                      # first thing
    late = [at[b] for b in bins[1:]]
    assert min(late) > MONDAY_4H + 6 * h                  # as full as they get today...
    assert max(late) + cs.service_min * 60 < end          # ...and back by the window's end
    assert route.crew_minutes < 5 * 60                     # the wait is not crew time
    # with none due early, the one trip is the late one
    one = Dispatcher("forecast", bins[1:], cs)
    one_trip = one.plan({b: views[b] for b in bins[1:]}, MONDAY_4H, MONDAY_4H + DAY)
    assert len(one_trip.visits) == 9 and min(v.at for v in one_trip.visits) > MONDAY_4H + 6 * h


def test_a_bin_that_overflows_within_a_day_is_emptied_twice():
    cs = CrewSettings(learn_h=0, bins_per_crew=100, second_visits=True)
    d = Dispatcher("forecast", ["busy", "calm"], cs)
    h = 3600
    t = MONDAY_4H - 600
    day1 = d.plan({"busy": view("busy", 80, t, fcst=t, ovf=MONDAY_4H + 2 * h),
                   "calm": view("calm", 30, t, fcst=t + 3 * DAY, ovf=t + 4 * DAY)},
                  MONDAY_4H, MONDAY_4H + DAY)
    (first,) = day1.visits
    # the next morning its own forecast: overflowing 25 h after that visit (it fills in
    # about a day), an hour into the route; the calm bin has days left
    tue = MONDAY_4H + DAY
    views = {"busy": view("busy", 85, tue - 600, fcst=tue - 600, ovf=first.at + 25 * h),
             "calm": view("calm", 40, tue - 600, fcst=tue + 2 * DAY, ovf=tue + 3 * DAY)}
    day2 = d.plan(views, tue, tue + DAY)
    busy = [v for v in day2.visits if v.bin_id == "busy"]
    assert len(busy) == 2 and not [v for v in day2.visits if v.bin_id == "calm"]
    assert busy[0].at < tue + h < tue + 6 * h < busy[1].at
    assert busy[1].why.startswith("again")
    # without second visits it is emptied once, and would overflow before Wednesday's route
    once = Dispatcher("forecast", ["busy", "calm"], CrewSettings(learn_h=0, bins_per_crew=100,
                                                                 second_visits=False))
    once.last_visit = {"busy": first.at}
    assert [v.bin_id for v in once.plan(views, tue, tue + DAY).visits] == ["busy"]


def test_bins_the_short_sunday_route_could_not_take_go_on_saturday():
    bins = [f"b{i:02d}" for i in range(40)]
    d = Dispatcher("forecast", bins, CrewSettings(pm_start_h=0, learn_h=0))
    sat = MONDAY_4H + 5 * DAY
    assert dt.datetime.fromtimestamp(sat, KST).weekday() == 5
    t = sat - 600
    # all forty would overflow on Sunday evening: Sunday's route is theirs, but it is four
    # hours of one crew
    views = {b: view(b, 60, t, fcst=sat + DAY, ovf=sat + 40 * 3600 + i * 600)
             for i, b in enumerate(bins)}
    room = d._room(sat + DAY)
    assert 10 < room < 40
    saturday = d.plan(views, sat, sat + DAY)
    taken = sorted(v.bin_id for v in saturday.visits)
    assert taken == bins[:40 - room]           # those that would overflow first
    assert all("cannot take" in v.why for v in saturday.visits)
    # a weekday with room for all of them: none is taken a day early
    d2 = Dispatcher("forecast", bins, CrewSettings(pm_start_h=0, learn_h=0))
    tue = MONDAY_4H + DAY
    views2 = {b: view(b, 60, tue - 600, fcst=tue + DAY, ovf=tue + 40 * 3600 + i * 600)
              for i, b in enumerate(bins)}
    assert d2.plan(views2, tue, tue + DAY).visits == []


def test_the_afternoon_round_takes_the_bins_now_due_before_the_morning_route():
    cs = CrewSettings(learn_h=0, over_pct=100, pm_start_h=15, pm_end_h=19, pm_over_pct=98)
    d = Dispatcher("forecast", ["risky", "calm", "soon", "gone"], cs)
    h = 3600
    t = MONDAY_4H - 600
    # Monday morning: none would overflow before Tuesday 07:00 but "gone", emptied now
    morning = d.plan({"risky": view("risky", 70, t, fcst=MONDAY_4H + 12 * h,
                                    ovf=MONDAY_4H + 31 * h),
                      "calm": view("calm", 40, t, fcst=MONDAY_4H + 2 * DAY,
                                   ovf=MONDAY_4H + 3 * DAY),
                      "soon": view("soon", 60, t, fcst=MONDAY_4H + 14 * h,
                                   ovf=MONDAY_4H + 32 * h),
                      "gone": view("gone", 99, t, fcst=t, ovf=MONDAY_4H + h)},
                     MONDAY_4H, MONDAY_4H + DAY)
    assert [v.bin_id for v in morning.visits] == ["gone"]
    pm = MONDAY_4H + 11 * h
    assert pm_start(MONDAY_4H, cs) == pm
    # 15:00: the day ran busier than "risky" forecast; it would pass 98 % at 21:00 tonight.
    # "soon" now passes it at 23:00, "calm" still has days; "gone", emptied this morning,
    # fills within a day and would overflow tonight again: a visit now would find it half
    # full (and the one after that too), it waits for the morning
    views = {"risky": view("risky", 90, pm - 600, fcst=pm - 600, ovf=pm + 6 * h),
             "soon": view("soon", 88, pm - 600, fcst=pm - 600, ovf=pm + 8 * h + 1800),
             "calm": view("calm", 55, pm - 600, fcst=MONDAY_4H + 2 * DAY,
                          ovf=MONDAY_4H + 3 * DAY),
             "gone": view("gone", 50, pm - 600, fcst=pm + 4 * h, ovf=pm + 9 * h)}
    route = d.plan_pm(views, pm)
    at = {v.bin_id: v.at for v in route.visits}
    assert sorted(at) == ["risky", "soon"]
    assert all("afternoon round" in v.why for v in route.visits)
    # as late as the round allows, each before its forecast less the margin
    end = pm + 4 * h
    assert at["risky"] > pm + h and max(at.values()) < end
    for b, v in views.items():
        if b in at:
            over = v.forecast_full + 13 / 15 * (v.forecast_over - v.forecast_full)
            assert at[b] <= over - cs.margin_h * h - cs.margin_share * (over - pm)
    assert route.km > 0 and route.crew_minutes > 0
    # without an afternoon round the crews are not out in the afternoon
    assert pm_start(MONDAY_4H, CrewSettings(pm_start_h=0)) is None


def test_the_morning_leaves_the_bins_due_tonight_to_the_afternoon_round():
    bins = [f"b{i:02d}" for i in range(12)]
    cs = CrewSettings(learn_h=0, bins_per_crew=100, over_pct=100, pm_start_h=15, pm_end_h=19,
                      pm_spare=18)   # room for a few only
    d = Dispatcher("forecast", bins, cs)
    t, h = MONDAY_4H - 600, 3600
    # b00 overflows at 08:00 today, b01 at 15:00; the others tonight, from 19:00 on
    views = {b: view(b, 70, t, fcst=MONDAY_4H + 10 * h, ovf=MONDAY_4H + (15 + i) * h)
             for i, b in enumerate(bins)}
    views["b00"] = view("b00", 90, t, fcst=t, ovf=MONDAY_4H + 4 * h)
    views["b01"] = view("b01", 80, t, fcst=t, ovf=MONDAY_4H + 11 * h)
    room = d._room_pm() - cs.pm_spare
    assert 0 < room < 10
    morning = d.plan(views, MONDAY_4H, MONDAY_4H + DAY)
    left = set(bins) - {v.bin_id for v in morning.visits}
    # the afternoon round takes as many as it has room for, those due latest
    assert left == set(bins[-room:])
    # ...and empties them with the day's reports: one ran ahead of its forecast
    pm = MONDAY_4H + 11 * h
    fresh = {b: view(b, 90, pm - 600, fcst=pm - 600, ovf=views[b].forecast_over)
             for b in left}
    early = bins[-1]
    fresh[early] = view(early, 95, pm - 600, fcst=pm - 600, ovf=pm + 3 * h)
    route = d.plan_pm(fresh, pm)
    assert {v.bin_id for v in route.visits} == left
    assert min(route.visits, key=lambda v: v.at).bin_id == early
    # one route a day: every bin on the morning's routes
    one = Dispatcher("forecast", bins, CrewSettings(learn_h=0, bins_per_crew=100, over_pct=100,
                                                    pm_start_h=0))
    assert len(one.plan(views, MONDAY_4H, MONDAY_4H + DAY).visits) == len(bins)
