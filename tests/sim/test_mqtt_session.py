"""The firmware's MQTT session (umqtt.simple wrapped) against a real mosquitto."""

from __future__ import annotations

import time

from host_tools.sim.observe.subscriber import Subscriber

from ..conftest import DEVICE, run_on_unix_port


def _wait(pred, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def test_publishes_with_qos1_and_retained_state(broker, tmp_path):
    sub = Subscriber(broker.host, broker.port, client_id="t-mqtt-1").start()
    try:
        r = run_on_unix_port(DEVICE / "mqtt_session.py", str(broker.port), "bin-t1",
                             cwd=tmp_path)
        assert r.returncode == 0 and "closed" in r.out, r.out
        assert _wait(lambda: sub.count("telemetry") >= 3)
        seqs = [m.json()["seq"] for m in sub.of_kind("telemetry") if m.bin_id == "bin-t1"]
        assert seqs == [1, 2, 3]
        states = [m.json() for m in sub.messages if m.bin_id == "bin-t1" and m.kind == "state"]
        assert states and states[-1] == {"st": "online"}, "clean disconnect: no will"
    finally:
        sub.stop()


def test_last_will_marks_a_dropped_bin_offline(broker, tmp_path):
    r = run_on_unix_port(DEVICE / "mqtt_session.py", str(broker.port), "bin-t2", "drop",
                         cwd=tmp_path)
    assert r.returncode == 0 and "dropped" in r.out, r.out
    # a new subscriber gets the retained state: the broker published the will
    sub = Subscriber(broker.host, broker.port, client_id="t-mqtt-2").start()
    try:
        assert _wait(lambda: any(m.bin_id == "bin-t2" and m.kind == "state"
                                 and m.json() == {"st": "offline"} for m in sub.messages))
    finally:
        sub.stop()


def test_unreachable_broker_fails_cleanly(tmp_path):
    from host_tools.broker import free_port

    r = run_on_unix_port(DEVICE / "mqtt_session.py", str(free_port()), "bin-t3", cwd=tmp_path)
    assert r.returncode != 0
    assert "ECONNREFUSED" in r.out or "OSError" in r.out
