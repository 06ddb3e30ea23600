"""The ingest on a real broker into SQLite and PostgreSQL: dedup by sequence number,
alerts once per episode, bad input stored as rejected, a persistent session across the
ingest's restarts, and a database that goes away."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from host_tools.backoffice import db
from host_tools.backoffice.ingest import Ingest
from host_tools.backoffice.store import Store
from host_tools.broker import Broker
from tests.host.backoffice_util import (  # noqa: F401
    T0,
    event,
    fresh_engine,
    postgres,
    publish,
    telemetry,
)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    eng = fresh_engine(request.param, tmp_path, request)
    yield eng
    eng.dispose()


def _count(eng, table, *where) -> int:
    with eng.connect() as c:
        return c.execute(select(func.count()).select_from(table).where(*where)).scalar()


def _ingest(eng, broker, cid="t-ingest") -> Ingest:
    return Ingest(Store(eng), broker.host, broker.port, client_id=cid).start()


def test_ingest_dedups_alerts_once_per_episode_and_rejects_bad_input(engine):
    with Broker() as broker:
        ing = _ingest(engine, broker)
        b = "bins/bin-0001/"
        publish(broker, [
            (b + "telemetry", telemetry(1, T0), False),
            (b + "telemetry", telemetry(2, T0 + 900, fill=55.0), False),
            (b + "telemetry", telemetry(2, T0 + 900, fill=55.0), False),   # re-sent batch
            (b + "event", event(T0 + 950, "fire", temp=71.0, rise_cph=30), False),
            (b + "event", event(T0 + 950, "fire", temp=71.0, rise_cph=30), False),
            (b + "event", event(T0 + 1000, "fire", temp=75.0, rise_cph=20), False),
            (b + "event", event(T0 + 1900, "fire_out"), False),
            (b + "event", event(T0 + 5000, "fire", temp=80.0, rise_cph=40), False),
            (b + "event", event(T0 + 6000, "collected", before=88.0, after=2.0), False),
            (b + "state", {"st": "asleep", "ts": T0 + 6001, "fill": 2.0}, True),
            (b + "cmd/ack", {"id": 7, "ok": True, "res": "queued"}, False),
            (b + "cmd", {"id": 7, "cmd": "compact"}, False),          # ours: ignored
            # bad input of every kind
            (b + "telemetry", b"\xff\xfe not json", False),
            (b + "telemetry", "[1, 2]", False),
            (b + "telemetry", telemetry("x", T0), False),
            (b + "telemetry", telemetry(3, T0, fill="full"), False),
            (b + "event", {"v": 1, "ts": T0}, False),
            (b + "state", {"ts": T0}, False),
            (b + "cmd/ack", {"id": [1], "ok": True}, False),
            ("bins/bin-0001/weird", "{}", False),
            ("bins/bad id!/telemetry", "{}", False),
            (b + "telemetry", "{" * 20000, False),
            (b + "telemetry", telemetry(4, T0 + 1800, fill=60.0), False),  # still alive
        ])
        assert ing.wait_idle(20)
        ing.stop()
    assert _count(engine, db.telemetry) == 3
    assert _count(engine, db.events) == 5
    assert _count(engine, db.collections) == 1
    assert _count(engine, db.acks) == 1
    assert _count(engine, db.states) == 1
    with engine.connect() as c:
        fires = c.execute(select(db.alerts).where(db.alerts.c.kind == "fire")
                          .order_by(db.alerts.c.id)).all()
        reasons = [r.reason for r in c.execute(select(db.rejected)).all()]
        latest = c.execute(select(db.bins)).one()
    assert [(a.count, a.ended_ts, a.status) for a in fires] == [
        (2, T0 + 1900, "open"), (1, None, "open")]
    assert len(reasons) == 10, reasons
    joined = " | ".join(reasons)
    for part in ("not JSON", "not a JSON object", "seq:", "fill:", "ev: missing",
                 "st: missing", "id:", "unknown kind", "bad device id", "bytes, over"):
        assert part in joined, (part, joined)
    assert (latest.fill, latest.last_seq, latest.state) == (60.0, 4, "asleep")


def test_persistent_session_keeps_what_arrives_while_the_ingest_is_down(engine):
    with Broker() as broker:
        ing = _ingest(engine, broker, cid="t-ingest-persist")
        publish(broker, [("bins/bin-0002/telemetry", telemetry(1, T0), False)])
        assert ing.wait_idle(10)
        ing.stop()
        publish(broker, [("bins/bin-0002/telemetry", telemetry(n, T0 + 900 * n), False)
                         for n in range(2, 12)])
        ing = _ingest(engine, broker, cid="t-ingest-persist")
        assert ing.wait_idle(20)
        ing.stop()
    assert _count(engine, db.telemetry) == 11


def test_offline_alert_and_its_end(engine):
    store = Store(engine, offline_h=6)
    import json

    from host_tools.backoffice.parse import parse

    def rec(b, seq, ts):
        return parse(f"bins/{b}/telemetry", json.dumps(telemetry(seq, ts)).encode())

    store.write([rec("bin-0001", 1, T0), rec("bin-0002", 1, T0)])
    store.write([rec("bin-0001", 2, T0 + 7 * 3600)])
    assert store.check_offline() == 1
    assert store.check_offline() == 0            # once per episode
    store.write([rec("bin-0002", 2, T0 + 8 * 3600)])
    with engine.connect() as c:
        a = c.execute(select(db.alerts)).one()
    assert (a.bin_id, a.kind, a.ended_ts) == ("bin-0002", "offline", T0 + 8 * 3600)
    assert store.set_status(a.id, "ack", "op")
    assert not store.set_status(a.id, "ack", "op")
    assert store.set_status(a.id, "resolve", "op")
    assert not store.set_status(a.id, "resolve", "op")


def test_a_database_that_goes_away_loses_nothing(postgres):   # noqa: F811
    eng = db.make_engine(postgres.url, timeout_s=3)
    with eng.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text("CREATE DATABASE gone"))
    eng.dispose()
    eng = db.make_engine(postgres.url.rsplit("/", 1)[0] + "/gone", timeout_s=3)
    db.upgrade(eng)
    with Broker() as broker:
        ing = _ingest(eng, broker, cid="t-ingest-gone")
        publish(broker, [("bins/bin-0003/telemetry", telemetry(1, T0), False)])
        assert ing.wait_idle(10)
        postgres.pause()
        try:
            publish(broker, [("bins/bin-0003/telemetry", telemetry(n, T0 + 900 * n), False)
                             for n in range(2, 42)])
            import time

            deadline = time.monotonic() + 20
            while ing.counters.db_errors == 0 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert ing.counters.db_errors > 0
        finally:
            postgres.resume()
        assert ing.wait_idle(40, quiet_s=1.0)
        ing.stop()
    assert _count(eng, db.telemetry) == 41
    eng.dispose()


def test_the_service_from_its_command_line(tmp_path):
    """python -m host_tools.backoffice as an operator starts it: the address printed, a
    report published shows in the API, a viewer account from BACKOFFICE_USERS, Ctrl-C."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import httpx

    from host_tools.backoffice.auth import hash_password
    from host_tools.broker import free_port
    from host_tools.paths import ROOT

    with Broker() as broker:
        port = free_port()
        env = dict(os.environ, BACKOFFICE_USERS=f"ann:viewer:{hash_password('pw-ann')}")
        proc = subprocess.Popen([sys.executable, "-m", "host_tools.backoffice", "--broker",
                                 f"{broker.host}:{broker.port}", "--db",
                                 str(tmp_path / "cli.db"), "--http", f"127.0.0.1:{port}",
                                 "--client-id", "t-bo-cli"], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            line = proc.stdout.readline()
            assert line.strip() == f"backoffice: http://127.0.0.1:{port}/", line
            publish(broker, [("bins/bin-0009/telemetry", telemetry(1, T0, fill=33.0), False)])
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as c:
                assert c.get("/api/bins").status_code == 401
                assert c.post("/login", data={"user": "ann", "password": "pw-ann"}
                              ).status_code == 303
                deadline = time.monotonic() + 20
                while not c.get("/api/bins").json() and time.monotonic() < deadline:
                    time.sleep(0.1)
                assert [b["fill"] for b in c.get("/api/bins").json()] == [33.0]
                assert c.post("/api/alerts/1/ack").status_code == 403   # a viewer
        finally:
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err[-2000:]
