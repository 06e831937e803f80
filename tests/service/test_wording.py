"""The wording of chat notices: every purpose the domain can emit is worded, an unknown one fails
loudly when strict and falls back to its facts in production, and worded notices are stored as
they were before the domain stopped writing English."""

import ast
import logging
import re
from pathlib import Path

import pytest

import incident_bot.domain
from incident_bot.adapters.db.wire import notify_to_json
from incident_bot.domain import briefing, ladder, ringround, tasks
from incident_bot.domain.effects import VARIANT, Notify, OutboxChannel
from incident_bot.domain.incident import T0_TIMER
from incident_bot.service.wording import WORDING, UnknownWording, chat_text, render

DOMAIN = Path(incident_bot.domain.__file__).parent
PURPOSE = re.compile(r"^(incident|message|briefing|task|ringround)\.[a-z0-9_]+$")
# Strings shaped like a purpose that are not chat notices: timer kinds, and the key messages
# (approved texts, never worded here).
TIMER_KINDS = {T0_TIMER, briefing.E0_TIMER, briefing.TIMEOUT_TIMER, ringround.ACCEPT_TIMER,
               ringround.DEADLINE_TIMER, ladder.RUNG_TIMER, tasks.REMIND_TIMER, tasks.DUE_TIMER,
               tasks.ACK_TIMER}
KEY_MESSAGES = {"ringround.sms", "ringround.voice"}


def _domain_trees() -> list[ast.AST]:
    return [ast.parse(path.read_text()) for path in sorted(DOMAIN.rglob("*.py"))]


def _domain_purposes() -> set[str]:
    """Every string in the domain shaped like a purpose, less timer kinds and key messages."""
    return {node.value for tree in _domain_trees() for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and PURPOSE.match(node.value)} - TIMER_KINDS - KEY_MESSAGES


def _domain_variants() -> set[str]:
    """Every variant the domain writes into a notice's facts: ``{VARIANT: ...}`` or
    ``facts[VARIANT] = ...``."""
    values: list[ast.expr] = []
    for tree in _domain_trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):
                values += [value for key, value in zip(node.keys, node.values, strict=True)
                           if isinstance(key, ast.Name) and key.id == "VARIANT"]
            elif isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Subscript) and isinstance(t.slice, ast.Name)
                    and t.slice.id == "VARIANT" for t in node.targets):
                values.append(node.value)
    return {const.value for value in values for const in ast.walk(value)
            if isinstance(const, ast.Constant) and isinstance(const.value, str)}


def _notice(purpose: str, **facts: object) -> Notify:
    return Notify(key="inc-1|incident|x|slack_channel|1", channel=OutboxChannel.SLACK_CHANNEL,
                  recipient="incident", body="", purpose=purpose,
                  facts=facts)  # type: ignore[arg-type]


def test_the_scan_finds_the_domains_purposes_and_variants():
    assert {"task.assigned", "ringround.list_moved", "incident.closed"} <= _domain_purposes()
    assert {"by_step", "wrong_number", "replies"} <= _domain_variants()


def test_every_purpose_the_domain_can_emit_has_wording():
    worded = {key.split("/")[0] for key in WORDING}
    assert _domain_purposes() - worded == set()


def test_every_variant_the_domain_can_emit_has_wording():
    worded = {key.split("/")[1] for key in WORDING if "/" in key}
    assert _domain_variants() - worded == set()


def test_no_wording_is_left_for_a_purpose_or_variant_the_domain_no_longer_emits():
    purposes, variants = _domain_purposes(), _domain_variants()
    stale = [key for key in WORDING
             if key.split("/")[0] not in purposes
             or ("/" in key and key.split("/")[1] not in variants)]
    assert stale == []


def test_a_purpose_without_wording_fails_loudly_when_strict():
    with pytest.raises(UnknownWording, match=r"no wording for task\.vanished"):
        chat_text(_notice("task.vanished", title="Check"), strict=True)


def test_a_variant_without_wording_fails_loudly_when_strict():
    with pytest.raises(UnknownWording, match=r"no wording for task\.done/by_magic"):
        chat_text(_notice("task.done", **{VARIANT: "by_magic"}, title="Check"), strict=True)


def test_a_missing_fact_fails_loudly_when_strict():
    with pytest.raises(UnknownWording, match=r"task\.done has no fact 'by'"):
        chat_text(_notice("task.done", title="Check"), strict=True)


def test_in_production_an_unworded_notice_shows_its_purpose_and_facts_and_logs_an_error(
        caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.ERROR, logger="incident_bot.service.wording"):
        text = chat_text(_notice("task.vanished", title="Check", waiting_on=("a", "b")))
    assert text == "task.vanished: title=Check, waiting_on=a, b"
    assert "task.vanished could not be worded" in caplog.text


def test_rendering_words_a_chat_notice_and_stores_it_as_before():
    worded = render(_notice("task.done", title="Check the list", by="Tina Jones"))
    assert worded.body == "Done: Check the list (by Tina Jones)."
    assert worded.facts == {}
    assert "facts" not in notify_to_json(worded)


def test_rendering_leaves_a_key_message_and_a_notice_with_a_body_alone():
    sms = Notify(key="k", channel=OutboxChannel.SMS, recipient="c1", body="Hello, reply K7",
                 purpose="ringround.sms")
    opened = Notify(key="o", channel=OutboxChannel.SLACK_CHANNEL, recipient="incident",
                    body="Open the incident channel", purpose="incident.channel_open")
    assert render(sms) is sms
    assert render(opened) is opened


# The domain tests check the other texts as the domain emits them; these two are rarer.


def test_a_step_completed_by_someone_names_them():
    notice = _notice("briefing.completed", step="Brief ward councillors", by="Gold",
                     version="member-briefing@v1/en")
    assert chat_text(notice, strict=True) == (
        "Briefing step complete: Brief ward councillors (member-briefing@v1/en) — Gold.")


def test_a_round_held_on_a_withdrawn_version_asks_for_a_new_draft():
    notice = _notice("ringround.held", **{VARIANT: "redraft"}, tiers=("1", "2"),
                     message="ring-round-sms", title="SMS", version=2, status="withdrawn")
    assert chat_text(notice, strict=True) == (
        "Red flag: ring-round tiers 1, 2 can't start: ring-round-sms (SMS) has no approved "
        "version, so nobody in them is called or texted yet. ring-round-sms v2 was withdrawn: "
        "an approver must draft a new version.")
