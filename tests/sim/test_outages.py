"""The outages scenario: broker down for hours, modem hangs, registration denied, coverage
lost mid-publish, PDP deactivated, on a seeded schedule (host_tools/sim/world/outages.py).
One run shared by the tests; every figure comes from the emulator, the network model or
the broker's subscriber."""

from __future__ import annotations

import pytest

from ..conftest import run_sim


@pytest.fixture(scope="module")
def outages(tmp_path_factory):
    work = tmp_path_factory.mktemp("outages")
    return run_sim("--days", "7", "--seed", "1", "--start", "2026-12-02", "--scenario", "outages",
                   "--workdir", str(work))


def test_every_kind_of_outage_was_applied(outages):
    kinds = outages["outages_by_kind"]
    for kind in ("broker_down", "modem_hang", "reg_denied", "coverage_cut", "pdp_drop",
                 "modem_reboot"):
        assert kinds[kind]["applied"] >= 1, (kind, kinds)
    assert outages["outages"] and all("applied" in o for o in outages["outages"])


def test_no_report_lost_through_the_outages(outages):
    assert outages["firmware_errors"] == 0
    assert outages["telemetry_lost"] == 0
    assert outages["telemetry_dropped_queue_full"] == 0
    assert outages["telemetry_received"] > 0


def test_modem_faults_are_handled_on_the_wire(outages):
    # a hung modem is power-cycled, never toggled off while it answered, never left on
    assert outages["modem_hangs"] >= 1
    assert 1 <= outages["modem_power_cycles"] <= 2 * outages["modem_hangs"]
    assert outages["modem_toggle_offs_while_answering"] == 0
    assert outages["modem_left_on"] == 0
    # the broker refused while down, a session was cut mid-publish
    assert outages["connections_refused"] >= 1
    assert outages["connections_cut"] >= 1
    # a denied registration reached the operator as a modem_fault event
    assert outages["registrations_denied"] >= 1
    assert outages["registration_denied_events_received"] >= 1


def test_at_dialogue_stays_short(outages):
    """Tens of AT commands per modem session, not hundreds (each is a UART round trip)."""
    per_on = outages["modem_at_commands"] / max(1, outages["modem_power_ons"])
    assert per_on < 30, per_on
    for key in ("reconnects", "bytes_up", "bytes_down", "modem_sessions"):
        assert isinstance(outages[key], int)


def test_default_run_goes_through_the_at_dialogue(sim_2days):
    """No outages: every session is a real attach on the emulator, switched off cleanly."""
    report, _ = sim_2days
    assert report["modem_sessions"] >= 1
    assert report["modem_power_ons"] >= report["modem_sessions"]
    assert report["modem_power_cycles"] == 0
    assert report["modem_toggle_offs_while_answering"] == 0
    assert report["modem_left_on"] == 0
    assert report["connections_refused"] == report["connections_cut"] == 0
    assert "outages" not in report
