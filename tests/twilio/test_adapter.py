"""TwilioSms and TwilioVoice: the real twilio Client, its transport pointed at the fake Twilio API.
Each vendor failure becomes the error the dispatcher expects."""

from __future__ import annotations

import logging
import socket
from datetime import timedelta

import pytest

from incident_bot.adapters.twilio import TwilioSms, TwilioVoice, build_twilio_ports
from incident_bot.adapters.twilio.messaging import make_client
from incident_bot.domain.effects import Notify, OutboxChannel
from incident_bot.errors import ConfigError, PermanentProviderError, TransientProviderError
from incident_bot.settings import Settings
from incident_bot.testing.fake_twilio import Faults
from tests.fakes import T0
from tests.twilio.support import ACCOUNT_SID, AUTH_TOKEN, PUBLIC

TO = "+447700900123"


def _settings(url: str, **extra: str) -> Settings:
    values = {"DATABASE_URL": "sqlite://", "INCIDENT_BOT_PLAYBOOKS": ".",
              "INCIDENT_BOT_TEMPLATES": ".", "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
              "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_FROM_NUMBER": "+447700900000",
              "TWILIO_API_URL": url, "PUBLIC_BASE_URL": PUBLIC, "TWILIO_HTTP_TIMEOUT": "1"}
    return Settings.model_validate({**values, **extra})


def _notify(body: str = "Drill: reply K7MR", valid_for: timedelta | None = None) -> Notify:
    return Notify(key="k", channel=OutboxChannel.SMS, recipient="p", body=body,
                  purpose="ringround.sms", valid_for=valid_for)


@pytest.fixture
def ports(twilio):
    return build_twilio_ports(_settings(twilio.url))


def test_a_message_is_created_with_callback_validity_and_smart_encoding(twilio, ports):
    sms, _ = ports
    result = sms.send(_notify(valid_for=timedelta(minutes=20)), TO, "42")
    (form,) = [r.form for r in twilio.requests_to("Messages")]
    assert result.provider_id.startswith("SM")
    assert result.status == "queued"
    assert form["StatusCallback"] == f"{PUBLIC}/twilio/sms/status/42"
    assert form["ValidityPeriod"] == "1200"
    assert form["SmartEncoded"] == "true"
    assert form["From"] == "+447700900000"


def test_a_messaging_service_sends_without_a_from_number(twilio):
    sms, _ = build_twilio_ports(_settings(
        twilio.url, TWILIO_FROM_NUMBER="", TWILIO_MESSAGING_SERVICE_SID="MG" + "a" * 32))
    sms.send(_notify(), TO, "1")
    (form,) = [r.form for r in twilio.requests_to("Messages")]
    assert form["MessagingServiceSid"] == "MG" + "a" * 32
    assert "From" not in form


def test_a_pool_of_numbers_is_used_in_turn(twilio):
    sms, _ = build_twilio_ports(_settings(twilio.url,
                                          TWILIO_FROM_NUMBER="+447700900001, +447700900002"))
    for n in range(4):
        sms.send(_notify(f"m{n}"), TO, str(n))
    assert [m["from"] for m in twilio.messages] == ["+447700900001", "+447700900002"] * 2


def test_the_validity_period_stays_within_twilios_limits(twilio, ports):
    ports[0].send(_notify(valid_for=timedelta(hours=20)), TO, "1")
    assert twilio.messages[0]["_validity_period"] == "36000"


def test_a_429_is_retryable_with_its_retry_after(twilio, ports):
    twilio.faults = Faults(rate_429=1.0, retry_after=7)
    with pytest.raises(TransientProviderError) as raised:
        ports[0].send(_notify(), TO, "1")
    assert raised.value.retry_after == 7
    assert not raised.value.uncertain


def test_a_500_is_retryable_but_uncertain(twilio, ports):
    twilio.faults = Faults(rate_500=1.0)
    with pytest.raises(TransientProviderError) as raised:
        ports[0].send(_notify(), TO, "1")
    assert raised.value.uncertain


@pytest.mark.parametrize("code", [21211, 21610, 21614])
def test_a_permanent_error_names_its_code(twilio, ports, code):
    twilio.faults = Faults(permanent={TO: code})
    with pytest.raises(PermanentProviderError) as raised:
        ports[0].send(_notify(), TO, "1")
    assert raised.value.code == str(code)


