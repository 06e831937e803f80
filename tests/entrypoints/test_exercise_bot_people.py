"""The bot's exercise acts on the fixed people: one small run (they are slow)."""

from __future__ import annotations

import re
from collections import Counter

from incident_bot.domain.directory import Person
from incident_bot.entrypoints.exercise.people import MAX_ATTEMPTS, people_for
from tests.entrypoints.exercise_support import run_small


def test_the_bots_callers_and_contacts_act_on_their_dispositions(tmp_path):
    ran = run_small(tmp_path, seed=2)
    with ran.records() as (incident, _, _):
        people: list[Person] = list(incident.people.values())
        fixed = people_for(incident.playbook, people, 2)
        callers = {p.key for p in people if p.roles}
        for contact in incident.ringround.tiers[1].contacts.values():
            if contact.outcome_by in callers and contact.last_outcome in (
                    "reached", "declined", "unsafe_to_call", "wrong_number"):
                assert contact.last_outcome == fixed.contact(contact.key).fate
    calls = Counter(re.findall(r" calls (Contact \w+):", ran.result.transcript.text()))
    assert calls
    assert max(calls.values()) <= MAX_ATTEMPTS
    reach = ran.result.reach
    assert reach is not None
    assert reach.mode == "bot"
    total, reachable, reached = reach.counts((1,))
    assert (total, reached <= reachable) == (10, True)
