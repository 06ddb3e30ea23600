"""Monitor and collection planner read only the broker: retained states and reports."""

from __future__ import annotations

import csv
import datetime as dt
import json
import subprocess
import sys
import threading

import paho.mqtt.client as mqtt

from host_tools.binview import BinView, choose_clock
from host_tools.broker import Broker
from host_tools.dispatch import CrewSettings, position
from host_tools.monitor.__main__ import alert_lines, table
from host_tools.paths import ROOT
from host_tools.plan import eta_for, left_off, plan
from host_tools.plan.__main__ import parse_now
from host_tools.site import SITE_TZ

NOW = 1_790_000_000            # a Monday, 23:13 KST: the next route starts at 04:00
H = 3600


def _client(broker, name):
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=name)
    c.connect(broker.host, broker.port)
    c.loop_start()
    return c


def _publish(broker, msgs):
    c = _client(broker, "t-publisher")
    for topic, payload, retain in msgs:
        c.publish(topic, json.dumps(payload), qos=1, retain=retain).wait_for_publish(5)
    c.disconnect()
    c.loop_stop()


def _cli(module, *args, code=0):
    r = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == code, r.stdout + r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    return r.stdout if code == 0 else r.stderr


STATES = {
    "bin-full": {"st": "asleep", "ts": NOW - 600, "fill": 91.0, "fcst": NOW - 1200, "flags": 0},
    "bin-soon": {"st": "asleep", "ts": NOW - 600, "fill": 60.0, "fcst": NOW + 20 * H,
                 "flags": 0},
    "bin-slow": {"st": "asleep", "ts": NOW - 3000, "fill": 20.0, "fcst": NOW + 200 * H,
                 "flags": 2},
    "bin-dark": {"st": "offline"},
}
# what the bins send while the monitor listens: reports (battery, signal) and alerts
LIVE = [
    ("bins/bin-full/telemetry", {"v": 1, "ts": NOW - 600, "fill": 91.0, "fcst": NOW - 1200,
                                 "vbat": 12950, "rssi": -71, "soc": 96, "elvl": "normal",
                                 "flags": 0}),
    ("bins/bin-soon/telemetry", {"v": 1, "ts": NOW - 600, "fill": 60.0, "fcst": NOW + 20 * H,
                                 "vbat": 12010, "rssi": -95, "soc": 12, "elvl": "critical",
                                 "flags": 0}),
    ("bins/bin-slow/telemetry", {"v": 1, "ts": NOW - 3000, "fill": 20.0, "fcst": NOW + 200 * H,
                                 "vbat": 13100, "rssi": -80, "flags": 2}),
    ("bins/bin-full/event", {"v": 1, "ts": NOW - 5000, "ev": "sensor_fault", "sensor": 1,
                             "why": "blocked", "errors": {"blocked": 3}}),
    ("bins/bin-full/event", {"v": 1, "ts": NOW - 4000, "ev": "full", "fill": 86.2}),
    ("bins/bin-soon/event", {"v": 1, "ts": NOW - 3600, "ev": "energy_level",
                             "level": "critical", "from": "economy", "soc": 12,
                             "vbat": 12010}),
    ("bins/bin-slow/event", {"v": 1, "ts": NOW - 7000, "ev": "motor_fault", "why": "jam",
                             "latched": True}),
    ("bins/bin-slow/event", {"v": 1, "ts": NOW - 6000, "ev": "fire", "temp": 71.5,
                             "rise_cph": 30.0}),
    ("bins/bin-slow/event", {"v": 1, "ts": NOW - 5500, "ev": "fire_out", "temp": 30.1}),
    ("bins/bin-slow/event", {"v": 1, "ts": NOW - 5400, "ev": "modem_fault", "why": "denied",
                             "err": "registration denied"}),
]


def test_monitor_and_plan_against_a_broker(tmp_path):
    with Broker() as broker:   # its own broker: other tests leave retained states behind
        _publish(broker, [(f"bins/{b}/state", d, True) for b, d in STATES.items()])
        _monitor(broker)
        _plan(broker, tmp_path)


