"""What commanders watching an exercise must never see: simulated people contradicting each
other or the bot. Properties held over whole seeded runs of the small test playbook."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import timedelta

import pytest

from incident_bot.domain.ringround import CallList
from incident_bot.entrypoints.exercise import Behaviour
from tests.entrypoints.exercise_support import SMALL_DIRECTORY, Ran, run_small

SEEDS = range(2, 6)  # 2 and 5 once called contacts twice; 4 named the wrong list
BEHAVIOURS = {
    "as usual": None,
    # Callers accept 9-14 minutes in: lists move to the backup at 10 and are often taken back.
    "late callers": Behaviour(accept=(9, 14), caller_absent=0.0, backup_absent=0.0),
}
# The engagement lead is a caller too: the caller of one list and the backup of the others.
CALLER_AND_BACKUP = SMALL_DIRECTORY.replace("engagement_lead,", "engagement_lead;caller,")
ACCEPTS = re.compile(r"(?P<who>.+) accepts call list (?P<list>\S+) \(")
REFUSED_ACCEPT = re.compile(r"REFUSED: .+ accepts call list (?P<list>\S+) \(.*?\): (?P<why>.+)")
CALLS = re.compile(r"(?P<who>.+) calls (?P<contact>.+): ")


@pytest.fixture(scope="module", params=list(BEHAVIOURS))
def runs(request, tmp_path_factory) -> list[Ran]:
    folder = tmp_path_factory.mktemp("consistency")
    return [run_small(folder / str(seed), seed=seed, directory=CALLER_AND_BACKUP,
                      behaviour=BEHAVIOURS[request.param]) for seed in SEEDS]


def lists_of(ran: Ran) -> dict[str, CallList]:
    with ran.records() as (incident, _, _):
        return {lst.id: lst for r in incident.ringround.tiers.values() for lst in r.lists}


def names_of(ran: Ran) -> dict[str, str]:
    with ran.records() as (incident, _, _):
        return {key: incident.name(key) for key in incident.people}


def said(ran: Ran, pattern: re.Pattern[str]) -> list[re.Match[str]]:
    return [m for line in ran.result.transcript.lines if (m := pattern.match(line.text))]


def test_a_refused_acceptance_names_the_list_being_accepted(runs):
    wrong = [m.string for ran in runs for m in said(ran, REFUSED_ACCEPT)
             if f"call list {m['list']}" not in m["why"]]
    assert wrong == []


def test_each_list_is_accepted_once_and_by_the_person_who_holds_it(runs):
    wrong = []
    for ran in runs:
        lists, names = lists_of(ran), names_of(ran)
        accepted = [(m["list"], m["who"]) for m in said(ran, ACCEPTS)
                    if not m["who"].startswith("REFUSED")]
        for list_id, who in accepted:
            holder = lists[list_id].holder
            if who != names[holder] or accepted.count((list_id, who)) > 1:
                wrong.append((ran.result.incident_id, list_id, who, names[holder]))
    assert wrong == []


def test_no_contact_is_called_by_two_callers(runs):
    twice = []
    for ran in runs:
        callers = defaultdict(set)
        for m in said(ran, CALLS):
            callers[m["contact"]].add(m["who"])
        twice += [(contact, sorted(who)) for contact, who in callers.items() if len(who) > 1]
    assert twice == []


def test_no_task_is_already_overdue_when_the_incident_starts(runs):
    early = []
    for ran in runs:
        start = ran.result.started_at
        with ran.records() as (incident, outbox, _):
            early += [t.id for t in incident.tasks.tasks.values() if t.due and t.due < start]
            early += [row.notify.purpose for row in outbox
                      if row.notify.purpose in ("task.overdue", "task.escalated")
                      and row.created_at < start + timedelta(minutes=5)]
    assert early == []
