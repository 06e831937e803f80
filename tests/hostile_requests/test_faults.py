"""Fault injection on the running bot: Twilio answering 429, 500 (some after accepting), slowly
and past the client's timeout; Slack answering 429 with Retry-After and 500; and, on PostgreSQL,
the bot's database connections killed mid-run. Through it all the bot keeps serving (requests
after each fault succeed, /readyz is 200 again), and it ends with every contact terminal, no
message version sent twice to anyone, and the decision log's chain intact.

Time is the FakeClock; ``Bot.step`` runs the scheduler's tick. Only Twilio's slow answers and
timeouts take real time (a 0.5 s client timeout keeps that short)."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

from incident_bot.adapters.db import normalise_url
from incident_bot.domain.codes import confirmation_code
from incident_bot.domain.ladder import TERMINAL_STATES
from incident_bot.errors import IncidentBotError
from incident_bot.testing.fake_twilio import Faults
from tests.databases import POSTGRES_ENV
from tests.hostile_requests import tally
from tests.hostile_requests.support import COMMANDER, TIER1, TIER2, Bot
from tests.slack.support import command_form, slack_post, wait_for
from tests.twilio.support import phone

TIMEOUT = 0.5  # TWILIO_HTTP_TIMEOUT in this module
MIXED = Faults(rate_429=0.3, rate_500=0.15, accepted_on_500=0.5, slow_rate=0.2,
               slow_seconds=0.2, retry_after=1)
TIMING_OUT = Faults(slow_rate=1.0, slow_seconds=TIMEOUT + 0.3)
# Which faults when (by tick): the SMS go out at tick 0, tier 1's calls about tick 90, tier 2's
# about tick 120. A send meets a 429 (not accepted), then on its retry a 500 (half of them after
# accepting: the next retry must find it), then a timeout (accepted meanwhile: likewise), then a
# slow answer. Every other tick gets the seeded mix.
ALL_429 = Faults(rate_429=1.0, retry_after=1)
ALL_500 = Faults(rate_500=1.0, accepted_on_500=0.5)
SLOW = Faults(slow_rate=1.0, slow_seconds=0.2)
PLAN = {0: ALL_429, 1: ALL_500, 2: TIMING_OUT, 3: SLOW,
        89: ALL_429, 90: ALL_500, 91: TIMING_OUT, 92: SLOW,
        119: ALL_429, 120: ALL_500, 121: TIMING_OUT}
STEP = 10  # simulated seconds per scheduler tick
RUN_MINUTES = 50  # past tier 2's SMS, voice and flag rungs (20 + 20 minutes)
SLACK_FAULTS = [("conversations.create", 500, None, 1), ("chat.postMessage", 429, 7, 3),
                ("chat.postMessage", 500, None, 2), ("chat.update", 429, 3, 2),
                ("chat.update", 500, None, 2)]


@pytest.fixture
def extra_settings() -> dict[str, str]:
    return {"TWILIO_HTTP_TIMEOUT": str(TIMEOUT)}


@pytest.fixture
def tag() -> str:
    return f"hostile-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def bot_database_url(database_url: str, tag: str) -> str:
    """On PostgreSQL the bot's connections carry an application_name, so a fault can kill
    exactly them (other tests share the server and the database)."""
    if not database_url.startswith("postgresql"):
        return database_url
    return f"{database_url}&application_name={quote(tag)}"


class Timed:
    """Counts the fake Twilio's answers that took long (slow ones, and ones past the timeout),
    and how many requests it is still working on."""

    def __init__(self, handle: Callable[..., Any]) -> None:
        self.handle, self.kinds = handle, Counter[str]()
        self.in_flight, self._lock = 0, threading.Lock()

    def __call__(self, *args: Any) -> Any:
        began = time.perf_counter()
        with self._lock:
            self.in_flight += 1
        try:
            answer = self.handle(*args)
        finally:
            with self._lock:
                self.in_flight -= 1
        took = time.perf_counter() - began
        if took >= TIMEOUT:
            self.kinds["twilio timeout"] += 1
        elif took >= 0.15:
            self.kinds["twilio slow"] += 1
        return answer


@pytest.fixture
def timed(bot: Bot) -> Timed:
    timer = Timed(bot.twilio.handle)
    bot.twilio.handle = timer  # type: ignore[method-assign,assignment]
    return timer


def _command(bot: Bot, words: str, name: str) -> str:
    form = command_form(bot.slack, words, user=COMMANDER, trigger=f"trig-{name}", reply=name)
    assert slack_post(bot.server, form).status == 200
    return str(wait_for(lambda: bot.slack.replies(name))[0].args["text"])


def _step(bot: Bot, timed: Timed) -> None:
    """One tick, then (in real time) until Twilio has finished what the bot gave up waiting
    for. On the fake clock a retry's back-off (1-2 s) passes in no real time, so without this
    the retry's lookup could run before the fake, still sleeping, had accepted the request:
    in production the back-off is real seconds and Twilio has answered long before."""
    bot.step(STEP)
    wait_for(lambda: timed.in_flight == 0)


def _answer_contacts(bot: Bot, incident_id: str, done: set[str]) -> None:
    """A third of each tier replies with its code once texted; another third presses 1 when
    called; the rest stay silent (their ladders end at the flag)."""
    for tier, count in ((1, TIER1), (2, TIER2)):
        for n in range(count):
            number = phone(tier, n)
            if number in done:
                continue
            if n % 3 == 0 and bot.twilio.messages_to(number):
                assert bot.twilio.inbound_sms(number, confirmation_code(
                    incident_id, tier)).status == 200
                done.add(number)
            calls = bot.twilio.calls_to(number)
            if n % 3 == 1 and calls:
                bot.twilio.answer_and_press(calls[0]["sid"], "1")
                done.add(number)


def _still_serving(bot: Bot, name: str) -> None:
    assert bot.get("/healthz") == 200
    assert wait_for(lambda: bot.get("/readyz") == 200)
    assert "Twilio drill" in _command(bot, "status", name)


def _ends_consistent(bot: Bot, incident_id: str) -> None:
    states = Counter(c.state for c in bot.contacts(incident_id).values())
    assert set(states) <= TERMINAL_STATES, states
    assert sum(states.values()) == TIER1 + TIER2
    duplicates = bot.duplicates()
    tally.DUPLICATES["twilio sends"] += duplicates
    assert duplicates == 0
    assert bot.chain_ok(incident_id)
    assert bot.get("/readyz") == 200


def _record_twilio(bot: Bot, timed: Timed) -> Counter[str]:
    answers = Counter(r.status for kind in ("Messages", "Calls")
                      for r in bot.twilio.requests_to(kind))
    kinds = Counter({"twilio 429": answers[429], "twilio 500": answers[500], **timed.kinds})
    tally.FAULTS.update(kinds)
    return kinds


def _inject_slack_faults(bot: Bot) -> None:
    for method, status, retry_after, times in SLACK_FAULTS:
        bot.slack.fail_next(method, status=status, retry_after=retry_after, times=times)
        tally.FAULTS[f"slack {method} {status}"] += times


def test_the_bot_keeps_serving_and_ends_consistent_through_provider_faults(
        bot: Bot, timed: Timed) -> None:
    _inject_slack_faults(bot)
    bot.twilio.faults = MIXED
    assert "Started" in _command(bot, "start twilio-drill area=Northbridge", "start")
    incident_id = bot.edge.services.incidents.open_incident_ids()[0]
    _command(bot, "message approve drill-sms 1", "approve")
    done: set[str] = set()
    for step in range(RUN_MINUTES * 60 // STEP):
        bot.twilio.faults = PLAN.get(step, MIXED)
        _step(bot, timed)
        _answer_contacts(bot, incident_id, done)
        if step in (1, 91):
            _still_serving(bot, f"status-{step}")
    bot.twilio.faults = Faults()
    _still_serving(bot, "status-end")

    kinds = _record_twilio(bot, timed)
    assert all(kinds[k] > 0 for k in ("twilio 429", "twilio 500", "twilio timeout",
                                      "twilio slow")), kinds
    assert bot.slack.channel_named(incident_id) is not None
    _ends_consistent(bot, incident_id)


def _kill_connections(tag: str) -> int:
    admin = create_engine(normalise_url(os.environ[POSTGRES_ENV]), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            return len(connection.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND application_name = :tag"), {"tag": tag}).all())
    finally:
        admin.dispose()


@pytest.mark.backends("postgres")
def test_the_bot_survives_its_database_connections_being_killed(
        bot: Bot, timed: Timed, tag: str) -> None:
    bot.twilio.faults = MIXED
    assert "Started" in _command(bot, "start twilio-drill area=Northbridge", "start")
    incident_id = bot.edge.services.incidents.open_incident_ids()[0]
    _command(bot, "message approve drill-sms 1", "approve")
    done: set[str] = set()
    killed = failed_ticks = 0
    for step in range(RUN_MINUTES * 60 // STEP):
        if step in (1, 40, 120):
            killed += _kill_connections(tag)
            tally.FAULTS["database connections killed"] += 1
        try:
            _step(bot, timed)
        except IncidentBotError:  # the scheduler logs a failed tick and runs the next one
            failed_ticks += 1
        _answer_contacts(bot, incident_id, done)
        if step in (1, 40):
            _still_serving(bot, f"status-{step}")
    bot.twilio.faults = Faults()

    assert killed >= 3, "the kills should have found the bot's connections"
    assert failed_ticks == 0
    _record_twilio(bot, timed)
    _ends_consistent(bot, incident_id)