def _monitor(broker):
    """--once shows what the live view shows: battery and signal from the reports that came
    while it listened, the faults from events and flags, the alerts with their times, ages
    in the bins' clock (these bins' clock is months behind the wall clock)."""
    addr = f"{broker.host}:{broker.port}"
    stop = threading.Event()

    def send():   # the bins keep reporting until the monitor has printed
        c = _client(broker, "t-bins")
        while not stop.is_set():
            for topic, payload in LIVE:
                c.publish(topic, json.dumps(payload), qos=1)
            stop.wait(0.3)
        c.disconnect()
        c.loop_stop()

    sender = threading.Thread(target=send)
    sender.start()
    try:
        out = _cli("host_tools.monitor", "--broker", addr, "--once", "--listen", "3")
    finally:
        stop.set()
        sender.join()
    lines = out.splitlines()
    assert lines[0].startswith("4 bins") and "KST" in lines[0], out
    assert "bins' clock" in lines[1], out
    rows = {ln.split()[0]: ln for ln in lines[3:7]}
    assert list(rows) == ["bin-full", "bin-soon", "bin-slow", "bin-dark"], out
    assert "12.95V" in rows["bin-full"] and "-71" in rows["bin-full"], out
    assert " 0 min" in rows["bin-full"] and "40 min" in rows["bin-slow"], out
    assert "sensor 1 blocked" in rows["bin-full"], out
    assert "energy critical" in rows["bin-soon"], out
    assert "motor jam" in rows["bin-slow"], out
    assert all(len(ln) <= 80 for ln in lines), out
    alerts = out[out.index("alerts, newest first"):]
    for text in ("sensor_fault sensor 1: blocked", "full         full at 86.2 %",
                 "energy_level energy economy -> critical", "motor_fault  motor jam",
                 "fire         FIRE: 71.5 C", "fire_out", "modem_fault  modem denied"):
        assert text in alerts, out
    assert "Mon 09-21 22:06  bin-full  full" in alerts, out    # NOW - 4000 s, in KST
    out = _cli("host_tools.monitor", "--broker", addr, "--once", "--listen", "0",
               "--clock", "wall")
    assert "wall clock" in out and " d " in out.splitlines()[3], out


def _plan(broker, tmp_path):
    addr = f"{broker.host}:{broker.port}"
    path = tmp_path / "plan.csv"
    out = _cli("host_tools.plan", "--broker", addr, "--now", str(NOW), "--csv", str(path))
    lines = out.splitlines()
    assert lines[0].startswith("Route from Tue 2026-09-22 04:00 KST"), out
    assert lines[1].startswith("2 of 4 bins to collect"), out
    assert "In order of when each passes 85 %" in out and "Wed 09-23 04:00" in lines[2]
    full = next(ln for ln in lines if "bin-full" in ln)
    soon = next(ln for ln in lines if "bin-soon" in ln)
    assert lines.index(full) < lines.index(soon)
    assert "reported 91 % at Mon 23:03: over 85 % now" in full and "over it now" in full, out
    assert "Tue 09-22 19:13" in soon and "its forecast: 85 % by Tue 19:13" in soon, out
    assert "Not on this route (2):" in out and "bin-slow" in out.split("Not on")[1]
    rows = list(csv.DictReader(open(path)))
    assert [r["bin_id"] for r in rows] == ["bin-full", "bin-soon"]
    assert rows[1]["eta_unix"] == str(NOW + 20 * H)
    assert rows[1]["eta_local"] == "2026-09-22T19:13+09:00"
    east, north = position("bin-soon", CrewSettings().area_km)
    assert float(rows[1]["east_km"]) == round(east, 2)
    assert float(rows[1]["north_km"]) == round(north, 2)
    assert f"{east:.2f}" in soon and f"{north:.2f}" in soon
    # the same plan from an ISO time, in the site's zone or with an offset
    for when in ("2026-09-21T23:13:20", "2026-09-21 23:13:20", "2026-09-21T14:13:20+00:00"):
        again = _cli("host_tools.plan", "--broker", addr, "--now", when)
        assert again.splitlines()[1:] == lines[1:], again
    later = _cli("host_tools.plan", "--broker", addr, "--now", "2026-09-23")
    assert later.startswith("Route from Wed 2026-09-23 04:00 KST")
    err = _cli("host_tools.plan", "--broker", addr, "--now", "next tuesday", code=2)
    assert "--now next tuesday: expected a date and time" in err


def test_iso_now():
    assert parse_now("1790000000") == 1_790_000_000
    assert parse_now("2026-12-04") == dt.datetime(2026, 12, 4, tzinfo=SITE_TZ).timestamp()
    assert parse_now("2026-12-04T05:30+09:00") == parse_now("2026-12-03T20:30Z")


def test_eta_from_the_bins_own_forecast():
    v = BinView("b", fill=50.0, fill_ts=0, forecast_full=35 * 3600)   # 1 %/h towards 85 %
    assert eta_for(v, 85.0) == 35 * 3600
    assert eta_for(v, 60.0) == 10 * 3600
    assert eta_for(BinView("b", fill=50.0, fill_ts=0), 85.0) is None       # no forecast
    assert eta_for(BinView("b", fill=90.0, fill_ts=7), 85.0) == 7
    stops = plan([v, BinView("c", fill=95.0, fill_ts=0)], horizon=20 * 3600, threshold=60.0)
    assert [s.bin_id for s in stops] == ["c", "b"]
    assert "over 60 % now" in stops[0].why and "its forecast: 60 % by" in stops[1].why
    off = left_off([v, BinView("d", fill=10.0, fill_ts=0), BinView("e")], 5 * 3600, 60.0)
    assert [(b, why) for b, _, why in off] == [
        ("b", "its forecast: 60 % by Thu 01-01 19:00; it can wait for Thu 01-01 14:00"),
        ("d", "at 10 %, no forecast of 60 % yet"), ("e", "no fill reported yet")]


