"""Plots of a simulation report: each bin's figure, its own figures in the title, days and
hours on the time axis; the dispatch histogram of the bench or of one run."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from host_tools.paths import ROOT  # noqa: E402
from host_tools.site import SITE_TZ  # noqa: E402


def test_plots_from_a_simulation(sim_2days, tmp_path):
    report, _ = sim_2days
    assert "series" in report and "bin-0001" in report["series"]
    s = report["series"]["bin-0001"]
    assert len(s["truth"]) >= 150 and len(s["reported"]) == report["telemetry_received"]
    path = tmp_path / "r.json"
    path.write_text(json.dumps(report))
    out = tmp_path / "plots"
    r = subprocess.run([sys.executable, "-m", "host_tools.report", str(path), "--out", str(out)],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    png = out / "bin-0001.png"
    assert png.exists() and png.stat().st_size > 20_000
    img = Image.open(png).convert("RGB")
    w, h = img.size
    assert w >= 1000 and h >= 700
    small = np.asarray(img.resize((w // 4, h // 4))).reshape(-1, 3).astype(int)
    inked = float((small.sum(axis=1) < 600).mean())
    colours = len({tuple(p) for p in small})
    assert inked > 0.03, "the figure is nearly blank"
    assert colours > 50, "the figure has too few colours to show fill, power and events"


def test_report_without_series_is_refused(tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"days": 1, "bins": 100}))
    r = subprocess.run([sys.executable, "-m", "host_tools.report", str(path), "--out",
                        str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "no time series" in r.stderr


def _series(t0: int, reports: int, strokes: int, collections: int) -> dict:
    """A bin's series as the simulator writes it: a fill ramp over two days."""
    truth = [[t0 + i * 900, min(99.0, i * 0.5)] for i in range(192)]
    return {
        "truth": truth,
        "reported": [[t0 + i * 21600, truth[i * 24][1] + 0.5, 250] for i in range(reports)],
        "strokes": [[t0 + 40000 + k * 9000 + d, 9.5] for k in range(strokes) for d in (0, 10)],
        "collections": [[t0 + 90000 + k * 20000, 80.0] for k in range(collections)],
        "power": [[t0 + i * 900, 80.0, 13.2, 5.0] for i in range(192)],
        "events": [[t0 + 40001 + k * 9000, "compacted"] for k in range(strokes)]
        + [[t0 + 50000, "sensor_fault"]],
    }


def test_each_bins_title_carries_its_own_figures():
    from host_tools.report.__main__ import bin_title, figure_bin

    t0 = int(dt.datetime(2026, 12, 2, tzinfo=SITE_TZ).timestamp())
    a, b = _series(t0, 3, 2, 1), _series(t0, 7, 4, 0)
    report = {"days": 2, "telemetry_received": 777, "fill_abs_error_mean_pct": 9.9,
              "series": {"bin-a": a, "bin-b": b}}
    ta, tb = bin_title("bin-a", a, 2), bin_title("bin-b", b, 2)
    assert "3 reports delivered" in ta and "2 compactions" in ta and "1 collection " in ta
    assert "7 reports delivered" in tb and "4 compactions" in tb and "0 collections" in tb
    assert "777" not in ta + tb and "9.9" not in ta + tb
    assert "mean |fill error| 0.5 %" in ta
    b["figures"] = {"telemetry_received": 6, "fill_abs_error_mean_pct": 0.31, "compactions": 5,
                    "collections_true": 2, "overflow_hours": 1.5}
    tb = bin_title("bin-b", b, 2)         # the simulator's own per-bin figures come first
    assert "6 reports" in tb and "5 compactions" in tb and "1.5 h over the rim" in tb

    fig = figure_bin("bin-b", b, report)
    fill, events, power, daily = fig.axes[:4]
    assert fill.get_title() == tb
    fig.canvas.draw()
    major = [t.get_text() for t in daily.get_xticklabels()]
    minor = [t.get_text() for t in daily.get_xticklabels(minor=True)]
    assert "Wed\n12-02" in major and "Thu\n12-03" in major, major
    assert {"06:00", "12:00", "18:00"} <= set(minor), minor
    assert "KST" in daily.get_xlabel()
    # the daily bars span local days, midnight to midnight
    midnights = {mdates.date2num(dt.datetime(2026, 12, d, tzinfo=SITE_TZ)) for d in (2, 3)}
    starts = {round(p.get_x(), 6) for p in daily.patches}
    assert starts == {round(m, 6) for m in midnights}, starts
    # the bin's events in a panel of their own, not over the bars
    assert [t.get_text() for t in events.get_yticklabels()] == ["compacted (4)",
                                                                "sensor_fault (1)"]
    assert not daily.lines and len(fig.axes) == 5      # the fifth: the solar axis of power
    plt.close(fig)


def test_single_bin_title_matches_the_report(sim_2days):
    from host_tools.report.__main__ import bin_figures

    report, _ = sim_2days
    f = bin_figures(report["series"]["bin-0001"])
    assert f["telemetry_received"] == report["telemetry_received"]
    assert f["fill_abs_error_mean_pct"] == report["fill_abs_error_mean_pct"]
    assert f["compactions"] == report["compactions"]
    assert f["collections_true"] == report["collections_true"]


def _dispatch_report(tmp_path, data) -> subprocess.CompletedProcess:
    path = tmp_path / "run.json"
    path.write_text(json.dumps(data))
    return subprocess.run([sys.executable, "-m", "host_tools.report.dispatch", str(path),
                           "--out", str(tmp_path / "fills.png")], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_dispatch_plot_of_one_run(tmp_path):
    run = {"bins": 6, "days": 4, "seed": 1, "dispatch": "forecast", "collections": 3,
           "dispatch_fills_pct": [60.3, 95.1, 63.3], "mean_fill_at_collection_pct": 72.9,
           "premature_collections_pct": 0.0, "overflow_collections_pct": 0.0,
           "truck_km": 17.6, "dispatch_threshold_pct": 60.0,
           "dispatch_collect_before_pct": 100.0, "dispatch_afternoon": "15-19"}
    r = _dispatch_report(tmp_path, run)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (tmp_path / "fills.png").stat().st_size > 10_000
    from host_tools.report.dispatch import from_run

    b = from_run(run)
    assert b["dispatch_forecast_fills_pct"] == run["dispatch_fills_pct"]
    assert b["dispatch_world"] == "6 bins x 4 days, seed 1 (one run)"
    r = _dispatch_report(tmp_path, {"days": 1, "bins": 3})
    assert r.returncode == 2 and "no crew visits in this file" in r.stderr
    assert "Traceback" not in r.stderr
