"""The composition root: the one place where settings become objects and objects are wired.

Nothing here runs at import. ``settings_from_environment`` reads the process's settings;
``bootstrap`` builds the database engine (migrated to head), the unit-of-work factory, the
playbook registry, the template store, the use cases, the timer poller and the outbox
dispatcher, with Slack as the chat transport when asked (its client, dashboards and chat
adapter) and Twilio when configured; other transports default to the console unless the caller
passes real ones. ``database`` gives a one-shot CLI command its units of work.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient

from incident_bot.adapters.console import ConsoleTransport
from incident_bot.adapters.db import SqlUnitOfWork, current, make_engine, require_head, upgrade
from incident_bot.adapters.playbook_loader import LoadResult, load_playbooks
from incident_bot.adapters.scheduler import build_scheduler
from incident_bot.adapters.slack.chat import SlackChat, make_client
from incident_bot.adapters.slack.dashboard import Dashboards
from incident_bot.adapters.templates import TemplateStore
from incident_bot.adapters.twilio import build_twilio_ports
from incident_bot.errors import ConfigError
from incident_bot.service.clock import SystemClock
from incident_bot.service.dispatcher import Dispatcher
from incident_bot.service.pacing import Pacing
from incident_bot.service.ports import ChatPort, Clock, SmsPort, UnitOfWork, VoicePort
from incident_bot.service.timers import TimerPoller
from incident_bot.service.use_cases import IncidentService
from incident_bot.settings import Settings, load_settings

log = logging.getLogger("incident_bot.bootstrap")


TIMER_BATCH = 500
OUTBOX_BATCH = 100


@dataclass
class SlackParts:
    """Slack as the chat transport: the process's one WebClient, the channel dashboards, and
    the chat adapter the dispatcher sends through."""

    client: WebClient
    dashboards: Dashboards
    chat: SlackChat


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
    slack: SlackParts | None = None

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

    def scheduler(self, job: Callable[[], None] | None = None,
                  interval_seconds: float | None = None) -> Any:
        """The background scheduler running ``job`` (this tick unless given) every interval."""
        return build_scheduler(job or self.tick, interval_seconds or self.settings.tick_seconds)


def settings_from_environment() -> Settings:
    """This process's settings, from its environment (and ``.env``): read here alone."""
    return load_settings(os.environ)


@contextmanager
def database(settings: Settings, *, migrate: bool) -> Iterator[Callable[[], SqlUnitOfWork]]:
    """Units of work on the configured database, for a one-shot command. With ``migrate`` the
    schema is brought to the newest first (a fresh machine works); without, a schema that is
    not the newest is refused (a database kept as evidence is read as it is)."""
    url = settings.database_url.get_secret_value()
    if migrate:
        upgrade(url)
    engine = make_engine(url)
    try:
        if not migrate:
            require_head(engine)
        yield lambda: SqlUnitOfWork(engine)
    finally:
        engine.dispose()


def migrate_database(settings: Settings) -> None:
    """Bring the configured database to the newest schema."""
    upgrade(settings.database_url.get_secret_value())


def schema_revision(settings: Settings) -> str | None:
    """The configured database's schema revision (None before the first migration)."""
    return current(settings.database_url.get_secret_value())


def socket_mode_handler(app: Any, settings: Settings, client: WebClient) -> Any:
    """Slack Socket Mode for the Bolt ``app`` (SLACK_APP_TOKEN), sharing the process's client."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler  # noqa: PLC0415 - mode only

    if settings.slack_app_token is None:
        raise ConfigError("missing setting(s): SLACK_APP_TOKEN")
    return SocketModeHandler(app, settings.slack_app_token.get_secret_value(), web_client=client)


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
    slack: bool = False,
) -> Services:
    """The whole application. With ``slack``, Slack is the chat transport (SLACK_BOT_TOKEN
    required); otherwise ``chat``, or the console."""
    if slack and settings.slack_bot_token is None:
        raise ConfigError("missing setting(s): SLACK_BOT_TOKEN")
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
    slack_parts = _slack(settings, incidents, uow_factory, clock) if slack else None
    if slack_parts is not None:
        chat = slack_parts.chat
    poller = TimerPoller(uow_factory, clock, worker)
    dispatcher = Dispatcher(uow_factory, clock, incidents, chat or console, sms or console,
                            voice or console, worker=worker, pacing=pacing)
    return Services(settings, engine, uow_factory, clock, playbooks, templates, incidents,
                    poller, dispatcher, slack_parts)


def _slack(settings: Settings, incidents: IncidentService,
           uow_factory: Callable[[], UnitOfWork], clock: Clock) -> SlackParts:
    token = settings.slack_bot_token
    assert token is not None  # checked by bootstrap
    client = make_client(token.get_secret_value(), settings.slack_api_url)
    dashboards = Dashboards(client, incidents, uow_factory, clock)
    return SlackParts(client, dashboards,
                      SlackChat(client, incidents, uow_factory, clock, dashboards))
