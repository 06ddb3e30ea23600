"""A small fleet against one broker: every report accounted for."""

from __future__ import annotations

import json
import subprocess
import sys

from host_tools.paths import ROOT


def test_small_fleet_accounts_for_every_report(tmp_path):
    out = tmp_path / "fleet.json"
    r = subprocess.run([sys.executable, "-m", "host_tools.fleet", "--bins", "6", "--days",
                        "0.25", "--seed", "3", "--workdir", str(tmp_path / "flash"),
                        "--json", str(out)], cwd=ROOT, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "every report accounted for" in r.stdout
    report = json.loads(out.read_text())
    assert report["bins"] == 6
    # six hours: at least the first report and the two-hourly heartbeats of every bin
    assert report["telemetry_received"] == report["telemetry_published"] >= 6 * 3
    assert report["firmware_errors"] == 0
    # one process per bin, all in the same virtual time: every bin woke about 24 times
    assert 6 * 22 <= report["wakes"] <= 6 * 26
