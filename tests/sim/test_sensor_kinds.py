"""Each level-sensor driver against its emulator in the simulator (bytes and timings as the
real parts produce them), alone and fused."""

from __future__ import annotations

import pytest

from ..conftest import run_sim


@pytest.mark.parametrize("sensors", ["maxbotix", "hcsr04", "a02yyuw,maxbotix,hcsr04"])
def test_fill_from_each_sensor_kind(sensors, tmp_path):
    report = run_sim("--days", "1.5", "--seed", "2", "--start", "2026-12-02", "--sensors", sensors,
                     "--workdir", str(tmp_path))
    assert report["firmware_errors"] == 0
    assert report["telemetry_received"] == report["telemetry_published"] > 30
    assert report["fill_abs_error_mean_pct"] < 1.5
    assert report["fill_abs_error_max_pct"] < 8.0
    assert report["collections_phantom"] == 0


def test_unknown_sensor_is_refused(tmp_path):
    import subprocess
    import sys

    from host_tools.paths import ROOT

    r = subprocess.run([sys.executable, "-m", "host_tools.sim", "--sensors", "sonar9000",
                        "--workdir", str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode != 0 and "unknown sensor 'sonar9000'" in r.stderr
