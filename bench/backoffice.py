"""Back-office benchmark: ingest rate into SQLite and PostgreSQL against the broker's own
delivery rate to a bare subscriber, the size of a month's database for 1,000 bins, and the
page's two main queries on it. Adds `backoffice_*` keys to build/bench.json (read, modify,
write: other keys are kept).

    .venv/bin/python bench/backoffice.py [--messages 20000] [--bins 1000] [--days 30]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from sqlalchemy import insert, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from host_tools.backoffice import db, queries  # noqa: E402
from host_tools.backoffice.ingest import Ingest  # noqa: E402
from host_tools.backoffice.pgtemp import TempPostgres, why_unavailable  # noqa: E402
from host_tools.backoffice.store import Store  # noqa: E402
from host_tools.broker import Broker  # noqa: E402

OUT = ROOT / "build" / "bench.json"
T0 = 1_748_703_600.0        # 2025-06-01 00:00 KST
QUERY_RUNS = 25


def _telemetry(seq: int, ts: float, fill: float) -> dict:
    return {"v": 1, "seq": seq, "ts": ts, "fill": round(fill, 1), "est": None, "dist": 612,
            "q": 4, "temp": 21.4, "vbat": 13310, "vsol": 17950, "cmp": seq // 9,
            "fcst": ts + 40000, "ovf": ts + 60000, "flags": 0, "drop": 0, "soc": 81.0,
            "elvl": "normal", "fw": "0.1.0", "rssi": -83}


def fleet_messages(n: int, bins: int = 1000) -> list[tuple[str, bytes]]:
    """n messages as a fleet sends them: per report a telemetry and the session's two
    states; an event every tenth report."""
    out: list[tuple[str, bytes]] = []
    seq = 0
    while len(out) < n:
        seq += 1
        for b in range(bins):
            ts = T0 + seq * 3600 + b
            t = f"bins/bin-{b + 1:04d}/"
            out.append((t + "telemetry", json.dumps(_telemetry(seq, ts, seq % 90)).encode()))
            out.append((t + "state", json.dumps({"st": "online", "ts": ts - 5}).encode()))
            out.append((t + "state", json.dumps({"st": "asleep", "ts": ts + 1,
                                                 "fill": seq % 90, "next": ts + 900}).encode()))
            if seq % 10 == b % 10:
                out.append((t + "event", json.dumps({"v": 1, "ts": ts, "ev": "compacted",
                                                     "before": 80, "after": 55}).encode()))
    return out[:n]


def _queue_for(broker: Broker, client_id: str, msgs: list[tuple[str, bytes]]) -> None:
    """Makes client_id's persistent session (subscribed to bins/# QoS 1), then publishes
    msgs while it is away: the broker holds them for it."""
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                    clean_session=False)
    done = threading.Event()
    c.on_subscribe = lambda *a: done.set()
    c.connect(broker.host, broker.port)
    c.loop_start()
    c.subscribe("bins/#", qos=1)
    assert done.wait(10), "no SUBACK"
    c.disconnect()
    c.loop_stop()
    p = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id + "-pub")
    p.max_inflight_messages_set(500)
    p.max_queued_messages_set(0)
    p.connect(broker.host, broker.port)
    p.loop_start()
    infos = [p.publish(t, m, qos=1) for t, m in msgs]
    for i in infos:
        i.wait_for_publish(60)
    p.disconnect()
    p.loop_stop()
    time.sleep(0.5)


def baseline_rate(broker: Broker, msgs: list[tuple[str, bytes]]) -> float:
    """Messages/s mosquitto delivers from a held session to a bare paho subscriber that
    only counts them (QoS 1, the same in-flight window as the ingest)."""
    cid = "bench-bare"
    _queue_for(broker, cid, msgs)
    got = 0
    done = threading.Event()

    def on_message(*a):
        nonlocal got
        got += 1
        if got >= len(msgs):
            done.set()

    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cid, clean_session=False)
    c.on_message = on_message
    t = time.perf_counter()
    c.connect(broker.host, broker.port)
    c.loop_start()
    ok = done.wait(300)
    wall = time.perf_counter() - t
    c.disconnect()
    c.loop_stop()
    if not ok:
        raise RuntimeError(f"bare subscriber got {got} of {len(msgs)}")
    return len(msgs) / wall


def ingest_rate(broker: Broker, url: str, msgs: list[tuple[str, bytes]], cid: str) \
        -> tuple[float, dict]:
    """Messages/s the ingest stores (each acknowledged only after its commit) draining a
    held session of msgs into the database at url."""
    eng = db.make_engine(url)
    db.upgrade(eng)
    store = Store(eng)
    first = Ingest(store, broker.host, broker.port, client_id=cid).start()   # the session
    first.stop()
    p = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cid + "-pub")
    p.max_inflight_messages_set(500)
    p.max_queued_messages_set(0)
    p.connect(broker.host, broker.port)
    p.loop_start()
    for i in [p.publish(t, m, qos=1) for t, m in msgs]:
        i.wait_for_publish(60)
    p.disconnect()
    p.loop_stop()
    time.sleep(0.5)
    ing = Ingest(store, broker.host, broker.port, client_id=cid)
    t = time.perf_counter()
    ing.start()
    deadline = time.monotonic() + 600
    while ing.counters.batches == 0 or ing.counters.received < len(msgs) or \
            not ing._q.empty() or ing._busy:
        if time.monotonic() > deadline:
            raise RuntimeError(f"ingest received {ing.counters.received} of {len(msgs)}")
        time.sleep(0.005)
    wall = time.perf_counter() - t
    ing.stop()
    with eng.connect() as c:
        rows = {t: c.execute(text(f"SELECT count(*) FROM {t}")).scalar()
                for t in ("telemetry", "states", "events")}
    eng.dispose()
    return len(msgs) / wall, {"stored": ing.counters.stored, "rows": rows,
                              "batches": ing.counters.batches, "wall_s": round(wall, 2)}


def month(path: Path, bins: int, days: float) -> dict:
    """A month's database: each bin reports once an hour (the simulated bins' average:
    between the 15-minute floor and the 2-hour heartbeat), each report with its session's
    two states; three events a day and a collection every third day per bin. Rows go in
    through the same tables and indexes as the ingest's (bulk, to be quick)."""
    for f in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        f.unlink(missing_ok=True)
    eng = db.make_engine(str(path))
    db.upgrade(eng)
    reports = int(days * 24)
    raw = 0
    with eng.begin() as c:
        c.execute(insert(db.bins), [{"bin_id": f"bin-{b + 1:04d}", "first_ts": T0,
                                     "last_ts": T0 + reports * 3600, "fill": 50.0,
                                     "state": "asleep"} for b in range(bins)])
    for h in range(reports):
        tel, st, ev, coll = [], [], [], []
        for b in range(bins):
            bid = f"bin-{b + 1:04d}"
            ts = T0 + h * 3600 + b
            d = _telemetry(h + 1, ts, (h % 72) * 1.3)
            raw += len(json.dumps(d))
            d.pop("v")
            d["dropped"] = d.pop("drop")
            tel.append(dict(d, bin_id=bid, received=ts + 2))
            for s in ({"st": "online", "ts": ts - 5}, {"st": "asleep", "ts": ts + 1}):
                p = json.dumps(s, sort_keys=True)
                raw += len(p)
                st.append({"bin_id": bid, "ts": s["ts"], "st": s["st"], "payload": p,
                           "received": ts + 2})
            if h % 8 == b % 8:
                detail = json.dumps({"before": 80, "after": 55, "peak_ma": 5200, "ms": 9000})
                raw += len(detail) + 30
                ev.append({"bin_id": bid, "ts": ts, "ev": "compacted", "detail": detail,
                           "digest": hashlib.sha1(f"{bid}:{h}".encode()).hexdigest(),
                           "received": ts + 2})
            if h % 72 == b % 72:
                coll.append({"bin_id": bid, "ts": ts, "before": 92.0, "after": 2.0})
        with eng.begin() as c:
            c.execute(insert(db.telemetry), tel)
            c.execute(insert(db.states), st)
            if ev:
                c.execute(insert(db.events), ev)
            if coll:
                c.execute(insert(db.collections), coll)
    with eng.connect() as c:
        c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        rows = c.execute(text("SELECT count(*) FROM telemetry")).scalar()
    lat = _median_ms(lambda: queries.latest(eng))
    hist_rows = len(queries.history(eng, "bin-0500", since=T0))
    hist = _median_ms(lambda: queries.history(eng, "bin-0500", since=T0))
    one = _median_ms(lambda: _one_row(eng))
    eng.dispose()
    return {"bytes": path.stat().st_size, "raw": raw, "telemetry_rows": rows,
            "latest_ms": lat, "history_ms": hist, "history_rows": hist_rows,
            "one_row_ms": one}


