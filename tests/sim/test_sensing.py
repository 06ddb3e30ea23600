"""Fill sensing over a 30-day seeded season: -15..+45 C, condensation spikes, a blocked, a
stuck and a blind sensor, fires and knock-overs (the `sensing` scenario). One run is shared
by every test here; every figure comes from the simulator's observers."""

from __future__ import annotations

import pytest

from ..conftest import run_sim


@pytest.fixture(scope="module")
def season(tmp_path_factory):
    work = tmp_path_factory.mktemp("sensing30")
    return run_sim("--days", "30", "--seed", "1", "--start", "2026-12-02",
                   "--scenario", "sensing",
                   "--workdir", str(work))


def test_fill_is_accurate_and_beats_a_raw_echo(season):
    assert season["firmware_errors"] == 0
    assert season["fill_rmse_reports"] > 500
    assert season["fill_rmse_pct"] <= 2.0
    assert season["fill_rmse_naive_pct"] >= 3 * season["fill_rmse_pct"]


def test_collections_are_told_from_compactions(season):
    assert season["compactions"] > 20          # plenty of strokes that drop the level
    assert season["collections_true"] > 0
    assert season["collections_phantom"] == 0
    assert season["collections_detected"] >= season["collections_true"] - 1
    # a blind sensor still warns before the bin overflows (estimate from the learnt rate)
    assert season["overflows_unwarned"] == 0


def test_every_sensor_fault_is_raised_with_its_reason(season):
    assert season["sensor_faults_true"] == 6
    assert season["sensor_faults_caught"] == season["sensor_faults_true"]
    for why in ("blocked", "stuck", "no target"):
        assert season["sensor_fault_reasons"].get(why, 0) >= 1, why


def test_fire_and_tilt_alerts(season):
    assert season["fires_true"] == 2
    assert season["fires_caught"] == 2
    assert season["false_fire_alerts"] == 0
    assert season["tilt_alerts"] == season["tilts_true"] == 2


def test_injected_faults_are_caught_within_the_hour_and_none_is_false(season):
    assert season["sensor_faults_caught"] == season["sensor_faults_true"] == 6
    assert season["sensor_fault_catch_h_max"] <= 1.0
    assert season["sensor_fault_false"] == 0
    assert season["silent_bins"] == 0


def test_the_default_worlds_noise_raises_no_sensor_fault(tmp_path):
    """A month of one bin in the default world, its own noise and no injected fault: a burst
    with no agreeing majority now and then is no fault (this run raised 10 `no reading`
    faults when one such wake was enough). Goal: at most 0.1 false faults a bin-month."""
    r = run_sim("--days", "30", "--seed", "11", "--start", "2026-12-02",
                "--workdir", str(tmp_path))
    assert r["firmware_errors"] == 0
    assert r["sensor_faults_true"] == 0
    assert r["sensor_fault_false_per_bin_month"] <= 0.1
    assert r["sensor_fault_events"] == 0
    assert r["silent_bins"] == 0
