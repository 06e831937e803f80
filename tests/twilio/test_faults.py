"""The ring-round survives a misbehaving Twilio: 30 % of sends answered 429 and 10 % answered 500
(half of those after Twilio had accepted the message). Every contact still ends confirmed, failed
or escalated, and nobody gets the same message version twice."""

from __future__ import annotations

from collections import Counter

import pytest

from incident_bot.domain.codes import confirmation_code
from incident_bot.domain.ladder import TERMINAL_STATES
from incident_bot.testing.fake_twilio import Faults
from tests.twilio.support import contacts, make_stack, phone

TIER1, TIER2 = 30, 30
STEP_SECONDS = 5
RUN_MINUTES = 75


@pytest.fixture
def faulty(database_url, twilio, clock):
    twilio.faults = Faults(rate_429=0.3, rate_500=0.1, accepted_on_500=0.5, retry_after=1)
    stack, server = make_stack(database_url, twilio, clock, contacts(TIER1, TIER2))
    yield stack
    server.shutdown()
    server.server_close()
    stack.services.engine.dispose()


def _reply_and_answer(stack, incident_id: str, replied: set[str], answered: set[str]) -> None:
    """Every third contact replies with the code once texted; every other one whose call comes
    presses 1."""
    for tier, count in ((1, TIER1), (2, TIER2)):
        for n in range(count):
            number = phone(tier, n)
            if n % 3 == 0 and number not in replied and stack.twilio.messages_to(number):
                stack.twilio.inbound_sms(number, confirmation_code(incident_id, tier))
                replied.add(number)
            calls = stack.twilio.calls_to(number)
            if n % 3 == 1 and calls and number not in answered:
                stack.twilio.answer_and_press(calls[0]["sid"], "1")
                answered.add(number)


def test_every_contact_ends_terminal_and_nobody_gets_a_version_twice(faulty):
    stack = faulty
    incident_id = stack.start()
    replied: set[str] = set()
    answered: set[str] = set()
    for _ in range(RUN_MINUTES * 60 // STEP_SECONDS):
        stack.tick(STEP_SECONDS)
        _reply_and_answer(stack, incident_id, replied, answered)

    incident = stack.services.incidents.incident(incident_id)
    states = Counter(c.state for r in incident.ringround.tiers.values()
                     for c in r.contacts.values())
    assert set(states) <= TERMINAL_STATES, states
    assert sum(states.values()) == TIER1 + TIER2

    texts = Counter((m["to"], m["body"]) for m in stack.twilio.messages)
    assert max(texts.values()) == 1, [k for k, v in texts.items() if v > 1]
    calls = Counter(c["to"] for c in stack.twilio.calls)
    assert max(calls.values()) == 1

    posts = Counter(r.status for kind in ("Messages", "Calls")
                    for r in stack.twilio.requests_to(kind))
    assert posts[429] > 0
    assert posts[500] > 0
    lookups = len(stack.twilio.requests_to("Messages", "GET")) + len(
        stack.twilio.requests_to("Calls", "GET"))
    print(f"\nfault run: states {dict(Counter(s.value for s in states.elements()))}; "
          f"POST answers {dict(posts)}; lookups {lookups}; texts {len(stack.twilio.messages)}; "
          f"calls {len(stack.twilio.calls)}")
