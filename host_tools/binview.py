"""What a broker knows about each bin: its retained state, last telemetry and events.
Shared by the monitor and the collection planner; it reads MQTT only, never a simulator."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt

FLAGS = {1: "no reading", 2: "motor", 4: "crash"}


@dataclass
class BinView:
    bin_id: str
    fill: float | None = None
    fill_ts: int | None = None          # time of the reading the fill comes from
    forecast_full: int | None = None    # Unix time the bin passes its full threshold
    forecast_over: int | None = None    # when it overflows (100 %), its own forecast
    strokes: int | None = None          # compaction strokes so far (`cmp`)
    battery_mv: int | None = None
    signal_dbm: int | None = None
    flags: int = 0
    status: str = "?"                   # online / asleep / offline
    next_wake: int | None = None
    fw: str | None = None
    last_seen: float | None = None      # Unix time of the last message from the bin
    events: list = field(default_factory=list)

    def faults(self) -> str:
        return ", ".join(t for bit, t in FLAGS.items() if self.flags & bit) or "-"

    def update(self, kind: str, d: dict, now: float) -> None:
        self.last_seen = max(self.last_seen or 0, d.get("ts") or now)
        if kind == "state":
            self.status = d.get("st", self.status)
            if d.get("fill") is not None:
                self.fill, self.fill_ts = d["fill"], d.get("ts")
            self.forecast_full = d.get("fcst", self.forecast_full)
            self.forecast_over = d.get("ovf", self.forecast_over)
            self.flags = d.get("flags", self.flags)
            self.next_wake = d.get("next", self.next_wake)
            self.fw = d.get("fw", self.fw)
        elif kind == "telemetry":
            if self.fill_ts is None or (d.get("ts") or 0) >= self.fill_ts:
                self.fill, self.fill_ts = d.get("fill"), d.get("ts")
                self.forecast_full = d.get("fcst")
                self.forecast_over = d.get("ovf")
                self.strokes = d.get("cmp", self.strokes)
            self.battery_mv = d.get("vbat", self.battery_mv)
            self.signal_dbm = d.get("rssi", self.signal_dbm)
            self.flags = d.get("flags", self.flags)
            self.fw = d.get("fw", self.fw)
        elif kind == "event":
            self.events = (self.events + [(d.get("ts"), d.get("ev"))])[-20:]


class Fleet:
    """Subscribes to bins/+/{state,telemetry,event} and keeps one BinView per bin."""

    def __init__(self, host: str, port: int, client_id: str = "fleet-view"):
        self.bins: dict[str, BinView] = {}
        self.lock = threading.Lock()
        self.messages = 0
        self._subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(
            [("bins/+/state", 1), ("bins/+/telemetry", 1), ("bins/+/event", 1)])
        self.client.on_subscribe = lambda *a: self._subscribed.set()
        self.client.on_message = self._on_message
        self.host, self.port = host, port

    def start(self, timeout_s: float = 10) -> Fleet:
        try:
            self.client.connect(self.host, self.port, keepalive=60)
        except OSError as e:
            raise RuntimeError(f"cannot reach the broker at {self.host}:{self.port}: {e}") \
                from None
        self.client.loop_start()
        if not self._subscribed.wait(timeout_s):
            raise RuntimeError(f"no answer from the broker at {self.host}:{self.port}")
        return self

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_message(self, client, userdata, msg) -> None:
        parts = msg.topic.split("/")
        if len(parts) != 3:
            return
        try:
            d = json.loads(msg.payload)
        except ValueError:
            return
        if not isinstance(d, dict):
            return
        with self.lock:
            self.messages += 1
            view = self.bins.setdefault(parts[1], BinView(parts[1]))
            view.update(parts[2], d, time.time())

    def snapshot(self) -> list[BinView]:
        with self.lock:
            return [BinView(**vars(v)) for v in self.bins.values()]

    def settle(self, quiet_s: float = 0.5, max_s: float = 5.0) -> None:
        """Wait until retained messages stopped arriving."""
        deadline = time.monotonic() + max_s
        last, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            if self.messages != last:
                last, since = self.messages, time.monotonic()
            elif time.monotonic() - since >= quiet_s:
                return
            time.sleep(0.05)


def parse_broker(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise SystemExit(f"--broker {text!r}: expected HOST:PORT")
    return host, int(port)
