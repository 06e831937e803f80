"""A loopback fake of the Twilio REST API (2010-04-01 Messages and Calls) and of Twilio's webhooks.

The real ``twilio.rest.Client`` talks to it (``TWILIO_API_URL`` pointed at :attr:`FakeTwilio.url`).
It records every request, answers like Twilio (201 with an ``SM…``/``CA…`` resource, JSON error
bodies with Twilio's codes), checks Basic auth and the parameters Twilio requires, and can be told
to misbehave: a seeded fraction of 429s and 500s, slow answers, numbers that are invalid (21211) or
opted out (21610). A 500 may come *after* the message was accepted (``accepted_on_500``), which is
what makes a blind resend send twice.

It also plays Twilio's side of the webhooks: :meth:`FakeTwilio.status_callback`,
:meth:`FakeTwilio.inbound_sms` and :meth:`FakeTwilio.answer_and_press` post requests signed with
``X-Twilio-Signature`` (computed over the *public* URL, as Twilio does) to the app under test.

    with FakeTwilio(account_sid, auth_token, clock=clock) as twilio:
        settings = {..., "TWILIO_API_URL": twilio.url}
"""

from __future__ import annotations

import base64
import random
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from xml.etree import ElementTree

from twilio.request_validator import RequestValidator

from incident_bot.testing.loopback import LoopbackServer, read_body, send_json

API = "/2010-04-01/Accounts/"
# The domain's ``directory.E164``, copied: the fakes import nothing of the bot but its errors
# (tests/test_layers.py); tests/domain/test_shared_rules.py keeps the two the same.
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_ROUTE = re.compile(r"^/2010-04-01/Accounts/(?P<sid>[^/]+)/(?P<kind>Messages|Calls)\.json$")
PERMANENT_MESSAGES = {
    21211: "The 'To' number is not a valid phone number.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
    21408: "Permission to send an SMS has not been enabled for the region indicated by the 'To'",
}


@dataclass(frozen=True)
class Recorded:
    """One request the fake received, and what it answered."""

    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    status: int
    authorised: bool


@dataclass
class Faults:
    """What fraction of create requests fail, and how (drawn from a seeded random stream)."""

    rate_429: float = 0.0
    rate_500: float = 0.0
    accepted_on_500: float = 0.5  # of the 500s, the fraction that created the resource first
    slow_rate: float = 0.0
    slow_seconds: float = 0.0
    retry_after: int = 1
    permanent: dict[str, int] = field(default_factory=dict)  # To number -> Twilio error code


@dataclass(frozen=True)
class WebhookReply:
    status: int
    body: str
    content_type: str


