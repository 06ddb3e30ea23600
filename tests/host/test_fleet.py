"""A small fleet against one broker: every report accounted for, the same with the fleet
split over two simulator processes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from host_tools.fleet.shards import merge, split
from host_tools.paths import ROOT


def _fleet(tmp_path, name: str, *more: str) -> dict:
    out = tmp_path / f"{name}.json"
    r = subprocess.run([sys.executable, "-m", "host_tools.fleet", "--bins", "6", "--days",
                        "0.25", "--seed", "3", "--workdir", str(tmp_path / name),
                        "--json", str(out), *more], cwd=ROOT, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "every report accounted for" in r.stdout
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def fleets(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fleet")
    return _fleet(tmp, "one", "--shards", "1"), _fleet(tmp, "two", "--shards", "2")


def test_small_fleet_accounts_for_every_report(fleets):
    report = fleets[0]
    assert report["bins"] == 6 and report["shards"] == 1
    # six hours: at least the first report and the two-hourly heartbeats of every bin
    assert report["telemetry_received"] == report["telemetry_published"] >= 6 * 3
    assert report["firmware_errors"] == 0
    # one process per bin, all in the same virtual time: every bin woke about 24 times
    assert 6 * 22 <= report["wakes"] <= 6 * 26


def test_a_sharded_fleet_is_the_same_fleet(fleets):
    one, two = fleets
    assert two["shards"] == 2 and two["bins"] == 6
    # each bin has its own world whichever process simulates it, and each shard's observer
    # counts its own bins only: the figures are the one-process fleet's
    differ = {k for k in one if k not in ("wall_s", "shards", "series") and one[k] != two.get(k)}
    assert not differ, {k: (one[k], two.get(k)) for k in differ}


def test_shard_reports_add_up():
    assert split(1000, 3) == [(0, 334), (334, 333), (667, 333)]
    assert split(1, 2) == [(0, 1)]
    a = {"days": 1.0, "bins": 3, "wakes": 10, "telemetry_received": 30, "wall_s": 5.0,
         "fill_abs_error_mean_pct": 2.0, "fill_rmse_pct": 3.0, "fill_rmse_reports": 10,
         "battery_soc_min_pct": 80.0, "energy_wh_per_day": {"modem": 2.0},
         "energy_levels_seen": ["normal"], "sensor_fault_reasons": {"blind": 1}}
    b = {"days": 1.0, "bins": 1, "wakes": 4, "telemetry_received": 10, "wall_s": 7.0,
         "fill_abs_error_mean_pct": 6.0, "fill_rmse_pct": 1.0, "fill_rmse_reports": 30,
         "battery_soc_min_pct": 60.0, "energy_wh_per_day": {"modem": 6.0, "motor": 1.0},
         "energy_levels_seen": ["low", "normal"], "sensor_fault_reasons": {"blind": 2}}
    m = merge([a, b])
    assert (m["days"], m["bins"], m["wakes"], m["wall_s"]) == (1.0, 4, 14, 7.0)
    assert m["fill_abs_error_mean_pct"] == 3.0            # over 40 reports
    assert m["fill_rmse_pct"] == round(((9 * 10 + 1 * 30) / 40) ** 0.5, 2)
    assert m["battery_soc_min_pct"] == 60.0
    assert m["energy_wh_per_day"] == {"modem": 3.0, "motor": 0.25}   # per bin
    assert m["energy_levels_seen"] == ["low", "normal"]
    assert m["sensor_fault_reasons"] == {"blind": 3}
