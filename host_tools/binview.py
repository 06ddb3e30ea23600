"""What a broker knows about each bin: its retained state, last telemetry and events.
Shared by the monitor and the collection planner; it reads MQTT only, never a simulator."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field, replace

import paho.mqtt.client as mqtt

FLAGS = {1: "no reading", 2: "motor", 4: "crash"}
RECENT_S = 24 * 3600    # a fault that cleared stays in the faults column this long
EVENTS_KEPT = 20        # per bin, for the monitor's alert list
# the events an operator acts on (the monitor's alert list), with the ones that end them
ALERTS = ("full", "sensor_fault", "sensor_ok", "fire", "fire_out", "tilt", "upright",
          "motor_fault", "modem_fault", "energy_level", "reset", "recovered",
          "flash_damage", "ota_rollback")


def _sensor_name(d: dict) -> str:
    n = d.get("sensor")
    return "sensors disagree" if n == -1 else f"sensor {n}"


def event_text(d: dict) -> str:
    """One line saying what an event (docs/topics.md, Events) means."""
    ev = d.get("ev")
    if ev == "full":
        est = " (estimated: no reading)" if d.get("estimated") else ""
        return f"full at {d.get('fill', '?')} %{est}"
    if ev == "sensor_fault":
        if "sensor" not in d:
            errs = ", ".join(f"{k} x{v}" for k, v in (d.get("errors") or {}).items())
            return "no reading" + (f" ({errs})" if errs else "")
        return f"{_sensor_name(d)}: {d.get('why', '?')}"
    if ev == "sensor_ok":
        return f"{_sensor_name(d)} ok again (was {d.get('was', '?')})"
    if ev == "fire":
        return f"FIRE: {d.get('temp', '?')} C, rising {d.get('rise_cph', '?')} C/h"
    if ev == "fire_out":
        return f"fire out: {d.get('temp', '?')} C"
    if ev == "tilt":
        return "tilted or knocked over"
    if ev == "upright":
        return "upright again"
    if ev == "motor_fault":
        latched = " (latched: reset the fault)" if d.get("latched") else ""
        return f"motor {d.get('why', '?')}{latched}"
    if ev == "modem_fault":
        err = f": {d['err']}" if d.get("err") else ""
        return f"modem {d.get('why', '?')}{err}"
    if ev == "energy_level":
        soc = f", battery {d['soc']} %" if d.get("soc") is not None else ""
        return f"energy {d.get('from', '?')} -> {d.get('level', '?')}{soc}"
    if ev == "reset":
        return f"reset ({d.get('cause', '?')})"
    if ev == "recovered":
        return f"recovered after {d.get('crashes', '?')} crashed wakes"
    if ev == "flash_damage":
        return "flash damage: " + "; ".join(str(w) for w in d.get("what") or [])
    if ev == "ota_rollback":
        return f"update {d.get('v', '?')} rolled back to {d.get('to', '?')}"
    rest = " ".join(f"{k}={v}" for k, v in d.items() if k not in ("v", "ts", "ev"))
    return f"{ev} {rest}".strip()


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
    soc: float | None = None            # battery state of charge, % (`soc`)
    energy: str | None = None           # energy level (`elvl`): normal, economy, ...
    flags: int = 0
    status: str = "?"                   # online / asleep / offline
    next_wake: int | None = None
    fw: str | None = None
    last_seen: float | None = None      # Unix time of the last message from the bin
    events: list = field(default_factory=list)      # (ts, ev, payload), the last 20
    # faults raised by events and not ended yet: key -> (since, label)
    open_faults: dict = field(default_factory=dict)
    # label -> times it was raised in the last RECENT_S (the bins' clock)
    raised: dict = field(default_factory=dict)

    def copy(self) -> BinView:
        """A copy that the MQTT thread no longer changes."""
        return replace(self, events=list(self.events), open_faults=dict(self.open_faults),
                       raised={k: list(v) for k, v in self.raised.items()})

    def faults(self, now: float | None = None) -> str:
        """What is wrong now (the flags of its last report and the faults its events raised
        and did not end), then in parentheses what was raised in the RECENT_S before `now`
        and has ended since, with a count: "sensor 1 blocked (no reading x27)"."""
        open_ = [label for _, label in sorted(self.open_faults.values())]
        keys = self.open_faults.keys()
        for bit, label in FLAGS.items():
            if self.flags & bit and not (bit == 1 and "no reading" in keys
                                         or bit == 2 and "motor" in keys):
                open_.append(label)
        earlier = []
        for label, times in self.raised.items():
            n = sum(1 for t in times if now is None or now - RECENT_S <= t <= now)
            if n and label not in open_:
                earlier.append(label if n == 1 else f"{label} x{n}")
        text = ", ".join(open_)
        if earlier:
            text += (" " if text else "") + f"({', '.join(earlier)})"
        return text or "-"

    def update(self, kind: str, d: dict, now: float | None) -> None:
        """Take in one message; `now` stands for the time of one without a `ts` (None:
        such a message does not count as heard from the bin)."""
        ts = d.get("ts")
        heard = ts or now
        if heard:
            self.last_seen = max(self.last_seen or 0, heard)
        if kind == "state":
            self.status = d.get("st", self.status)
            if d.get("fill") is not None:
                self.fill, self.fill_ts = d["fill"], d.get("ts")
            self.forecast_full = d.get("fcst", self.forecast_full)
            self.forecast_over = d.get("ovf", self.forecast_over)
            self._flags(d.get("flags", self.flags), ts)
            self.next_wake = d.get("next", self.next_wake)
            self.fw = d.get("fw", self.fw)
            self._power(d, ts)      # a state that carries them (docs/topics.md, State)
        elif kind == "telemetry":
            if self.fill_ts is None or (d.get("ts") or 0) >= self.fill_ts:
                self.fill, self.fill_ts = d.get("fill"), d.get("ts")
                self.forecast_full = d.get("fcst")
                self.forecast_over = d.get("ovf")
                self.strokes = d.get("cmp", self.strokes)
            self._power(d, ts)
            self._flags(d.get("flags", self.flags), ts)
            self.fw = d.get("fw", self.fw)
        elif kind == "event":
            ev = d.get("ev")
            if any(e[0] == ts and e[1] == ev for e in self.events):
                return      # the same event again (QoS 1 delivers at least once)
            self.events = (self.events + [(ts, ev, d)])[-EVENTS_KEPT:]
            self._event(ev, d, ts or 0)

    def _power(self, d: dict, ts: float | None) -> None:
        """Battery, signal and energy level, from a report (or a state that has them)."""
        self.battery_mv = d.get("vbat", self.battery_mv)
        self.signal_dbm = d.get("rssi", self.signal_dbm)
        self.soc = d.get("soc", self.soc)
        if d.get("elvl"):
            self._energy(d["elvl"], ts)

    def _flags(self, flags: int, ts: float | None) -> None:
        """A report's fault bits end the faults it no longer has (no reading, motor)."""
        self.flags = flags
        for bit, key in ((1, "no reading"), (2, "motor")):
            since = self.open_faults.get(key, (None,))[0]
            if not flags & bit and since is not None and (ts or 0) >= since:
                del self.open_faults[key]

    def _energy(self, level: str, ts: float | None) -> None:
        self.energy = level
        if level == "normal":
            self.open_faults.pop("energy", None)
        else:
            self._raise("energy", f"energy {level}", ts or 0)

    def _raise(self, key: str | None, label: str, ts: float) -> None:
        if key is not None:
            if key in self.open_faults and self.open_faults[key][1] == label:
                return      # still the same fault (a report repeats it)
            self.open_faults[key] = (ts, label)
        times = [t for t in self.raised.get(label, []) if t >= ts - RECENT_S]
        self.raised[label] = times + [ts]

    def _event(self, ev: str | None, d: dict, ts: float) -> None:
        if ev == "sensor_fault":
            if "sensor" in d:
                self._raise(f"sensor {d['sensor']}", f"{_sensor_name(d)} {d.get('why', '?')}",
                            ts)
            else:
                self._raise("no reading", "no reading", ts)
        elif ev == "sensor_ok":
            self.open_faults.pop(f"sensor {d.get('sensor')}", None)
        elif ev == "fire":
            self._raise("fire", "FIRE", ts)
        elif ev == "tilt":
            self._raise("tilt", "tilted", ts)
        elif ev in ("fire_out", "upright"):
            self.open_faults.pop("fire" if ev == "fire_out" else "tilt", None)
        elif ev == "motor_fault":
            self._raise("motor", f"motor {d.get('why', '?')}", ts)
        elif ev == "compacted":
            self.open_faults.pop("motor", None)
        elif ev == "energy_level" and d.get("level"):
            self._energy(d["level"], ts)
        elif ev == "modem_fault":
            self._raise(None, f"modem {d.get('why', '?')}", ts)
        elif ev == "reset" and d.get("cause") in ("watchdog", "brownout"):
            self._raise(None, f"reset {d['cause']}", ts)
        elif ev == "flash_damage":
            self._raise(None, "flash damage", ts)
        elif ev == "ota_rollback":
            self._raise(None, "update rolled back", ts)


