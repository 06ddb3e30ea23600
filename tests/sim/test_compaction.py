"""Compactor control under the simulator: a month of one bin, and a jam that does not clear.
Every figure comes from the world model, the H-bridge and lock pins, or the broker."""

from __future__ import annotations

import pytest

from host_tools.sim.engine import SimConfig
from host_tools.sim.harness import simulate
from host_tools.sim.world.bin import WorldSettings

from ..conftest import run_sim


@pytest.fixture(scope="session")
def sim_30days(tmp_path_factory):
    """The compactor's acceptance run: 30 simulated days of one bin, seed 1, fixed start."""
    work = tmp_path_factory.mktemp("sim30d")
    return run_sim("--days", "30", "--seed", "1", "--start", "2025-06-01",
                   "--workdir", str(work))


def test_month_keys_are_reported(sim_30days):
    for key in ("compactions", "jams", "jam_faults", "motor_on_with_door_open_ms",
                "motor_both_directions_ms", "overflow_hours", "collections_true",
                "collections_uncompacted_baseline"):
        assert key in sim_30days, key


def test_month_motor_is_safe(sim_30days):
    r = sim_30days
    assert r["firmware_errors"] == 0
    assert r["compactions"] > 30
    assert r["door_lock_engagements"] >= r["compactions"]
    assert r["motor_on_with_door_open_ms"] == 0
    assert r["motor_both_directions_ms"] == 0


def test_month_no_overflow_and_4x_fewer_collections(sim_30days):
    r = sim_30days
    assert r["overflow_hours"] == 0
    assert r["collections_true"] > 0
    assert r["collections_true"] * 4 <= r["collections_uncompacted_baseline"]


def test_persistent_jam_ends_in_a_fault_with_an_event(tmp_path):
    """A jam that backing off cannot clear: the ram is driven into it 1 + jam_retries times,
    then the bin latches a fault, says so with the current and position, and stops."""
    cfg = SimConfig(days=1.5, seed=4, workdir=tmp_path, start_s=1_790_000_000,
                    settings=WorldSettings(jam_every_days=0.3, jam_persistent=True))
    run = simulate(cfg, client_id="jam-observer")
    report, sub, sim = run.report, run.subscriber, run.sim
    assert report["firmware_errors"] == 0
    assert report["jams"] >= 1
    assert report["jam_faults"] >= 1
    assert report["jam_hits_max"] == 3          # 1 + jam_retries (2): never endless retries
    faults = [m.json() for m in sub.of_kind("event")
              if (m.json() or {}).get("ev") == "motor_fault"]
    jam = [f for f in faults if f["why"] == "jam"]
    assert len(jam) == 1 and jam[0]["latched"] is True
    assert jam[0]["ma"] >= 18000 and jam[0]["pos_mm"] > 0
    ram = next(iter(sim.bins.values())).vbin.world.ram
    # after the fault no stroke reached an obstruction again
    assert all(j.hits <= 3 for j in ram.jams)
    faulted = [j for j in ram.jams if j.hits == 3]
    assert len(faulted) == 1
    assert all(j.t > faulted[0].last_hit_t for j in ram.jams if j.t > faulted[0].t and j.hits)
    tele = [m.json() for m in sub.of_kind("telemetry")]
    assert tele[-1]["flags"] & 2, "motor fault flag in the last telemetry"