def test_a_slow_answer_times_out_as_uncertain(twilio):
    twilio.faults = Faults(slow_rate=1.0, slow_seconds=0.6)
    sms, _ = build_twilio_ports(_settings(twilio.url, TWILIO_HTTP_TIMEOUT="0.2"))
    with pytest.raises(TransientProviderError) as raised:
        sms.send(_notify(), TO, "1")
    assert raised.value.uncertain


def test_an_unreachable_api_is_retryable_and_certainly_unsent():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sms, _ = build_twilio_ports(_settings(f"http://127.0.0.1:{port}"))
    with pytest.raises(TransientProviderError) as raised:
        sms.send(_notify(), TO, "1")
    assert not raised.value.uncertain


def test_refused_credentials_are_retried_not_treated_as_a_bad_number(twilio):
    sms, _ = build_twilio_ports(_settings(twilio.url, TWILIO_AUTH_TOKEN="wrong"))
    with pytest.raises(TransientProviderError):
        sms.send(_notify(), TO, "1")
    assert twilio.requests[0].status == 401


def test_find_sent_finds_a_message_accepted_before_a_500(twilio, ports, clock):
    twilio.faults = Faults(rate_500=1.0, accepted_on_500=1.0)
    with pytest.raises(TransientProviderError):
        ports[0].send(_notify(), TO, "9")
    found = ports[0].find_sent(TO, "Drill: reply K7MR", clock.now())
    assert found is not None
    assert found.provider_id == twilio.messages[0]["sid"]


def test_find_sent_ignores_other_bodies_and_older_messages(twilio, ports, clock):
    ports[0].send(_notify("another text"), TO, "1")
    assert ports[0].find_sent(TO, "Drill: reply K7MR", clock.now()) is None
    clock.advance(hours=1)
    assert ports[0].find_sent(TO, "another text", clock.now()) is None


def test_find_sent_matches_a_body_twilio_smart_encoded(twilio, ports, clock):
    twilio.messages.clear()
    ports[0].send(_notify("It\u2019s a drill"), TO, "1")
    twilio.messages[0]["body"] = "It's a drill"  # as Twilio stores it after smart encoding
    assert ports[0].find_sent(TO, "It\u2019s a drill", clock.now()) is not None


def test_a_call_fetches_its_twiml_from_the_bot(twilio, ports):
    _, voice = ports
    result = voice.call(_notify(), TO, "77")
    (form,) = [r.form for r in twilio.requests_to("Calls")]
    assert result.provider_id.startswith("CA")
    assert form["Url"] == f"{PUBLIC}/twilio/voice/77"
    assert form["StatusCallback"] == f"{PUBLIC}/twilio/voice/77/status"
    assert form["From"] == "+447700900000"


def test_find_placed_finds_a_call_placed_since_the_row_was_made(twilio, ports, clock):
    _, voice = ports
    voice.call(_notify(), TO, "77")
    assert voice.find_placed(TO, "77", clock.now()) is not None
    assert voice.find_placed("+447700900999", "77", clock.now()) is None


def test_without_a_from_number_a_call_fails_permanently(twilio):
    client = make_client(_settings(twilio.url))
    with pytest.raises(PermanentProviderError):
        TwilioVoice(client, PUBLIC, None).call(_notify(), TO, "1")


def test_neither_a_service_nor_a_number_is_a_config_error(twilio):
    with pytest.raises(ConfigError, match="TWILIO_MESSAGING_SERVICE_SID"):
        TwilioSms(make_client(_settings(twilio.url)), PUBLIC)


def test_phone_numbers_and_the_auth_token_never_reach_the_logs(twilio, ports, clock, caplog):
    caplog.set_level(logging.DEBUG)
    ports[0].send(_notify(), TO, "1")
    ports[0].find_sent(TO, "x", clock.now() - timedelta(hours=1))
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "900123" not in text
    assert AUTH_TOKEN not in text
    assert "+44 7700 ••••23" in text


def test_the_fake_refuses_a_message_without_a_body(twilio, ports):
    with pytest.raises(PermanentProviderError) as raised:
        ports[0].send(_notify(body=""), TO, "1")
    assert raised.value.code == "21602"
    assert T0  # the clock fixture's instant is the fake's clock
