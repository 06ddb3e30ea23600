"""The suite gives the same verdicts on any day: every simulator run names its start date.

The test suite (tests/conftest.py) and the benchmarks set BIN_SIM_REQUIRE_START, and the
simulator then refuses a run without --start (or a SimConfig without start_s): a test that
forgets its date fails on the day it is written, not months later. The README's examples
name their date and seed too (checked here from the text)."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys

import pytest

from host_tools.paths import ROOT
from host_tools.sim.__main__ import REQUIRE_START_ENV, StartDateRequired, start_epoch
from host_tools.sim.engine import SimConfig, Simulation


def test_the_suite_asks_for_dates():
    assert os.environ.get(REQUIRE_START_ENV) == "1"


@pytest.mark.parametrize("tool", ["host_tools.sim", "host_tools.fleet"])
def test_a_run_without_a_start_date_is_refused(tool, tmp_path):
    r = subprocess.run([sys.executable, "-m", tool, "--days", "0.01", "--seed", "1",
                        "--workdir", str(tmp_path / "w"), "--json", str(tmp_path / "r.json")],
                       cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "names its start date (--start YYYY-MM-DD)" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "r.json").exists() and not (tmp_path / "w").exists()


def test_a_bad_start_date_is_a_sentence(tmp_path):
    r = subprocess.run([sys.executable, "-m", "host_tools.sim", "--start", "2026-13-01"],
                       cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "--start 2026-13-01: month must be in 1..12" in r.stderr


def test_a_simconfig_without_a_start_is_refused():
    with pytest.raises(ValueError, match="start_s is not set"):
        Simulation(SimConfig(days=0.01), ("127.0.0.1", 9), 1883)


def test_start_dates(monkeypatch):
    assert start_epoch("2026-12-02") == dt.datetime(2026, 12, 1, 15, tzinfo=dt.UTC).timestamp()
    with pytest.raises(StartDateRequired):
        start_epoch(None)
    # outside the suite (a person at the terminal) no date means today, at the site
    monkeypatch.delenv(REQUIRE_START_ENV)
    kst = dt.timezone(dt.timedelta(hours=9))
    today = dt.datetime.now(kst).date()
    assert dt.datetime.fromtimestamp(start_epoch(None), kst).date() in (
        today, today + dt.timedelta(days=1))


# a simulator command line in the docs' code blocks (indented): `python -m host_tools.sim`
# or `host_tools.fleet` with its continuation lines
_COMMAND = re.compile(r"^[ \t]+\S*python3? -m host_tools\.(?:sim|fleet)\b(?:[^\n]*\\\n)*[^\n]*",
                      re.MULTILINE)


def _doc_commands():
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
                ROOT / "bench" / "README.md"]:
        for m in _COMMAND.finditer(doc.read_text()):
            yield doc.relative_to(ROOT), m.group(0)


def test_documented_runs_name_their_date_and_seed():
    found = list(_doc_commands())
    assert len(found) >= 5
    missing = [f"{doc}: {cmd}" for doc, cmd in found
               if "--start " not in cmd or "--seed " not in cmd]
    assert not missing, "\n".join(missing)


def test_make_targets_name_their_date_and_seed():
    runs = [ln.strip() for ln in (ROOT / "Makefile").read_text().splitlines()
            if any(f"-m host_tools.{m}" in ln for m in ("sim", "fleet", "backoffice.demo"))]
    assert len(runs) >= 3, runs          # run, sim, vdev
    assert all("--start " in ln and "--seed " in ln for ln in runs), runs
