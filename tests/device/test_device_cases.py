"""Device-side case scripts on the MicroPython unix port (and pure logic on CPython too)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from host_tools.paths import FIRMWARE

from ..conftest import DEVICE, TESTS


@pytest.mark.parametrize("script,cases", [
    ("a02yyuw_cases.py", 36),
    ("logic_cases.py", 46),
    ("persist_cases.py", 18),
    ("compactor_cases.py", 19),
    ("ranger_cases.py", 33),
    ("fillwatch_cases.py", 60),
    ("energy_cases.py", 88),
    ("outbox_cases.py", 20),
    ("downlink_cases.py", 35),   # includes a fuzz of 2,000 sessions of garbled downlink
])
def test_on_unix_port(device, script, cases):
    device(script, expect_cases=cases)


def test_pure_logic_on_cpython(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(FIRMWARE), str(DEVICE), str(TESTS / "shims")]))
    r = subprocess.run([sys.executable, str(DEVICE / "logic_cases.py")], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "PASS 46 cases" in r.stdout


def test_case_runner_reports_failures(tmp_path):
    """The harness itself must be able to fail: a failing case exits non-zero."""
    script = tmp_path / "failing_cases.py"
    script.write_text("import check\ncheck.eq(1, 2, 'deliberately wrong')\ncheck.done()\n")
    from ..conftest import run_on_unix_port

    r = run_on_unix_port(script, cwd=tmp_path)
    assert r.returncode == 1
    assert "FAIL deliberately wrong" in r.out


def test_compactor_property_10000_random_sequences(device):
    """10,000 random door/limit/current/voltage/lock/exception sequences against the real
    controller: never on with the door open, never both ways, off within one tick of an
    interlock and after any exception (tests/device/compactor_property_cases.py)."""
    out = device("compactor_property_cases.py", "10000", expect_cases=10007)
    assert "door IRQ trips" in out

