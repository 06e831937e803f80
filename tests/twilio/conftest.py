"""Twilio fixtures: the fake Twilio API on loopback, the real bot (bootstrap, real database,
injected clock) sending through the real twilio Client to it, and Twilio's webhooks served by
``make_twilio_app`` on a real HTTP server in a thread (helpers in ``tests/twilio/support.py``;
``clock`` is ``tests/conftest.py``'s, starting at the drills' ``T0``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from incident_bot.testing.fake_twilio import FakeTwilio, Faults
from tests.fakes import FakeClock
from tests.twilio.support import ACCOUNT_SID, AUTH_TOKEN, PUBLIC, Stack, contacts, make_stack


@pytest.fixture
def twilio(clock: FakeClock) -> Iterator[FakeTwilio]:
    with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN, clock=clock.now, faults=Faults(),
                    public_base_url=PUBLIC) as fake:
        yield fake


@pytest.fixture
def stack(database_url: str, twilio: FakeTwilio, clock: FakeClock) -> Iterator[Stack]:
    built, server = make_stack(database_url, twilio, clock, contacts())
    yield built
    server.shutdown()
    server.server_close()
    built.services.engine.dispose()
