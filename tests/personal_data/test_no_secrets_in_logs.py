"""Every log record emitted while the full CT playbook runs end to end (the composition root
with secrets configured, the sample directory, the real templates, recording transports that
fail now and then, replies by SMS) is free of phone numbers and secrets.

The run follows ``tests/service/test_ct_playbook_end_to_end.py``; the records are captured at
DEBUG for the whole ``incident_bot`` logger tree by pytest's own LogCaptureHandler."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from pathlib import Path

import pytest
from _pytest.logging import LogCaptureHandler

from incident_bot.bootstrap import bootstrap
from incident_bot.domain.codes import confirmation_code
from incident_bot.settings import load_settings
from tests.ct_incident import E0, ROOT, T0, seed_ct, start_ct
from tests.fakes import (
    FakeClock,
    RecordingChat,
    RecordingSms,
    RecordingVoice,
    invalid_number,
    rate_limited,
    server_error,
)
from tests.service.test_ct_playbook_end_to_end import (
    approve_everything,
    callers_reach_everyone,
    complete_role_steps,
)

SECRETS = {
    "SLACK_BOT_TOKEN": "xoxb-1111111111-2222222222-SeCrEtBoTtOkEn",
    "SLACK_APP_TOKEN": "xapp-1-A0000000-3333333333-SeCrEtApPtOkEn",
    "SLACK_SIGNING_SECRET": "5ign1ng5ecretva1ue5ign1ng5ecret0",
    "TWILIO_AUTH_TOKEN": "a7f3c9e1b2d4f6a8c0e2b4d6f8a0c2e4",
}
TOKEN_PREFIXES = ("xoxb-", "xapp-", "xoxp-", "xoxa-", "xoxe-")
CANDIDATE = re.compile(r"\+?\d[\d \-().]{8,}\d")


def phone_like(text: str) -> list[str]:
    """Digit runs of 10 or more digits (spaces, dashes, brackets allowed between) that start
    like a UK number: +44 / 0044 / 44 / 07 / 01 / 02 / 03."""
    found = []
    for match in CANDIDATE.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if len(digits) >= 10 and digits.startswith(("44", "0")):
            found.append(match.group())
    return found


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """(log records, phone numbers of the directory) after the whole response has run."""
    base = tmp_path_factory.mktemp("logs")
    handler = LogCaptureHandler()
    handler.setLevel(logging.DEBUG)
    logger = logging.getLogger("incident_bot")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        phones = run_the_ct_response(base)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    return handler.records, phones


def run_the_ct_response(base: Path) -> list[str]:
    settings = load_settings({
        **SECRETS, "TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_FROM_NUMBER": "+447700900999",
        "DATABASE_URL": f"sqlite:///{base / 'bot.db'}",
        "INCIDENT_BOT_PLAYBOOKS": str(ROOT / "playbooks"),
        "INCIDENT_BOT_TEMPLATES": str(ROOT / "message_templates"),
        "INCIDENT_BOT_LOG_LEVEL": "DEBUG"}, base)
    clock = FakeClock(T0 - timedelta(hours=1))
    chat, sms, voice = RecordingChat(), RecordingSms(), RecordingVoice()
    services = bootstrap(settings, clock=clock, chat=chat, sms=sms, voice=voice, worker="logs")
    ct = seed_ct(services.uow_factory, services.playbooks.playbooks)
    playbook, people = ct.playbook, ct.people
    incidents = services.incidents

    def tick() -> None:
        while services.poller.fire_due() + services.dispatcher.dispatch():
            pass

    incident_id = start_ct(incidents, ct, "inc-logs")
    tick()
    clock.set(T0 - timedelta(minutes=30))
    approve_everything(incidents, incident_id, playbook)
    sms.fail_next(rate_limited(2.0), server_error(), invalid_number())
    voice.fail_next(server_error(), invalid_number())
    tick()
    phones = [p.phone for p in people if p.phone]
    for minutes in range(0, 8 * 60, 5):
        clock.set(E0 - timedelta(hours=1) + timedelta(minutes=minutes))
        tick()
        if minutes == 60:
            _replies(incidents, incident_id, phones)
        complete_role_steps(incidents, incident_id, playbook)
        callers_reach_everyone(incidents, incident_id)
        tick()
        if all(s.status == "complete" for s in incidents.view(incident_id).steps):
            break
    services.engine.dispose()
    return phones


def _replies(incidents, incident_id: str, phones: list[str]) -> None:
    """A right code, a wrong word, and a text from a number nobody knows."""
    incidents.sms_inbound(phones[0], f"ok {confirmation_code(incident_id, 1)}")
    incidents.sms_inbound(phones[1], "who is this? call me on 07700 900555")
    incidents.sms_inbound("+447700900777", "STOP")


def messages(records: list[logging.LogRecord]) -> list[str]:
    return [f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in records]


def test_the_run_logged_at_debug_so_the_scan_means_something(run):
    records, _ = run
    print(f"{len(records)} records from {sorted({r.name for r in records})}")
    assert len(records) >= 20
    assert {r.levelno for r in records} & {logging.DEBUG, logging.INFO}


def test_the_phone_scan_would_catch_a_number_written_any_usual_way():
    assert phone_like("to=+447700900123") == ["+447700900123"]
    assert phone_like("ring 07700 900123 now") == ["07700 900123"]
    assert phone_like("at 2026-05-01 05:30:00 item 1234567890") == []


def test_no_log_record_holds_a_phone_number(run):
    records, _ = run
    assert [m for m in messages(records) if phone_like(m)] == []


def test_no_log_record_holds_a_directory_number_in_any_form(run):
    records, phones = run
    national = [f"0{p[3:]}" for p in phones if p.startswith("+44")]
    digits = [p.lstrip("+") for p in phones]
    text = "\n".join(messages(records))
    assert [n for n in (*phones, *national, *digits) if n in text] == []


def test_no_log_record_holds_a_slack_token(run):
    records, _ = run
    assert [m for m in messages(records) if any(t in m for t in TOKEN_PREFIXES)] == []


def test_no_log_record_holds_a_configured_secret_value(run):
    records, _ = run
    text = "\n".join(messages(records))
    assert [name for name, value in SECRETS.items() if value in text] == []
