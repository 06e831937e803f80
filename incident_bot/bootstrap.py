"""The composition root: the one place where settings become objects and objects are wired.

Nothing here runs at import. ``bootstrap`` builds the database engine (migrated to head), the
unit-of-work factory, the playbook registry, the template store, the use cases, the timer poller
and the outbox dispatcher; transports default to the console unless the caller passes real ones.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from incident_bot.adapters.console import ConsoleTransport
from incident_bot.adapters.db import SqlUnitOfWork, make_engine, upgrade
from incident_bot.adapters.playbook_loader import LoadResult, load_playbooks
from incident_bot.adapters.scheduler import build_scheduler
from incident_bot.adapters.templates import TemplateStore
from incident_bot.adapters.twilio import build_twilio_ports
from incident_bot.service.clock import SystemClock
from incident_bot.service.dispatcher import Dispatcher
from incident_bot.service.handlers import IncidentService
from incident_bot.service.pacing import Pacing
from incident_bot.service.ports import ChatPort, Clock, SmsPort, UnitOfWork, VoicePort
from incident_bot.service.timers import TimerPoller
from incident_bot.settings import Settings

log = logging.getLogger("incident_bot.bootstrap")


TIMER_BATCH = 500
OUTBOX_BATCH = 100


@dataclass
class Services:
    settings: Settings
    engine: Any
    uow_factory: Callable[[], UnitOfWork]
    clock: Clock
    playbooks: LoadResult
    templates: TemplateStore
    incidents: IncidentService
    poller: TimerPoller
    dispatcher: Dispatcher

    def tick(self, max_batches: int = 20) -> None:
        """One round of background work: fire due timers, then send what is due. A backlog
        (after a restart, or thousands of rungs falling due together) is worked through in
        batches within this tick, up to ``max_batches``, so it is not drained at one batch a
        second."""
        for _ in range(max_batches):
            if self.poller.fire_due(TIMER_BATCH) < TIMER_BATCH:
                break
        for _ in range(max_batches):  # until the pace or the queue is used up
            if self.dispatcher.dispatch(OUTBOX_BATCH) == 0:
                break

    def scheduler(self, interval_seconds: float | None = None) -> Any:
        return build_scheduler(self.tick, interval_seconds or self.settings.tick_seconds)


def default_worker_name() -> str:
    return f"{socket.gethostname()}-{id(object()):x}"


def bootstrap(
    settings: Settings,
    *,
    clock: Clock | None = None,
    chat: ChatPort | None = None,
    sms: SmsPort | None = None,
    voice: VoicePort | None = None,
    worker: str | None = None,
    migrate: bool = True,
    pacing: Pacing | None = None,
) -> Services:
    url = settings.database_url.get_secret_value()
    if migrate:
        upgrade(url)
    engine = make_engine(url)
    clock = clock or SystemClock()
    worker = worker or default_worker_name()

    def uow_factory() -> UnitOfWork:
        return SqlUnitOfWork(engine)

    templates = TemplateStore(settings.templates_dir)
    playbooks = load_playbooks([settings.playbooks_dir], settings.templates_dir)
    for problem in playbooks.problems:
        log.warning("playbook.problem %s", problem)
    console = ConsoleTransport(sink=lambda *_: None)
    if settings.twilio_configured and sms is None and voice is None:
        sms, voice = build_twilio_ports(settings)
        pacing = pacing or Pacing(settings.sms_per_second, settings.twilio_call_rate)
    incidents = IncidentService(uow_factory, clock, playbooks.playbooks, templates,
                                zone=settings.timezone)
    poller = TimerPoller(uow_factory, clock, worker)
    dispatcher = Dispatcher(uow_factory, clock, incidents, chat or console, sms or console,
                            voice or console, worker=worker, pacing=pacing)
    return Services(settings, engine, uow_factory, clock, playbooks, templates, incidents,
                    poller, dispatcher)
