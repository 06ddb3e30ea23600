"""Alembic environment: runs on the connection handed over by db.upgrade(), or on the URL
in BACKOFFICE_DB for the alembic command line."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine

from host_tools.backoffice.db import metadata, normalise_url

config = context.config
target_metadata = metadata


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


conn = config.attributes.get("connection")
if conn is not None:
    _run(conn)
else:
    engine = create_engine(normalise_url(os.environ.get("BACKOFFICE_DB", "build/backoffice.db")))
    with engine.connect() as c:
        _run(c)
