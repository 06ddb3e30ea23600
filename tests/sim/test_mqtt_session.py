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


NOTE = "\u00e9t\u00e9 \u2713 \u4e2d \U0001f5d1"


def test_non_ascii_text_goes_through_umqtt_byte_exact(broker, tmp_path):
    """Through the real umqtt.simple to mosquitto: a payload with 2- to 4-byte UTF-8 comes
    out byte for byte; every command gets its own ack, valid UTF-8 and valid JSON: a
    non-ASCII id comes back whole, a lone surrogate is refused, a 5 KB command is acked with
    the id of its first bytes, duplicate keys are refused."""
    import json

    import paho.mqtt.client as mqtt

    dev = "bin-u1"
    r = run_on_unix_port(DEVICE / "mqtt_bytes_session.py", str(broker.port), dev,
                         "subscribe", cwd=tmp_path)
    assert r.returncode == 0 and "subscribed" in r.out, r.out
    cmds = [
        '{"id": "\u00e9t\u00e9", "cmd": "lockout"}'.encode(),
        b'{"id": "\\ud800", "cmd": "lockout"}',
        b'{"id": "x", "cmd": "lockout", "pad": "' + b"a" * 5000 + b'"}',
        b'{"id": "dup", "cmd": "nope", "cmd": "lockout"}',
        '{"id": "\u4e2d\U0001f5d1", "cmd": "report_now"}'.encode(),
    ]
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="t-bytes-pub")
    pub.connect(broker.host, broker.port)
    pub.loop_start()
    try:
        for c in cmds:   # queued by the broker for the sleeping bin's persistent session
            pub.publish(f"bins/{dev}/cmd", c, qos=1).wait_for_publish(5)
    finally:
        pub.loop_stop()
        pub.disconnect()
    sub = Subscriber(broker.host, broker.port, client_id="t-bytes-sub").start()
    try:
        r = run_on_unix_port(DEVICE / "mqtt_bytes_session.py", str(broker.port), dev, "serve",
                             cwd=tmp_path)
        assert r.returncode == 0 and "acked 5" in r.out, r.out
        assert _wait(lambda: len(sub.of_kind("cmd/ack", dev)) >= 5)
        tele = sub.of_kind("telemetry", dev)
        raw = tele[0].payload
        assert NOTE.encode() in raw       # the text's UTF-8 bytes, whole, not escaped
        assert json.loads(raw.decode("utf-8", errors="strict")) == {"v": 1, "seq": 1,
                                                                     "note": NOTE}
        acks = [json.loads(m.payload.decode("utf-8", errors="strict"))
                for m in sub.of_kind("cmd/ack", dev)]
    finally:
        sub.stop()
    assert [a["id"] for a in acks] == ["\u00e9t\u00e9", None, "x", "dup", "\u4e2d\U0001f5d1"]
    assert [a["ok"] for a in acks] == [True, False, False, False, True]
    assert "surrogate" in acks[1]["res"]
    assert "oversize" in acks[2]["res"]
    assert acks[3]["res"] == "duplicate keys refused"


def test_observer_misses_nothing_across_a_broker_restart(tmp_path):
    """The simulator's observer has a persistent session: what bins deliver while it is
    reconnecting after a broker restart is queued for it, so telemetry_lost counts only
    what the bins lost."""
    import paho.mqtt.client as mqtt

    from host_tools.broker import Broker

    with Broker(workdir=tmp_path / "broker") as broker:
        sub = Subscriber(broker.host, broker.port, client_id="t-observer-restart").start()
        try:
            broker.restart()
            # a bin delivers at once, before the observer's reconnect
            pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="t-restart-bin")
            pub.connect(broker.host, broker.port)
            pub.loop_start()
            for i in range(20):
                pub.publish("bins/bin-r1/telemetry", b'{"seq": %d}' % i, qos=1)
            pub.loop_stop()
            pub.disconnect()
            assert _wait(lambda: sub.count("telemetry") >= 20)
            seqs = [m.json()["seq"] for m in sub.of_kind("telemetry", "bin-r1")]
            assert sorted(seqs) == list(range(20))
        finally:
            sub.stop()
