"""Hostile requests to ``POST /slack/events`` of the running app: forged, stale, replayed,
oversized. Each is answered as documented (docs/reliability.md, "Hostile requests") and leaves
incidents, outbox, decision log and contact states as they were."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest

from tests.hostile_requests import tally
from tests.hostile_requests.support import COMMANDER, Bot, raw_post
from tests.slack.support import SECRET, command_form, sign, slack_post

START = "start twilio-drill area=Northbridge"


def _signed_headers(body: bytes, stamp: int) -> dict[str, str]:
    return {"Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": str(stamp), "X-Slack-Signature": sign(body, stamp)}


def _forged(body: bytes, now: int) -> list[tuple[str, dict[str, str]]]:
    plain = {"Content-Type": "application/x-www-form-urlencoded"}
    return [
        ("signature over another body", {**plain, "X-Slack-Request-Timestamp": str(now),
                                         "X-Slack-Signature": sign(b"other", now)}),
        ("signature with another secret", {**plain, "X-Slack-Request-Timestamp": str(now),
                                           "X-Slack-Signature": sign(body, now, "guess")}),
        ("signature for another timestamp", {**plain, "X-Slack-Request-Timestamp": str(now),
                                             "X-Slack-Signature": sign(body, now - 1)}),
        ("no signature", {**plain, "X-Slack-Request-Timestamp": str(now)}),
        ("no timestamp", {**plain, "X-Slack-Signature": sign(body, now)}),
        ("empty signature", {**plain, "X-Slack-Request-Timestamp": str(now),
                             "X-Slack-Signature": ""}),
        ("v1 scheme", {**plain, "X-Slack-Request-Timestamp": str(now),
                       "X-Slack-Signature": sign(body, now).replace("v0=", "v1=")}),
        ("upper-case hex", {**plain, "X-Slack-Request-Timestamp": str(now),
                            "X-Slack-Signature": "v0=" + sign(body, now)[3:].upper()}),
        ("stale by 6 minutes", _signed_headers(body, now - 6 * 60)),
        ("stale by a day", _signed_headers(body, now - 86_400)),
        ("from 6 minutes in the future", _signed_headers(body, now + 6 * 60)),
        ("timestamp 0", _signed_headers(body, 0)),
    ]


def test_forged_or_stale_slack_requests_get_401_and_change_nothing(bot: Bot) -> None:
    bot.start()
    before = bot.snapshot()
    body = urlencode(command_form(bot.slack, START, user=COMMANDER, trigger="forged")).encode()
    cases = _forged(body, int(time.time()))
    answers = {name: raw_post(bot.server, "/slack/events", body, headers)
               for name, headers in cases}
    tally.REQUESTS["slack forged/stale signature"] += len(cases)

    assert answers == dict.fromkeys(answers, 401)
    assert bot.snapshot() == before
    assert bot.slack.calls_to("response_url") == []


@pytest.mark.parametrize("stamp", ["not-a-number", "1e9", "-1", " ", "99999999999999999999"])
def test_a_malformed_timestamp_is_refused_without_an_error(bot: Bot, stamp: str) -> None:
    before = bot.snapshot()
    body = urlencode(command_form(bot.slack, START, user=COMMANDER)).encode()
    status = raw_post(bot.server, "/slack/events", body, {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=" + "0" * 64})
    tally.REQUESTS["slack malformed timestamp"] += 1

    assert status == 401
    assert bot.snapshot() == before


def _replay(bot: Bot, text: str, trigger: str, times: int = 3) -> list[int]:
    """The same signed request sent ``times`` times, then Slack's own retries of it."""
    form = command_form(bot.slack, text, user=COMMANDER, trigger=trigger, reply=trigger)
    stamp = int(time.time())
    statuses = [slack_post(bot.server, form, timestamp=stamp).status for _ in range(times)]
    for retry in ("1", "2", "3"):
        statuses.append(slack_post(bot.server, form, timestamp=stamp, extra={
            "X-Slack-Retry-Num": retry, "X-Slack-Retry-Reason": "http_timeout"}).status)
    tally.REQUESTS["slack replayed/retried"] += len(statuses) - 1
    bot.settle()  # every copy's listener work is done: one handled twice would show now
    assert bot.slack.replies(trigger)
    return statuses


def test_a_replayed_or_retried_start_starts_one_incident(bot: Bot) -> None:
    statuses = _replay(bot, START, "trig-replay-start")
    bot.tick()

    incidents = len(bot.edge.services.incidents.open_incident_ids())
    tally.DUPLICATES["slack replay: incidents"] += incidents - 1
    assert set(statuses) == {200}
    assert incidents == 1
    assert len(bot.slack.replies("trig-replay-start")) == 1
    assert len(bot.slack.calls_to("conversations.create")) == 1


def test_a_replayed_task_adds_one_task(bot: Bot) -> None:
    incident_id = bot.start()
    before = len(bot.edge.services.incidents.view(incident_id).tasks)

    _replay(bot, 'task add "Cordon the car park" owner=commander due=+30m', "trig-task")

    added = len(bot.edge.services.incidents.view(incident_id).tasks) - before
    tally.DUPLICATES["slack replay: tasks"] += added - 1
    assert added == 1
    assert len(bot.slack.replies("trig-task")) == 1


def test_a_replayed_decision_is_logged_once_and_the_chain_holds(bot: Bot) -> None:
    incident_id = bot.start()
    before = bot.snapshot()["decisions"][incident_id]

    _replay(bot, "log Evacuate Block C because of the device", "trig-log")

    logged = bot.snapshot()["decisions"][incident_id] - before
    tally.DUPLICATES["slack replay: decisions"] += logged - 1
    assert logged == 1
    assert bot.chain_ok(incident_id)


def test_a_slack_body_over_one_mebibyte_gets_413_and_changes_nothing(bot: Bot) -> None:
    bot.start()
    before = bot.snapshot()
    form = command_form(bot.slack, "log " + "x" * (1024 * 1024), user=COMMANDER)
    body = urlencode(form).encode()
    stamp = int(time.time())
    statuses = [raw_post(bot.server, "/slack/events", body, _signed_headers(body, stamp)),
                raw_post(bot.server, "/slack/events", body, {
                    "Content-Type": "application/x-www-form-urlencoded"}),
                raw_post(bot.server, "/slack/events", body, _signed_headers(body, stamp),
                         chunked=True)]
    tally.REQUESTS["slack oversized"] += len(statuses)

    assert statuses == [413, 413, 413]
    assert bot.snapshot() == before
    assert bot.get("/healthz") == 200


def test_a_slack_body_just_under_the_limit_is_still_verified(bot: Bot) -> None:
    form = command_form(bot.slack, "help " + "x" * 1000, user=COMMANDER)
    body = urlencode(form).encode()
    stamp = int(time.time())
    assert raw_post(bot.server, "/slack/events", body, {
        "Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp":
        str(stamp), "X-Slack-Signature": sign(body, stamp, SECRET + "x")}) == 401
    assert raw_post(bot.server, "/slack/events", body, _signed_headers(body, stamp)) == 200


def _versions(bot: Bot, incident_id: str) -> int:
    view = bot.edge.services.incidents.view(incident_id)
    return len(next(m for m in view.messages if m.id == "drill-sms").versions)


def test_a_replayed_message_draft_makes_one_new_version(bot: Bot) -> None:
    incident_id = bot.start()
    before = _versions(bot, incident_id)

    _replay(bot, "message draft drill-sms Road closed at the junction", "trig-draft")

    drafted = _versions(bot, incident_id) - before
    tally.DUPLICATES["slack replay: message versions"] += drafted - 1
    assert drafted == 1
