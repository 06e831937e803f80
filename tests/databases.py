"""The test databases: SQLite always, PostgreSQL too when ``TEST_DATABASE_URL`` names a server
(``BACKENDS``), and ``empty_database`` for a fresh, unmigrated one on either. The fixtures built
on them are in ``tests/conftest.py``."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from incident_bot.adapters.db import normalise_url

POSTGRES_ENV = "TEST_DATABASE_URL"
BACKENDS = ["sqlite"] + (["postgres"] if os.environ.get(POSTGRES_ENV) else [])


def _admin_engine(base_url: str) -> Engine:
    return create_engine(normalise_url(base_url), isolation_level="AUTOCOMMIT",
                         connect_args={"connect_timeout": 5})


def _postgres_schema_url(base_url: str) -> Iterator[str]:
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine(base_url)
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except SQLAlchemyError as error:
        admin.dispose()
        reason = (str(getattr(error, "orig", None) or error).strip().splitlines() or ["?"])[0]
        pytest.fail(f"{POSTGRES_ENV} is set but no test schema could be created there "
                    f"({reason}): start the server, or unset {POSTGRES_ENV}", pytrace=False)
    url = normalise_url(base_url)
    separator = "&" if "?" in url else "?"
    try:
        yield f"{url}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.connect() as connection:
            # A test that left a transaction open must not hang the whole run here.
            connection.execute(text("SET lock_timeout = '10s'"))
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextlib.contextmanager
def empty_database(backend: str, directory: Path) -> Iterator[str]:
    """A URL to an empty database (not yet migrated) on ``backend``: a file in ``directory``
    on SQLite, a fresh schema on PostgreSQL (dropped on leaving the block)."""
    if backend == "sqlite":
        yield f"sqlite:///{directory / 'incident-bot.db'}"
        return
    yield from _postgres_schema_url(os.environ[POSTGRES_ENV])