class Fleet:
    """Subscribes to bins/+/{state,telemetry,event} and keeps one BinView per bin."""

    def __init__(self, host: str, port: int, client_id: str = "fleet-view"):
        self.bins: dict[str, BinView] = {}
        self.lock = threading.Lock()
        self.messages = 0
        self.newest_ts: float | None = None    # the latest `ts` any bin sent (its clock)
        self._mark: tuple[float, float] | None = None   # (monotonic, newest_ts), see pace()
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
        ts = d.get("ts")
        with self.lock:
            self.messages += 1
            if isinstance(ts, int | float) and ts > (self.newest_ts or 0):
                self.newest_ts = float(ts)
            view = self.bins.setdefault(parts[1], BinView(parts[1]))
            # a message without a time (the offline will) is not a time the bin was heard
            view.update(parts[2], d, None)

    def snapshot(self) -> list[BinView]:
        with self.lock:
            return [v.copy() for v in self.bins.values()]

    def mark(self) -> None:
        """Start measuring how fast the bins' clock runs (call it once the retained
        messages are in: they arrive in a burst)."""
        with self.lock:
            self._mark = (time.monotonic(), self.newest_ts or 0.0)

    def pace(self, min_wall_s: float = 3.0) -> float | None:
        """Bins' seconds per wall second since mark(): about 1 for real bins, far more for
        a simulation running in virtual time; None until min_wall_s have passed."""
        with self.lock:
            if self._mark is None or not self.newest_ts or not self._mark[1]:
                return None
            wall = time.monotonic() - self._mark[0]
            return (self.newest_ts - self._mark[1]) / wall if wall >= min_wall_s else None

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


