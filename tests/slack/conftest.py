"""The Slack edge under test: the real WebClient against the loopback fake Slack, the real Bolt
app behind the real WSGI app served by waitress on 127.0.0.1, and real signed HTTP requests
(helpers in ``tests/slack/support.py``).

Time is a FakeClock starting at ``START``; background work runs when a test calls ``drain`` (no
scheduler thread).

These tests are about the Slack edge, not the store, so they run on SQLite alone (the
``database_url`` and ``module_database_url`` below). The store's contract runs on both backends
in ``tests/adapters/db``; ``test_http_end_to_end.py`` puts the whole Slack path on both again.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from incident_bot.adapters.directory_import import parse_directory
from incident_bot.entrypoints.slack.app import wire
from incident_bot.entrypoints.slack.edge import SlackEdge
from incident_bot.entrypoints.web import make_web_app
from incident_bot.settings import load_settings
from incident_bot.testing.fake_slack import FakeSlack
from tests.databases import empty_database
from tests.fakes import FakeClock
from tests.slack.support import ROOT, SECRET, START, TOKEN, Server, serve


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    with empty_database("sqlite", tmp_path) as url:
        yield url


@pytest.fixture(scope="module")
def module_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with empty_database("sqlite", tmp_path_factory.mktemp("module-db")) as url:
        yield url


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as slack:
        yield slack


@pytest.fixture
def clock_start() -> datetime:
    """The Slack tests' clock (``clock`` in ``tests/conftest.py``) starts at ``START``, not at
    the drills' ``T0``."""
    return START


@pytest.fixture
def edge(database_url: str, fake_slack: FakeSlack, clock: FakeClock) -> Iterator[SlackEdge]:
    settings = load_settings({"DATABASE_URL": database_url, "SLACK_BOT_TOKEN": TOKEN,
                              "SLACK_SIGNING_SECRET": SECRET,
                              "SLACK_API_URL": fake_slack.api_url}, base=ROOT)
    edge = wire(settings, clock=clock, worker="test")
    roles = {r.code for pb in edge.services.playbooks.playbooks.values() for r in pb.roles}
    people = parse_directory(ROOT / "incident_bot" / "data" / "sample_directory.csv", roles)
    with edge.services.uow_factory() as uow:
        uow.directory.upsert(people.people)
        uow.commit()
    yield edge
    edge.close()
    edge.services.engine.dispose()


@pytest.fixture
def server(edge: SlackEdge) -> Iterator[Server]:
    yield from serve(make_web_app(edge.app))
