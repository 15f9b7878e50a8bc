"""Alembic's environment for the results database: run by `results.db.migrate` (alembic.command.upgrade).

The store hands its own connection in `config.attributes["connection"]` (SQLite's pragmas, the
URL from the settings); without one, the URL is the config's `sqlalchemy.url`.
"""
from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from results.models import Base

config = context.config


def _run(connection) -> None:
    # render_as_batch: SQLite alters a table by copying it; later revisions then work there too
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()
