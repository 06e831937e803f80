"""Hostile requests to Twilio's webhooks on the running app (``/twilio/``): bad, missing and
misdirected signatures, oversized bodies, and replies that try to confirm with another incident's
code, from another number, or on behalf of someone else."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from incident_bot.domain.codes import confirmation_code
from incident_bot.testing.fake_twilio import FakeTwilio
from tests.hostile_requests import tally
from tests.hostile_requests.support import Bot, raw_post
from tests.twilio.support import PUBLIC, phone

STRANGER = "+447700999999"


def _sms_status_path(bot: Bot, number: str) -> str:
    (message,) = bot.twilio.messages_to(number)
    return str(message["_status_callback"]).removeprefix(PUBLIC)


def _webhooks(bot: Bot, incident_id: str) -> dict[str, tuple[str, dict[str, str]]]:
    """Requests that would change something if accepted: a confirming reply, a failed
    delivery, a STOP."""
    code = confirmation_code(incident_id, 1)
    inbound = {"MessageSid": "SM" + "f" * 32, "AccountSid": bot.twilio.account_sid,
               "From": phone(1, 0), "To": "+447700900000", "Body": code, "NumMedia": "0"}
    return {
        "inbound code": ("/twilio/sms/inbound", inbound),
        "inbound STOP": ("/twilio/sms/inbound", {**inbound, "From": phone(1, 1), "Body": "STOP"}),
        "status failed": (_sms_status_path(bot, phone(1, 2)), {
            "MessageSid": "SM1", "MessageStatus": "failed", "ErrorCode": "30003"}),
    }


Signer = Callable[[FakeTwilio, str, dict[str, str]], str | None]
SIGNATURES: dict[str, Signer] = {
    "garbage": lambda t, p, f: "not-a-signature",
    "empty": lambda t, p, f: "",
    "missing": lambda t, p, f: None,
    "wrong auth token": lambda t, p, f: FakeTwilio("AC", "x" * 32).sign(PUBLIC + p, f),
    "wrong host": lambda t, p, f: t.sign("https://evil.example.org" + p, f),
    "http not https": lambda t, p, f: t.sign(PUBLIC.replace("https", "http") + p, f),
    "another path": lambda t, p, f: t.sign(PUBLIC + "/twilio/sms/status/1", f),
    "path with a query added": lambda t, p, f: t.sign(PUBLIC + p + "?x=1", f),
    "other parameters": lambda t, p, f: t.sign(PUBLIC + p, {**f, "Body": "hello"}),
    "no parameters": lambda t, p, f: t.sign(PUBLIC + p, {}),
}


def test_unsigned_or_missigned_twilio_webhooks_get_403_and_change_nothing(bot: Bot) -> None:
    incident_id = bot.start()
    before = bot.snapshot()
    answers = {}
    for route, (path, form) in _webhooks(bot, incident_id).items():
        for name, signer in SIGNATURES.items():
            signature = signer(bot.twilio, path, form)
            reply = bot.twilio.post_webhook(path, form, signature=signature)
            answers[f"{route} / {name}"] = reply.status
    tally.REQUESTS["twilio bad/missing/wrong-URL signature"] += len(answers)
    bot.tick()

    assert answers == dict.fromkeys(answers, 403)
    assert bot.snapshot() == before


def test_a_twilio_body_over_64_kib_gets_413_and_changes_nothing(bot: Bot) -> None:
    incident_id = bot.start()
    before = bot.snapshot()
    code = confirmation_code(incident_id, 1)
    statuses = [
        bot.twilio.inbound_sms(phone(1, 0), code + " " + "x" * 70_000).status,
        bot.twilio.inbound_sms(phone(1, 0), code + " " + "x" * 70_000, signature=None).status,
        raw_post(bot.server, "/twilio/sms/inbound", b"Body=" + b"A" * 200_000,
                 {"Content-Type": "application/x-www-form-urlencoded"}),
        raw_post(bot.server, "/twilio/sms/inbound", b"Body=" + b"A" * 200_000,
                 {"Content-Type": "application/x-www-form-urlencoded"}, chunked=True),
    ]
    tally.REQUESTS["twilio oversized"] += len(statuses)

    assert statuses == [413, 413, 413, 413]
    assert bot.snapshot() == before


def _confirmed(bot: Bot) -> set[tuple[str, str]]:
    return {(i, key) for (i, key), state in bot.snapshot()["states"].items()
            if state == "confirmed"}


# (who replies, what they reply; {A}/{B}: incident A's/B's code for tier n, e.g. {A1})
CROSS_INCIDENT: list[tuple[str, str, str]] = [
    ("incident A's tier-1 code after B texted", phone(1, 0), "{A1}"),
    ("incident A's tier-2 code after B texted", phone(2, 0), "{A2}"),
    ("incident B's tier-2 code from a tier-1 contact", phone(1, 1), "{B2}"),
    ("incident B's tier-1 code from a tier-2 contact", phone(2, 1), "{B1}"),
    ("B's code from a number nobody texted", STRANGER, "{B1}"),
    ("B's code from a number one digit off", phone(1, 2)[:-1] + "9", "{B1}"),
    ("B's code from the number without +", phone(1, 2).removeprefix("+"), "{B1}"),
    ("B's code from the bot's own number", "+447700900000", "{B1}"),
    ("A's and B's codes mixed", phone(1, 3), "{A1} or {A2}"),
]


def _codes(incident_a: str, incident_b: str) -> dict[str, str]:
    return {f"{name}{tier}": confirmation_code(i, tier)
            for name, i in (("A", incident_a), ("B", incident_b)) for tier in (1, 2)}


@pytest.fixture
def two_incidents(bot: Bot) -> tuple[str, str]:
    """Two incidents texting the same contacts; B texted last, so replies route to B."""
    first = bot.start("inc-a")
    bot.tick()
    second = bot.start("inc-b")
    assert all(len(bot.twilio.messages_to(phone(1, n))) == 2 for n in range(4))
    return first, second


def test_a_code_from_another_incident_or_another_number_confirms_nobody(
        bot: Bot, two_incidents: tuple[str, str]) -> None:
    codes = _codes(*two_incidents)
    before = bot.snapshot()
    statuses = [bot.twilio.inbound_sms(sender, text.format(**codes)).status
                for _, sender, text in CROSS_INCIDENT]
    tally.REQUESTS["sms code from another incident/number"] += len(statuses)
    bot.tick()

    assert set(statuses) == {200}  # answered like any reply: nothing tells a prober it failed
    assert _confirmed(bot) == set()
    after = bot.snapshot()
    assert after["incidents"] == before["incidents"]
    assert after["states"] == before["states"]


def test_the_right_code_from_the_right_number_confirms_only_there(
        bot: Bot, two_incidents: tuple[str, str]) -> None:
    _, second = two_incidents
    bot.twilio.inbound_sms(phone(1, 0), confirmation_code(second, 1))

    assert _confirmed(bot) == {(second, "t1-0")}


ON_BEHALF: list[tuple[str, str, str]] = [
    ("code for a number", phone(1, 1), "{code} for " + phone(1, 0)),
    ("code for a number, spaced", phone(1, 1), "{code} for 07700 910000"),
    ("code for a named person", phone(1, 1), "{code} confirming for Contact 1-0 and Contact 1-2"),
    ("code for every contact", phone(1, 1), "{code} for all of tier 1"),
    ("a stranger naming a contact", STRANGER, "{code} from " + phone(1, 0)),
    ("a stranger naming a person", STRANGER, "{code} - this is Contact 1-2"),
    ("a tier-2 contact naming a tier-1 contact", phone(2, 0), "{code} for Contact 1-3"),
]


def test_a_reply_on_behalf_of_someone_else_confirms_only_the_sender(bot: Bot) -> None:
    incident_id = bot.start()
    code = confirmation_code(incident_id, 1)
    statuses = [bot.twilio.inbound_sms(sender, text.format(code=code)).status
                for _, sender, text in ON_BEHALF]
    tally.REQUESTS["sms confirming on behalf of another"] += len(statuses)
    bot.tick()

    assert set(statuses) == {200}
    assert _confirmed(bot) == {(incident_id, "t1-1")}  # the only sender who holds that code

