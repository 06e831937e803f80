"""The SMS and voice ports on the real ``twilio.rest.Client``.

Both send with a :class:`~incident_bot.adapters.twilio.http.RoutedHttpClient` (explicit timeout,
``TWILIO_API_URL`` honoured) and translate every failure into our ProviderError tree. Status
callbacks and the call's TwiML URL carry the outbox id: ``PUBLIC_BASE_URL/twilio/sms/status/<id>``
and ``PUBLIC_BASE_URL/twilio/voice/<id>``. Phone numbers are never logged unmasked.

Twilio has no idempotency key, so after an uncertain failure the dispatcher asks ``find_sent`` /
``find_placed`` before resending: they list what was sent to that number (newest first, by ``To``
only — Twilio's date filters are by *sent* date, which a still-queued message does not have yet)
and match on the body (messages) or on the creation time (calls) since the outbox row was made.
One page (the newest 50) is read, never more: the lookup must stay one quick request.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

import requests
from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from incident_bot.adapters.twilio.errors import translate
from incident_bot.adapters.twilio.http import RoutedHttpClient
from incident_bot.domain.directory import mask_phone
from incident_bot.domain.effects import Notify
from incident_bot.domain.sms import smart_encode
from incident_bot.errors import ConfigError, PermanentProviderError
from incident_bot.service.ports import SendResult
from incident_bot.settings import Settings

log = logging.getLogger("incident_bot.twilio")
T = TypeVar("T")
MAX_VALIDITY = 36000  # seconds: Twilio's own ceiling (10 h)
CLOCK_SLACK = timedelta(minutes=2)  # our clock vs Twilio's, when matching a lookup
LOOKUP_PAGE = 50


def _call(client: Client, action: Callable[[], T]) -> T:
    """Run one Twilio API call, translating every vendor failure into ours."""
    try:
        return action()
    except (TwilioException, requests.RequestException) as error:
        http = client.http_client
        retry_after = getattr(http, "last_retry_after", None)
        raise translate(error, retry_after) from error


def make_client(settings: Settings, timeout: float | None = None) -> Client:
    settings.require("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN")
    assert settings.twilio_auth_token is not None
    http = RoutedHttpClient(settings.twilio_api_url, timeout or settings.twilio_http_timeout)
    return Client(settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value(),
                  http_client=http, environment={})


def _public(settings: Settings) -> str:
    if not settings.public_base_url:
        raise ConfigError("missing setting(s): PUBLIC_BASE_URL (Twilio's webhooks need it)")
    return settings.public_base_url.rstrip("/")


class TwilioSms:
    """SmsPort: one message per ``send``, from the Messaging Service or the number pool."""

    def __init__(self, client: Client, public_base_url: str, *,
                 messaging_service_sid: str | None = None,
                 from_numbers: Sequence[str] = ()) -> None:
        if not (messaging_service_sid or from_numbers):
            raise ConfigError("missing setting(s): TWILIO_MESSAGING_SERVICE_SID or "
                              "TWILIO_FROM_NUMBER")
        self._client = client
        self._public = public_base_url.rstrip("/")
        self._service = messaging_service_sid
        self._senders = itertools.cycle(from_numbers or ("",))
        self._lock = threading.Lock()

    def send(self, notify: Notify, to_e164: str, status_callback_id: str) -> SendResult:
        params: dict[str, Any] = {
            "to": to_e164, "body": notify.body, "smart_encoded": True,
            "status_callback": f"{self._public}/twilio/sms/status/{status_callback_id}",
        }
        params.update(self._sender())
        if notify.valid_for is not None:
            seconds = int(notify.valid_for.total_seconds())
            params["validity_period"] = min(max(seconds, 1), MAX_VALIDITY)
        message = _call(self._client, lambda: self._client.messages.create(**params))
        log.info("twilio.sms_sent to=%s delivery=%s sid=%s", mask_phone(to_e164),
                 status_callback_id, message.sid)
        return SendResult(message.sid, str(message.status or "queued"))

    def find_sent(self, to_e164: str, body: str, since: datetime) -> SendResult | None:
        wanted = {body, smart_encode(body)}
        earliest = since - CLOCK_SLACK
        found = _call(self._client, lambda: list(self._client.messages.page(
            to=to_e164, page_size=LOOKUP_PAGE)))
        for message in found:
            created = message.date_created
            if message.body in wanted and (created is None or created >= earliest):
                log.info("twilio.sms_found to=%s sid=%s", mask_phone(to_e164), message.sid)
                return SendResult(message.sid, str(message.status))
        return None

    def _sender(self) -> dict[str, str]:
        if self._service:
            return {"messaging_service_sid": self._service}
        with self._lock:
            return {"from_": next(self._senders)}


class TwilioVoice:
    """VoicePort: a call whose TwiML the bot serves at ``/twilio/voice/<callback id>``."""

    def __init__(self, client: Client, public_base_url: str, from_number: str | None) -> None:
        self._client = client
        self._public = public_base_url.rstrip("/")
        self._from = from_number

    def call(self, notify: Notify, to_e164: str, callback_id: str) -> SendResult:
        if not self._from:
            raise PermanentProviderError("no TWILIO_FROM_NUMBER to call from", code="no_caller_id")
        base = f"{self._public}/twilio/voice/{callback_id}"
        call = _call(self._client, lambda: self._client.calls.create(
            to=to_e164, from_=self._from, url=base, method="POST",
            status_callback=f"{base}/status", status_callback_method="POST"))
        log.info("twilio.call_placed to=%s delivery=%s sid=%s", mask_phone(to_e164),
                 callback_id, call.sid)
        return SendResult(call.sid, str(call.status or "queued"))

    def find_placed(self, to_e164: str, callback_id: str, since: datetime) -> SendResult | None:
        earliest = since - CLOCK_SLACK
        found = _call(self._client, lambda: list(self._client.calls.page(
            to=to_e164, page_size=LOOKUP_PAGE)))
        for call in found:
            if call.date_created is None or call.date_created >= earliest:
                log.info("twilio.call_found to=%s delivery=%s sid=%s", mask_phone(to_e164),
                         callback_id, call.sid)
                return SendResult(call.sid, str(call.status))
        return None


def build_twilio_ports(settings: Settings) -> tuple[TwilioSms, TwilioVoice]:
    """Both ports on one client, from settings (ConfigError names what is missing)."""
    client = make_client(settings)
    public = _public(settings)
    numbers = settings.twilio_from_numbers
    sms = TwilioSms(client, public, messaging_service_sid=settings.twilio_messaging_service_sid,
                    from_numbers=numbers)
    return sms, TwilioVoice(client, public, numbers[0] if numbers else None)
