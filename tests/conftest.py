"""Database fixtures: every database test runs on SQLite, and on PostgreSQL too when
``TEST_DATABASE_URL`` names a database (each test then gets a fresh schema of its own there,
dropped afterwards).

If TEST_DATABASE_URL is set but the server cannot be reached, the PostgreSQL tests fail: a run
that silently skipped them would claim a coverage it does not have.

- ``database_url``: a URL to an empty, unmigrated database (usable from other processes too).
- ``engine``: an engine on that database, migrated to the newest schema.
- ``uow_factory``: a callable returning a new ``SqlUnitOfWork`` on that engine.
- ``module_database_url`` / ``module_uow_factory``: the same, shared by a whole test module
  (one database per backend), for modules that run one long scenario and read it in many tests.
- ``empty_database(backend, directory)``: the context manager behind them, for fixtures of
  other scopes (in ``tests/databases.py``, with ``BACKENDS`` and ``POSTGRES_ENV``).
- ``@pytest.mark.backends("postgres")``: run a test only on the listed backends (for behaviour
  only one backend has, e.g. ``SKIP LOCKED``); its other parametrisations are deselected.

The in-memory store (``tests/memory_store.py``), for the tests of use cases rather than of the
database (they run once, not once per backend):

- ``memory_uow_factory`` / ``module_memory_uow_factory``: a factory of ``MemoryUnitOfWork`` on a
  fresh ``MemoryStore`` (for one test / one test module).
- ``any_uow_factory``: a unit-of-work factory on each store in turn, memory, SQLite and
  PostgreSQL (``STORES``): for the repository contract tests and the end-to-end flow kept on
  every store.

Shared by several packages:

- ``clock``: a FakeClock starting at ``clock_start``, which is the drills' ``T0`` unless a
  package or module overrides ``clock_start`` (the Slack tests start on another day).
- ``drill``: the restart drill's service harness (``tests/drill.py``) on the memory store;
  ``sql_drill`` the same on ``uow_factory`` (each backend), for tests of what the database holds.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from incident_bot.adapters.db import SqlUnitOfWork, make_engine, upgrade
from tests.databases import BACKENDS, empty_database
from tests.drill import Harness, drill_people, make_harness
from tests.fakes import T0, FakeClock
from tests.memory_store import MemoryStore, MemoryUnitOfWork

STORES = ["memory", *BACKENDS]

# pytest-xdist's workers inherit COLUMNS=80; a rich Console made while it is set keeps that
# width for good, so the CLI tests' own COLUMNS would not take (they pass without xdist).
for _name in ("COLUMNS", "LINES"):
    os.environ.pop(_name, None)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "backends(*names): run a database test only on these backends "
                   "(memory, sqlite, postgres)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    keep, drop = [], []
    for item in items:
        (keep if _runs_on_its_backend(item) else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
    # The few tests that take minutes go first, so that pytest-xdist's workers share them out
    # at the start rather than one worker running them alone at the end.
    items[:] = sorted(keep, key=lambda item: item.get_closest_marker("slow") is None)


def _runs_on_its_backend(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("backends")
    callspec = getattr(item, "callspec", None)
    if marker is None or callspec is None:
        return True
    for name in ("database_url", "module_database_url", "any_uow_factory"):
        if name in callspec.params:
            return callspec.params[name] in marker.args
    return True


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database (not yet migrated), usable from other processes too."""
    with empty_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on ``database_url``, migrated to the newest schema."""
    engine = make_engine(database_url)
    upgrade(engine=engine)
    yield engine
    engine.dispose()


@pytest.fixture
def uow_factory(engine: Engine) -> Callable[[], SqlUnitOfWork]:
    return lambda: SqlUnitOfWork(engine)


@pytest.fixture(scope="module", params=BACKENDS)
def module_database_url(request: pytest.FixtureRequest,
                        tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Like ``database_url``, but one database per backend for the whole test module."""
    with empty_database(request.param, tmp_path_factory.mktemp("module-db")) as url:
        yield url


@pytest.fixture(scope="module")
def module_uow_factory(module_database_url: str) -> Iterator[Callable[[], SqlUnitOfWork]]:
    """Like ``uow_factory``, on ``module_database_url`` (migrated once for the module)."""
    engine = make_engine(module_database_url)
    upgrade(engine=engine)
    yield lambda: SqlUnitOfWork(engine)
    engine.dispose()


@pytest.fixture
def memory_uow_factory() -> Callable[[], MemoryUnitOfWork]:
    store = MemoryStore()
    return lambda: MemoryUnitOfWork(store)


@pytest.fixture(scope="module")
def module_memory_uow_factory() -> Callable[[], MemoryUnitOfWork]:
    store = MemoryStore()
    return lambda: MemoryUnitOfWork(store)


@pytest.fixture(params=STORES)
def any_uow_factory(request: pytest.FixtureRequest,
                    tmp_path: Path) -> Iterator[Callable[[], MemoryUnitOfWork | SqlUnitOfWork]]:
    """A unit-of-work factory on a fresh store: memory, then each database backend."""
    if request.param == "memory":
        store = MemoryStore()
        yield lambda: MemoryUnitOfWork(store)
        return
    with empty_database(request.param, tmp_path) as url:
        engine = make_engine(url)
        upgrade(engine=engine)
        yield lambda: SqlUnitOfWork(engine)
        engine.dispose()


@pytest.fixture
def clock_start() -> datetime:
    """When ``clock`` starts: override this, not ``clock``, for a scenario set on another day."""
    return T0


@pytest.fixture
def clock(clock_start: datetime) -> FakeClock:
    return FakeClock(clock_start)


@pytest.fixture
def drill(memory_uow_factory: Callable[[], MemoryUnitOfWork]) -> Harness:
    """The restart drill (six tier-1 and four tier-2 contacts), with a FakeClock of its own, on
    the memory store."""
    return make_harness(memory_uow_factory, drill_people())


@pytest.fixture
def sql_drill(uow_factory: Callable[[], SqlUnitOfWork]) -> Harness:
    """``drill`` on a real database (each backend)."""
    return make_harness(uow_factory, drill_people())


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Under pytest-xdist, a worker hands its figures to the controller, which prints them."""
    from tests.figures import FIGURES  # noqa: PLC0415

    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["figures"] = list(FIGURES)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    from tests.figures import FIGURES  # noqa: PLC0415

    FIGURES.extend(getattr(node, "workeroutput", {}).get("figures", []))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from tests.figures import FIGURES  # noqa: PLC0415

    if FIGURES:
        terminalreporter.section("figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