def _one_row(eng) -> None:
    with eng.connect() as c:
        c.execute(select(db.bins).where(db.bins.c.bin_id == "bin-0500")).one()


def _median_ms(fn) -> float:
    fn()                                  # warm: the statement cache, the page cache
    times = []
    for _ in range(QUERY_RUNS):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return round(statistics.median(times), 2)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--messages", type=int, default=20000)
    p.add_argument("--bins", type=int, default=1000)
    p.add_argument("--days", type=float, default=30.0)
    p.add_argument("--out", default=str(OUT))
    a = p.parse_args()
    res: dict = {}
    errors: list[str] = []
    t0 = time.monotonic()
    msgs = fleet_messages(a.messages)
    with tempfile.TemporaryDirectory(prefix="bench-bo-") as tmp:
        with Broker() as broker:
            print("bench: backoffice baseline (bare subscriber)", file=sys.stderr)
            res["backoffice_ingest_msgs_per_s_baseline"] = round(baseline_rate(broker, msgs))
            res["backoffice_ingest_msgs_per_s_baseline_what"] = (
                "mosquitto delivering the same held session to a bare paho subscriber "
                "(QoS 1, counts only)")
            print("bench: backoffice ingest into SQLite", file=sys.stderr)
            rate, info = ingest_rate(broker, db.sqlite_url(Path(tmp) / "ingest.db"), msgs,
                                     "bench-ingest-sqlite")
            res["backoffice_ingest_msgs_per_s"] = round(rate)
            res["backoffice_ingest_sqlite_run"] = info
            why = why_unavailable()
            if why:
                errors.append(f"postgresql: {why}")
            else:
                print("bench: backoffice ingest into PostgreSQL", file=sys.stderr)
                with TempPostgres() as pg:
                    rate, info = ingest_rate(broker, pg.url, msgs, "bench-ingest-pg")
                res["backoffice_ingest_postgresql_msgs_per_s"] = round(rate)
                res["backoffice_ingest_postgresql_run"] = info
        print(f"bench: backoffice month ({a.bins} bins x {a.days:g} days)", file=sys.stderr)
        try:
            m = month(Path(tmp) / "month.db", a.bins, a.days)
        except Exception as e:  # keep the ingest figures
            errors.append(f"month: {type(e).__name__}: {e}"[:500])
            m = {}
    res["backoffice_ingest_messages"] = a.messages
    if m:
        _month_keys(res, m)
    res["backoffice_bench_wall_s"] = round(time.monotonic() - t0, 1)
    res["backoffice_errors"] = errors
    _save(Path(a.out), res)
    for k, v in res.items():
        if not isinstance(v, dict):
            print(f"{k:48s} {v}")
    for e in errors:
        print(f"FAILED {e}", file=sys.stderr)
    return 1 if errors else 0


def _month_keys(res: dict, m: dict) -> None:
    res["backoffice_month_db_bytes"] = m["bytes"]
    res["backoffice_month_db_bytes_baseline"] = m["raw"]
    res["backoffice_month_db_bytes_baseline_what"] = "the same messages' JSON payloads"
    res["backoffice_month_telemetry_rows"] = m["telemetry_rows"]
    res["backoffice_latest_query_ms"] = m["latest_ms"]
    res["backoffice_history_query_ms"] = m["history_ms"]
    res["backoffice_history_query_rows"] = m["history_rows"]
    res["backoffice_latest_query_ms_baseline"] = m["one_row_ms"]
    res["backoffice_history_query_ms_baseline"] = m["one_row_ms"]
    res["backoffice_query_ms_baseline_what"] = "one bin's row by its key, the same database"


def _save(out: Path, res: dict) -> None:
    old = {}
    if out.exists():
        try:
            old = json.loads(out.read_text())
        except ValueError:
            old = {}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({**old, **res}, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
