"""The restart drill as the service tests, the personal-data tests and the dispatcher's pacing
tests run it: the real use cases, poller and dispatcher on the unit-of-work factory given (the
memory store or a database), with an injected clock (starting at ``T0``) and recording
transports. ``drill`` (memory) and ``sql_drill`` (each database backend) in
``tests/conftest.py`` are this harness with the standard contacts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from incident_bot.adapters.playbook_loader import load_playbooks
from incident_bot.adapters.templates import TemplateStore
from incident_bot.domain.directory import Person
from incident_bot.domain.playbook import Channel
from incident_bot.service.dispatcher import Dispatcher
from incident_bot.service.timers import TimerPoller
from incident_bot.service.use_cases import IncidentService
from tests.fakes import T0, FakeClock, RecordingChat, RecordingSms, RecordingVoice

DRILL = Path(__file__).parent / "data" / "restart"


def drill_people(tier1: int = 6, tier2: int = 4) -> list[Person]:
    commander = Person(key="cmd", name="Helen Marsh", roles=("commander",),
                       slack_user_id="U0CMD", channels=(Channel.SLACK,))
    contacts = [
        Person(key=f"t{tier}-{n}", name=f"Contact {tier}-{n}", tier=tier,
               phone=f"+4477009{tier}{n:04d}", language="en",
               channels=(Channel.SMS, Channel.VOICE))
        for tier, count in ((1, tier1), (2, tier2)) for n in range(count)
    ]
    return [commander, *contacts]


@dataclass
class Harness:
    clock: FakeClock
    chat: RecordingChat
    sms: RecordingSms
    voice: RecordingVoice
    incidents: IncidentService
    poller: TimerPoller
    dispatcher: Dispatcher
    uow_factory: object

    def tick(self) -> None:
        """Fire every due timer and send everything sendable, until nothing is left."""
        while self.poller.fire_due() + self.dispatcher.dispatch():
            pass

    def advance(self, **delta: float) -> None:
        self.clock.advance(**delta)
        self.tick()


def make_harness(uow_factory, people: list[Person], clock: FakeClock | None = None) -> Harness:
    clock = clock or FakeClock(T0)
    with uow_factory() as uow:
        uow.directory.upsert(people)
        uow.commit()
    loaded = load_playbooks([DRILL / "playbooks"], DRILL / "templates")
    assert not [p for p in loaded.problems if p.severity == "error"], loaded.problems
    incidents = IncidentService(uow_factory, clock, loaded.playbooks,
                                TemplateStore(DRILL / "templates"), zone="Europe/London")
    chat, sms, voice = RecordingChat(), RecordingSms(), RecordingVoice()
    return Harness(
        clock, chat, sms, voice, incidents, TimerPoller(uow_factory, clock, "test"),
        Dispatcher(uow_factory, clock, incidents, chat, sms, voice, worker="test"),
        uow_factory,
    )
