"""Plots of a simulation report exist and carry the month of a bin."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
from PIL import Image

from host_tools.paths import ROOT


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
