"""Twilio's webhooks as a plain WSGI app (the web entrypoint mounts it at ``/twilio/``).

    POST /twilio/sms/status/<delivery id>   message status callback -> delivery_status
    POST /twilio/sms/inbound                a reply: code, STOP/START, or feedback -> sms_inbound
    POST /twilio/voice/<delivery id>        TwiML: the key message, "press 1 to confirm"
    POST /twilio/voice/<delivery id>/gather the digit pressed -> voice_digit (2 replays)
    POST /twilio/voice/<delivery id>/status call status callback -> delivery_status

Every request must carry a valid ``X-Twilio-Signature``, computed by Twilio over the exact public
URL it requested (``PUBLIC_BASE_URL`` + path + query) and the form parameters, with the account's
auth token. A missing or wrong signature gets 403 and changes nothing; a body over 64 KiB gets 413.

A signed request must also be about its delivery: a status callback whose ``MessageSid`` /
``CallSid`` is not the one recorded for that delivery, a call webhook or digit on a delivery that
is not a call, or a delivery id no row can have (over 2**31 - 1) gets 404 and changes nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from twilio.request_validator import RequestValidator

from incident_bot.domain.directory import mask_phone
from incident_bot.domain.effects import OutboxChannel
from incident_bot.entrypoints.twilio.twiml import SAY_LANGUAGES, twiml_after_digit, twiml_for_call
from incident_bot.errors import ConfigError, IncidentBotError, NotFoundError, RefusedError
from incident_bot.service.use_cases import IncidentService
from incident_bot.settings import Settings

log = logging.getLogger("incident_bot.twilio.webhooks")

MAX_BODY = 64 * 1024
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
FAILED_CALL = frozenset({"failed", "canceled"})
# An outbox row id: an INTEGER column (32 bits on PostgreSQL), so a larger number cannot name a
# row, and must not reach the database, which would refuse it with an error, not "no row".
DELIVERY_ID = r"[0-9]{1,10}"
MAX_DELIVERY_ID = 2**31 - 1

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


@dataclass(frozen=True)
class Reply:
    status: str
    body: str = ""
    content_type: str = "text/plain; charset=utf-8"

    @classmethod
    def twiml(cls, xml: str) -> Reply:
        return cls("200 OK", xml, "application/xml; charset=utf-8")


class _Form(dict[str, list[str]]):
    """Form fields with every value kept (the signature covers repeated fields too)."""

    def getall(self, name: str) -> list[str]:
        return self[name]

    def one(self, name: str, default: str = "") -> str:
        values = self.get(name)
        return values[-1] if values else default

    def has_nul(self) -> bool:
        return any("\x00" in text for name, values in self.items() for text in (name, *values))


Route = Callable[[_Form, re.Match[str]], Reply]


class TwilioWebhooks:
    def __init__(self, incidents: IncidentService, public_base_url: str, auth_token: str) -> None:
        self._incidents = incidents
        self._public = public_base_url.rstrip("/")
        self._validator = RequestValidator(auth_token)
        self._routes: list[tuple[re.Pattern[str], Route]] = [
            (re.compile(rf"^/twilio/sms/status/({DELIVERY_ID})$"), self._sms_status),
            (re.compile(r"^/twilio/sms/inbound$"), self._sms_inbound),
            (re.compile(rf"^/twilio/voice/({DELIVERY_ID})$"), self._voice),
            (re.compile(rf"^/twilio/voice/({DELIVERY_ID})/gather$"), self._gather),
            (re.compile(rf"^/twilio/voice/({DELIVERY_ID})/status$"), self._call_status),
        ]

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        reply = self._handle(environ)
        body = reply.body.encode("utf-8")
        start_response(reply.status, [("Content-Type", reply.content_type),
                                      ("Content-Length", str(len(body)))])
        return [body]

    # ---- the edge: method, size, signature ---------------------------------------------------

    def _handle(self, environ: dict[str, Any]) -> Reply:
        path = _twilio_path(environ)
        found = next(((route, m) for pattern, route in self._routes
                      if (m := pattern.match(path))), None)
        if found is None or (found[1].groups() and int(found[1][1]) > MAX_DELIVERY_ID):
            return Reply("404 Not Found", "not found")
        if environ.get("REQUEST_METHOD") != "POST":
            return Reply("405 Method Not Allowed", "POST only")
        raw = _read_body(environ)
        if raw is None:
            return Reply("413 Content Too Large", "body too large")
        form = _Form(parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True))
        if not self._signed(environ, path, form):
            log.warning("twilio.webhook_refused path=%s reason=signature", path)
            return Reply("403 Forbidden", "invalid signature")
        if form.has_nul():
            # No carrier sends a NUL, and no database text column can hold one.
            log.warning("twilio.webhook_refused path=%s reason=nul", path)
            return Reply("400 Bad Request", "malformed form")
        route, match = found
        return _run(route, form, match, path)

    def _signed(self, environ: dict[str, Any], path: str, form: _Form) -> bool:
        signature = environ.get("HTTP_X_TWILIO_SIGNATURE")
        if not signature:
            return False
        query = environ.get("QUERY_STRING")
        url = f"{self._public}{path}" + (f"?{query}" if query else "")
        return bool(self._validator.validate(url, form, signature))

    # ---- routes ------------------------------------------------------------------------------

    def _sms_status(self, form: _Form, match: re.Match[str]) -> Reply:
        self._incidents.delivery(int(match[1]), OutboxChannel.SMS,
                                 form.one("MessageSid") or form.one("SmsSid"))
        status = form.one("MessageStatus") or form.one("SmsStatus")
        error_code = form.one("ErrorCode") or None
        self._incidents.delivery_status(int(match[1]), status, error_code)
        log.info("twilio.sms_status delivery=%s status=%s code=%s", match[1], status, error_code)
        return Reply("204 No Content")

    def _sms_inbound(self, form: _Form, match: re.Match[str]) -> Reply:
        sender = form.one("From")
        routed = self._incidents.sms_inbound(sender, form.one("Body"))
        log.info("twilio.sms_inbound from=%s incidents=%s", mask_phone(sender),
                 ",".join(routed) or "-")
        return Reply.twiml(EMPTY_TWIML)

    def _voice(self, form: _Form, match: re.Match[str]) -> Reply:
        script = self._incidents.call_script(int(match[1]), SAY_LANGUAGES)
        return Reply.twiml(twiml_for_call(script, self._gather_url(match)))

    def _gather(self, form: _Form, match: re.Match[str]) -> Reply:
        digit = form.one("Digits").strip()[:1]
        delivery = int(match[1])
        self._incidents.delivery(delivery, OutboxChannel.VOICE)
        if digit == "1":
            self._incidents.voice_digit(delivery, digit)
            log.info("twilio.voice_confirmed delivery=%s", delivery)
        return Reply.twiml(twiml_after_digit(digit, f"{self._public}/twilio/voice/{delivery}"))

    def _call_status(self, form: _Form, match: re.Match[str]) -> Reply:
        self._incidents.delivery(int(match[1]), OutboxChannel.VOICE, form.one("CallSid"))
        status = form.one("CallStatus")
        reported = "failed" if status in FAILED_CALL else status
        error_code = form.one("ErrorCode") or None
        self._incidents.delivery_status(int(match[1]), reported, error_code)
        log.info("twilio.call_status delivery=%s status=%s", match[1], status)
        return Reply("204 No Content")

    def _gather_url(self, match: re.Match[str]) -> str:
        return f"{self._public}/twilio/voice/{match[1]}/gather"


def _run(route: Route, form: _Form, match: re.Match[str], path: str) -> Reply:
    try:
        return route(form, match)
    except NotFoundError as error:
        log.info("twilio.webhook_unknown path=%s %s", path, error)
        return Reply("404 Not Found", "unknown delivery")
    except RefusedError as error:
        log.info("twilio.webhook_refused path=%s %s", path, error)
        return Reply.twiml(EMPTY_TWIML)
    except IncidentBotError:
        log.exception("twilio.webhook_failed path=%s", path)
        return Reply("503 Service Unavailable", "try again")


def make_twilio_app(incidents: IncidentService, settings: Settings) -> WsgiApp:
    """The WSGI app for Twilio's webhooks; paths are routed from ``/twilio/`` on, whether the
    mounting app strips that prefix into SCRIPT_NAME or leaves it in PATH_INFO."""
    if settings.twilio_auth_token is None or not settings.public_base_url:
        raise ConfigError("missing setting(s): TWILIO_AUTH_TOKEN, PUBLIC_BASE_URL "
                          "(needed to check Twilio's signatures)")
    return TwilioWebhooks(incidents, settings.public_base_url,
                          settings.twilio_auth_token.get_secret_value())


def _twilio_path(environ: dict[str, Any]) -> str:
    full = f"{environ.get('SCRIPT_NAME', '')}{environ.get('PATH_INFO', '')}"
    at = full.find("/twilio/")
    return full[at:] if at >= 0 else full


def _read_body(environ: dict[str, Any]) -> bytes | None:
    """The request body, or None when it is over MAX_BODY."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY:
        return None
    stream = environ["wsgi.input"]
    if length:
        raw: bytes = stream.read(length)
    elif environ.get("wsgi.input_terminated"):  # chunked, and the server says reading ends
        raw = stream.read(MAX_BODY + 1)
    else:
        raw = b""
    return None if len(raw) > MAX_BODY else raw
