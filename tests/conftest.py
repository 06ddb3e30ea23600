"""Fixtures: firmware on the MicroPython unix port, a mosquitto broker, the simulator."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from host_tools.broker import Broker
from host_tools.paths import FIRMWARE, micropython

TESTS = Path(__file__).resolve().parent
DEVICE = TESTS / "device"


class DeviceRun:
    def __init__(self, proc: subprocess.CompletedProcess):
        self.returncode = proc.returncode
        self.out = proc.stdout + proc.stderr

    def __str__(self):
        return self.out


def run_on_unix_port(script: str | Path, *args: str, cwd: Path | None = None,
                     heapsize: str | None = None, timeout: float = 60,
                     env: dict | None = None) -> DeviceRun:
    """Run a device-side script on the MicroPython unix port with the firmware importable."""
    path = os.pathsep.join([str(FIRMWARE), str(FIRMWARE / "lib"), str(DEVICE), ".frozen"])
    e = dict(os.environ, MICROPYPATH=path)
    e.update(env or {})
    cmd = [micropython()]
    if heapsize:
        cmd += ["-X", f"heapsize={heapsize}"]
    cmd += [str(script), *args]
    proc = subprocess.run(cmd, cwd=cwd, env=e, capture_output=True, text=True, timeout=timeout)
    return DeviceRun(proc)


@pytest.fixture
def device(tmp_path):
    """Runs a tests/device script on the unix port in a fresh flash folder; the test fails
    on any traceback or non-zero exit. Returns the output."""

    def run(name: str, *args: str, expect_cases: int | None = None, **kw) -> str:
        r = run_on_unix_port(DEVICE / name, *args, cwd=tmp_path, **kw)
        assert r.returncode == 0, f"{name} failed on the unix port:\n{r.out}"
        assert "Traceback" not in r.out, f"{name} printed a traceback:\n{r.out}"
        if expect_cases is not None:
            assert f"PASS {expect_cases} cases" in r.out, r.out
        return r.out

    return run


@pytest.fixture(scope="session")
def broker():
    with Broker() as b:
        yield b


def run_sim(*args: str, timeout: float = 600, cwd: Path | None = None) -> dict:
    """Run the simulator CLI exactly as a user would and return its JSON report."""
    import json
    import sys
    import tempfile

    out = Path(tempfile.mkdtemp(prefix="simreport-")) / "report.json"
    cmd = [sys.executable, "-m", "host_tools.sim", *args, "--json", str(out)]
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run(cmd, cwd=cwd or root, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"sim failed:\n{proc.stdout}\n{proc.stderr}"
    return json.loads(out.read_text())


@pytest.fixture(scope="session")
def sim_2days(tmp_path_factory):
    """The foundation's acceptance run: two simulated days of one bin, seed 1."""
    work = tmp_path_factory.mktemp("sim2d")
    return run_sim("--days", "2", "--seed", "1", "--start", "2026-12-02", "--workdir",
                   str(work)), work
