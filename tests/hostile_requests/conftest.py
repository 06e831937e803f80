"""The whole bot as ``incident-bot serve --http`` builds it (``web_app``: Slack, ``/twilio/``,
``/healthz`` ``/readyz`` ``/metrics``) on waitress over real HTTP, with the fake Slack and the fake
Twilio on loopback, a real database, and time as ``tests/conftest.py``'s FakeClock (at the drills'
``T0``) driven by ``Bot.tick`` (``Bot`` and the request helpers are in
``tests/hostile_requests/support.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from incident_bot.entrypoints.cli.serve import web_app
from incident_bot.entrypoints.slack.app import wire
from incident_bot.testing.fake_slack import FakeSlack
from incident_bot.testing.fake_twilio import FakeTwilio, Faults
from tests.fakes import FakeClock
from tests.hostile_requests.support import Bot, people, settings_for
from tests.slack.support import serve
from tests.twilio.support import ACCOUNT_SID, AUTH_TOKEN, PUBLIC


@pytest.fixture
def extra_settings() -> dict[str, str]:
    """Settings a test module overrides (e.g. a shorter Twilio timeout)."""
    return {}


@pytest.fixture
def bot_database_url(database_url: str) -> str:
    """The bot's database URL (a module may tag its PostgreSQL connections)."""
    return database_url


@pytest.fixture
def bot(bot_database_url: str, clock: FakeClock,
        extra_settings: dict[str, str]) -> Iterator[Bot]:
    with FakeSlack() as slack, FakeTwilio(ACCOUNT_SID, AUTH_TOKEN, clock=clock.now,
                                          faults=Faults(), public_base_url=PUBLIC) as twilio:
        settings = settings_for(bot_database_url, slack, twilio, extra_settings)
        edge = wire(settings, clock=clock, worker="test")
        with edge.services.uow_factory() as uow:
            uow.directory.upsert(people())
            uow.commit()
        try:
            for server in serve(web_app(edge, settings)):
                twilio.app_url = f"http://{server.url_host}:{server.port}"
                yield Bot(clock, slack, twilio, edge, server)
        finally:
            edge.close()
            edge.services.engine.dispose()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from tests.hostile_requests import tally  # noqa: PLC0415 - only when this folder ran

    if tally.REQUESTS or tally.FAULTS:
        terminalreporter.section("hostile requests and faults")
        for line in tally.lines():
            terminalreporter.write_line(line)
