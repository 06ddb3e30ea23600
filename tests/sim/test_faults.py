"""The faults scenario (host_tools/sim/faults.py): power cuts inside flash writes and at
random moments, wakes that hang until the watchdog, in one seeded faithful-mode run. The
simulator reads the flash after every cut and the broker's subscriber judges delivery;
nothing here takes the firmware's word."""

from __future__ import annotations

import shutil

import pytest

from host_tools.paths import ROOT
from host_tools.sim.engine import SimConfig
from host_tools.sim.faults import read_queue
from host_tools.sim.harness import simulate

from ..conftest import run_sim

FAULTS_WORK = []
CUT_FILES = ("state.json.tmp", "boots.json.tmp", "outbox.q", "outbox.q.tmp",
             "config.json.tmp")


@pytest.fixture(scope="module")
def faults(tmp_path_factory):
    work = tmp_path_factory.mktemp("faults")
    FAULTS_WORK.append(work)
    return run_sim("--days", "5", "--seed", "1", "--start", "2026-06-01",
                   "--scenario", "faults", "--workdir", str(work))


def test_report_keys(faults):
    for key in ("watchdog_resets", "safe_mode_entries", "power_cut_trials",
                "corrupt_state_after_cut"):
        assert isinstance(faults[key], int), key
    assert faults["mode"] == "faithful"


def _figures(report):
    return {k: v for k, v in report.items() if k.startswith(("power_cut", "corrupt", "hang",
                                                             "reports_", "firmware"))}


def test_200_power_cuts_leave_every_file_readable(faults):
    assert faults["power_cut_trials"] >= 200, _figures(faults)
    assert faults["corrupt_state_after_cut"] == 0, faults["corrupt_state_details"]
    if faults["firmware_errors"]:
        log = (FAULTS_WORK[-1] / "bin-0001" / "console.log").read_text(errors="replace")
        i = log.find("Traceback")
        raise AssertionError(f"tracebacks on the console: {log[max(0, i - 500):i + 2500]}")
    # the cuts landed inside writes of every kind of file, part-way through most of them,
    # and some between the operations
    by_file = faults["power_cuts_by_file"]
    for name in CUT_FILES:
        assert by_file.get(name, 0) >= 1, (name, by_file)
    assert faults["power_cuts_torn_writes"] >= 100
    assert faults["power_cuts_before_commit"] >= 1
    assert faults["power_cuts_random"] >= 20


def test_every_report_is_accounted_for(faults):
    # nothing the queue held was lost, nothing acknowledged came back, nothing made anew
    assert faults["reports_seen_queued"] > 0
    assert faults["reports_queued_lost"] == 0
    assert faults["reports_resent_after_ack"] == 0
    assert faults["telemetry_seq_reused"] == 0
    assert faults["telemetry_lost"] == 0
    assert faults["telemetry_received"] > 50


def test_hangs_end_in_watchdog_resets_not_safe_mode(faults):
    assert faults["hangs_injected"] >= 1
    assert faults["watchdog_resets"] >= faults["hangs_injected"]
    # power cuts and hangs are not crashes: the bin never stops itself in safe mode
    assert faults["safe_mode_entries"] == 0


def _patched(tmp_path, module: str, old: str, new: str):
    root = tmp_path / "fw"
    shutil.copytree(ROOT / "firmware", root / "firmware")
    for name in ("boot.py", "main.py"):
        shutil.copy(ROOT / name, root / name)
    path = root / "firmware" / module
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return root


def test_cuts_find_a_write_without_its_rename(tmp_path):
    """The check can fail: with state files written in place (no temp file and rename),
    power cuts leave files the observer finds torn."""
    root = _patched(tmp_path, "fsutil.py", 'def write_atomic(path, data):\n',
                    'def write_atomic(path, data):\n    with open(path, "wb") as f:\n'
                    '        put(f, path, data)\n    return\n')
    cfg = SimConfig(days=1, seed=1, mode="faithful", workdir=tmp_path / "flash", root=root,
                    start_s=1_780_239_600)
    cfg.settings.scenario = "faults"
    report = simulate(cfg, client_id="test-faults-observer").report
    assert report["power_cut_trials"] > 0
    assert report["corrupt_state_after_cut"] > 0, report["corrupt_state_details"]


def test_queue_reader_sees_damage_before_the_last_record():
    """The observer's reader of outbox.q (an independent copy of the format)."""
    import struct
    import zlib

    def rec(t, body):
        head = struct.pack("<BH", t, len(body))
        return struct.pack("<B", 0xA5) + head + \
            struct.pack("<I", zlib.crc32(body, zlib.crc32(head))) + body

    a, b = rec(ord("R"), b"telemetry {}"), rec(ord("R"), b"event {}")
    batch = rec(ord("r"), b"telemetry 1") + rec(ord("C"), struct.pack("<I", 7))
    q = read_queue(a + b + batch)
    assert [p for _, p in q.live] == [b"{}", b"{}", b"1"] and q.tag == 7
    assert not q.damaged_mid and not q.torn_tail
    torn = read_queue(a + b + batch[:-3])
    assert len(torn.live) == 2 and torn.torn_tail and not torn.damaged_mid
    mid = bytearray(a + b)
    mid[5] ^= 0xFF
    assert read_queue(bytes(mid)).damaged_mid
    acked = read_queue(a + b + rec(ord("K"), struct.pack("<H", 1)))
    assert [k for k, _ in acked.live] == ["event"]
