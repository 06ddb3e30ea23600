"""Helpers for the back-office tests: a publisher, a PostgreSQL fixture, sample payloads."""

from __future__ import annotations

import json

import paho.mqtt.client as mqtt
import pytest

from host_tools.backoffice.pgtemp import TempPostgres, why_unavailable

T0 = 1_790_000_000.0


def publish(broker, msgs, client_id: str = "t-bo-publisher") -> None:
    """msgs: (topic, payload: dict | bytes | str, retain)."""
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
    c.connect(broker.host, broker.port)
    c.loop_start()
    try:
        for topic, payload, retain in msgs:
            if isinstance(payload, dict):
                payload = json.dumps(payload)
            c.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)
    finally:
        c.disconnect()
        c.loop_stop()


def telemetry(seq: int, ts: float, fill: float = 40.0, **kw) -> dict:
    d = {"v": 1, "seq": seq, "ts": ts, "fill": fill, "est": fill, "dist": 500, "q": 4,
         "temp": 21.0, "vbat": 13100, "vsol": 18000, "cmp": 3, "fcst": ts + 86400,
         "ovf": None, "flags": 0, "drop": 0, "soc": 80.0, "elvl": "normal", "fw": "1.4.0",
         "rssi": -81}
    d.update(kw)
    return d


def event(ts: float, ev: str, **detail) -> dict:
    return {"v": 1, "ts": ts, "ev": ev, **detail}


@pytest.fixture(scope="session")
def postgres():
    why = why_unavailable()
    if why:
        pytest.skip(f"PostgreSQL back end not tested: {why}")
    with TempPostgres() as pg:
        yield pg


_dbs = iter(range(1, 10 ** 6))


def fresh_engine(kind: str, tmp_path, request):
    """An upgraded engine on a new database: a SQLite file, or a new database on the
    session's PostgreSQL server."""
    from sqlalchemy import text

    from host_tools.backoffice import db

    if kind == "sqlite":
        eng = db.make_engine(str(tmp_path / "bo.db"))
    else:
        pg = request.getfixturevalue("postgres")
        name = f"t{next(_dbs)}"
        admin = db.make_engine(pg.url)
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        eng = db.make_engine(pg.url.rsplit("/", 1)[0] + "/" + name)
    db.upgrade(eng)
    return eng
