"""The back office's tables (SQLAlchemy Core) and the engine for a database URL.

SQLite by default (one file, nothing to install), PostgreSQL by URL. The schema is made by
the Alembic migrations in `migrations/` (upgrade() runs them to the head); the tables here
are the same schema for the queries.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import (
    Boolean,
    Column,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)

metadata = MetaData()

BIN_ID = 64     # longest device id stored

bins = Table(
    "bins", metadata,
    Column("bin_id", String(BIN_ID), primary_key=True),
    Column("first_ts", Float),
    Column("last_ts", Float),            # the bin's newest message time (its clock)
    Column("tel_ts", Float),             # its newest telemetry: the fields below
    Column("last_seq", Integer),
    Column("fill", Float),
    Column("est", Float),
    Column("vbat", Integer),
    Column("soc", Float),
    Column("rssi", Integer),
    Column("temp", Float),
    Column("elvl", String(16)),
    Column("flags", Integer),
    Column("fw", String(32)),
    Column("fcst", Float),
    Column("ovf", Float),
    Column("state", String(16)),
    Column("state_ts", Float),
)

telemetry = Table(
    "telemetry", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("bin_id", String(BIN_ID), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("ts", Float, nullable=False),
    Column("fill", Float),
    Column("est", Float),
    Column("dist", Integer),
    Column("q", Integer),
    Column("temp", Float),
    Column("vbat", Integer),
    Column("vsol", Integer),
    Column("cmp", Integer),
    Column("fcst", Float),
    Column("ovf", Float),
    Column("flags", Integer),
    Column("dropped", Integer),
    Column("soc", Float),
    Column("elvl", String(16)),
    Column("fw", String(32)),
    Column("rssi", Integer),
    Column("received", Float, nullable=False),
    # a batch re-sent after a lost PUBACK carries the same seq and ts: stored once
    UniqueConstraint("bin_id", "seq", "ts", name="uq_telemetry_bin_seq_ts"),
    Index("ix_telemetry_bin_ts", "bin_id", "ts"),
)

events = Table(
    "events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("bin_id", String(BIN_ID), nullable=False),
    Column("ts", Float, nullable=False),
    Column("ev", String(32), nullable=False),
    Column("detail", Text, nullable=False),      # the payload's other fields, JSON
    Column("digest", String(40), nullable=False),
    Column("received", Float, nullable=False),
    UniqueConstraint("bin_id", "digest", name="uq_events_bin_digest"),
    Index("ix_events_bin_ts", "bin_id", "ts"),
    Index("ix_events_ev_ts", "ev", "ts"),
)

states = Table(
    "states", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("bin_id", String(BIN_ID), nullable=False),
    Column("ts", Float),                          # null for the broker's last will
    Column("st", String(16), nullable=False),
    Column("payload", Text, nullable=False),
    Column("received", Float, nullable=False),
    Index("ix_states_bin_id", "bin_id", "id"),
)

acks = Table(
    "acks", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("bin_id", String(BIN_ID), nullable=False),
    Column("cmd_id", String(40)),
    Column("ok", Boolean, nullable=False),
    Column("res", Text, nullable=False),
    Column("digest", String(40), nullable=False),
    Column("received", Float, nullable=False),
    UniqueConstraint("bin_id", "digest", name="uq_acks_bin_digest"),
)

collections = Table(
    "collections", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("bin_id", String(BIN_ID), nullable=False),
    Column("ts", Float, nullable=False),
    Column("before", Float),
    Column("after", Float),
    UniqueConstraint("bin_id", "ts", name="uq_collections_bin_ts"),
    Index("ix_collections_ts", "ts"),
)

alerts = Table(
    "alerts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("bin_id", String(BIN_ID), nullable=False),
    Column("kind", String(24), nullable=False),
    Column("ts", Float, nullable=False),          # when the episode began (the bin's time)
    Column("last_ts", Float, nullable=False),     # its latest trigger
    Column("count", Integer, nullable=False),     # triggers in this episode
    Column("detail", Text, nullable=False),
    Column("status", String(12), nullable=False),  # open, acked, resolved
    Column("ended_ts", Float),                    # the condition cleared (the bin said so)
    Column("acked_by", String(64)),
    Column("acked_at", Float),
    Column("resolved_by", String(64)),
    Column("resolved_at", Float),
    Index("ix_alerts_status", "status", "ts"),
    Index("ix_alerts_bin_kind", "bin_id", "kind", "status"),
)

rejected = Table(
    "rejected", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("received", Float, nullable=False),
    Column("topic", Text, nullable=False),
    Column("payload", Text, nullable=False),      # at most PAYLOAD_KEPT characters
    Column("reason", Text, nullable=False),
)

PAYLOAD_KEPT = 2000


def sqlite_url(path: Path | str) -> str:
    return f"sqlite:///{Path(path)}"


def normalise_url(url: str) -> str:
    """postgresql://... goes through psycopg 3 (the pinned driver); a bare path is SQLite."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if "://" not in url:
        return sqlite_url(url)
    return url


def make_engine(url: str, timeout_s: float = 10.0) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
        eng = create_engine(url, connect_args={"timeout": timeout_s,
                                               "check_same_thread": False})

        @event.listens_for(eng, "connect")
        def _pragmas(dbapi_conn, _record) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")     # readers never block the ingest
            cur.execute("PRAGMA synchronous=NORMAL")   # durable at each checkpoint
            cur.execute(f"PRAGMA busy_timeout={int(timeout_s * 1000)}")
            cur.close()

        return eng
    return create_engine(url, pool_pre_ping=True,
                         connect_args={"connect_timeout": int(timeout_s),
                                       "options": f"-c statement_timeout={int(timeout_s * 1000)}"})


def upgrade(engine: Engine) -> None:
    """Runs the Alembic migrations up to the head on this database."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
