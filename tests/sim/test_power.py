"""Power: a Korean December and June on a 20 W panel and a 12 Ah LiFePO4 battery, a starved
bin that must step down its energy levels and shut down with a last report, and brown-outs:
emulated by the simulator when a surge sags the battery bus, reported by the firmware."""

from __future__ import annotations

import pytest

from host_tools.sim.__main__ import start_epoch
from host_tools.sim.engine import SimConfig
from host_tools.sim.harness import simulate
from host_tools.sim.world.bin import WorldSettings

from ..conftest import run_sim
from .test_foundation import _patched_firmware

LEVELS = ["normal", "economy", "critical", "shutdown"]


@pytest.fixture(scope="session")
def december(tmp_path_factory):
    """The design month: 30 seeded days from 1 December at 37.7 N."""
    work = tmp_path_factory.mktemp("dec")
    return run_sim("--days", "30", "--seed", "1", "--start", "2025-12-01", "--lat", "37.7",
                   "--panel-w", "20", "--battery-ah", "12", "--workdir", str(work))


def test_december_without_brownouts_or_a_flat_battery(december):
    r = december
    assert r["firmware_errors"] == 0
    assert r["brownouts"] == 0
    assert r["battery_soc_min_pct"] >= 20
    assert r["battery_empty_hours"] == 0


def test_december_saves_no_energy_at_the_cost_of_alerts(december):
    r = december
    # energy saving never went as far as alarms-only, and no full bin went unreported
    assert "critical" not in r["energy_levels_seen"]
    assert "shutdown" not in r["energy_levels_seen"]
    assert r["full_alerts_missed_saving"] == 0


def test_december_energy_figures_are_plausible(december):
    r = december
    use = r["energy_wh_per_day"]
    assert set(use) == {"mcu", "modem", "motor"}
    # sleep alone is ~0.1 Wh a day; a modem session costs 20-60 s of attach
    assert 0.1 < use["mcu"] < 2
    assert 0.05 < use["modem"] < 3
    if r["compactions"]:
        assert use["motor"] > 0
    # a 20 W panel at 37.7 N in December: short low-sun days, clouds and snow
    assert 3 < r["solar_potential_wh_per_day"] < 60
    assert r["solar_wh_per_day"] <= r["solar_potential_wh_per_day"]


def test_june_runs_at_normal_level(tmp_path):
    r = run_sim("--days", "7", "--seed", "2", "--start", "2026-06-10", "--workdir",
                str(tmp_path))
    assert r["energy_level_changes"] == 0
    assert r["energy_levels_seen"] == []
    assert r["brownouts"] == 0
    assert r["battery_soc_min_pct"] >= 70
    # long June days give several times the December harvest potential
    assert r["solar_potential_wh_per_day"] > 40


def _run(cfg: SimConfig, soc: float | None = None):
    def prepare(sim):
        if soc is not None:
            for b in sim.bins.values():
                b.vbin.world.power.soc = b.vbin.world.power.soc_min = soc

    run = simulate(cfg, prepare=prepare, client_id="power-observer")
    return run.report, run.subscriber


def test_starved_bin_steps_down_and_shuts_down_with_a_last_report(tmp_path):
    """No sun and a tiny battery: every level engages in order, and the bin goes quiet
    with a last report instead of browning out."""
    cfg = SimConfig(days=12, seed=1, start_s=start_epoch("2025-12-01"), workdir=tmp_path,
                    settings=WorldSettings(panel_w=0.0, battery_ah=0.25))
    report, sub = _run(cfg)
    assert report["firmware_errors"] == 0
    assert report["brownouts"] == 0
    changes = [m.json() for m in sub.of_kind("event") if m.json()["ev"] == "energy_level"]
    assert [c["level"] for c in changes] == ["economy", "critical", "shutdown"]
    assert [c["from"] for c in changes] == ["normal", "economy", "critical"]
    assert report["energy_level_changes"] == 3
    # while it saved energy the bin still filled up; at critical a full bin is an alarm
    assert report["full_episodes_saving"] > 0
    crit_ts, off_ts = changes[1]["ts"], changes[2]["ts"]
    fulls = [m.json()["ts"] for m in sub.of_kind("event") if m.json()["ev"] == "full"]
    assert any(crit_ts <= t < off_ts for t in fulls)
    # the shutdown notice is the last thing the bin sent
    off_ts = changes[-1]["ts"]
    later = [m.json() for m in sub.messages
             if m.kind in ("telemetry", "event") and not m.retain
             and (m.json() or {}).get("ts", 0) > off_ts]
    assert later == []
    # in critical only alarms and one telemetry a day went out
    crit_ts = changes[1]["ts"]
    tel = [m.json()["ts"] for m in sub.of_kind("telemetry")
           if crit_ts < m.json()["ts"] < off_ts]
    assert len(tel) <= (off_ts - crit_ts) / 86400 + 1 + \
        sum(1 for m in sub.of_kind("event") if crit_ts < m.json()["ts"] < off_ts)


def test_brownout_is_emulated_and_reported(tmp_path):
    """A motor started with no guard on a nearly flat battery: the inrush sags the bus below
    the board's brown-out voltage, the simulator resets the bin, and its next boot reports
    the brown-out."""
    root = _patched_firmware(
        tmp_path, "app.py",
        "    cfg = power_policy.plan(st, r, cfg, now, cause, events)",
        "\n    if cause == 'power_on':\n        board.motor.forward()\n"
        "        board.motor.off()\n")
    cfg = SimConfig(days=0.2, seed=1, start_s=start_epoch("2025-12-01"),
                    workdir=tmp_path / "flash", root=root)
    report, sub = _run(cfg, soc=0.09)
    assert report["brownouts"] == 1
    assert report["brownouts_reported"] == 1
    assert report["firmware_errors"] == 0


def test_guards_prevent_the_brownout(tmp_path):
    """The same flat battery with the firmware as shipped: no stroke, no brown-out, and the
    bin reports at the critical level."""
    cfg = SimConfig(days=1, seed=1, start_s=start_epoch("2025-12-01"), workdir=tmp_path)
    report, sub = _run(cfg, soc=0.09)
    assert report["brownouts"] == 0
    assert report["compactions"] == 0
    assert "critical" in report["energy_levels_seen"]
    assert report["telemetry_received"] >= 1
