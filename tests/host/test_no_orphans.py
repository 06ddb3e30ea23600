"""A simulator killed outright (SIGKILL: no cleanup code runs) leaves no firmware process
and no broker behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from host_tools.paths import ROOT


def _procs_in(folder: Path) -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue
        if cwd.startswith(str(folder)):
            found.append(int(pid))
    return found


def _children_of(pid: int) -> list[int]:
    kids = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            stat = open(f"/proc/{p}/stat").read()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            kids.append(int(p))
    return kids


def _alive(pid: int) -> bool:
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.timeout(120)
def test_sigkill_leaves_nothing_running(tmp_path):
    work = tmp_path / "flash"
    sim = subprocess.Popen([sys.executable, "-m", "host_tools.sim", "--days", "30", "--bins",
                            "3", "--seed", "1", "--start", "2026-12-02", "--workdir",
                            str(work)], cwd=ROOT, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(_procs_in(work)) < 3:
        time.sleep(0.1)
    firmware = _procs_in(work)
    broker = [p for p in _children_of(sim.pid)
              if "mosquitto" in open(f"/proc/{p}/cmdline").read()]
    assert len(firmware) >= 3 and len(broker) == 1
    sim.send_signal(signal.SIGKILL)
    sim.wait()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(_alive(p) for p in firmware + broker):
        time.sleep(0.1)
    assert not [p for p in firmware + broker if _alive(p)]
