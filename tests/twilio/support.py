"""What the Twilio tests share: the fake account's credentials and numbers, tier contacts with
only SMS and voice, the settings for the Twilio drill, and ``Stack`` (the real bot, bootstrapped
on the real database with an injected clock, Twilio's webhooks served by ``make_twilio_app`` on a
real HTTP server in a thread). The fixtures are in this package's ``conftest.py``."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from incident_bot.bootstrap import Services, bootstrap
from incident_bot.domain.commands import ApproveMessage
from incident_bot.domain.directory import Person
from incident_bot.domain.playbook import Channel
from incident_bot.entrypoints.twilio.webhooks import make_twilio_app
from incident_bot.service.use_cases import StartRequest
from incident_bot.settings import Settings
from incident_bot.testing.fake_twilio import FakeTwilio
from tests.fakes import FakeClock, RecordingChat

DATA = Path(__file__).parent / "data"
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "test-auth-token-not-a-secret-0001"
PUBLIC = "https://bot.example.org"
FROM = "+447700900000"
LANGUAGES = ("en", "pl", "so")


def phone(tier: int, n: int) -> str:
    return f"+4477009{tier}{n:04d}"


def contacts(tier1: int = 6, tier2: int = 3) -> list[Person]:
    """Tier contacts with no Slack, only SMS and voice, in English, Polish and Somali."""
    commander = Person(key="cmd", name="Helen Marsh", roles=("commander",),
                       slack_user_id="U0CMD", channels=(Channel.SLACK,))
    people = [
        Person(key=f"t{tier}-{n}", name=f"Contact {tier}-{n}", tier=tier, phone=phone(tier, n),
               language=LANGUAGES[n % len(LANGUAGES)], channels=(Channel.SMS, Channel.VOICE))
        for tier, count in ((1, tier1), (2, tier2)) for n in range(count)
    ]
    return [commander, *people]


def settings_for(database_url: str, twilio: FakeTwilio, **extra: str) -> Settings:
    return Settings.model_validate({
        "DATABASE_URL": database_url, "INCIDENT_BOT_PLAYBOOKS": str(DATA / "playbooks"),
        "INCIDENT_BOT_TEMPLATES": str(DATA / "templates"), "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_FROM_NUMBER": FROM,
        "TWILIO_API_URL": twilio.url, "TWILIO_HTTP_TIMEOUT": "2", "PUBLIC_BASE_URL": PUBLIC,
        **extra,
    })


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Silent: no request lines in the test output."""


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


@dataclass
class Stack:
    clock: FakeClock
    twilio: FakeTwilio
    services: Services
    chat: RecordingChat

    def tick(self, seconds: float = 1.0) -> None:
        """One second of the bot's life: fire due timers, send what the pace allows."""
        self.clock.advance(seconds=seconds)
        self.services.tick()

    def run(self, seconds: int) -> None:
        for _ in range(seconds):
            self.tick()

    def start(self, approve: bool = True) -> str:
        incidents = self.services.incidents
        incident_id = incidents.start_incident(StartRequest(
            playbook_id="twilio-drill", area="Northbridge", t0=self.clock.now(),
            started_by="cmd"), incident_id="inc-twilio")
        if approve:
            incidents.execute(incident_id, ApproveMessage("drill-sms", 1, by="cmd"))
        self.services.tick()
        return incident_id

    def tier(self, incident_id: str, number: int) -> Any:
        return next(t for t in self.services.incidents.view(incident_id).tiers
                    if t.number == number)

    def contact_state(self, incident_id: str, key: str) -> str:
        _, contact = self.services.incidents.incident(incident_id).ringround.find(key)
        return contact.state.value


def serve(app: Any) -> tuple[str, _ThreadingServer]:
    server = make_server("127.0.0.1", 0, app, server_class=_ThreadingServer,
                         handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True,
                     name="twilio-webhooks").start()
    return f"http://127.0.0.1:{server.server_port}", server


def make_stack(database_url: str, twilio: FakeTwilio, clock: FakeClock,
               people: list[Person], **extra: str) -> tuple[Stack, _ThreadingServer]:
    settings = settings_for(database_url, twilio, **extra)
    chat = RecordingChat()
    services = bootstrap(settings, clock=clock, chat=chat, worker="test")
    with services.uow_factory() as uow:
        uow.directory.upsert(people)
        uow.commit()
    url, server = serve(make_twilio_app(services.incidents, settings))
    twilio.app_url = url
    return Stack(clock, twilio, services, chat), server
