"""What the hostile-request tests share: ``Bot``, the whole bot as ``incident-bot serve --http``
builds it, driven over real HTTP and by ``Bot.tick`` on a FakeClock; ``Bot.snapshot()``, everything
a refused request must leave as it was (incidents, outbox rows, decision log entries and every
ring-round contact's state); and ``raw_post``, a POST with headers exactly as given. The ``bot``
fixture is in this package's ``conftest.py``."""

from __future__ import annotations

import http.client
from collections import Counter
from dataclasses import dataclass
from typing import Any

from incident_bot.domain.commands import ApproveMessage
from incident_bot.domain.decision_log import verify_chain
from incident_bot.domain.directory import Person
from incident_bot.entrypoints.slack.edge import SlackEdge
from incident_bot.service.use_cases import StartRequest
from incident_bot.settings import Settings
from incident_bot.testing.fake_slack import FakeSlack
from incident_bot.testing.fake_twilio import FakeTwilio
from tests.fakes import FakeClock
from tests.slack.support import SECRET, TOKEN, Server, drain
from tests.twilio.support import ACCOUNT_SID, AUTH_TOKEN, DATA, FROM, PUBLIC, contacts

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

    def settle(self) -> None:
        """Finish every listener's work for the requests already answered, then stop taking
        Slack requests: Bolt's listener threads (each request's listener was queued there
        before its ack went back), then the edge's work pool. A request handled twice shows
        after this, without waiting for time; the ``bot`` fixture's own close is then a no-op."""
        self.edge.close()
        assert self.edge.queued() == 0

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
