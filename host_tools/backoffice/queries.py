"""What the page and the API read: the bins' latest figures, a bin's history, the inbox,
KPIs and CSV exports."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from sqlalchemy import Engine, func, select

from host_tools.backoffice import db

HISTORY_MAX = 20000
OVERFLOW_PCT = 100.0


def latest(engine: Engine) -> list[dict]:
    """Every bin's newest figures (the bins table, kept by the ingest) and its open alerts."""
    a = db.alerts.c
    with engine.connect() as c:
        rows = c.execute(select(db.bins).order_by(db.bins.c.bin_id)).mappings().all()
        open_ = dict(c.execute(select(a.bin_id, func.count()).where(
            a.status.in_(("open", "acked"))).group_by(a.bin_id)).all())
    return [dict(r, alerts_open=open_.get(r["bin_id"], 0)) for r in rows]


def history(engine: Engine, bin_id: str, since: float | None = None,
            until: float | None = None, limit: int = HISTORY_MAX) -> list[dict]:
    t = db.telemetry.c
    q = select(t.ts, t.seq, t.fill, t.est, t.vbat, t.soc, t.rssi, t.temp, t.elvl, t.flags,
               t.cmp).where(t.bin_id == bin_id)
    if since is not None:
        q = q.where(t.ts >= since)
    if until is not None:
        q = q.where(t.ts <= until)
    with engine.connect() as c:
        rows = c.execute(q.order_by(t.ts.desc()).limit(limit)).mappings().all()
    return [dict(r) for r in reversed(rows)]


def events(engine: Engine, bin_id: str | None = None, limit: int = 200) -> list[dict]:
    e = db.events.c
    q = select(e.bin_id, e.ts, e.ev, e.detail)
    if bin_id:
        q = q.where(e.bin_id == bin_id)
    with engine.connect() as c:
        rows = c.execute(q.order_by(e.ts.desc()).limit(limit)).all()
    return [{"bin_id": r.bin_id, "ts": r.ts, "ev": r.ev, "detail": json.loads(r.detail)}
            for r in rows]


def collections(engine: Engine, bin_id: str | None = None, since: float | None = None,
                limit: int = 5000) -> list[dict]:
    k = db.collections.c
    q = select(k.bin_id, k.ts, k.before, k.after)
    if bin_id:
        q = q.where(k.bin_id == bin_id)
    if since is not None:
        q = q.where(k.ts >= since)
    with engine.connect() as c:
        return [dict(r) for r in c.execute(q.order_by(k.ts.desc()).limit(limit)).mappings()]


def alerts(engine: Engine, status: str | None = None, bin_id: str | None = None,
           limit: int = 500) -> list[dict]:
    a = db.alerts.c
    q = select(db.alerts)
    if status == "active":
        q = q.where(a.status.in_(("open", "acked")))
    elif status:
        q = q.where(a.status == status)
    if bin_id:
        q = q.where(a.bin_id == bin_id)
    with engine.connect() as c:
        return [dict(r) for r in c.execute(q.order_by(a.ts.desc()).limit(limit)).mappings()]


def rejected(engine: Engine, limit: int = 200) -> list[dict]:
    r = db.rejected.c
    with engine.connect() as c:
        return [dict(x) for x in c.execute(select(db.rejected).order_by(r.id.desc())
                                           .limit(limit)).mappings()]


def kpis(engine: Engine, since: float | None = None) -> dict:
    """Collections, mean fill at collection, overflow hours (from the reports: the time
    between a report at or over 100 % and the bin's next one), alerts open."""
    k, t, a = db.collections.c, db.telemetry.c, db.alerts.c
    with engine.connect() as c:
        cq = select(func.count(), func.avg(k.before))
        if since is not None:
            cq = cq.where(k.ts >= since)
        n, mean = c.execute(cq).one()
        tq = select(t.bin_id, t.ts, t.fill).order_by(t.bin_id, t.ts)
        if since is not None:
            tq = tq.where(t.ts >= since)
        over_s, prev = 0.0, None
        for r in c.execute(tq.where(t.fill.is_not(None))):
            if prev is not None and prev.bin_id == r.bin_id and prev.fill >= OVERFLOW_PCT:
                over_s += r.ts - prev.ts
            prev = r
        open_ = c.execute(select(func.count()).select_from(db.alerts).where(
            a.status == "open")).scalar()
        active = c.execute(select(func.count()).select_from(db.alerts).where(
            a.status.in_(("open", "acked")))).scalar()
        nbins = c.execute(select(func.count()).select_from(db.bins)).scalar()
        clock = c.execute(select(func.max(db.bins.c.last_ts))).scalar()
    return {"bins": nbins, "collections": n, "mean_fill_at_collection_pct":
            None if mean is None else round(mean, 1), "overflow_hours": round(over_s / 3600, 1),
            "alerts_open": open_, "alerts_active": active, "clock": clock}


def csv_rows(rows: list[dict], columns: list[str]) -> Iterator[str]:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(columns)
    for r in rows:
        w.writerow(["" if r.get(c) is None else r.get(c) for c in columns])
        yield buf.getvalue()
        buf.seek(0)
        buf.truncate()
    yield buf.getvalue()
