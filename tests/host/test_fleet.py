"""A small fleet against one broker: every report accounted for, the same with the fleet
split over two simulator processes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from host_tools.fleet.shards import merge, split
from host_tools.paths import ROOT
from host_tools.sim.figures import Mean, Rms, Total, dump, load

WORLDS = [("3", "2026-01-10"), ("8", "2026-04-20"), ("21", "2026-08-03")]   # seed, start


def _fleet(tmp_path, name: str, seed: str, start: str, *more: str) -> dict:
    out = tmp_path / f"{name}.json"
    r = subprocess.run([sys.executable, "-m", "host_tools.fleet", "--bins", "6", "--days",
                        "0.25", "--seed", seed, "--start", start,
                        "--workdir", str(tmp_path / name), "--json", str(out), *more],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "every report accounted for" in r.stdout
    return json.loads(out.read_text())


@pytest.fixture(scope="module", params=WORLDS, ids=lambda w: f"seed{w[0]}-{w[1]}")
def fleets(request, tmp_path_factory):
    seed, start = request.param
    tmp = tmp_path_factory.mktemp("fleet")
    return (_fleet(tmp, "one", seed, start, "--shards", "1"),
            _fleet(tmp, "two", seed, start, "--shards", "2"))


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
    # each bin has its own world whichever process simulates it, each shard's observer
    # counts its own bins only, and the shards' sums and counts are added up before any
    # figure is rounded: every figure is the one-process fleet's, to the last digit
    assert set(two) - {"shards"} == set(one) - {"series", "shards"}
    differ = {k for k in one if k not in ("wall_s", "shards", "series") and one[k] != two[k]}
    assert not differ, {k: (one[k], two[k]) for k in differ}


def test_shard_reports_add_up():
    assert split(1000, 3) == [(0, 334), (334, 333), (667, 333)]
    assert split(1, 2) == [(0, 1)]
    errs_a, errs_b = [2.004, 1.0, 3.002], [0.5] * 7
    a = {"days": 1.0, "bins": 3, "wakes": 10, "telemetry_received": 30, "wall_s": 5.0,
         "fill_abs_error_mean_pct": Mean(sum(errs_a), 3),
         "fill_rmse_pct": Rms(sum(e * e for e in errs_a), 3),
         "overflow_hours": Total(3600 * 0.004, scale=1 / 3600),
         "battery_soc_min_pct": 80.0, "energy_wh_per_day": {"modem": Mean(6.0, 3)},
         "energy_levels_seen": ["normal"], "sensor_fault_reasons": {"blind": 1},
         "outages": [{"bin": "bin-0001", "start": 5}]}
    b = {"days": 1.0, "bins": 1, "wakes": 4, "telemetry_received": 10, "wall_s": 7.0,
         "fill_abs_error_mean_pct": Mean(sum(errs_b), 7),
         "fill_rmse_pct": Rms(sum(e * e for e in errs_b), 7),
         "overflow_hours": Total(3600 * 0.004, scale=1 / 3600),
         "battery_soc_min_pct": 60.0,
         "energy_wh_per_day": {"modem": Mean(6.0, 1), "motor": Mean(1.0, 1)},
         "energy_levels_seen": ["low", "normal"], "sensor_fault_reasons": {"blind": 2},
         "outages": [{"bin": "bin-0004", "start": 1}]}
    # the shards as they travel: JSON, with each figure's parts
    m = merge([load(json.loads(json.dumps(dump(p)))) for p in (a, b)])
    assert (m["days"], m["bins"], m["wakes"], m["wall_s"]) == (1.0, 4, 14, 7.0)
    every = errs_a + errs_b
    assert m["fill_abs_error_mean_pct"] == round(sum(every) / 10, 2) == 0.95
    assert m["fill_rmse_pct"] == round((sum(e * e for e in every) / 10) ** 0.5, 2)
    # 0.004 h twice is 0.01 h: the rounded parts (0.0 + 0.0) would say 0
    assert m["overflow_hours"] == 0.01
    assert m["battery_soc_min_pct"] == 60.0
    assert m["energy_wh_per_day"] == {"modem": 3.0, "motor": 1.0}   # per bin-day
    assert m["energy_levels_seen"] == ["low", "normal"]
    assert m["sensor_fault_reasons"] == {"blind": 3}
    assert [o["bin"] for o in m["outages"]] == ["bin-0001", "bin-0004"]
    # a rounded float has no rule to be added up: refused, not silently summed
    with pytest.raises(ValueError, match="litres"):
        merge([{"days": 1.0, "litres_deposited": 1.25}, {"days": 1.0, "litres_deposited": 2.5}])


def test_summary_says_it_in_words():
    from host_tools.fleet.__main__ import summary

    report = {"bins": 1, "days": 1.0, "wall_s": 12.0, "shards": 1, "wakes": 1,
              "telemetry_published": 9, "telemetry_received": 9, "firmware_errors": 0,
              "collections": 1, "mean_fill_at_collection_pct": 71.0,
              "premature_collections_pct": 0.0, "empty_collections_pct": 0.0,
              "overflow_collections_pct": 0.0, "overflow_hours": 0.0, "truck_km": 3.1,
              "forecast_mae_h": None, "forecast_pairs": 0}
    first, second = summary(report, "forecast")
    assert first.startswith("fleet: 1 bin x 1 day in 12 s wall; 1 wake; ")
    assert "every report accounted for" in first
    assert "forecast dispatch: 1 collection, mean fill 71.0 %" in second
    assert second.endswith("forecast error: no forecast yet (none made 42-54 h before a bin "
                           "was full)") and "None" not in second
    report.update(bins=6, days=0.25, wakes=40, collections=5, forecast_mae_h=4.2, forecast_pairs=1,
                  telemetry_received=8)
    first, second = summary(report, "forecast")
    assert "6 bins x 0.25 days" in first and "40 wakes" in first and "1 MISSING" in first
    assert "5 collections" in second and second.endswith("forecast error 4.2 h (1 forecast)")
