"""Sample look-ahead (host_tools/sim/lookahead.py) changes the number of round trips and
nothing else: the same seeded bins with it on and off go through the same world (motor,
ram, waste, door, battery, sensor truth) and the broker sees the same reports. The world is
a busy one: frequent jams (back-offs, retries) and doors forced open while the ram moves
(the door interrupt inside a look-ahead)."""

from __future__ import annotations

import pickle

import pytest

from host_tools.sim.engine import SimConfig, Simulation
from host_tools.sim.harness import simulate
from host_tools.sim.lookahead import Snapshot
from host_tools.sim.world.bin import BinWorld, WorldSettings

START_S = 1_748_790_000     # 2025-06-01, early morning in Korea


def _run(tmp_path, lookahead: bool):
    cfg = SimConfig(bins=2, days=2.0, seed=4, start_s=START_S, workdir=tmp_path,
                    lookahead=lookahead,
                    settings=WorldSettings(jam_every_days=0.3, door_force_prob=0.5))
    run = simulate(cfg, client_id=f"lookahead-{lookahead}")
    bins = {}
    for bin_id, b in run.sim.bins.items():
        v, w = b.vbin, b.vbin.world
        bins[bin_id] = {
            "motor_on": v.motor.intervals,
            "motor_both_ms": v.motor.both_ms,
            "strokes": w.ram.strokes,
            "ram": (w.ram.y, w.ram.temp_c, w.ram.temp_max_c),
            "jams": [(j.t, j.hits, j.backoffs, j.cleared_t, j.last_hit_t) for j in w.ram.jams],
            "truth": v.truth,
            "waste": (w.waste.loose_l, w.waste.packed_l, w.waste.deposits),
            "collections": w.collections,
            "door_windows": w.door_windows,
            "door_forced": w.door.forced,
            "lock_engagements": w.door.engagements,
            "irq_edges": v.irq_delivered,
            "battery": (w.power.soc, w.power.used_wh, w.power.solar_wh),
            "power_log": v.power_log,
            "world_t": w.t,
        }
    # what the broker saw, bin by bin in the order it arrived
    seen = {}
    for m in run.subscriber.messages:
        seen.setdefault(m.bin_id, []).append((m.kind, m.payload, m.retain))
    report = {k: v for k, v in run.report.items() if k not in ("wall_s", "sim_requests")}
    return bins, seen, report, run.report["sim_requests"], run.sim.ahead


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    return (_run(tmp_path_factory.mktemp("ahead-off"), False),
            _run(tmp_path_factory.mktemp("ahead-on"), True))


def test_the_scenario_exercises_the_look_ahead(both):
    (bins, _, report, _, _), (_, _, _, _, ahead) = both
    assert report["firmware_errors"] == 0
    assert sum(b["strokes"] for b in bins.values()) >= 10
    assert sum(b["irq_edges"] for b in bins.values()) >= 2     # doors opened mid-stroke
    assert sum(j[2] for b in bins.values() for j in b["jams"]) >= 1    # a back-off
    assert ahead["read"] > 1000
    assert ahead["rewinds"] >= 10       # windows the boards left early
    assert ahead["cut"] >= 1            # a window ended before a door interrupt


def test_fewer_round_trips(both):
    off, on = both
    assert off[4]["windows"] == 0
    assert on[3] < off[3] * 0.8


def test_same_world(both):
    off, on = both
    for bin_id in off[0]:
        for key, value in off[0][bin_id].items():
            assert on[0][bin_id][key] == value, (bin_id, key)


def test_same_reports_at_the_broker(both):
    off, on = both
    assert on[1] == off[1]
    assert on[2] == off[2]


def _world():
    w = BinWorld(1, 0, START_S, WorldSettings(jam_every_days=0.3))
    w.advance(START_S + 1000)
    return w


def _stroke_and_a_day(w):
    t = START_S + 40000
    w.advance(t)
    w.set_door_lock(t, 1)
    w.ram.set_inputs(t + 0.3, 1, 0)
    for i in range(200):
        w.ram.current_ma(t + 0.3 + i * 0.05)
    w.ram.set_inputs(t + 10.3, 0, 1)
    w.advance(t + 25)
    w.ram.set_inputs(t + 25, 0, 0)
    w.set_door_lock(t + 25, 0)
    w.advance(t + 86400)


def test_snapshot_goes_back_in_place():
    """A world taken back to a snapshot is the world it was (state, random draws to come)
    in the same objects, whatever holds them."""
    w, twin = _world(), _world()
    waste, ram, windows = w.waste, w.ram, w.door_windows
    snap = Snapshot(w)
    _stroke_and_a_day(w)
    assert w.ram.strokes == 1 and len(w.door_windows) > len(twin.door_windows)
    snap.restore()
    assert w.waste is waste and w.ram is ram and w.ram.waste is waste
    assert w.door_windows is windows and w.door.windows is windows
    assert pickle.dumps(w) == pickle.dumps(twin)
    _stroke_and_a_day(w)
    _stroke_and_a_day(twin)
    assert pickle.dumps(w) == pickle.dumps(twin)


@pytest.mark.parametrize("scenario, external, on", [
    ("default", False, True), ("faults", False, False), ("default", True, False)])
def test_off_by_hand_and_with_faults(tmp_path, scenario, external, on):
    cfg = SimConfig(workdir=tmp_path, external=external, start_s=START_S,
                    settings=WorldSettings(scenario=scenario))
    sim = Simulation(cfg, ("127.0.0.1", 9), 1883)
    try:
        assert sim._ahead_on(next(iter(sim.bins.values()))) is on
    finally:
        sim.close()
