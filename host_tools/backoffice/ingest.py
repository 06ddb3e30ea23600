"""The ingest: a persistent MQTT session on bins/# (QoS 1, clean_session false) whose
messages are acknowledged to the broker only once they are in the database. A database
that goes away is retried with the batch kept; the broker holds the rest meanwhile (its
in-flight window stops sending), and redelivers what was not acknowledged after a restart.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from host_tools.backoffice.parse import Record, Rejected, parse
from host_tools.backoffice.store import Store

log = logging.getLogger("backoffice.ingest")

BATCH_MAX = 500
RETRY_MAX_S = 10.0
OFFLINE_EVERY_S = 5.0


@dataclass
class Counters:
    received: int = 0
    stored: int = 0          # new rows (duplicates are not counted)
    rejected: int = 0
    ignored: int = 0
    db_errors: int = 0
    batches: int = 0
    last_error: str = ""
    connected: bool = False
    since: float = field(default_factory=time.monotonic)


class Ingest:
    def __init__(self, store: Store, host: str, port: int,
                 client_id: str = "backoffice-ingest", username: str | None = None,
                 password: str | None = None, keepalive: int = 30):
        self.store = store
        self.host, self.port = host, port
        self.counters = Counters()
        self._q: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self._stop = threading.Event()
        self._subscribed = threading.Event()
        self._writer: threading.Thread | None = None
        self.keepalive = keepalive
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                                  clean_session=False, protocol=mqtt.MQTTv311,
                                  manual_ack=True)
        if username:
            self.client.username_pw_set(username, password)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = lambda *a: self._subscribed.set()
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(1, 30)

    # --- MQTT -----------------------------------------------------------------------
    def start(self, timeout: float = 10.0) -> Ingest:
        self._writer = threading.Thread(target=self._write_loop, name="backoffice-writer",
                                        daemon=True)
        self._writer.start()
        self.client.connect_async(self.host, self.port, keepalive=self.keepalive)
        self.client.loop_start()
        if not self._subscribed.wait(timeout):
            log.warning("ingest: no subscription on %s:%d yet (retrying in the background)",
                        self.host, self.port)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stores what has arrived, then leaves the session (kept at the broker)."""
        deadline = time.monotonic() + timeout
        while not self._q.empty() and time.monotonic() < deadline:
            time.sleep(0.05)
        self._stop.set()
        if self._writer:
            self._writer.join(max(0.1, deadline - time.monotonic()))
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.warning("ingest: broker refused the connection: %s", reason_code)
            return
        self.counters.connected = True
        if flags.session_present:
            log.info("ingest: session resumed on %s:%d", self.host, self.port)
            self._subscribed.set()
        else:
            client.subscribe("bins/#", qos=1)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.counters.connected = False
        if not self._stop.is_set():
            log.warning("ingest: disconnected (%s); reconnecting", reason_code)

    def _on_message(self, client, userdata, msg: mqtt.MQTTMessage) -> None:
        self.counters.received += 1
        self._q.put(msg)

    def wait_idle(self, timeout: float = 10.0, quiet_s: float = 0.3) -> bool:
        """True once nothing arrived and nothing is waiting for quiet_s (tests, bench)."""
        deadline = time.monotonic() + timeout
        seen, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            n = self.counters.received
            busy = not self._q.empty() or self._busy
            if n != seen or busy:
                seen, since = n, time.monotonic()
            elif time.monotonic() - since >= quiet_s:
                return True
            time.sleep(0.02)
        return False

    # --- database -------------------------------------------------------------------
    _busy = False

    def _write_loop(self) -> None:
        next_offline = time.monotonic() + OFFLINE_EVERY_S
        while not self._stop.is_set():
            try:
                first = self._q.get(timeout=0.2)
            except queue.Empty:
                first = None
            batch = [] if first is None else [first]
            self._busy = bool(batch)
            while batch and len(batch) < BATCH_MAX:
                try:
                    batch.append(self._q.get_nowait())
                except queue.Empty:
                    break
            if batch:
                self._store(batch)
            self._busy = False
            if time.monotonic() >= next_offline:
                next_offline = time.monotonic() + OFFLINE_EVERY_S
                self._retry(self.store.check_offline, "offline check")

    def _store(self, batch: list[mqtt.MQTTMessage]) -> None:
        records: list[Record] = []
        rejected: list[tuple[str, bytes, str]] = []
        for m in batch:
            try:
                rec = parse(m.topic, m.payload)
            except Rejected as e:
                rejected.append((m.topic, m.payload, str(e)))
                log.warning("ingest: rejected %s: %s", m.topic[:80], e)
                continue
            except Exception as e:   # a parser bug must not stop the ingest
                rejected.append((m.topic, m.payload, f"unreadable: {e!r}"[:200]))
                log.exception("ingest: %s could not be read", m.topic[:80])
                continue
            if rec is None:
                self.counters.ignored += 1
            else:
                records.append(rec)
        try:
            ok = self._retry(lambda: self._write(records, rejected), "write")
        except DBAPIError as e:   # the database refused a value: each record on its own
            log.warning("ingest: batch refused (%s); storing one by one", str(e.orig)[:120])
            ok = self._one_by_one(records, rejected)
        if not ok:
            return          # stopping: not acknowledged, the broker redelivers them
        for m in batch:
            if m.qos:
                self.client.ack(m.mid, m.qos)

    def _write(self, records: list[Record], rejected: list) -> None:
        self.counters.stored += self.store.write(records, rejected)
        self.counters.rejected += len(rejected)
        self.counters.batches += 1

    def _one_by_one(self, records: list[Record], rejected: list) -> bool:
        if rejected and not self._retry(lambda: self._write([], rejected), "write"):
            return False
        for rec in records:
            try:
                if not self._retry(lambda r=rec: self._write([r], []), "write"):
                    return False
            except DBAPIError as e:
                reason = f"database refused it: {str(e.orig).splitlines()[0][:150]}"
                topic = f"bins/{rec.bin_id}/{rec.kind}"
                if not self._retry(lambda t=topic, r=rec, why=reason: self._write(
                        [], [(t, repr(r.data).encode(), why)]), "write"):
                    return False
        return True

    def _retry(self, fn, what: str) -> bool:
        """Runs fn until the database answers (OperationalError: it went away). Other
        database errors are raised to the caller."""
        delay = 0.2
        while True:
            try:
                fn()
                return True
            except (OperationalError, InterfaceError) as e:
                self.counters.db_errors += 1
                self.counters.last_error = str(e.orig if hasattr(e, "orig") else e)[:200]
                log.warning("ingest: database %s failed (%s); retry in %.1f s", what,
                            self.counters.last_error.splitlines()[0] if
                            self.counters.last_error else "?", delay)
            if self._stop.wait(delay):
                return False
            delay = min(RETRY_MAX_S, delay * 2)
