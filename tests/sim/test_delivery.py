"""Delivery over TLS in the simulator, and the observer's delivery figures."""

from __future__ import annotations

import json

from host_tools.sim.delivery import figures
from host_tools.sim.observe.subscriber import Message

from ..conftest import run_sim


def test_tls_run_delivers_everything_and_acks_commands(tmp_path):
    rep = run_sim("--days", "1", "--seed", "2", "--start", "2026-12-02", "--tls",
                  "--commands-every", "4", "--workdir", str(tmp_path))
    assert rep["firmware_errors"] == 0
    assert rep["telemetry_received"] > 15
    assert rep["telemetry_lost"] == 0
    assert rep["telemetry_duplicates"] == 0
    assert rep["commands_sent"] >= 3
    # a command waits at the broker for the bin's next session: at most the last is pending
    assert rep["commands_acked"] >= rep["commands_sent"] - 1
    assert rep["commands_error_acks"] == 0
    assert rep["bytes_down"] > 1000 * rep["telemetry_received"] / 10, "TLS handshakes"
    # the wire is opaque under TLS: nothing is parsed from it
    assert rep["telemetry_published"] == 0


class _Sub:
    def __init__(self, msgs):
        self.msgs = msgs

    def of_kind(self, kind):
        return [m for m in self.msgs if m.kind == kind]


def _tel(bin_id, seq, drop=0):
    return Message(0.0, bin_id, "telemetry", json.dumps({"seq": seq, "drop": drop}).encode(),
                   False)


def test_figures_count_gaps_drops_and_duplicates():
    sub = _Sub([_tel("a", 1), _tel("a", 2), _tel("a", 2), _tel("a", 5),
                _tel("b", 3, drop=2), _tel("b", 4, drop=2)])
    f = figures(None, sub)
    assert f["telemetry_duplicates"] == 1
    assert f["telemetry_lost"] == 2           # a: 3 and 4 never arrived, none dropped
    assert f["telemetry_dropped_queue_full"] == 2   # b: 1 and 2 dropped, as b reported
    assert f["commands_sent"] == 0