class FakeTwilio(LoopbackServer):
    """The fake server; use as a context manager (starts on 127.0.0.1, a free port)."""

    thread_name = "fake-twilio"
    poll_interval = 0.05

    def __init__(self, account_sid: str, auth_token: str, *,
                 clock: Callable[[], datetime] | None = None, seed: int = 0,
                 faults: Faults | None = None, app_url: str | None = None,
                 public_base_url: str | None = None) -> None:
        super().__init__()
        self.account_sid, self.auth_token = account_sid, auth_token
        self.faults = faults or Faults()
        self.app_url = app_url  # where webhooks really go (the app under test)
        self.public_base_url = public_base_url  # what the app believes its public URL is
        self._clock = clock or (lambda: datetime.now(UTC))
        self._rng = random.Random(seed)  # noqa: S311 - fault injection, not secrecy
        self._lock = threading.Lock()
        self.requests: list[Recorded] = []
        self.messages: list[dict[str, Any]] = []
        self.calls: list[dict[str, Any]] = []
        self._inbound = 0  # inbound messages so far: their SIDs (the fault stream stays put)
        self._serving = 0  # API requests being handled now

    @property
    def in_flight(self) -> int:
        """API requests the fake is handling now (a test moving its clock waits for none)."""
        with self._lock:
            return self._serving

    def _serving_one(self, delta: int) -> None:
        with self._lock:
            self._serving += delta

    # ---- lifecycle (start, stop, context manager: LoopbackServer) --------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        return type("Handler", (_Handler,), {"fake": self})

    def stop(self) -> None:
        super().stop()
        self._server = None

    @property
    def url(self) -> str:
        assert self._server is not None, "FakeTwilio is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # ---- what was sent ----------------------------------------------------------------------

    def messages_to(self, to: str) -> list[dict[str, Any]]:
        with self._lock:
            return [m for m in self.messages if m["to"] == to]

    def calls_to(self, to: str) -> list[dict[str, Any]]:
        with self._lock:
            return [c for c in self.calls if c["to"] == to]

    def requests_to(self, kind: str, method: str = "POST") -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests
                    if r.method == method and r.path.endswith(f"/{kind}.json")]

    # ---- the REST API (called from the server thread) ---------------------------------------

    def handle(self, method: str, path: str, query: dict[str, str], form: dict[str, str],
               authorization: str | None) -> tuple[int, dict[str, str], dict[str, Any]]:
        authorised = self._authorised(authorization)
        status, headers, body = self._route(method, path, query, form, authorised)
        with self._lock:
            self.requests.append(Recorded(method, path, query, form, status, authorised))
        return status, headers, body

    def _authorised(self, authorization: str | None) -> bool:
        if not authorization or not authorization.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return user == self.account_sid and password == self.auth_token

    def _route(self, method: str, path: str, query: dict[str, str], form: dict[str, str],
               authorised: bool) -> tuple[int, dict[str, str], dict[str, Any]]:
        match = _ROUTE.match(path)
        if match is None:
            return _error(404, 20404, "The requested resource was not found")
        if not authorised:
            return _error(401, 20003, "Authenticate")
        if match["sid"] != self.account_sid:
            return _error(403, 20003, "Permission denied for this account")
        kind = match["kind"]
        if method == "GET":
            return 200, {}, self._list(kind, query)
        if method != "POST":
            return _error(405, 20004, "Method not allowed")
        return self._create(kind, form)

    def _create(self, kind: str, form: dict[str, str]) -> tuple[int, dict[str, str],
                                                                 dict[str, Any]]:
        problem = (_check_message if kind == "Messages" else _check_call)(form)
        if problem is not None:
            return _error(400, *problem)
        with self._lock:
            draw = self._rng.random()
            slow = self._rng.random() < self.faults.slow_rate
            accepted_first = self._rng.random() < self.faults.accepted_on_500
        if slow and self.faults.slow_seconds:
            time.sleep(self.faults.slow_seconds)  # latency, in the server thread only
        if draw < self.faults.rate_429:
            return _error(429, 20429, "Too Many Requests",
                          {"Retry-After": str(self.faults.retry_after)})
        code = self.faults.permanent.get(form.get("To", ""))
        if code is not None:
            return _error(400, code, PERMANENT_MESSAGES.get(code, "Permanent error"))
        if draw < self.faults.rate_429 + self.faults.rate_500:
            if accepted_first:
                self._store(kind, form)
            return _error(500, 20500, "Internal Server Error")
        return 201, {}, self._store(kind, form)

    def _store(self, kind: str, form: dict[str, str]) -> dict[str, Any]:
        now = self._clock()
        with self._lock:
            if kind == "Messages":
                resource = self._message(form, now, len(self.messages) + 1)
                self.messages.append(resource)
            else:
                resource = self._call(form, now, len(self.calls) + 1)
                self.calls.append(resource)
        return {k: v for k, v in resource.items() if not k.startswith("_")}

    def _message(self, form: dict[str, str], now: datetime, n: int) -> dict[str, Any]:
        sid = f"SM{n:032x}"
        return {
            "sid": sid, "account_sid": self.account_sid, "api_version": "2010-04-01",
            "to": form["To"], "from": form.get("From"), "body": form["Body"],
            "messaging_service_sid": form.get("MessagingServiceSid"), "status": "queued",
            "direction": "outbound-api", "num_segments": "1", "num_media": "0",
            "date_created": _rfc2822(now), "date_updated": _rfc2822(now),
            "date_sent": _rfc2822(now), "error_code": None, "error_message": None,
            "price": None, "price_unit": "GBP",
            "uri": f"{API}{self.account_sid}/Messages/{sid}.json", "subresource_uris": {},
            "_at": now, "_status_callback": form.get("StatusCallback"),
            "_validity_period": form.get("ValidityPeriod"),
            "_smart_encoded": form.get("SmartEncoded"),
        }

    def _call(self, form: dict[str, str], now: datetime, n: int) -> dict[str, Any]:
        sid = f"CA{n:032x}"
        return {
            "sid": sid, "account_sid": self.account_sid, "api_version": "2010-04-01",
            "to": form["To"], "from": form["From"], "status": "queued",
            "direction": "outbound-api", "start_time": _rfc2822(now), "end_time": None,
            "date_created": _rfc2822(now), "date_updated": _rfc2822(now), "duration": None,
            "price": None, "uri": f"{API}{self.account_sid}/Calls/{sid}.json",
            "subresource_uris": {}, "_at": now, "_url": form.get("Url"),
            "_status_callback": form.get("StatusCallback"),
        }

    def _list(self, kind: str, query: dict[str, str]) -> dict[str, Any]:
        stamp = "DateSent" if kind == "Messages" else "StartTime"
        with self._lock:
            pool = list(self.messages if kind == "Messages" else self.calls)
        chosen = [r for r in reversed(pool) if _matches(r, query, stamp)]
        size = int(query.get("PageSize", "50"))
        key = kind.lower()
        base = f"{API}{self.account_sid}/{kind}.json"
        return {
            key: [{k: v for k, v in r.items() if not k.startswith("_")} for r in chosen[:size]],
            "page": 0, "page_size": size, "start": 0, "end": max(len(chosen[:size]) - 1, 0),
            "uri": f"{base}?{urlencode(query)}", "first_page_uri": f"{base}?{urlencode(query)}",
            "next_page_uri": None, "previous_page_uri": None,
        }

    # ---- Twilio's side of the webhooks ------------------------------------------------------

    def sign(self, public_url: str, params: Mapping[str, str]) -> str:
        return str(RequestValidator(self.auth_token).compute_signature(public_url, dict(params)))

    def post_webhook(self, path: str, params: Mapping[str, str], *,
                     signature: str | None = "valid") -> WebhookReply:
        """POST ``params`` to the app at ``path`` (which may carry a query). ``signature``:
        "valid" signs over PUBLIC_BASE_URL + path; None sends no signature; anything else is
        sent as the signature verbatim."""
        assert self.app_url, "set app_url"
        assert self.public_base_url, "set public_base_url"
        public = self.public_base_url.rstrip("/") + path
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if signature == "valid":
            headers["X-Twilio-Signature"] = self.sign(public, params)
        elif signature is not None:
            headers["X-Twilio-Signature"] = signature
        return _post(self.app_url.rstrip("/") + path, params, headers)

    def status_callback(self, message_sid: str, status: str,
                        error_code: int | None = None) -> WebhookReply:
        """Report a message's status to the StatusCallback it was sent with."""
        message = next(m for m in self.messages if m["sid"] == message_sid)
        params = {"MessageSid": message_sid, "SmsSid": message_sid, "MessageStatus": status,
                  "SmsStatus": status, "AccountSid": self.account_sid, "To": message["to"],
                  "From": message["from"] or "", "ApiVersion": "2010-04-01"}
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        return self.post_webhook(self._public_path(message["_status_callback"]), params)

    def inbound_sms(self, from_: str, body: str, to: str = "+447700900000", *,
                    signature: str | None = "valid") -> WebhookReply:
        with self._lock:
            self._inbound += 1
            sid = f"SM{0xFFFF0000 + self._inbound:032x}"
        params = {"MessageSid": sid,
                  "AccountSid": self.account_sid, "From": from_, "To": to, "Body": body,
                  "NumMedia": "0", "ApiVersion": "2010-04-01"}
        return self.post_webhook("/twilio/sms/inbound", params, signature=signature)

    def answer(self, call_sid: str) -> WebhookReply:
        """The callee answers: fetch the call's TwiML from its Url."""
        call = next(c for c in self.calls if c["sid"] == call_sid)
        return self.post_webhook(self._public_path(call["_url"]), self._call_params(call))

    def answer_and_press(self, call_sid: str, digits: str) -> WebhookReply:
        """Answer the call, then press ``digits`` at its <Gather> (posted to the action URL)."""
        call = next(c for c in self.calls if c["sid"] == call_sid)
        twiml = ElementTree.fromstring(self.answer(call_sid).body)  # noqa: S314 - our own app
        gather = twiml.find("Gather")
        assert gather is not None, "the TwiML has no <Gather>"
        action = gather.get("action") or self._public_path(call["_url"])
        params = {**self._call_params(call), "Digits": digits}
        return self.post_webhook(self._public_path(action), params)

    def _call_params(self, call: dict[str, Any]) -> dict[str, str]:
        return {"CallSid": call["sid"], "AccountSid": self.account_sid, "To": call["to"],
                "From": call["from"], "CallStatus": "in-progress", "Direction": "outbound-api",
                "ApiVersion": "2010-04-01"}

    def _public_path(self, url: str) -> str:
        """The path (and query) of a URL the app gave us, relative to its public base URL."""
        assert self.public_base_url is not None
        base = self.public_base_url.rstrip("/")
        if url.startswith(base):
            return url[len(base):]
        parts = urlsplit(url)
        return parts.path + (f"?{parts.query}" if parts.query else "")


