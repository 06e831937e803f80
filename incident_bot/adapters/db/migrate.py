"""Alembic, configured in code: the migrations ship inside the package, no alembic.ini needed.

``upgrade`` runs on a connection it hands to ``migrations/env.py``, so whatever the engine was
made with (a PostgreSQL ``search_path`` in the URL, SQLite's ``BEGIN IMMEDIATE``) applies to the
migration as well. On PostgreSQL a transaction-scoped advisory lock makes replicas that start
together migrate one after the other.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from incident_bot.adapters.db.engine import make_engine, normalise_url, store_errors
from incident_bot.errors import StoreError

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK_KEY = 0x1AC1DE47  # any constant; shared by every incident-bot process


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise StoreError("no migrations found in the package")
    return head


def upgrade(url: str | None = None, engine: Engine | None = None) -> None:
    """Migrate the database (by URL, or through an existing engine) to the newest schema.
    Running it again is a no-op."""
    if engine is None:
        if url is None:
            raise ValueError("upgrade needs a database URL or an engine")
        own = make_engine(url)
        try:
            upgrade(engine=own)
        finally:
            own.dispose()
        return
    config = alembic_config()
    with store_errors(), engine.begin() as connection:
        _serialise_migrations(connection)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def _serialise_migrations(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None for an empty database."""
    with store_errors(), engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def current(url: str) -> str | None:
    engine = make_engine(url)
    try:
        return current_revision(engine)
    finally:
        engine.dispose()


def require_head(engine: Engine) -> None:
    """StoreError unless the schema is the newest (read-only tools must not migrate)."""
    at, head = current_revision(engine), head_revision()
    if at != head:
        raise StoreError(f"the database schema is at {at or 'nothing (empty)'}, not {head}: "
                         "run `incident-bot db upgrade`")
