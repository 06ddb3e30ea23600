"""python -m host_tools.ota as an operator runs it: keys, a signed bundle, the bundle server
answering range requests on a real broker, and the update command."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import paho.mqtt.client as mqtt

from host_tools.ota import bundle as bundles
from host_tools.ota import signing
from host_tools.ota.server import BundleServer
from host_tools.paths import ROOT


def _ota(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "host_tools.ota", *args], cwd=cwd or ROOT,
                          capture_output=True, text=True, timeout=120)


def test_keygen_build_and_the_bundle_verifies(tmp_path):
    r = _ota("keygen", "--out", str(tmp_path / "keys"))
    assert r.returncode == 0, r.stderr
    key, pub = tmp_path / "keys" / "ota.key", tmp_path / "keys" / "ota_pub.bin"
    assert key.stat().st_mode & 0o077 == 0, "the private key is readable by others"
    assert len(pub.read_bytes()) == 32
    assert key.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----\n")   # PKCS#8 PEM
    derived = tmp_path / "derived_pub.bin"
    r = _ota("pubkey", "--key", str(key), "--out", str(derived))
    assert r.returncode == 0, r.stderr
    assert derived.read_bytes() == pub.read_bytes()
    again = _ota("keygen", "--out", str(tmp_path / "keys"))
    assert again.returncode == 1 and "refusing to overwrite" in again.stderr

    out = tmp_path / "fw-0.4.0.bota"
    r = _ota("build", "--key", str(key), "--version", "0.4.0", "--out", str(out))
    assert r.returncode == 0, r.stderr
    b = bundles.parse(out.read_bytes())
    assert signing.verify(pub.read_bytes(), b.manifest_bytes, b.signature)
    m = b.manifest
    assert m["v"] == "0.4.0" and m["platform"] == "esp32" and m["min_soc"] == 30
    names = [f[0] for f in m["files"]]
    assert "app.mpy" in names and "board/sim.mpy" not in names   # a bin's build
    assert sum(f[1] for f in m["files"]) == len(b.payload)
    # the version the bin will report is stamped into app.mpy
    assert b"0.4.0" in b.payload

    bad = _ota("build", "--key", str(key), "--version", "4", "--out", str(out))
    assert bad.returncode == 1 and "MAJOR.MINOR.PATCH" in bad.stderr
    wrong = _ota("build", "--key", str(pub), "--version", "0.4.1", "--out", str(out))
    assert wrong.returncode == 1 and "not an update signing key" in wrong.stderr


def test_server_answers_ranges_and_push_sends_the_command(tmp_path, broker):
    folder = tmp_path / "bundles"
    folder.mkdir()
    data = bytes(range(256)) * 40
    (folder / "fw-x.bota").write_bytes(data)
    srv = BundleServer(broker.host, broker.port, folder, client_id="test-ota-server").start()
    got: list[tuple[str, bytes]] = []
    done = threading.Event()
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-ota-bin")
    c.on_message = lambda cl, u, msg: (got.append((msg.topic, msg.payload)),
                                       len(got) >= 5 and done.set())
    c.connect(broker.host, broker.port)
    c.subscribe([("bins/bin-t/ota/data", 0), ("bins/bin-t/cmd", 1)])
    c.loop_start()
    try:
        time.sleep(0.3)
        for req in ({"b": "fw-x", "o": 100, "n": 50}, {"b": "fw-x", "o": len(data) - 10,
                     "n": 4096}, {"b": "fw-x", "o": len(data), "n": 10},
                    {"b": "nope", "o": 0, "n": 10}):
            c.publish("bins/bin-t/ota/get", json.dumps(req), qos=0)
            time.sleep(0.1)
        r = _ota("push", "--broker", f"{broker.host}:{broker.port}", "--bundle", "fw-x",
                 "bin-t")
        assert r.returncode == 0, r.stderr
        assert done.wait(10), got
    finally:
        c.loop_stop()
        c.disconnect()
        srv.stop()
    data_msgs = [p for t, p in got if t.endswith("ota/data")]
    assert data_msgs[0] == b"D" + (100).to_bytes(4, "big") + data[100:150]
    assert data_msgs[1] == b"D" + (len(data) - 10).to_bytes(4, "big") + data[-10:]
    assert data_msgs[2] == b"E" + len(data).to_bytes(4, "big")
    assert data_msgs[3][:1] == b"N"
    cmd = json.loads([p for t, p in got if t.endswith("/cmd")][0])
    assert cmd["cmd"] == "ota" and cmd["bundle"] == "fw-x"
    log = srv.requests("bin-t")
    assert [r.sent for r in log] == [50, 10, 0, -1]


def test_a_key_readable_by_others_is_refused(tmp_path):
    r = _ota("keygen", "--out", str(tmp_path / "keys"))
    assert r.returncode == 0, r.stderr
    key = tmp_path / "keys" / "ota.key"
    key.chmod(0o644)
    out = tmp_path / "fw-0.4.1.bota"
    r = _ota("build", "--key", str(key), "--version", "0.4.1", "--out", str(out))
    assert r.returncode == 1 and "readable by others" in r.stderr and "chmod 600" in r.stderr
    assert not out.exists()
    key.chmod(0o600)
    bad = tmp_path / "keys" / "not.key"
    bad.write_text("0" * 64 + "\n")    # the old hex format is not a key file any more
    bad.chmod(0o600)
    r = _ota("build", "--key", str(bad), "--version", "0.4.1", "--out", str(out))
    assert r.returncode == 1 and "PKCS#8" in r.stderr
