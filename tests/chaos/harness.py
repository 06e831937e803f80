"""What the chaos tests share: bot processes (``bot_process.py``) on loopback, the simulated clock
file, the fake Slack and fake Twilio, a Slack commander who starts the ring-round, a model of the
people answering (Twilio's webhooks), the "nothing left to do at this instant" check, and the
count of duplicate sends."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Engine, or_, select, true
from sqlalchemy.orm import Session

from incident_bot.adapters.db import SqlUnitOfWork
from incident_bot.adapters.db.tables import OutboxRow, PaceRow, TimerRow
from incident_bot.domain.decision_log import verify_chain
from incident_bot.domain.directory import Person
from incident_bot.domain.playbook import Channel
from incident_bot.domain.ringround import RingRound
from incident_bot.entrypoints.slack.edge import request_incident_id
from incident_bot.testing.fake_slack import FakeSlack
from incident_bot.testing.fake_twilio import FakeTwilio, Faults, WebhookReply
from tests.chaos.bot_process import write_atomically
from tests.slack.support import Server, command_form, slack_post
from tests.twilio.support import ACCOUNT_SID, AUTH_TOKEN, DATA, FROM, LANGUAGES, PUBLIC

ROOT = Path(__file__).parents[2]
BOT = Path(__file__).with_name("bot_process.py")
SECRET = "test-signing-secret-0123456789"  # tests.slack.support signs with this one
COMMANDER = "U0CMD"
T0 = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)
LEASE = timedelta(seconds=61)  # the dispatcher's and the poller's leases are 60 s
WAIT = 180.0  # wall-clock bound on waiting for a process; never a pause for simulated time
PHONE = ("sms", "voice")


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


# ---- the directory ----------------------------------------------------------------------------


def phone(n: int) -> str:
    return f"+447700{n:06d}"


def people(contacts: int) -> list[Person]:
    """A Slack commander and ``contacts`` SMS/voice contacts (tier 1 then 2, three languages)."""
    commander = Person(key="cmd", name="Helen Marsh", roles=("commander",),
                       slack_user_id=COMMANDER, channels=(Channel.SLACK,))
    half = contacts // 2
    return [commander, *(
        Person(key=f"c{n:04d}", name=f"Contact {n}", tier=1 if n < half else 2,
               phone=phone(n), language=LANGUAGES[n % len(LANGUAGES)],
               channels=(Channel.SMS, Channel.VOICE)) for n in range(contacts))]


# ---- the clock file ---------------------------------------------------------------------------


@dataclass
class SimClock:
    path: Path
    now: datetime = T0

    def __post_init__(self) -> None:
        self.set(self.now)

    def set(self, now: datetime) -> None:
        self.now = now
        write_atomically(self.path, str(now.timestamp()))

    def read(self) -> datetime:
        return datetime.fromtimestamp(float(self.path.read_text()), UTC)


# ---- bot processes ----------------------------------------------------------------------------


def bot_env(database_url: str, slack: FakeSlack, twilio: FakeTwilio,
            **extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": database_url,
            "SLACK_BOT_TOKEN": "xoxb-test-token", "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.api_url, "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_FROM_NUMBER": FROM,
            "TWILIO_API_URL": twilio.url, "TWILIO_HTTP_TIMEOUT": "5",
            "PUBLIC_BASE_URL": PUBLIC, "INCIDENT_BOT_PLAYBOOKS": str(DATA / "playbooks"),
            "INCIDENT_BOT_TEMPLATES": str(DATA / "templates"),
            "INCIDENT_BOT_LOG_LEVEL": "WARNING", **extra}


@dataclass
class Bot:
    """One ``bot_process.py``: start it, wait until it serves, SIGKILL it."""

    name: str
    env: dict[str, str]
    clock: SimClock
    tmp: Path
    process: subprocess.Popen[bytes] | None = None
    port: int = 0
    starts: int = 0

    @property
    def ready_file(self) -> Path:
        return self.tmp / f"{self.name}.port"

    @property
    def stderr(self) -> Path:
        return self.tmp / f"{self.name}.err"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        self.ready_file.unlink(missing_ok=True)
        with self.stderr.open("ab") as err:
            self.process = subprocess.Popen(
                [sys.executable, str(BOT), str(self.clock.path), str(self.ready_file)],
                env=self.env, stderr=err, stdout=subprocess.DEVNULL)
        self.starts += 1
        deadline = time.monotonic() + WAIT
        while not self.ready_file.exists():
            assert self.alive, self.stderr.read_text()[-3000:]
            assert time.monotonic() < deadline, "the bot did not start serving"
            time.sleep(0.02)
        self.port = int(self.ready_file.read_text())

    @property
    def worker(self) -> str:
        """The worker name its leases carry (``bot_process.py`` puts its pid in it)."""
        assert self.process is not None
        return f"chaos-bot-{self.process.pid}"

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=WAIT)

    def stop(self) -> None:
        if self.alive:
            self.kill()

    def server(self) -> Server:
        return Server("127.0.0.1", self.port)


# ---- the Slack commander ----------------------------------------------------------------------


def start_ringround(bot: Bot, slack: FakeSlack, engine: Engine) -> str:
    """``/incident start twilio-drill`` then ``/incident message approve drill-sms 1``, both
    signed, from the commander in Slack; returns the incident id once the texts are queued."""
    trigger = "trig-chaos-start"
    incident_id = request_incident_id(trigger)
    reply = slack_post(bot.server(), command_form(
        slack, "start twilio-drill area=Northbridge", user=COMMANDER, trigger=trigger))
    assert reply.status == 200, reply.body
    wait_for(lambda: incident_exists(engine, incident_id), "the incident to start")
    reply = slack_post(bot.server(), command_form(
        slack, f"message approve drill-sms 1 incident={incident_id}", user=COMMANDER,
        trigger="trig-chaos-approve"))
    assert reply.status == 200, reply.body
    wait_for(lambda: phone_rows(engine, incident_id), "the texts to be queued")
    return incident_id


def incident_exists(engine: Engine, incident_id: str) -> bool:
    with SqlUnitOfWork(engine) as uow:
        return incident_id in {record.id for record in uow.incidents.all()}


def phone_rows(engine: Engine, incident_id: str) -> int:
    with Session(engine) as session:
        return len(session.scalars(select(OutboxRow.id).where(
            OutboxRow.incident_id == incident_id, OutboxRow.channel == "sms")).all())


def wait_for(condition: Callable[[], Any], what: str, alive: Callable[[], bool] = lambda: True,
             ) -> Any:
    deadline = time.monotonic() + WAIT
    while not (result := condition()):
        assert alive(), f"a bot died while waiting for {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)
    return result


# ---- the people at the other end: Twilio's webhooks -------------------------------------------


class RoutedTwilio(FakeTwilio):
    """The fake Twilio, whose webhooks go to the replica the *calling thread* chose (``app_url``
    is per thread), so several threads can post to several replicas at once. Every request is
    still signed over PUBLIC_BASE_URL + path, the address all replicas share."""

    _local = threading.local()

    @property  # type: ignore[override]
    def app_url(self) -> str | None:
        return getattr(self._local, "app_url", None)

    @app_url.setter
    def app_url(self, url: str | None) -> None:
        self._local.app_url = url



@dataclass
class People:
    """How each contact answers, drawn once per contact from a seeded stream: replies with the
    code, texts STOP, or never sees the text (undelivered: the bot calls at once) or ignores it
    (the bot calls after the SMS rung's timeout); on the call, presses 1, the call fails, or
    nobody answers (flagged after the voice rung's timeout)."""

    twilio: FakeTwilio
    codes: dict[str, str]  # phone -> the tier's confirmation code
    seed: int
    targets: Callable[[], list[str]]  # the replicas' URLs the webhooks are spread over
    threads: int = 1  # webhooks posted at once (Twilio sends them concurrently)
    handled: set[str] = field(default_factory=set)
    posted: Counter[str] = field(default_factory=Counter)
    by_target: Counter[str] = field(default_factory=Counter)
    _turn: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def answer_new(self) -> int:
        """Play every webhook for messages and calls the fake has received since last time."""
        fresh = [m for m in list(self.twilio.messages) + list(self.twilio.calls)
                 if m["sid"] not in self.handled]
        self.handled.update(m["sid"] for m in fresh)
        if self.threads == 1:
            for resource in fresh:
                self._answer(resource)
        else:
            with ThreadPoolExecutor(self.threads) as pool:
                list(pool.map(self._answer, fresh))
        return len(fresh)

    def _answer(self, resource: dict[str, Any]) -> None:
        if resource["sid"].startswith("SM"):
            self._text(resource)
        else:
            self._call(resource)

    def _draw(self, number: str, channel: str) -> float:
        return random.Random(f"{self.seed}:{number}:{channel}").random()

    def _text(self, message: dict[str, Any]) -> None:
        draw, to = self._draw(message["to"], "sms"), message["to"]
        if draw < 0.03:
            self._post(lambda: self.twilio.inbound_sms(to, "STOP"), "stop")
        elif draw < 0.38:
            self._post(lambda: self.twilio.status_callback(message["sid"], "delivered"),
                       "sms.delivered")
            self._post(lambda: self.twilio.inbound_sms(to, f"ok {self.codes[to]}"), "reply")
        elif draw < 0.60:
            self._post(lambda: self.twilio.status_callback(message["sid"], "undelivered",
                                                           30003), "sms.undelivered")
        else:
            self._post(lambda: self.twilio.status_callback(message["sid"], "delivered"),
                       "sms.delivered")

    def _call(self, call: dict[str, Any]) -> None:
        draw = self._draw(call["to"], "voice")
        if draw < 0.5:
            self._post(lambda: self.twilio.answer_and_press(call["sid"], "1"), "voice.pressed")
        elif draw < 0.7:
            path = call["_status_callback"].removeprefix(PUBLIC)
            params = {"CallSid": call["sid"], "AccountSid": ACCOUNT_SID, "To": call["to"],
                      "From": call["from"], "CallStatus": "failed", "ApiVersion": "2010-04-01"}
            self._post(lambda: self.twilio.post_webhook(path, params), "voice.failed")

    def _post(self, send: Callable[[], WebhookReply], what: str) -> None:
        """Post to the next replica (round-robin); like Twilio, try again if it is down."""
        for attempt in range(10):
            urls = self.targets()
            with self._lock:
                url = urls[self._turn % len(urls)]
                self._turn += 1
            self.twilio.app_url = url  # this thread's target
            try:
                reply = send()
            except (urllib.error.URLError, ConnectionError):
                reply = None
            if reply is not None and reply.status < 500:
                assert reply.status in (200, 204), (what, reply)
                with self._lock:
                    self.posted[what] += 1
                    self.by_target[url] += 1
                return
            time.sleep(0.05 * (attempt + 1))
        raise AssertionError(f"webhook {what} kept failing")


def tier_codes(engine: Engine, incident_id: str, directory: list[Person]) -> dict[str, str]:
    ringround = ringround_of(engine, incident_id)
    codes = {n: t.code for n, t in ringround.tiers.items()}
    return {p.phone: codes[p.tier] for p in directory if p.phone and p.tier}


def ringround_of(engine: Engine, incident_id: str) -> RingRound:
    with SqlUnitOfWork(engine) as uow:
        return uow.incidents.get(incident_id).incident.ringround


# ---- the run: clock, webhooks, kills ----------------------------------------------------------


@dataclass
class Chaos:
    """Moves the simulated clock from one instant where something falls due to the next, waits
    (bounded, wall clock) at each until the bots have done all they can, plays the contacts'
    answers, and SIGKILLs a bot (a seeded choice) whenever the fake has accepted the next number
    of texts and calls in ``kill_after``; with ``respawn`` the bot is started again."""

    bots: list[Bot]
    clock: SimClock
    engine: Engine
    twilio: FakeTwilio
    rates: Rates
    kill_after: list[int]
    respawn: bool
    rng: random.Random
    incident_id: str = ""
    kills: int = 0
    leased_at_kill: int = 0
    dead: list[Bot] = field(default_factory=list)
    downtime: list[float] = field(default_factory=list)
    waited: float = 0.0  # wall seconds spent waiting for the bots to settle
    answering: float = 0.0  # wall seconds spent posting webhooks

    def live(self) -> list[Bot]:
        return [b for b in self.bots if b not in self.dead]

    def urls(self) -> list[str]:
        return [b.url for b in self.live()]

    def sends(self) -> int:
        return len(self.twilio.messages) + len(self.twilio.calls)

    def run(self, people_: People, end: datetime) -> None:
        while True:
            self.settle()
            began = time.monotonic()
            answered = people_.answer_new()
            self.answering += time.monotonic() - began
            if answered:
                continue  # the answers may have queued more work at this instant (calls)
            after = next_instant(self.engine, self.clock.now)
            if after is None or after > end:
                return
            self.clock.set(after)

    def settle(self) -> None:
        began = time.monotonic()
        deadline = began + WAIT
        while not settled(self.engine, self.clock.now, self.rates):
            if self.kill_after and self.sends() >= self.kill_after[0]:
                self.kill_after.pop(0)
                self.crash()
                deadline = time.monotonic() + WAIT
            for bot in self.live():
                assert bot.alive, bot.stderr.read_text()[-3000:]
            assert time.monotonic() < deadline, "the bots did not catch up"
            time.sleep(0.005)
        self.waited += time.monotonic() - began

    def crash(self) -> None:
        victim = self.rng.choice(self.live())
        victim.kill()
        self.kills += 1
        self.leased_at_kill += sum(r.status == "sending" for r in outbox_rows(
            self.engine, self.incident_id))
        survivors = {b.worker for b in self.live() if b is not victim}
        if survivors:
            # Settled, the dead bot's leases aside: a survivor that read the clock before the
            # jump below must find nothing left to send at that instant, or its sends, granted
            # by the old second's pace, would be stamped in the new one.
            wait_for(lambda: settled(self.engine, self.clock.now, self.rates,
                                     ignoring={victim.worker}), "the survivors' work in hand")
        # A send the dead bot had written before it died is still Twilio's to accept, at this
        # instant: stamped after the clock moved, it would count against the next second's pace.
        wait_for(lambda: self.twilio.in_flight == 0, "the fake's requests in hand")
        began = time.monotonic()
        # The dead bot's leases run out meanwhile. (Moving the clock while a survivor is still
        # sending would stamp its sends with the new time, as if granted then.)
        self.clock.set(self.clock.now + LEASE)
        if self.respawn:
            victim.start()
            self.downtime.append(time.monotonic() - began)
        else:
            self.dead.append(victim)


# ---- "nothing more happens at this instant" ---------------------------------------------------


@dataclass(frozen=True)
class Rates:
    sms: float
    voice: float
    burst: float = 1.0

    def of(self, channel: str) -> float:
        return self.sms if channel == "sms" else self.voice


def settled(engine: Engine, now: datetime, rates: Rates,
            ignoring: Collection[str] = ()) -> bool:
    """No timer due, nothing leased, and nothing due that the shared pace would let go now;
    what the workers in ``ignoring`` (a killed bot) hold does not count.

    The pace is read first: a claim takes the pace and leases its rows in one transaction, so
    a pace seen spent means its rows are seen leased (or sent) by the later reads. (Read the
    other way round, a claim landing between the reads looks settled while it is sending.)"""
    with Session(engine) as session:
        paces = {row.channel: _aware(row.tat) for row in session.scalars(select(PaceRow))}
        timers = session.scalar(select(TimerRow.id).where(
            TimerRow.status.in_(("pending", "leased")), TimerRow.due_at <= now,
            _not_held(TimerRow, "leased", ignoring)).limit(1))
        if timers is not None:
            return False
        rows = session.execute(select(OutboxRow.channel, OutboxRow.status).where(
            ((OutboxRow.status == "sending") & _not_held(OutboxRow, "sending", ignoring))
            | ((OutboxRow.status == "pending") & (OutboxRow.next_attempt_at <= now)))).all()
        waiting = {channel for channel, status in rows}
        if any(status == "sending" for _, status in rows) or waiting - set(PHONE):
            return False
    return all(_pace_spent(paces.get(c), now, rates.of(c), rates.burst) for c in waiting)


def _not_held(table: Any, leased: str, workers: Collection[str]) -> ColumnElement[bool]:
    """Rows not leased by any of ``workers``."""
    if not workers:
        return true()
    return or_(table.status != leased, table.worker.is_(None),
               table.worker.not_in(list(workers)))


def _pace_spent(tat: datetime | None, now: datetime, rate: float, burst: float) -> bool:
    return tat is not None and (now + timedelta(seconds=burst) - tat).total_seconds() * rate < 1


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def next_instant(engine: Engine, now: datetime) -> datetime | None:
    """When something next falls due: a second on if paced sends wait, else the next timer or
    retry; None when nothing is left."""
    with Session(engine) as session:
        waiting = session.scalar(select(OutboxRow.id).where(
            OutboxRow.status == "pending", OutboxRow.next_attempt_at <= now).limit(1))
        if waiting is not None:
            return now + timedelta(seconds=1)
        timer = session.scalar(select(TimerRow.due_at).where(
            TimerRow.status.in_(("pending", "leased"))).order_by(TimerRow.due_at).limit(1))
        retry = session.scalar(select(OutboxRow.next_attempt_at).where(
            OutboxRow.status == "pending").order_by(OutboxRow.next_attempt_at).limit(1))
    candidates = [_aware(t) for t in (timer, retry) if t is not None]
    return max(min(candidates), now + timedelta(seconds=1)) if candidates else None


# ---- what was sent, and what went twice -------------------------------------------------------


@dataclass
class Sends:
    """The fake's records matched to outbox rows (by the outbox id in the callback URLs)."""

    by_row: dict[int, list[dict[str, Any]]]
    logic_duplicates: list[tuple[str, str]]  # (channel, masked number): sent by two rows
    window_resends: int  # one row sent twice: Twilio accepted, the bot died before recording

    @property
    def total(self) -> int:
        return sum(len(v) for v in self.by_row.values())


def outbox_id(resource: dict[str, Any]) -> int:
    url = resource.get("_status_callback") if resource["sid"].startswith("SM") else \
        resource["_url"]
    return next(int(part) for part in str(url).removeprefix(PUBLIC).split("/") if part.isdigit())


def count_sends(twilio: FakeTwilio) -> Sends:
    by_row: dict[int, list[dict[str, Any]]] = defaultdict(list)
    per_recipient: dict[tuple[str, str, str], set[int]] = defaultdict(set)
    for resource in [*twilio.messages, *twilio.calls]:
        row = outbox_id(resource)
        by_row[row].append(resource)
        channel = "sms" if resource["sid"].startswith("SM") else "voice"
        per_recipient[(channel, resource["to"], resource.get("body", ""))].add(row)
    logic = [(c, f"…{to[-4:]}") for (c, to, _), rows in per_recipient.items() if len(rows) > 1]
    window = sum(len(v) - 1 for v in by_row.values())
    return Sends(dict(by_row), logic, window)


def outbox_rows(engine: Engine, incident_id: str) -> list[OutboxRow]:
    with Session(engine) as session:
        rows = list(session.scalars(select(OutboxRow).where(
            OutboxRow.incident_id == incident_id)))
        session.expunge_all()
    return rows


def due_timers_left(engine: Engine, now: datetime) -> list[str]:
    with Session(engine) as session:
        return list(session.scalars(select(TimerRow.key).where(
            TimerRow.status.in_(("pending", "leased")), TimerRow.due_at <= now)))


def decision_chain_ok(engine: Engine, incident_id: str) -> tuple[bool, int]:
    with SqlUnitOfWork(engine) as uow:
        check = verify_chain(uow.decisions.entries(incident_id))
    return check.ok, check.entries


def contact_states(engine: Engine, incident_id: str) -> Counter[str]:
    ringround = ringround_of(engine, incident_id)
    return Counter(c.state.value for t in ringround.tiers.values() for c in t.contacts.values())


def unfinished(engine: Engine, incident_id: str) -> list[str]:
    ringround = ringround_of(engine, incident_id)
    return [k for t in ringround.tiers.values() for k, c in t.contacts.items() if not c.terminal]


def per_second(resources: list[dict[str, Any]]) -> Counter[datetime]:
    return Counter(r["_at"].replace(microsecond=0) for r in resources)


def iter_windows(counts: Counter[datetime], seconds: int) -> Iterator[int]:
    """Sends in every window of ``seconds`` simulated seconds that starts at a send."""
    for start in counts:
        yield sum(n for at, n in counts.items()
                  if start <= at < start + timedelta(seconds=seconds))


# ---- the verdict ------------------------------------------------------------------------------


@dataclass
class RunResult:
    unfinished: list[str]
    states: Counter[str]
    timers_left: list[str]
    chain_ok: bool
    decisions: int
    sends: Sends
    phone_sent: set[int]  # outbox ids of texts and calls recorded as sent
    phone_cancelled: set[int]  # ... recorded as cancelled (contact opted out, moved on)
    stuck: list[str]  # outbox rows still pending or leased
    by_worker: Counter[str]  # texts and calls recorded as sent, per bot process

    def assert_clean(self, contacts: int, kills: int) -> None:
        assert self.unfinished == []  # every contact in a terminal state
        assert sum(self.states.values()) == contacts
        assert self.timers_left == []  # every timer that fell due fired
        assert self.chain_ok  # the decision log's hash chain verifies
        assert self.sends.logic_duplicates == []  # no number got a version twice from 2 rows
        assert self.sends.window_resends <= kills  # one row twice: only across a kill
        # Every row recorded as sent reached Twilio; what Twilio got is sent or, when the
        # contact moved on before the re-claim after a kill, recorded as cancelled.
        assert self.phone_sent <= set(self.sends.by_row)
        assert set(self.sends.by_row) <= self.phone_sent | self.phone_cancelled
        assert self.stuck == []


def check_run(chaos: Chaos, contacts: int) -> RunResult:
    engine, incident_id = chaos.engine, chaos.incident_id
    rows = outbox_rows(engine, incident_id)
    phone_rows_ = [r for r in rows if r.channel in PHONE]
    chain_ok, decisions = decision_chain_ok(engine, incident_id)
    return RunResult(
        unfinished=unfinished(engine, incident_id),
        states=contact_states(engine, incident_id),
        timers_left=due_timers_left(engine, chaos.clock.now),
        chain_ok=chain_ok, decisions=decisions, sends=count_sends(chaos.twilio),
        phone_sent={r.id for r in phone_rows_ if r.status == "sent"},
        phone_cancelled={r.id for r in phone_rows_ if r.status == "cancelled"},
        stuck=[r.key for r in rows if r.status in ("pending", "sending")],
        by_worker=Counter(str(r.worker) for r in phone_rows_ if r.status == "sent"))


def report(name: str, chaos: Chaos, answers: People, result: RunResult, wall: float) -> str:
    twilio = chaos.twilio
    return (f"\nchaos {name} ({chaos.engine.dialect.name}): {chaos.kills} kills, "
            f"{sum(result.states.values())} contacts, {len(twilio.messages)} texts + "
            f"{len(twilio.calls)} calls accepted by the fake, {chaos.leased_at_kill} rows leased "
            f"at the kills, window resends {result.sends.window_resends}, duplicates from two "
            f"rows {len(result.sends.logic_duplicates)}, reached Twilio but recorded cancelled "
            f"{len(set(result.sends.by_row) - result.phone_sent)}; "
            f"{sum(answers.posted.values())} webhooks {dict(answers.posted)}; states "
            f"{dict(result.states)}; {result.decisions} "
            f"decisions; sent per process {sorted(result.by_worker.values())}; simulated "
            f"{chaos.clock.now - T0}; wall {wall:.0f}s (settling {chaos.waited:.0f}s, webhooks "
            f"{chaos.answering:.0f}s, restart {max(chaos.downtime, default=0):.1f}s max)")


# ---- one whole run ---------------------------------------------------------------------------


@dataclass
class Run:
    """A finished chaos run: the chaos, the people's answers, the fake Twilio and the checks."""

    chaos: Chaos
    answers: People
    twilio: RoutedTwilio
    result: RunResult
    wall: float  # seconds, from seeding the directory to the end of the checks

    def report(self, name: str) -> str:
        return report(name, self.chaos, self.answers, self.result, self.wall)


def run_chaos(database_url: str, engine: Engine, tmp: Path, *, contacts: int, seed: int,
              rates: Rates, end: datetime, bots: list[str], respawn: bool,
              kill_after: Callable[[random.Random], list[int]], faults: Faults | None = None,
              threads: int = 1) -> Run:
    """``contacts`` people in the directory, the bot processes named ``bots`` on
    ``database_url`` with the fake Slack and a ``RoutedTwilio``, the ring-round started on the
    first, the people answering and a bot SIGKILLed after each number of texts and calls that
    ``kill_after`` draws from the seeded stream, until ``end`` of simulated time; then checked."""
    began = time.monotonic()
    directory = people(contacts)
    with SqlUnitOfWork(engine) as uow:
        uow.directory.upsert(directory)
        uow.commit()
    clock = SimClock(tmp / "clock")
    rng = random.Random(seed)
    kills = kill_after(rng)
    with FakeSlack() as slack, RoutedTwilio(ACCOUNT_SID, AUTH_TOKEN, clock=clock.read,
                                            seed=seed, faults=faults,
                                            public_base_url=PUBLIC) as twilio:
        env = bot_env(database_url, slack, twilio, TWILIO_SEND_RATE=str(rates.sms),
                      TWILIO_CALL_RATE=str(rates.voice))
        processes = [Bot(name, env, clock, tmp) for name in bots]
        chaos = Chaos(processes, clock, engine, twilio, rates, kills, respawn=respawn, rng=rng)
        try:
            for bot in processes:
                bot.start()
            chaos.incident_id = start_ringround(processes[0], slack, engine)
            answers = People(twilio, tier_codes(engine, chaos.incident_id, directory), seed,
                             targets=chaos.urls, threads=threads)
            chaos.run(answers, end)
        finally:
            for bot in processes:
                bot.stop()
    result = check_run(chaos, contacts)
    return Run(chaos, answers, twilio, result, time.monotonic() - began)
