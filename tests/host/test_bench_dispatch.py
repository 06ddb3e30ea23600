"""The dispatch benchmark on a tiny world: every run writes every key it has ever written
(bench.json keys are added, never renamed or dropped), and the plot shows every run."""

from __future__ import annotations

import json
import subprocess
import sys

from PIL import Image

from host_tools.dispatch import CrewSettings, afternoon_text
from host_tools.paths import ROOT

KEYS = ("collections", "premature_collections_pct", "empty_collections_pct",
        "mean_fill_at_collection_pct", "overflow_collections_pct", "overflow_hours",
        "truck_km", "crew_minutes", "forecast_mae_h", "forecast_bias_h", "forecast_pairs",
        "firmware_errors", "wall_s", "fills_pct", "afternoon", "afternoon_collections")
RUNS = ("fixed", "threshold", "forecast", "forecast100", "forecast96", "forecast_am")


def test_dispatch_bench_writes_every_run_and_key(tmp_path):
    out = tmp_path / "bench.json"
    out.write_text(json.dumps({"fleet_1000x1d_s": 1.0}))     # other benchmarks' keys stay
    r = subprocess.run([sys.executable, "bench/dispatch.py", "--bins", "2", "--days", "1",
                        "--out", str(out)], cwd=ROOT, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    res = json.loads(out.read_text())
    assert res["fleet_1000x1d_s"] == 1.0
    missing = [f"dispatch_{run}_{k}" for run in RUNS for k in KEYS
               if f"dispatch_{run}_{k}" not in res]
    assert not missing
    for key in ("dispatch_world", "dispatch_threshold_pct", "dispatch_goals",
                "dispatch_forecast96_goals", "dispatch_forecast100_goals",
                "dispatch_forecast_am_goals", "dispatch_command_s"):
        assert key in res
    assert res["dispatch_forecast96_collect_before_pct"] == 96
    assert res["dispatch_forecast100_collect_before_pct"] == 100
    assert res["dispatch_forecast_am_collect_before_pct"] == 98
    assert 90 <= res["dispatch_forecast_collect_before_pct"] <= 100
    # the policy as it ships (with its afternoon round, if it has one); the runs beside it
    # have one route a day
    assert res["dispatch_forecast_afternoon"] == afternoon_text(CrewSettings())
    for run in ("forecast100", "forecast96", "forecast_am", "fixed", "threshold"):
        assert res[f"dispatch_{run}_afternoon"] == "none"
    assert res["dispatch_threshold_pct"] == 60
    assert all(res[f"dispatch_{run}_firmware_errors"] == 0 for run in RUNS)
    png = tmp_path / "fills.png"
    r = subprocess.run([sys.executable, "-m", "host_tools.report.dispatch", str(out),
                        "--out", str(png)], cwd=ROOT, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    # a panel per run that emptied a bin (the figure is 2.3 in a panel + 0.6, at 100 dpi)
    panels = sum(bool(res[f"dispatch_{run}_fills_pct"]) for run in RUNS)
    assert panels >= 1
    assert abs(Image.open(png).size[1] - (230 * panels + 60)) <= 2


def test_dispatch_bench_remeasures_only_the_runs_asked_for(tmp_path):
    out = tmp_path / "bench.json"
    world = "2 bins x 1 days, seed 1, field fleet, from 2025-06-02"
    out.write_text(json.dumps({"dispatch_world": world, "dispatch_fixed_collections": 7}))
    r = subprocess.run([sys.executable, "bench/dispatch.py", "--bins", "2", "--days", "1",
                        "--runs", "threshold", "--out", str(out)], cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    res = json.loads(out.read_text())
    assert res["dispatch_fixed_collections"] == 7          # kept
    assert "dispatch_threshold_collections" in res and "dispatch_forecast_collections" not in res
    # another world's figures are not mixed with this one's
    r = subprocess.run([sys.executable, "bench/dispatch.py", "--bins", "3", "--days", "1",
                        "--runs", "threshold", "--out", str(out)], cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode != 0 and "another world" in r.stderr
    r = subprocess.run([sys.executable, "bench/dispatch.py", "--runs", "forecast7",
                        "--out", str(out)], cwd=ROOT, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2 and "forecast7" in r.stderr