AHEAD_S = 600             # a bin's clock this far ahead of the wall clock: a simulation
BEHIND_S = 86400          # no bin reported for this long: times are counted from the newest
FAST_PACE = 5.0           # bins' seconds per wall second: a simulation in virtual time


def choose_clock(mode: str, wall: float, newest: float | None,
                 pace: float | None = None) -> tuple[float, str]:
    """(now, which clock it is) for ages and forecasts: the wall clock, or the bins' own
    (the newest `ts` any bin sent) when watching a simulation. mode "wall" and "bins" say
    which; "auto" takes the bins' clock when it runs ahead of the wall clock, runs faster
    than it, or when no bin reported for a day."""
    if mode == "wall" or (mode == "bins" and not newest):
        return wall, "wall clock"
    if mode == "bins":
        return newest, "bins' clock (their newest report)"
    if newest and newest > wall + AHEAD_S:
        return newest, (f"bins' clock, {_span(newest - wall)} ahead of the wall clock "
                        "(a simulation)")
    if newest and pace is not None and pace > FAST_PACE:
        return newest, f"bins' clock, running x{pace:.0f} (a simulation)"
    if newest and newest < wall - BEHIND_S:
        return newest, (f"bins' clock, {_span(wall - newest)} behind the wall clock "
                        "(no report since)")
    return wall, "wall clock"


def _span(s: float) -> str:
    return f"{s / 86400:.1f} d" if s >= 86400 else f"{s / 3600:.1f} h"
