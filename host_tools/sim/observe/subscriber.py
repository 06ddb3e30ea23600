"""Independent observer on the broker: subscribes to every bin's topics and records what
was actually delivered. Its session is persistent (clean_session false, QoS 1), so what the
bins deliver while it is away (a broker restart, a reconnect) is queued by the broker and
comes when it is back: `telemetry_lost` counts only what the bins lost."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass

import paho.mqtt.client as mqtt


@dataclass
class Message:
    wall: float
    bin_id: str
    kind: str
    payload: bytes
    retain: bool

    def json(self):
        """The payload parsed (once; a fleet report reads each message many times). Treat the
        result as read-only."""
        cached = self.__dict__.get("_parsed", self)
        if cached is self:
            try:
                cached = json.loads(self.payload)
            except ValueError:
                cached = None
            self.__dict__["_parsed"] = cached
        return cached


class Subscriber:
    def __init__(self, host: str, port: int, client_id: str = "sim-observer",
                 only: set[str] | None = None):
        self.only = only            # these bins' messages (None: every bin's)
        self.messages: list[Message] = []
        self._index: dict[tuple[str, str | None], list[Message]] = {}
        self.counts: Counter = Counter()
        self._recent: dict[tuple[str, bytes], None] = {}   # the last deliveries, in order
        self.lock = threading.Lock()
        self._ready = threading.Event()
        self.client_id = client_id
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                                  clean_session=False)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self.on_subscribe
        self.host, self.port = host, port
        self.listeners = []

    def start(self, timeout: float = 10) -> Subscriber:
        # a session an earlier observer of this id left on the broker holds its messages,
        # not this run's: a clean connection drops it first
        stale = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id,
                            clean_session=True)
        stale.connect(self.host, self.port, keepalive=10)
        deadline = time.monotonic() + timeout
        while not stale.is_connected() and time.monotonic() < deadline:
            stale.loop(0.1)
        stale.disconnect()
        self.client.reconnect_delay_set(min_delay=0.05, max_delay=1)
        self.client.connect(self.host, self.port, keepalive=60)
        self.client.loop_start()
        if not self._ready.wait(timeout):
            raise RuntimeError(f"observer: no SUBACK from broker {self.host}:{self.port}")
        return self

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        client.subscribe("bins/#", qos=1)

    def on_subscribe(self, *args):
        self._ready.set()

    def _on_message(self, client, userdata, msg):
        if msg.dup and msg.qos:
            # the broker sends it again (its PUBACK from here was lost in a reconnect):
            # a second copy of one delivery, not a second delivery
            key = (msg.topic, msg.payload)
            with self.lock:
                if key in self._recent:
                    return
        parts = msg.topic.split("/")
        if len(parts) < 3 or parts[0] != "bins" or \
                (self.only is not None and parts[1] not in self.only):
            return
        m = Message(time.monotonic(), parts[1], "/".join(parts[2:]), msg.payload,
                    bool(msg.retain))
        with self.lock:
            key = (msg.topic, msg.payload)
            if key not in self._recent:
                self._recent[key] = None
                if len(self._recent) > 2000:
                    del self._recent[next(iter(self._recent))]
            self.messages.append(m)
            if not m.retain:
                self.counts[m.kind] += 1
                self._index.setdefault((m.kind, None), []).append(m)
                self._index.setdefault((m.kind, m.bin_id), []).append(m)
        for f in self.listeners:
            f(m)

    def count(self, kind: str) -> int:
        with self.lock:
            return self.counts[kind]

    def of_kind(self, kind: str, bin_id: str | None = None) -> list[Message]:
        """Live (not retained) messages of a kind, of one bin or of all, in arrival order."""
        with self.lock:
            return list(self._index.get((kind, bin_id), ()))
