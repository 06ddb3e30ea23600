"""The firmware runs unchanged on the unix port under the simulator and reports over real
MQTT; every figure is checked against an independent observer."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from host_tools.paths import ROOT
from host_tools.sim.engine import SimConfig
from host_tools.sim.harness import simulate
from host_tools.sim.observe.subscriber import Subscriber

FIRST_KEYS = ["days", "bins", "seed", "wall_s", "wakes", "telemetry_published",
              "telemetry_received", "fill_abs_error_mean_pct", "fill_abs_error_max_pct",
              "firmware_errors"]


def test_two_day_run_delivers_every_report(sim_2days):
    report, _ = sim_2days
    for key in FIRST_KEYS:
        assert key in report, key
    assert report["days"] == 2 and report["bins"] == 1 and report["seed"] == 1
    assert report["firmware_errors"] == 0
    assert report["telemetry_published"] > 0
    assert report["telemetry_received"] == report["telemetry_published"]
    # a wake every 15 minutes for two days (the first boot is a power-on, not a wake), and a
    # few sooner while the bin fills fast (power_policy.next_wake_s)
    assert 180 <= report["wakes"] <= 204
    # at least the two-hourly heartbeat
    assert report["telemetry_received"] >= 24


def test_reported_fill_tracks_the_world(sim_2days):
    report, _ = sim_2days
    assert report["fill_abs_error_mean_pct"] is not None
    assert report["fill_abs_error_mean_pct"] < 2.0
    assert report["fill_abs_error_max_pct"] < 10.0


def test_motor_never_runs_with_the_door_open(sim_2days):
    report, _ = sim_2days
    assert report["compactions"] > 0
    # the firmware polls the door every 50 ms control tick: a door opened mid-stroke may see
    # the motor for less than one tick per stroke, never longer
    assert report["motor_on_with_door_open_ms"] < 50 * report["compactions"]
    assert report["motor_both_directions_ms"] == 0


def test_console_is_clean(sim_2days):
    _, work = sim_2days
    log = (work / "bin-0001" / "console.log").read_text()
    assert "Traceback" not in log
    assert "Error" not in log


def _run(cfg: SimConfig) -> tuple[dict, Subscriber]:
    run = simulate(cfg, client_id="test-observer")
    return run.report, run.subscriber


def test_faithful_mode_carries_state_across_resets(tmp_path):
    """Deep sleep resets the chip: a new process per wake, state only in RTC memory/flash."""
    cfg = SimConfig(days=0.5, seed=3, mode="faithful", workdir=tmp_path,
                    start_s=1_790_000_000)
    report, sub = _run(cfg)
    assert report["firmware_errors"] == 0
    assert report["wakes"] >= 40
    seqs = [m.json()["seq"] for m in sub.of_kind("telemetry")]
    assert len(seqs) == report["telemetry_published"] > 0
    assert seqs == list(range(1, len(seqs) + 1)), "sequence must survive every reset"
    # one console start per process: the ROM loop never ran twice in one process
    assert (tmp_path / "bin-0001" / "state.json").exists()


def _patched_firmware(tmp_path, module: str, anchor: str, inject: str):
    """A copy of the firmware with `inject` inserted after the line `anchor` of `module`."""
    root = tmp_path / "fw"
    shutil.copytree(ROOT / "firmware", root / "firmware")
    for name in ("boot.py", "main.py"):
        shutil.copy(ROOT / name, root / name)
    path = root / "firmware" / module
    text = path.read_text()
    assert anchor in text
    path.write_text(text.replace(anchor, anchor + inject, 1))
    return root


def test_broken_sense_step_is_caught(tmp_path):
    """If the sense step raises, the harness sees it: tracebacks counted, nothing reported."""
    root = _patched_firmware(tmp_path, "sense.py", "def read(board, cfg):\n",
                             "    raise RuntimeError('sense step broken on purpose')\n")
    cfg = SimConfig(days=0.1, seed=1, workdir=tmp_path / "flash", root=root,
                    start_s=1_790_000_000)
    report, _ = _run(cfg)
    assert report["firmware_errors"] > 0
    assert report["telemetry_received"] == 0
    log = (tmp_path / "flash" / "bin-0001" / "console.log").read_text()
    assert "sense step broken on purpose" in log


def test_report_is_json_serialisable(sim_2days):
    report, _ = sim_2days
    assert json.loads(json.dumps(report)) == report
    assert Path(ROOT / "firmware" / "lib" / "umqtt" / "simple.py").exists()


def test_hung_wake_is_reset_by_the_watchdog_and_reported(tmp_path):
    """Faithful mode: a wake that hangs (never feeds the watchdog) is reset by the simulated
    hardware watchdog; the next boot reports the reset cause and the bin carries on."""
    hang = (
        "    import os\n"
        "    if 'hung_once' not in os.listdir('.'):\n"
        "        open('hung_once', 'w').close()\n"
        "        while True:\n"
        "            board.clock.sleep_ms(1000)\n"
        "            board.temp.read_c()\n"
    )
    root = _patched_firmware(tmp_path, "sense.py", "def read(board, cfg):\n", hang)
    cfg = SimConfig(days=0.2, seed=2, mode="faithful", workdir=tmp_path / "flash", root=root,
                    start_s=1_790_000_000)
    report, sub = _run(cfg)
    assert report["watchdog_resets"] == 1
    assert report["firmware_errors"] == 0
    resets = [m.json() for m in sub.of_kind("event") if m.json().get("ev") == "reset"]
    assert [e["cause"] for e in resets] == ["watchdog"]
    assert report["telemetry_received"] == report["telemetry_published"] > 0


def test_crash_every_wake_ends_in_safe_mode_with_the_trace_reported(tmp_path):
    """Faithful mode: a wake that crashes every time is retried, then after three boots in a
    row without a finished cycle the bin goes to safe mode: the app is not started, the
    motor never moves, a report carries the last traceback. Nobody at the REPL: safe mode
    sleeps 30 min, doubling to 6 h, and gives the app one boot each time (it crashes again
    here), so the bin never falls silent."""
    root = _patched_firmware(tmp_path, "sense.py", "def read(board, cfg):\n",
                             "    raise RuntimeError('sense step broken on purpose')\n")
    cfg = SimConfig(days=1, seed=6, mode="faithful", workdir=tmp_path / "flash", root=root,
                    start_s=1_790_000_000)
    report, sub = _run(cfg)
    events = [m.json() for m in sub.of_kind("event")]
    safe = [e for e in events if e.get("ev") == "safe_mode"]
    assert len(safe) == report["safe_mode_entries"] == 7, events   # one report per entry
    assert all("sense step broken on purpose" in e["trace"] for e in safe)
    assert [e["boots"] for e in safe] == [4] * 7
    assert [e["retry_s"] for e in safe] == [1800, 3600, 7200, 14400, 21600, 21600, 21600]
    gaps = [b["ts"] - a["ts"] for a, b in zip(safe, safe[1:], strict=False)]
    assert all(g >= r for g, r in zip(gaps, [1800, 3600, 7200, 14400, 21600, 21600], strict=True))
    flash = tmp_path / "flash" / "bin-0001"
    assert json.loads((flash / "boots.json").read_text())["safe"] is True
    assert "RuntimeError" in (flash / "last_trace.txt").read_text()
    assert report["compactions"] == 0 and report["motor_on_with_door_open_ms"] == 0


def test_the_retained_state_carries_battery_and_signal(tmp_path):
    """Between reports the broker keeps only the retained state: an operator's monitor
    --once shows battery and signal from it."""
    cfg = SimConfig(days=0.2, seed=3, workdir=tmp_path / "flash", start_s=1_790_000_000)
    run = simulate(cfg, client_id="t-state")
    states = [d for d in (m.json() for m in run.subscriber.of_kind("state"))
              if d and d.get("st") == "asleep"]
    assert states
    assert all(isinstance(s["vbat"], int) and 10_000 < s["vbat"] < 15_000 for s in states)
    assert all(s["rssi"] is None or -113 <= s["rssi"] <= -51 for s in states)
    assert any(s["rssi"] is not None for s in states)
