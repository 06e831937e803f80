"""Alembic environment: migrates on the connection ``adapters.db.migrate.upgrade`` hands over,
or (when run by the ``alembic`` command with ``sqlalchemy.url`` set) on an engine of its own."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection

from incident_bot.adapters.db.engine import make_engine
from incident_bot.adapters.db.tables import Base
from incident_bot.adapters.db.types import UtcDateTime


def _render_item(kind: str, item: Any, _context: AutogenContext) -> str | Literal[False]:
    # Migrations are frozen: write UtcDateTime as the DDL it stands for, not as our class.
    if kind == "type" and isinstance(item, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _migrate(connection: Connection) -> None:
    # Batch mode: SQLite can only ALTER a table by copying it, which batch operations do.
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=True, compare_type=True, render_item=_render_item)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    engine = make_engine(context.config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.begin() as own_connection:
            _migrate(own_connection)
    finally:
        engine.dispose()


run_migrations_online()