def _ev(v: BinView, ts: float, ev: str, **detail) -> None:
    v.update("event", {"v": 1, "ts": ts, "ev": ev, **detail}, None)


def test_faults_from_events_and_flags():
    v = BinView("b")
    assert v.faults(NOW) == "-"
    _ev(v, NOW - 9000, "sensor_fault", errors={"dead zone": 7})     # no reading
    v.update("telemetry", {"ts": NOW - 9000, "fill": None, "flags": 1}, None)
    assert v.faults(NOW) == "no reading"
    v.update("telemetry", {"ts": NOW - 8000, "fill": 40.0, "flags": 0}, None)
    assert v.faults(NOW) == "(no reading)"                 # it ended: shown for a day
    _ev(v, NOW - 7000, "sensor_fault", errors={"dead zone": 2})
    v.update("telemetry", {"ts": NOW - 6900, "fill": 41.0, "flags": 0}, None)
    _ev(v, NOW - 6000, "sensor_fault", sensor=0, why="stuck")
    _ev(v, NOW - 5000, "tilt", tilted=True)
    _ev(v, NOW - 4000, "motor_fault", why="timeout")
    assert v.faults(NOW) == "sensor 0 stuck, tilted, motor timeout (no reading x2)"
    _ev(v, NOW - 3000, "sensor_ok", sensor=0, was="stuck")
    _ev(v, NOW - 2000, "upright")
    _ev(v, NOW - 1000, "compacted", before=80, after=40)
    _ev(v, NOW - 900, "modem_fault", why="dead")
    assert v.faults(NOW) == ("(no reading x2, sensor 0 stuck, tilted, motor timeout, "
                             "modem dead)")
    assert v.faults(NOW + 2 * 86400) == "-"                  # a day later: all forgotten
    v.update("telemetry", {"ts": NOW, "fill": 41.0, "flags": 4, "elvl": "economy"}, None)
    assert v.faults(NOW).startswith("energy economy, crash (")
    lines = alert_lines([v], NOW)
    assert lines[0] == "alerts, newest first (KST): 8 in the 24 h before now"
    assert lines[1].endswith("b    modem_fault  modem dead")      # newest first
    assert not any("compacted" in ln for ln in lines)               # not an alert


def test_ages_in_the_bins_clock():
    wall = NOW + 90 * 86400
    assert choose_clock("auto", wall, NOW)[0] == NOW                # long behind: a recording
    assert choose_clock("auto", NOW - 86400, NOW)[0] == NOW         # ahead: a simulation
    assert choose_clock("auto", NOW - 300, NOW)[0] == NOW - 300     # a live fleet: wall
    assert choose_clock("auto", NOW + 3600, NOW, pace=1200)[0] == NOW   # virtual time
    assert choose_clock("wall", wall, NOW) == (wall, "wall clock")
    now, which = choose_clock("auto", NOW - 2 * 86400, NOW)
    assert "2.0 d ahead of the wall clock" in which
    views = [BinView("a", last_seen=NOW - 120, fill=50.0), BinView("b", last_seen=NOW)]
    rows = table(views, "fill", False, now, clock=which)
    assert "bins' clock" in rows[1] and "2 min" in rows[3] and " 0 min" in rows[4]


def test_live_view_has_the_once_columns():
    from host_tools.monitor.__main__ import screen

    views = [BinView("a", fill=50.0, battery_mv=12900, signal_dbm=-80, last_seen=NOW),
             BinView("b", fill=90.0, battery_mv=12100, signal_dbm=-99, last_seen=NOW - 60)]
    _ev(views[0], NOW - 30, "tilt", tilted=True)
    live = screen(views, "fill", False, NOW, "wall clock", 80, 22)
    once = table(views, "fill", False, NOW, clock="wall clock")
    assert live[:len(once)] == once and "12.90V" in once[4] and "-99" in once[3]
    assert live[len(once) + 1].startswith("alerts") and "tilt" in live[len(once) + 2]


def test_a_state_with_battery_and_signal_fills_them_in():
    v = BinView("b")
    v.update("state", {"st": "asleep", "ts": NOW, "fill": 40.0, "vbat": 12800, "rssi": -77,
                       "elvl": "economy"}, None)
    row = table([v], "fill", False, NOW)[3]
    assert "12.80V" in row and "-77" in row and "energy economy" in row
