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
  other scopes.
- ``@pytest.mark.backends("postgres")``: run a test only on the listed backends (for behaviour
  only one backend has, e.g. ``SKIP LOCKED``); its other parametrisations are deselected.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from incident_bot.adapters.db import SqlUnitOfWork, make_engine, normalise_url, upgrade

# pytest-xdist's workers inherit COLUMNS=80; a rich Console made while it is set keeps that
# width for good, so the CLI tests' own COLUMNS would not take (they pass without xdist).
for _name in ("COLUMNS", "LINES"):
    os.environ.pop(_name, None)

POSTGRES_ENV = "TEST_DATABASE_URL"
BACKENDS = ["sqlite"] + (["postgres"] if os.environ.get(POSTGRES_ENV) else [])


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "backends(*names): run a database test only on these backends "
                   "(sqlite, postgres)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    keep, drop = [], []
    for item in items:
        (keep if _runs_on_its_backend(item) else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _runs_on_its_backend(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("backends")
    callspec = getattr(item, "callspec", None)
    if marker is None or callspec is None:
        return True
    for name in ("database_url", "module_database_url"):
        if name in callspec.params:
            return callspec.params[name] in marker.args
    return True


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
