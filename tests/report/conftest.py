"""One varied ct-arrests-and-searches incident, shared by the report tests (they only read it):
``world`` on the memory store; ``sql_world`` on each database backend, for the CLI commands,
which open the database themselves."""

from __future__ import annotations

import pytest

from incident_bot.adapters.db import SqlUnitOfWork, make_engine, upgrade
from incident_bot.entrypoints.exercise.session import without_fsync
from tests.databases import BACKENDS, empty_database
from tests.memory_store import MemoryStore, MemoryUnitOfWork
from tests.report.support import World, build_world


@pytest.fixture(scope="session")
def world() -> World:
    store = MemoryStore()
    return build_world(lambda: MemoryUnitOfWork(store), None)


@pytest.fixture(scope="session", params=BACKENDS)
def sql_world(request, tmp_path_factory) -> World:
    with empty_database(request.param, tmp_path_factory.mktemp("aar")) as url:
        engine = make_engine(url)
        if request.param == "sqlite":
            without_fsync(engine)  # a throwaway database: no need to wait for the disk
        upgrade(engine=engine)
        yield build_world(lambda: SqlUnitOfWork(engine), url)
        engine.dispose()
