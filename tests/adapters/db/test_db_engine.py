"""Engines: URL forms, SQLite's single writer and pragmas, errors that say what and hide values."""

from __future__ import annotations

import sqlite3
import traceback
from pathlib import Path

import pytest

from incident_bot.adapters.db import SqlUnitOfWork, make_engine, normalise_url, upgrade
from incident_bot.domain.directory import Person
from incident_bot.errors import ConfigError, StoreError

PHONE = "+447700900123"


@pytest.mark.parametrize("url", [
    "postgres://u:p@db/bot", "postgresql://u:p@db/bot", "postgresql+psycopg://u:p@db/bot",
])
def test_postgres_urls_all_use_psycopg(url):
    assert normalise_url(url) == "postgresql+psycopg://u:p@db/bot"


def test_a_postgres_engine_pings_connections_before_use():
    engine = make_engine("postgres://u:p@db.invalid/bot")
    assert (engine.dialect.driver, engine.pool._pre_ping) == ("psycopg", True)


def test_a_sqlite_engine_creates_the_database_directory(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'bot.db'}")
    with engine.connect():
        pass
    engine.dispose()
    assert (tmp_path / "var" / "bot.db").is_file()


def test_a_directory_that_cannot_be_made_is_a_store_error(tmp_path: Path):
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(StoreError, match="cannot create the database directory"):
        make_engine(f"sqlite:///{tmp_path / 'file' / 'bot.db'}")


def test_in_memory_sqlite_is_refused_because_a_restart_would_lose_every_timer():
    with pytest.raises(ConfigError, match="in-memory"):
        make_engine("sqlite://")


def test_an_unsupported_database_is_refused():
    with pytest.raises(ConfigError, match="unsupported database 'mysql'"):
        make_engine("mysql://u:p@db/bot")


@pytest.mark.parametrize(("pragma", "expected"), [
    ("journal_mode", "wal"), ("foreign_keys", 1), ("busy_timeout", 30000), ("synchronous", 2),
])
def test_sqlite_connections_are_configured(tmp_path: Path, pragma: str, expected: object):
    engine = make_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    with engine.connect() as connection:
        value = connection.exec_driver_sql(f"PRAGMA {pragma}").scalar()
    engine.dispose()
    assert value == expected


def test_a_sqlite_transaction_holds_the_write_lock_from_its_start(tmp_path: Path):
    path = tmp_path / "bot.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine=engine)
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        with SqlUnitOfWork(engine) as uow:
            uow.incidents.all()  # only a read, yet the write lock is already taken
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
    finally:
        other.close()
        engine.dispose()


def test_an_unreachable_database_is_a_store_error_without_the_password():
    engine = make_engine("postgresql://bot:s3cret-pw@127.0.0.1:1/bot")
    with pytest.raises(StoreError, match="database unavailable") as raised, \
            SqlUnitOfWork(engine) as uow:
        uow.incidents.all()
    engine.dispose()
    assert "s3cret-pw" not in str(raised.value)


def test_making_an_engine_does_not_connect():
    engine = make_engine("postgresql://bot:pw@127.0.0.1:1/bot")
    assert engine.pool.checkedout() == 0
    engine.dispose()


def test_a_failed_write_is_a_store_error_whose_traceback_quotes_no_value(uow_factory):
    nameless = Person(key="k", name=None, phone=PHONE)  # type: ignore[arg-type]
    with pytest.raises(StoreError, match="database error") as raised, uow_factory() as uow:
        uow.directory.upsert([nameless])
    assert PHONE not in "".join(traceback.format_exception(raised.value))
