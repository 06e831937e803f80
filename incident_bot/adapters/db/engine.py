"""Engines for SQLite (the embedded default) and PostgreSQL (production, several replicas).

SQLite is made a real single-writer store: the driver's own transaction handling is switched
off and every transaction starts with ``BEGIN IMMEDIATE``, so a transaction takes the write lock
when it begins rather than at its first write. Two pollers can then never read the same due rows
and both lease them. PostgreSQL gets row locks (``FOR UPDATE [SKIP LOCKED]``) from the queries.

Both engines hide bound parameters from SQL error messages: a failed INSERT into ``person`` must
not put a phone number into a log line or a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, OperationalError

from incident_bot.errors import ConfigError, StoreError

SQLITE_BUSY_TIMEOUT_MS = 30_000
POSTGRES_CONNECT_TIMEOUT_S = 10
_POSTGRES_PREFIXES = ("postgres://", "postgresql://")


def normalise_url(url: str) -> str:
    """Accept ``postgres://`` and ``postgresql://`` and use psycopg 3 for both."""
    for prefix in _POSTGRES_PREFIXES:
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def parse_url(url: str) -> URL:
    """The normalised URL as SQLAlchemy sees it; ConfigError (never echoing it) when malformed."""
    try:
        return make_url(normalise_url(url))
    except ArgumentError:
        raise ConfigError("DATABASE_URL is not a database URL") from None


def make_engine(url: str) -> Engine:
    """An engine for ``url`` (SQLite file or PostgreSQL); nothing connects until first use."""
    parsed = parse_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed)
    if backend == "postgresql":
        return _postgres_engine(parsed)
    raise ConfigError(f"unsupported database {backend!r}: use sqlite or postgresql")


def _postgres_engine(url: URL) -> Engine:
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = POSTGRES_CONNECT_TIMEOUT_S
    try:
        return create_engine(url, pool_pre_ping=True, hide_parameters=True,
                             connect_args=connect_args)
    except ModuleNotFoundError as missing:  # the driver is an extra, not in requirements/run.txt
        raise ConfigError(
            f"DATABASE_URL is PostgreSQL but its driver ({missing.name}) is not installed: run "
            "`pip install --require-hashes --no-deps -r requirements/postgres.txt` in the "
            "checkout (`scripts/setup.sh run` does), or `pip install 'incident-bot[postgres]'`"
        ) from None


def _sqlite_engine(url: URL) -> Engine:
    if not url.database or url.database == ":memory:":
        raise ConfigError("an in-memory SQLite database would lose every timer on restart: "
                          "give DATABASE_URL a file, e.g. sqlite:///var/incident-bot.db")
    _create_parent_directory(Path(url.database))
    engine = create_engine(url, hide_parameters=True,
                           connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
    event.listen(engine, "connect", _configure_sqlite_connection)
    event.listen(engine, "begin", _begin_immediate)
    return engine


def _create_parent_directory(database: Path) -> None:
    try:
        database.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(f"cannot create the database directory {database.parent}: "
                         f"{error.strerror}") from None


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # Driver-level autocommit: pysqlite must not issue its own (deferred) BEGIN; we emit ours.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")  # a committed timer survives a power cut too
    finally:
        cursor.close()


def _begin_immediate(connection: Any) -> None:
    # Take the write lock at BEGIN: one writer at a time, so a claim can never race another.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def as_store_error(error: DBAPIError) -> StoreError:
    """Our error for a driver failure, safe to log. Drivers quote the values written (PostgreSQL's
    DETAIL line: "Failing row contains (...)"), so callers raise it ``from None`` and only the
    first line of a connection or constraint failure is kept: it names a column or constraint,
    not a value ("database is locked", "duplicate key value violates unique constraint ...")."""
    kind = type(error.orig).__name__ if error.orig is not None else type(error).__name__
    lines = str(error.orig).strip().splitlines() if error.orig is not None else []
    safe = isinstance(error, OperationalError | IntegrityError)
    detail = f": {lines[0]}" if lines and safe else ""
    what = "database unavailable" if isinstance(error, OperationalError) else "database error"
    return StoreError(f"{what} ({kind}){detail}")


@contextmanager
def store_errors() -> Iterator[None]:
    """Raise driver failures inside the block as StoreError (caller bugs propagate as they are)."""
    try:
        yield
    except DBAPIError as error:
        raise as_store_error(error) from None
