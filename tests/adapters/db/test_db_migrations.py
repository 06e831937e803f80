"""Migrations: shipped in the package, run to head, match the models, safe to run again."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event, inspect, text

from incident_bot.adapters.db import (
    current,
    head_revision,
    make_engine,
    require_head,
    upgrade,
)
from incident_bot.adapters.db.migrate import MIGRATION_LOCK_KEY
from incident_bot.adapters.db.tables import Base
from incident_bot.errors import StoreError


def test_the_newest_revision_is_0002():
    assert head_revision() == "0002"


def test_upgrade_brings_an_empty_database_to_head(database_url):
    upgrade(database_url)
    assert current(database_url) == head_revision()


def test_an_empty_database_has_no_revision(database_url):
    assert current(database_url) is None


def test_the_migrated_schema_matches_the_models(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_upgrading_again_changes_nothing(engine, database_url):
    upgrade(database_url)
    with engine.connect() as connection:
        tables = sorted(inspect(connection).get_table_names())
    assert tables == sorted([*Base.metadata.tables, "alembic_version"])


@pytest.mark.backends("postgres")
def test_an_upgrade_waits_while_another_replica_is_migrating(database_url):
    impatient = make_engine(database_url)
    event.listen(impatient, "connect", _give_up_lock_waits_after_a_second)
    other_replica = make_engine(database_url)
    try:
        with other_replica.begin() as migrating:
            migrating.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                              {"key": MIGRATION_LOCK_KEY})
            with pytest.raises(StoreError, match="lock timeout"):
                upgrade(engine=impatient)
    finally:
        impatient.dispose()
        other_replica.dispose()


def _give_up_lock_waits_after_a_second(dbapi_connection, _record) -> None:
    dbapi_connection.execute("SET lock_timeout = '1s'")
    dbapi_connection.commit()


def test_an_unmigrated_database_is_refused_by_read_only_tools(database_url):
    engine = make_engine(database_url)
    try:
        with pytest.raises(StoreError, match="run `incident-bot db upgrade`"):
            require_head(engine)
    finally:
        engine.dispose()
