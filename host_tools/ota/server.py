"""Serves update bundles over MQTT. A bin asks for a byte range of a bundle on
bins/<id>/ota/get ({"b": name, "o": offset, "n": length}); the answer goes to
bins/<id>/ota/data as  b"D" + u32 offset + bytes  (b"E" + u32 offset: the bundle ends
there; b"N" + u32 offset: no such bundle). QoS 0 both ways: a lost answer is asked again.
Every request is logged: the log is what the server saw, an observer outside the bins."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt

from host_tools.ota.bundle import NAME_RE

CHUNK_MAX = 4096
SUFFIX = ".bota"


@dataclass
class Request:
    wall: float
    bin_id: str
    bundle: str
    offset: int
    sent: int          # bytes answered; -1: no such bundle
    size: int          # the bundle's size (0 if unknown)


class BundleServer:
    def __init__(self, host: str, port: int, folder: Path, client_id: str = "ota-server",
                 log_path: Path | None = None):
        self.folder = Path(folder)
        self.log: list[Request] = []
        self.lock = threading.Lock()
        self._cache: dict[str, bytes] = {}
        self._ready = threading.Event()
        self._log_path = log_path
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe("bins/+/ota/get", qos=0)
        self.client.on_subscribe = lambda *a: self._ready.set()
        self.client.on_message = self._on_message
        self.host, self.port = host, port

    def start(self, timeout: float = 10) -> BundleServer:
        self.client.connect(self.host, self.port, keepalive=60)
        self.client.loop_start()
        if not self._ready.wait(timeout):
            raise RuntimeError(f"ota server: no SUBACK from broker {self.host}:{self.port}")
        return self

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _bundle(self, name: str) -> bytes | None:
        if not NAME_RE.match(name):
            return None
        data = self._cache.get(name)
        if data is None:
            path = self.folder / (name + SUFFIX)
            if not path.is_file():
                return None
            data = self._cache[name] = path.read_bytes()
        return data

    def _on_message(self, client, userdata, msg) -> None:
        parts = msg.topic.split("/")
        if len(parts) != 4:
            return
        bin_id = parts[1]
        try:
            d = json.loads(msg.payload)
            name, off, n = str(d["b"]), int(d["o"]), int(d["n"])
        except (ValueError, KeyError, TypeError):
            return
        if off < 0 or n <= 0:
            return
        data = self._bundle(name)
        head = off.to_bytes(4, "big")
        if data is None:
            out, sent, size = b"N" + head, -1, 0
        elif off >= len(data):
            out, sent, size = b"E" + head, 0, len(data)
        else:
            chunk = data[off:off + min(n, CHUNK_MAX)]
            out, sent, size = b"D" + head + chunk, len(chunk), len(data)
        req = Request(time.monotonic(), bin_id, name, off, sent, size)
        with self.lock:
            self.log.append(req)
        if self._log_path:
            with open(self._log_path, "a") as f:
                f.write(json.dumps(req.__dict__) + "\n")
        client.publish(f"bins/{bin_id}/ota/data", out, qos=0)

    def requests(self, bin_id: str | None = None) -> list[Request]:
        with self.lock:
            return [r for r in self.log if bin_id is None or r.bin_id == bin_id]


def push(client: mqtt.Client, bin_id: str, bundle: str, cmd_id: str) -> mqtt.MQTTMessageInfo:
    """Tell a bin to fetch a bundle: a command on bins/<id>/cmd (QoS 1: the broker keeps it
    for a sleeping bin). The bin checks the bundle's signature itself."""
    if not NAME_RE.match(bundle):
        raise ValueError(f"bundle name {bundle!r}: 1..32 of A-Z a-z 0-9 . _ -")
    return client.publish(f"bins/{bin_id}/cmd",
                          json.dumps({"id": cmd_id, "cmd": "ota", "bundle": bundle}), qos=1)