# ---- the HTTP handler ------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    fake: FakeTwilio
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        parts = urlsplit(self.path)
        self.fake._serving_one(+1)
        try:
            status, headers, body = self.fake.handle(
                method, parts.path, _flat(parse_qs(parts.query)),
                _flat(parse_qs(read_body(self))), self.headers.get("Authorization"))
            send_json(self, status, body, headers)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up waiting (a timeout test)
        finally:
            self.fake._serving_one(-1)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: request lines carry phone numbers in their query strings."""


# ---- helpers ---------------------------------------------------------------------------------


def _flat(values: dict[str, list[str]]) -> dict[str, str]:
    return {k: v[-1] for k, v in values.items()}


def _error(status: int, code: int, message: str,
           headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], dict[str, Any]]:
    return status, headers or {}, {"code": code, "message": message, "status": status,
                                   "more_info": f"https://www.twilio.com/docs/errors/{code}"}


def _check_message(form: dict[str, str]) -> tuple[int, str] | None:
    if not form.get("To"):
        return 21604, "A 'To' phone number is required."
    if not E164.match(form["To"]):
        return 21211, f"The 'To' number {form['To']!r} is not a valid phone number."
    if not form.get("Body"):
        return 21602, "Message body is required."
    if not (form.get("From") or form.get("MessagingServiceSid")):
        return 21603, "A 'From' or 'MessagingServiceSid' parameter is required."
    validity = form.get("ValidityPeriod")
    if validity is not None and not (validity.isdigit() and 1 <= int(validity) <= 36000):
        return 21609, "ValidityPeriod must be an integer from 1 to 36000."
    return None


def _check_call(form: dict[str, str]) -> tuple[int, str] | None:
    if not form.get("To") or not E164.match(form["To"]):
        return 21211, "The 'To' number is not a valid phone number."
    if not form.get("From"):
        return 21212, "The 'From' number is not a valid phone number."
    if not (form.get("Url") or form.get("Twiml") or form.get("ApplicationSid")):
        return 21205, "Url, Twiml or ApplicationSid is required."
    return None


def _matches(resource: dict[str, Any], query: dict[str, str], stamp: str) -> bool:
    if "To" in query and resource["to"] != query["To"]:
        return False
    if "From" in query and resource["from"] != query["From"]:
        return False
    at: datetime = resource["_at"]
    bounds: dict[str, Callable[[datetime], bool]] = {
        stamp + ">": lambda t: at >= t, stamp + "<": lambda t: at <= t,
        stamp: lambda t: at.date() == t.date()}
    return all(test(_parse_time(query[name])) for name, test in bounds.items() if name in query)


def _parse_time(text: str) -> datetime:
    if len(text) == 10:  # a bare date
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _rfc2822(instant: datetime) -> str:
    return format_datetime(instant.astimezone(UTC), usegmt=True)


def _post(url: str, params: Mapping[str, str], headers: dict[str, str]) -> WebhookReply:
    assert url.startswith(("http://", "https://")), url
    request = urllib.request.Request(url, data=urlencode(params).encode(),  # noqa: S310
                                     headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return WebhookReply(response.status, response.read().decode(),
                                response.headers.get("Content-Type", ""))
    except urllib.error.HTTPError as error:
        return WebhookReply(error.code, error.read().decode(),
                            error.headers.get("Content-Type", ""))
