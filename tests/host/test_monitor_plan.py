"""Monitor and collection planner read only the broker: retained states and reports."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import paho.mqtt.client as mqtt

from host_tools.binview import BinView
from host_tools.broker import Broker
from host_tools.paths import ROOT
from host_tools.plan import eta_for, plan

NOW = 1_790_000_000            # a Monday, 23:13 KST: the next route starts at 04:00


def _publish(broker, msgs):
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="t-publisher")
    c.connect(broker.host, broker.port)
    c.loop_start()
    for topic, payload, retain in msgs:
        c.publish(topic, json.dumps(payload), qos=1, retain=retain).wait_for_publish(5)
    c.disconnect()
    c.loop_stop()


def _cli(module, *args):
    r = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def test_monitor_and_plan_against_a_broker(tmp_path):
    with Broker() as broker:   # its own broker: other tests leave retained states behind
        _monitor_and_plan(broker, tmp_path)


def _monitor_and_plan(broker, tmp_path):
    h = 3600
    states = {
        "bin-full": {"st": "asleep", "ts": NOW - 600, "fill": 91.0, "fcst": NOW - 1200,
                     "flags": 0},
        "bin-soon": {"st": "asleep", "ts": NOW - 600, "fill": 60.0, "fcst": NOW + 20 * h,
                     "flags": 0},
        "bin-slow": {"st": "asleep", "ts": NOW - 600, "fill": 20.0, "fcst": NOW + 200 * h,
                     "flags": 2},
        "bin-dark": {"st": "offline"},
    }
    msgs = [(f"bins/{b}/state", d, True) for b, d in states.items()]
    _publish(broker, msgs)
    out = _cli("host_tools.monitor", "--broker", f"{broker.host}:{broker.port}", "--once")
    lines = out.splitlines()
    assert lines[0].startswith("4 bins")
    order = [ln.split()[0] for ln in lines[2:]]
    assert order == ["bin-full", "bin-soon", "bin-slow", "bin-dark"], out
    assert "motor" in lines[4] and all(len(ln) <= 80 for ln in lines)

    out = _cli("host_tools.plan", "--broker", f"{broker.host}:{broker.port}", "--now", str(NOW),
               "--csv", str(tmp_path / "plan.csv"))
    assert out.splitlines()[0].startswith("2 of 4 bins")
    rows = list(csv.DictReader(open(tmp_path / "plan.csv")))
    assert [r["bin_id"] for r in rows] == ["bin-full", "bin-soon"]


def test_eta_from_the_bins_own_forecast():
    v = BinView("b", fill=50.0, fill_ts=0, forecast_full=35 * 3600)   # 1 %/h towards 85 %
    assert eta_for(v, 85.0) == 35 * 3600
    assert eta_for(v, 60.0) == 10 * 3600
    assert eta_for(BinView("b", fill=50.0, fill_ts=0), 85.0) is None       # no forecast
    assert eta_for(BinView("b", fill=90.0, fill_ts=7), 85.0) == 7
    stops = plan([v, BinView("c", fill=95.0, fill_ts=0)], horizon=20 * 3600, threshold=60.0)
    assert [s.bin_id for s in stops] == ["c", "b"]
