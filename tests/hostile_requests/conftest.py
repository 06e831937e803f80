"""The whole bot as ``incident-bot serve --http`` builds it (``web_app``: Slack, ``/twilio/``,
``/healthz`` ``/readyz`` ``/metrics``) on waitress over real HTTP, with the fake Slack and the fake
Twilio on loopback, a real database, and time as a FakeClock driven by ``Bot.tick``.

``Bot.snapshot()`` is everything a refused request must leave as it was: incidents, outbox rows,
decision log entries and every ring-round contact's state.
"""

from __future__ import annotations

import http.client
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from incident_bot.domain.commands import ApproveMessage
from incident_bot.domain.decision_log import verify_chain
from incident_bot.domain.directory import Person
from incident_bot.entrypoints.cli.serve import web_app
from incident_bot.entrypoints.slack.app import wire
from incident_bot.entrypoints.slack.edge import SlackEdge
from incident_bot.service.handlers import StartRequest
from incident_bot.settings import Settings
from incident_bot.testing.fake_slack import FakeSlack
from incident_bot.testing.fake_twilio import FakeTwilio, Faults
from tests.fakes import FakeClock
from tests.slack.conftest import SECRET, TOKEN, Server, drain, serve
from tests.twilio.conftest import ACCOUNT_SID, AUTH_TOKEN, DATA, FROM, PUBLIC, T0, contacts

COMMANDER = "U0CMD"  # "cmd" in contacts(): the commander of the twilio-drill playbook
TIER1, TIER2 = 6, 3

Snapshot = dict[str, Any]


def people() -> list[Person]:
    return contacts(TIER1, TIER2)


@dataclass
class Bot:
    clock: FakeClock
    slack: FakeSlack
    twilio: FakeTwilio
    edge: SlackEdge
    server: Server

    def tick(self, seconds: float = 1.0) -> None:
        """``seconds`` of the bot's life, then all the background work that is due."""
        self.clock.advance(seconds=seconds)
        drain(self.edge)

    def start(self, incident_id: str = "inc-hostile", area: str = "Northbridge",
              summary: str = "", approve: bool = True) -> str:
        incidents = self.edge.services.incidents
        incidents.start_incident(StartRequest(
            playbook_id="twilio-drill", area=area, t0=self.clock.now(), started_by="cmd",
            summary=summary), incident_id=incident_id)
        if approve:
            incidents.execute(incident_id, ApproveMessage("drill-sms", 1, by="cmd"))
        drain(self.edge)
        return incident_id

    def step(self, seconds: float = 1.0) -> None:
        """``seconds`` of the bot's life, then one scheduler tick (as ``serve`` runs it)."""
        self.clock.advance(seconds=seconds)
        self.edge.tick()

    def get(self, path: str) -> int:
        return self.server.request("GET", path).status

    def snapshot(self) -> Snapshot:
        with self.edge.services.uow_factory() as uow:
            incidents = sorted(r.id for r in uow.incidents.all())
            outbox = sorted((i.key, i.status) for i in uow.outbox.items())
            decisions = {i: len(uow.decisions.entries(i)) for i in incidents}
        states = {(i, key): c.state.value for i in incidents
                  for key, c in self.contacts(i).items()}
        return {"incidents": incidents, "outbox": outbox, "decisions": decisions,
                "states": states}

    def contacts(self, incident_id: str) -> dict[str, Any]:
        incident = self.edge.services.incidents.incident(incident_id)
        return {key: c for r in incident.ringround.tiers.values() for key, c in r.contacts.items()}

    def duplicates(self) -> int:
        """Texts or calls of the same message version to the same recipient, counted twice."""
        texts = Counter((m["to"], m["body"]) for m in self.twilio.messages)
        calls = Counter(c["to"] for c in self.twilio.calls)
        return sum(n - 1 for n in (*texts.values(), *calls.values()) if n > 1)

    def chain_ok(self, incident_id: str) -> bool:
        with self.edge.services.uow_factory() as uow:
            return verify_chain(uow.decisions.entries(incident_id)).ok


def settings_for(database_url: str, slack: FakeSlack, twilio: FakeTwilio,
                 extra: dict[str, str]) -> Settings:
    return Settings.model_validate({
        "DATABASE_URL": database_url, "INCIDENT_BOT_PLAYBOOKS": str(DATA / "playbooks"),
        "INCIDENT_BOT_TEMPLATES": str(DATA / "templates"), "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": slack.api_url,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM, "TWILIO_API_URL": twilio.url, "TWILIO_HTTP_TIMEOUT": "2",
        "PUBLIC_BASE_URL": PUBLIC, **extra,
    })


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


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


def raw_post(server: Server, path: str, body: bytes, headers: dict[str, str],
             chunked: bool = False) -> int:
    """POST with headers exactly as given (http.client adds Content-Length from the body, or
    sends it in 64 KiB chunks with ``Transfer-Encoding: chunked``)."""
    connection = http.client.HTTPConnection(server.url_host, server.port, timeout=10)
    try:
        if chunked:
            parts = (body[i:i + 65536] for i in range(0, len(body), 65536))
            connection.request("POST", path, body=parts, encode_chunked=True,
                               headers={**headers, "Transfer-Encoding": "chunked"})
        else:
            connection.request("POST", path, body=body, headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from tests.hostile_requests import tally  # noqa: PLC0415 - only when this folder ran

    if tally.REQUESTS or tally.FAULTS:
        terminalreporter.section("hostile requests and faults")
        for line in tally.lines():
            terminalreporter.write_line(line)
