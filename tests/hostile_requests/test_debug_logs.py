"""At ``INCIDENT_BOT_LOG_LEVEL=DEBUG`` the whole bot (real slack_sdk and twilio clients against
the loopback fakes, real signed webhooks) runs an incident, and what reaches the log, through
the handler ``serve`` installs (``configure_logging``), holds no phone number, no
``Authorization`` value, no token and no secret."""

from __future__ import annotations

import base64
import io
import logging
import re
from collections.abc import Iterator

import pytest

from incident_bot.adapters.slack.blocks import contact_modal
from incident_bot.domain.codes import confirmation_code
from incident_bot.entrypoints.logs import configure_logging, redact, secret_values
from tests.hostile_requests.support import COMMANDER, Bot
from tests.personal_data.test_no_secrets_in_logs import TOKEN_PREFIXES, phone_like
from tests.slack.support import SECRET, TOKEN, command_form, slack_post, wait_for
from tests.twilio.support import ACCOUNT_SID, AUTH_TOKEN, phone

TWILIO_SID = re.compile(r"\b(?:AC|SM|CA|MG)[0-9a-f]{32}\b")


@pytest.fixture
def debug_log(bot: Bot) -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = configure_logging("DEBUG", secret_values(bot.edge.services.settings), stream)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _run_an_incident(bot: Bot) -> None:
    reply = slack_post(bot.server, command_form(bot.slack, "help", user=COMMANDER,
                                                trigger="t-help", reply="help"))
    assert reply.status == 200
    wait_for(lambda: bot.slack.replies("help"))
    incident_id = bot.start()
    bot.tick()
    bot.twilio.inbound_sms(phone(1, 0), f"ok {confirmation_code(incident_id, 1)}")
    bot.twilio.inbound_sms(phone(1, 1), "who is this? ring me on 07700 900555")
    (message,) = bot.twilio.messages_to(phone(1, 2))
    bot.twilio.status_callback(message["sid"], "failed", 30005)
    bot.tick()
    (call,) = bot.twilio.calls_to(phone(1, 2))
    bot.twilio.answer_and_press(call["sid"], "1")
    # what the "Show number" button sends a caller (slack_sdk logs the whole request at DEBUG)
    bot.edge.client.views_open(trigger_id="t-show", view=contact_modal("Contact 1-3",
                                                                       phone(1, 3)))
    bot.tick(60)


@pytest.fixture
def logged(bot: Bot, debug_log: io.StringIO) -> str:
    _run_an_incident(bot)
    return debug_log.getvalue()


def test_the_debug_run_logged_the_libraries_requests_so_the_scan_means_something(logged):
    names = {line.split()[3] for line in logged.splitlines() if len(line.split()) > 3}
    assert {"slack_sdk.web.base_client", "urllib3.connectionpool",
            "incident_bot.twilio.http"} <= names
    assert logged.count("\n") >= 50


def test_no_phone_number_reaches_the_debug_log(logged):
    without_sids = TWILIO_SID.sub("SID", logged)  # hex ids whose digit runs look like numbers
    assert phone_like(without_sids) == []
    numbers = (phone(1, 0), phone(1, 1), phone(1, 2), phone(1, 3), "900555")
    assert [n for n in numbers if n in logged] == []


def test_no_authorization_header_token_or_secret_reaches_the_debug_log(logged):
    basic = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    leaked = [s for s in (SECRET, TOKEN, AUTH_TOKEN, basic, "Bearer ", "Basic ")
              if s in logged]
    assert leaked == []
    assert [t for t in TOKEN_PREFIXES if t in logged] == []


@pytest.mark.parametrize(("text", "expected"), [
    ("to=+447700900123", "to=+44 7700 ••••23"),
    ("To=%2B447700910000&Body=x", "To=+44 7700 ••••00&Body=x"),
    ("ring 07700 900123 now", "ring +44 7700 ••••23 now"),
    ("{'Authorization': 'Basic QUM6dG9r'}", "{'Authorization': '[redacted]'}"),
    ("token xoxb-111-222-SeCrEt", "token [redacted]"),
    ("item 1234567890 at 1700000001.000001", "item 1234567890 at 1700000001.000001"),
    ("sid=SM0123456789abcdef0123456789abcdef", "sid=SM0123456789abcdef0123456789abcdef"),
])
def test_redaction_masks_numbers_and_credentials_and_keeps_ids(text, expected):
    assert redact(text) == expected
