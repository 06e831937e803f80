"""The read authorisation matrix through the Slack edge: ``/incident status``, ``brief``,
``task list`` and ``ringround`` naming the incident, ``status`` naming none, and the App Home
tab, sent as real signed requests into the running app by a Slack user holding exactly one role
of the shipped CT playbook, by one admitted early, by one in the directory with no role and by
one outside the directory, in every phase of an incident.

Expectations come from the playbook (as in tests/service/test_authorisation_matrix_reads.py):
while the incident is confidential, need-to-know roles and the admitted early; afterwards every
role. A refused read is audited once and its reply is exactly the reply to the same read of an
incident that does not exist (or, naming none, of nothing open): it leaks nothing.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from incident_bot.domain import commands as c
from incident_bot.domain.directory import Person
from incident_bot.domain.playbook import Playbook
from incident_bot.entrypoints.slack.app import wire
from incident_bot.entrypoints.slack.edge import SlackEdge
from incident_bot.entrypoints.web import make_web_app
from incident_bot.service.use_cases import StartRequest
from incident_bot.settings import load_settings
from incident_bot.testing.fake_slack import FakeSlack
from tests.fakes import FakeClock
from tests.figures import FIGURES
from tests.service.test_authorisation_matrix_reads import PHASES, Phase
from tests.slack.support import (
    ROOT,
    SECRET,
    START,
    TOKEN,
    Server,
    command_form,
    serve,
    sign,
    slack_post,
    wait_for,
)
from tests.slack.test_authorisation_matrix_slack import NO_ROLE, PLAYBOOK, _people

EARLY, STRANGER = "(admitted early)", "(stranger)"
STRANGER_USER = "UAZSTRANGER"
MISSING = "inc-missing0"
NAMED = ("status", "brief", "task list", "ringround")


@dataclass
class Outcome:
    phase: str
    who: str
    read: str
    expected: bool
    status: int
    answer: str
    missing_answer: str  # the same read of a missing incident (or, naming none, of nothing)
    audited: int
    shows_incident: bool  # the id or the area appears in what the person was sent

    @property
    def refused(self) -> bool:
        return self.answer.startswith(":no_entry:") or (self.read == "home"
                                                       and not self.shows_incident)

    @property
    def leaked(self) -> bool:
        return not self.expected and (self.shows_incident or self.answer != self.missing_answer)


@dataclass
class Reader:
    edge: SlackEdge
    server: Server
    fake: FakeSlack
    serial: itertools.count[int]
    asked: dict[tuple[str, str], str] = field(default_factory=dict)

    def command(self, user: str, text: str) -> tuple[int, str]:
        reply = f"rd{next(self.serial)}"
        status = slack_post(self.server, command_form(self.fake, text, user=user,
                                                      trigger=f"trig-{reply}", reply=reply)).status
        answer = wait_for(lambda: self.fake.replies(reply))[0].args
        return status, str(answer.get("text", ""))

    def missing(self, user: str, read: str) -> str:
        """The reply to ``read`` naming an incident that does not exist (asked once a user)."""
        if (user, read) not in self.asked:
            self.asked[(user, read)] = self.command(user, f"{read} incident={MISSING}")[1]
        return self.asked[(user, read)]

    def home(self, user: str) -> tuple[int, str]:
        before = len(self._published(user))
        event = {"token": "legacy", "team_id": self.fake.team_id, "api_app_id": "A0FAKE",
                 "type": "event_callback", "event_id": f"EvRd{next(self.serial)}",
                 "event_time": 1, "event": {"type": "app_home_opened", "user": user,
                                            "channel": "D0FAKE", "tab": "home"}}
        body = json.dumps(event).encode()
        stamp = int(time.time())
        status = self.server.request("POST", "/slack/events", body, {
            "Content-Type": "application/json", "X-Slack-Request-Timestamp": str(stamp),
            "X-Slack-Signature": sign(body, stamp)}).status
        published = wait_for(lambda: self._published(user)[before:])
        return status, json.dumps(published[0].args["view"])

    def _published(self, user: str) -> list[Any]:
        return [call for call in self.fake.calls_to("views.publish")
                if call.args.get("user_id") == user]

    def refusals(self, actor: str) -> int:
        with self.edge.services.uow_factory() as uow:
            return sum(1 for e in uow.audit.entries()
                       if e["actor"] == actor and e["outcome"] == "refused")


def _early_role(pb: Playbook) -> str:
    return next(r.code for r in pb.roles if not r.need_to_know and r.code not in pb.started_by)


def _expected(pb: Playbook, phase: Phase, who: str, person: Person | None) -> bool:
    if who == EARLY:
        return True
    roles = set(person.roles) if person else set()
    return bool(roles & {r.code for r in pb.roles if r.need_to_know}) if phase.confidential \
        else bool(roles)


def _start(reader: Reader, pb: Playbook, commander: str, early: str, phase: Phase,
           number: int) -> str:
    services = reader.edge.services
    now = services.clock.now()
    t0 = now + timedelta(hours=2) if phase.prebrief else now - timedelta(minutes=10)
    incident_id = services.incidents.start_incident(StartRequest(
        playbook_id=pb.id, area="Northbridge", t0=t0, started_by=commander),
        incident_id=f"inc-rdsl{number:04d}")
    services.incidents.execute(incident_id, c.AssignRole(_early_role(pb), early, commander))
    for move in phase.moves:
        services.incidents.execute(incident_id, c.StandDown(commander, "over")
                                   if move == "standdown" else c.Close(commander))
    return incident_id


def _read(reader: Reader, user: str, read: str, incident_id: str) -> tuple[int, str]:
    if read == "home":
        return reader.home(user)
    if read == "status (no incident named)":
        return reader.command(user, "status")
    return reader.command(user, f"{read} incident={incident_id}")


def _one(reader: Reader, phase: Phase, who: str, person: Person | None, key: str, user: str,
         read: str, incident_id: str, expected: bool, nothing_open: str) -> Outcome:
    before = reader.refusals(key)
    status, answer = _read(reader, user, read, incident_id)
    audited = reader.refusals(key) - before
    if read in NAMED:
        missing = reader.missing(user, read)
        answer = answer.replace(incident_id, MISSING)
    else:
        missing = nothing_open if read != "home" else answer
    shows = incident_id in answer or "Northbridge" in answer
    return Outcome(phase.name, who, read, expected, status, answer, missing, audited, shows)


def _run(reader: Reader, pb: Playbook, everyone: dict[str, tuple[Person | None, str, str]],
         commander: str) -> list[Outcome]:
    nothing_open = reader.command(STRANGER_USER, "status")[1]
    outcomes = []
    for number, phase in enumerate(PHASES):
        incident_id = _start(reader, pb, commander, everyone[EARLY][1], phase, number)
        reads = [*NAMED, *(("status (no incident named)", "home") if phase.open else ())]
        for who, (person, key, user) in everyone.items():
            expected = _expected(pb, phase, who, person)
            outcomes += [_one(reader, phase, who, person, key, user, read, incident_id,
                              expected, nothing_open) for read in reads]
        _close(reader, incident_id, commander, phase)
    return outcomes


def _close(reader: Reader, incident_id: str, commander: str, phase: Phase) -> None:
    if "standdown" not in phase.moves:
        reader.edge.services.incidents.execute(incident_id, c.StandDown(commander, "done"))
    if "close" not in phase.moves:
        reader.edge.services.incidents.execute(incident_id, c.Close(commander))


def _everyone(pb: Playbook) -> tuple[list[Person], dict[str, tuple[Person | None, str, str]]]:
    """label -> (person, audit actor, Slack user)."""
    sample, mine = _people(pb)
    early = Person(key="authz-early", name="Matrix early", roles=(_early_role(pb),),
                   slack_user_id="UAZEARLY")
    rows: dict[str, tuple[Person | None, str, str]] = {
        label: (p, p.key, str(p.slack_user_id)) for label, p in mine.items()}
    rows[EARLY] = (early, early.key, "UAZEARLY")
    rows[STRANGER] = (None, f"slack:{STRANGER_USER}", STRANGER_USER)
    return [*sample, *mine.values(), early], rows


@pytest.fixture(scope="module")
def matrix(module_database_url: str) -> tuple[Playbook, list[Outcome]]:
    with FakeSlack() as fake:
        settings = load_settings({"DATABASE_URL": module_database_url, "SLACK_BOT_TOKEN": TOKEN,
                                  "SLACK_SIGNING_SECRET": SECRET,
                                  "SLACK_API_URL": fake.api_url}, base=ROOT)
        edge = wire(settings, clock=FakeClock(START), worker="authz-reads")
        try:
            pb = edge.services.playbooks.playbooks[PLAYBOOK]
            people, everyone = _everyone(pb)
            with edge.services.uow_factory() as uow:
                uow.directory.upsert(people)
                uow.commit()
            commander = next(p.key for p in people if "bcu_commander" in p.roles
                             and not p.key.startswith("authz-"))
            with contextlib.contextmanager(serve)(make_web_app(edge.app)) as server:
                outcomes = _run(Reader(edge, server, fake, itertools.count(1)), pb, everyone,
                                commander)
        finally:
            edge.close()
            edge.services.engine.dispose()
    refused = [o for o in outcomes if not o.expected]
    backend = "sqlite" if module_database_url.startswith("sqlite") else "postgresql"
    FIGURES.append(
        f"slack read matrix ({backend}): {len(everyone)} Slack users ({len(pb.roles)} roles, "
        f"admitted early, no role, stranger) x {len(PHASES)} phases x up to {len(NAMED) + 2} "
        f"reads = {len(outcomes)} signed requests: {len(refused)} refused, "
        f"{sum(o.audited for o in refused)} audited, {sum(o.leaked for o in outcomes)} leaked")
    return pb, outcomes


def _show(rows: list[Any]) -> str:
    return "\n".join(map(str, rows))


def test_every_role_an_early_admission_no_role_and_a_stranger_read_in_every_phase(matrix):
    pb, outcomes = matrix
    assert {o.who for o in outcomes} == {r.code for r in pb.roles} | {EARLY, NO_ROLE, STRANGER}
    assert {o.phase for o in outcomes} == {p.name for p in PHASES}


def test_every_read_is_acked_with_200(matrix):
    _, outcomes = matrix
    assert [(o.phase, o.who, o.read, o.status) for o in outcomes if o.status != 200] == []


def test_everyone_who_may_read_gets_the_incident_unaudited(matrix):
    _, outcomes = matrix
    wrong = [(o.phase, o.who, o.read, o.answer) for o in outcomes
             if o.expected and o.read != "home" and (o.refused or o.audited)]
    assert not wrong, _show(wrong)


def test_a_status_read_by_someone_who_may_shows_the_incident(matrix):
    _, outcomes = matrix
    wrong = [(o.phase, o.who, o.answer) for o in outcomes
             if o.expected and o.read.startswith("status") and not o.shows_incident]
    assert not wrong, _show(wrong)


def test_a_refused_read_replies_exactly_as_for_a_missing_incident(matrix):
    _, outcomes = matrix
    wrong = [(o.phase, o.who, o.read, o.answer, o.missing_answer) for o in outcomes if o.leaked]
    assert not wrong, _show(wrong)


def test_every_refused_read_is_audited_once(matrix):
    _, outcomes = matrix
    wrong = [(o.phase, o.who, o.read, o.audited) for o in outcomes
             if not o.expected and o.audited != 1]
    assert not wrong, _show(wrong)


def test_the_matrix_has_both_outcomes_for_every_read_in_every_phase(matrix):
    _, outcomes = matrix
    for phase in PHASES:
        for read in {o.read for o in outcomes if o.phase == phase.name}:
            assert {o.expected for o in outcomes
                    if o.phase == phase.name and o.read == read} == {True, False}, (phase, read)
