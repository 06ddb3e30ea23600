"""Every command a person runs parses its arguments: --help explains and does nothing else
(no folder named --help, no fetch, no simulation), and the simulator ends a run with a
short summary a person reads, its JSON report in the file (or on stdout with --json -)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from host_tools.paths import ROOT

MODULES = ["host_tools.sim", "host_tools.fleet", "host_tools.deploy",
           "host_tools.deploy.virtual", "host_tools.deploy.console", "host_tools.ota",
           "host_tools.monitor", "host_tools.plan", "host_tools.report",
           "host_tools.report.dispatch", "host_tools.fetch_umqtt", "host_tools.backoffice",
           "host_tools.backoffice.demo"]
SCRIPTS = ["bench/run.py", "bench/fleet.py", "bench/dispatch.py", "bench/alarms.py",
           "bench/backoffice.py"]


def _tree(path) -> set[str]:
    return {str(p.relative_to(path)) for p in path.rglob("*")}


@pytest.mark.parametrize("cli", MODULES + SCRIPTS)
def test_help_explains_and_does_nothing(cli, tmp_path):
    cmd = [sys.executable, str(ROOT / cli)] if cli.endswith(".py") else \
        [sys.executable, "-m", cli]
    umqtt = ROOT / "firmware" / "lib" / "umqtt" / "simple.py"
    before = umqtt.stat().st_mtime_ns if umqtt.exists() else None
    bench = ROOT / "build" / "bench.json"
    bench_before = bench.stat().st_mtime_ns if bench.exists() else None
    r = subprocess.run([*cmd, "--help"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=60, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "usage" in r.stdout.lower() or "python -m" in r.stdout, r.stdout
    assert "Traceback" not in r.stderr
    assert not _tree(tmp_path), _tree(tmp_path)          # nothing made where it ran
    assert (umqtt.stat().st_mtime_ns if umqtt.exists() else None) == before
    assert (bench.stat().st_mtime_ns if bench.exists() else None) == bench_before


def _sim(tmp_path, *more: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "host_tools.sim", "--days", "0.25", "--seed",
                           "2", "--start", "2026-12-02", "--workdir", str(tmp_path / "w"),
                           *more], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_a_run_ends_in_a_summary_and_the_report_in_its_file(tmp_path):
    r = _sim(tmp_path, "--json", str(tmp_path / "r.json"))
    assert r.returncode == 0, r.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    lines = r.stdout.strip().splitlines()
    assert 3 <= len(lines) <= 8, r.stdout
    head = lines[0]
    assert "1 bin x 0.25 days from 2026-12-02 (seed 2" in head, head
    assert f"{report['telemetry_received']} reports delivered of " \
           f"{report['telemetry_published']} published: every report accounted for" in r.stdout
    assert f"every figure in {tmp_path / 'r.json'}" in r.stdout
    assert "{" not in r.stdout                            # no JSON dump on the terminal


def test_json_dash_is_the_report_on_stdout(tmp_path):
    r = _sim(tmp_path, "--json", "-")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["seed"] == 2 and report["days"] == 0.25
    assert "reports delivered" in r.stderr                # the summary moved aside
    assert not (ROOT / "-").exists()


def test_make_sim_as_the_readme_says():
    report = ROOT / "build" / "report.json"
    r = subprocess.run(["make", "-s", "sim"], cwd=ROOT, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 bin x 2 days from 2026-06-01 (seed 1" in r.stdout, r.stdout
    assert "every figure in build/report.json" in r.stdout
    assert json.loads(report.read_text())["days"] == 2.0
