"""The firmware's reporting session against a real mosquitto with TLS (a test CA made with
openssl at test time), a password file and per-bin ACLs; downlink config and commands."""

from __future__ import annotations

import json
import shutil
import time

import paho.mqtt.client as mqtt
import pytest

from host_tools import tlsca
from host_tools.broker import Broker

from ..conftest import DEVICE, run_on_unix_port

USERS = {"bin-a": "pw-a", "bin-b": "pw-b", "observer": "pw-obs"}


@pytest.fixture(scope="module")
def tls_broker(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    ca = tlsca.make_ca(d / "ca")
    conf = tlsca.tls_broker_conf(ca, tlsca.password_file(d, USERS), tlsca.acl_file(d))
    with Broker(tls_conf=conf, anonymous=False, workdir=d / "broker") as b:
        b.ca = ca
        yield b


class Observer:
    def __init__(self, broker):
        self.msgs: list[tuple[str, bytes, bool]] = []
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"obs-{time.time()}")
        self.c.username_pw_set("observer", USERS["observer"])
        self.c.on_message = lambda c, u, m: self.msgs.append((m.topic, m.payload, m.retain))
        self.c.connect(broker.host, broker.port)
        self.c.loop_start()
        r = self.c.subscribe("bins/#", qos=1)
        assert r[0] == 0
        time.sleep(0.3)

    def publish(self, topic, payload, retain=False):
        self.c.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def wait(self, pred, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not pred():
            time.sleep(0.05)
        return pred()

    def of(self, topic):
        return [p for t, p, _ in self.msgs if t == topic]

    def stop(self):
        self.c.loop_stop()
        self.c.disconnect()


def _flash(tmp_path, broker, name="flash"):
    f = tmp_path / name
    f.mkdir()
    shutil.copy(broker.ca.ca_der, f / "ca.der")
    return f


def _session(broker, flash, dev, pw, mode, *args):
    return run_on_unix_port(DEVICE / "mqtt_tls_session.py", str(broker.tls_port), dev, pw,
                            mode, *args, cwd=flash)


def test_tls_session_delivers_and_handles_downlink(tls_broker, tmp_path):
    obs = Observer(tls_broker)
    try:
        flash = _flash(tmp_path, tls_broker)
        # the retained config is there before the bin's first session
        obs.publish("bins/bin-a/config", json.dumps({"id": "cfg-1", "report_max_s": 10800}),
                    retain=True)
        r = _session(tls_broker, flash, "bin-a", USERS["bin-a"], "report", "3")
        assert "sent 3 queued 0 fail 0" in r.out, r.out
        assert obs.wait(lambda: len(obs.of("bins/bin-a/telemetry")) == 3)
        assert [json.loads(p)["seq"] for p in obs.of("bins/bin-a/telemetry")] == [1, 2, 3]
        acks = [json.loads(p) for p in obs.of("bins/bin-a/cmd/ack")]
        assert acks == [{"id": "cfg-1", "ok": True, "res": "config saved"}]
        assert json.loads((flash / "config.json").read_text())["report_max_s"] == 10800
        # commands sent while the bin sleeps wait in its persistent session
        bad = [b"{not json", json.dumps({"id": 2, "cmd": "compact", "force": 1}),
               json.dumps({"id": 3, "cmd": "explode"}), b"x" * 5000,
               json.dumps({"id": 4, "cmd": "calibrate", "empty_mm": 99999})]
        obs.publish("bins/bin-a/cmd", json.dumps({"id": 1, "cmd": "report_now"}))
        for p in bad:
            obs.publish("bins/bin-a/cmd", p)
        cfg_before = (flash / "config.json").read_text()
        r = _session(tls_broker, flash, "bin-a", USERS["bin-a"], "report", "1")
        assert "sent 1 queued 0 fail 0" in r.out, r.out
        assert obs.wait(lambda: len(obs.of("bins/bin-a/cmd/ack")) == 7)
        acks = [json.loads(p) for p in obs.of("bins/bin-a/cmd/ack")][1:]
        assert acks[0] == {"id": 1, "ok": True, "res": "report at the next wake"}
        assert [a["ok"] for a in acks[1:]] == [False] * 5
        assert acks[1]["res"] == "invalid JSON" and acks[1]["id"] is None
        assert "unknown field" in acks[2]["res"] and acks[2]["id"] == 2
        assert "unknown command" in acks[3]["res"] and acks[3]["id"] == 3
        assert acks[4]["res"] == "oversize message rejected"
        assert "empty_mm" in acks[5]["res"] and acks[5]["id"] == 4
        assert (flash / "config.json").read_text() == cfg_before, "bad input changed nothing"
    finally:
        obs.stop()


def test_wrong_ca_is_refused(tls_broker, tmp_path):
    flash = _flash(tmp_path, tls_broker)
    other = tlsca.make_ca(tmp_path / "other-ca")
    shutil.copy(other.ca_der, flash / "ca.der")
    r = _session(tls_broker, flash, "bin-a", USERS["bin-a"], "report", "2")
    assert "sent 0 queued 2 fail 1" in r.out, r.out
    assert "TlsError" in r.out


def test_wrong_password_is_refused(tls_broker, tmp_path):
    flash = _flash(tmp_path, tls_broker)
    r = _session(tls_broker, flash, "bin-a", "not-the-password", "report", "2")
    assert "sent 0 queued 2 fail 1" in r.out, r.out


def test_acl_keeps_a_bin_to_its_own_topics(tls_broker, tmp_path):
    obs = Observer(tls_broker)
    try:
        flash = _flash(tmp_path, tls_broker)
        r = _session(tls_broker, flash, "bin-a", USERS["bin-a"], "other")
        assert "other done" in r.out, r.out
        # its own telemetry, sent after the intrusion, arrives; the intrusion never does
        assert obs.wait(lambda: any(json.loads(p).get("seq") == 99
                                    for p in obs.of("bins/bin-a/telemetry")))
        assert obs.of("bins/bin-b/telemetry") == []
    finally:
        obs.stop()


def test_acl_hides_another_bins_commands(tls_broker):
    """bin-a (over TLS, its own credentials) subscribes to bin-b's and its own command
    topics: only its own commands reach it."""
    obs = Observer(tls_broker)
    got: list[str] = []
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bin-a")
    c.username_pw_set("bin-a", USERS["bin-a"])
    c.tls_set(ca_certs=str(tls_broker.ca.ca_pem))
    c.on_message = lambda cl, u, m: got.append(m.topic)
    c.connect("localhost", tls_broker.tls_port)
    c.loop_start()
    try:
        c.subscribe([("bins/bin-b/cmd", 1), ("bins/bin-a/cmd", 1)])
        time.sleep(0.5)
        obs.publish("bins/bin-b/cmd", json.dumps({"id": 1, "cmd": "reboot"}))
        obs.publish("bins/bin-a/cmd", json.dumps({"id": 2, "cmd": "report_now"}))
        assert obs.wait(lambda: "bins/bin-a/cmd" in got)
        assert "bins/bin-b/cmd" not in got
    finally:
        c.loop_stop()
        c.disconnect()
        obs.stop()
