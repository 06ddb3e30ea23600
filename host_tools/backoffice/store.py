"""Writes checked records into the database, one transaction per batch: telemetry, events,
states, acks, collections, the bins' latest figures, rejections and the alerts inbox."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable

from sqlalchemy import Engine, and_, bindparam, case, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from host_tools.backoffice import db
from host_tools.backoffice.alerts import OFFLINE_H, Change, changes
from host_tools.backoffice.parse import Record

log = logging.getLogger("backoffice.store")

ACTIVE = ("open", "acked")
LATEST = ("fill", "est", "vbat", "soc", "rssi", "temp", "elvl", "flags", "fw", "fcst", "ovf")


_b = db.bins.c
_TOUCH = update(db.bins).where(_b.bin_id == bindparam("b_id")).values(
    first_ts=case((or_(_b.first_ts.is_(None), _b.first_ts > bindparam("t0")),
                   bindparam("t0")), else_=_b.first_ts),
    last_ts=case((or_(_b.last_ts.is_(None), _b.last_ts < bindparam("t1")),
                  bindparam("t1")), else_=_b.last_ts))
_LATEST = update(db.bins).where(_b.bin_id == bindparam("b_id"), or_(
    _b.tel_ts.is_(None), _b.tel_ts <= bindparam("n_ts"))).values(
    tel_ts=bindparam("n_ts"), last_seq=bindparam("n_seq"),
    **{k: bindparam(f"n_{k}") for k in LATEST})

_STATE_ROW = insert(db.states)
_STATE_BIN = update(db.bins).where(_b.bin_id == bindparam("b_id")).values(
    state=bindparam("n_st"), state_ts=bindparam("n_ts"))


class Store:
    def __init__(self, engine: Engine, offline_h: float = OFFLINE_H):
        self.engine = engine
        self.offline_h = offline_h
        self._ins = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        self._last_state: dict[str, str] = {}
        self._lock = threading.Lock()
        with engine.connect() as c:
            rows = c.execute(select(db.alerts.c.bin_id, db.alerts.c.kind).where(
                db.alerts.c.status.in_(ACTIVE), db.alerts.c.ended_ts.is_(None))).all()
        self._active = {(r.bin_id, r.kind) for r in rows}   # a hint: clears look here first

    # --- ingest ---------------------------------------------------------------------
    def write(self, records: Iterable[Record], rejected: Iterable[tuple[str, bytes, str]] = (),
              now: float | None = None) -> int:
        """Stores a batch in one transaction (all or nothing: the caller acknowledges the
        messages to the broker only after this returns). Returns the new rows stored."""
        now = time.time() if now is None else now
        records = list(records)
        new = 0
        with self._lock, self.engine.begin() as c:
            rej = [{"received": now, "topic": t[:200],
                    "payload": p[:db.PAYLOAD_KEPT].decode("utf-8", "replace"), "reason": r}
                   for t, p, r in rejected]
            if rej:
                c.execute(insert(db.rejected), rej)
            tel = [r for r in records if r.kind == "telemetry"]
            if tel:
                rows = [dict(r.fields, bin_id=r.bin_id, received=now) for r in tel]
                res = c.execute(self._ins(db.telemetry).on_conflict_do_nothing()
                                .returning(db.telemetry.c.id), rows)
                new += len(res.all())
            self._touch_bins(c, records)
            for r in records:
                if r.kind == "event":
                    new += self._event(c, r, now)
                elif r.kind == "state":
                    new += self._state(c, r, now)
                elif r.kind == "cmd/ack":
                    res = c.execute(self._ins(db.acks).on_conflict_do_nothing()
                                    .returning(db.acks.c.id), dict(
                                        r.fields, bin_id=r.bin_id, digest=r.digest,
                                        received=now))
                    new += len(res.all())
                for ch in changes(r):
                    if r.kind != "event":     # an event's alerts go with its row (dedup)
                        self._alert(c, r.bin_id, ch)
            for b in {r.bin_id for r in records}:
                if (b, "offline") in self._active:
                    self._end(c, b, "offline", max(
                        (r.fields.get("ts") or 0.0) for r in records if r.bin_id == b))
        return new

    def _touch_bins(self, c, records: list[Record]) -> None:
        """The bins' rows: first and newest message time, the newest telemetry's figures.
        Prepared statements run once per batch over all its bins (executemany)."""
        first: dict[str, float | None] = {}
        last: dict[str, float | None] = {}
        tel: dict[str, Record] = {}
        for r in records:
            ts = r.fields.get("ts")
            b = r.bin_id
            if ts is None:
                first.setdefault(b, None)
                last.setdefault(b, None)
            else:
                first[b] = ts if first.get(b) is None else min(first[b], ts)
                last[b] = ts if last.get(b) is None else max(last[b], ts)
            if r.kind == "telemetry" and (b not in tel or tel[b].fields["ts"] <= ts):
                tel[b] = r
        if not last:
            return
        c.execute(self._ins(db.bins).on_conflict_do_nothing(),
                  [{"bin_id": b, "first_ts": first[b], "last_ts": t} for b, t in last.items()])
        timed = [{"b_id": b, "t0": first[b], "t1": t} for b, t in last.items() if t is not None]
        if timed:
            c.execute(_TOUCH, timed)
        if tel:
            c.execute(_LATEST, [dict({f"n_{k}": r.fields[k] for k in LATEST}, b_id=b,
                                     n_ts=r.fields["ts"], n_seq=r.fields["seq"])
                                for b, r in tel.items()])

    def _event(self, c, r: Record, now: float) -> int:
        f, d = r.fields, r.data
        detail = {k: v for k, v in d.items() if k not in ("v", "ts", "ev")}
        res = c.execute(self._ins(db.events).on_conflict_do_nothing()
                        .returning(db.events.c.id), {
            "bin_id": r.bin_id, "ts": f["ts"], "ev": f["ev"], "digest": r.digest,
            "detail": json.dumps(detail)[:4000], "received": now})
        if res.first() is None:
            return 0                        # a re-sent event: stored (and alerted) once
        if f["ev"] == "collected":
            before, after = d.get("before"), d.get("after")
            c.execute(self._ins(db.collections).on_conflict_do_nothing(), [{
                "bin_id": r.bin_id, "ts": f["ts"],
                "before": before if isinstance(before, int | float) else None,
                "after": after if isinstance(after, int | float) else None}])
        for ch in changes(r):
            self._alert(c, r.bin_id, ch)
        return 1

    def _state(self, c, r: Record, now: float) -> int:
        raw = json.dumps(r.data, sort_keys=True)
        if self._last_state.get(r.bin_id) is None:
            row = c.execute(select(db.states.c.payload).where(db.states.c.bin_id == r.bin_id)
                            .order_by(db.states.c.id.desc()).limit(1)).first()
            self._last_state[r.bin_id] = row.payload if row else ""
        if self._last_state[r.bin_id] == raw:
            return 0                        # the retained state sent again
        self._last_state[r.bin_id] = raw
        f = r.fields
        c.execute(_STATE_ROW, {"bin_id": r.bin_id, "ts": f["ts"], "st": f["st"],
                               "payload": raw[:4000], "received": now})
        c.execute(_STATE_BIN, {"b_id": r.bin_id, "n_st": f["st"], "n_ts": f["ts"]})
        return 1

    # --- alerts ---------------------------------------------------------------------
    def _alert(self, c, bin_id: str, ch: Change) -> None:
        if ch.trigger:
            self._raise(c, bin_id, ch.kind, ch.ts, ch.detail)
        elif (bin_id, ch.kind) in self._active:
            self._end(c, bin_id, ch.kind, ch.ts)

    def _raise(self, c, bin_id: str, kind: str, ts: float, detail: str) -> None:
        a = db.alerts.c
        row = c.execute(select(a.id, a.last_ts).where(
            a.bin_id == bin_id, a.kind == kind, a.status.in_(ACTIVE), a.ended_ts.is_(None))
            .order_by(a.id.desc()).limit(1)).first()
        if row:
            c.execute(update(db.alerts).where(a.id == row.id).values(
                count=a.count + 1, last_ts=max(row.last_ts, ts)))
        else:
            c.execute(insert(db.alerts), [{"bin_id": bin_id, "kind": kind, "ts": ts,
                                           "last_ts": ts, "count": 1, "detail": detail,
                                           "status": "open"}])
            log.info("alert: %s %s at %.0f %s", bin_id, kind, ts, detail)
        self._active.add((bin_id, kind))

    def _end(self, c, bin_id: str, kind: str, ts: float) -> None:
        a = db.alerts.c
        c.execute(update(db.alerts).where(a.bin_id == bin_id, a.kind == kind,
                                          a.ended_ts.is_(None)).values(ended_ts=ts))
        self._active.discard((bin_id, kind))

    def check_offline(self, clock: float | None = None) -> int:
        """Opens an offline alert for each bin not heard from for offline_h hours by the
        fleet's clock (the newest message time of any bin, so that a simulated fleet in
        virtual time is judged by its own clock). Returns the alerts opened."""
        b = db.bins.c
        opened = 0
        with self._lock, self.engine.begin() as c:
            if clock is None:
                clock = c.execute(select(func.max(b.last_ts))).scalar()
            if clock is None:
                return 0
            rows = c.execute(select(b.bin_id, b.last_ts).where(
                b.last_ts < clock - self.offline_h * 3600)).all()
            for r in rows:
                if (r.bin_id, "offline") not in self._active:
                    self._raise(c, r.bin_id, "offline", clock,
                                f"no message for {(clock - r.last_ts) / 3600:.1f} h")
                    opened += 1
        return opened

    def set_status(self, alert_id: int, action: str, user: str, now: float | None = None) \
            -> bool:
        """An operator acknowledges ("ack") or resolves ("resolve") an alert."""
        now = time.time() if now is None else now
        a = db.alerts.c
        with self._lock, self.engine.begin() as c:
            row = c.execute(select(a.bin_id, a.kind, a.status).where(a.id == alert_id)).first()
            if row is None or row.status == "resolved":
                return False
            if action == "ack":
                if row.status != "open":
                    return False
                c.execute(update(db.alerts).where(a.id == alert_id).values(
                    status="acked", acked_by=user, acked_at=now))
            elif action == "resolve":
                c.execute(update(db.alerts).where(a.id == alert_id).values(
                    status="resolved", resolved_by=user, resolved_at=now))
                if not c.execute(select(func.count()).where(and_(
                        a.bin_id == row.bin_id, a.kind == row.kind, a.status.in_(ACTIVE),
                        a.ended_ts.is_(None)))).scalar():
                    self._active.discard((row.bin_id, row.kind))
            else:
                return False
        return True
