"""Signed requests called straight into the WSGI app, in process: the environ a WSGI server
would build, with Slack's or Twilio's real signature over the exact bytes sent. Thousands of
requests take seconds this way (no sockets, no server threads)."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from twilio.request_validator import RequestValidator

from tests.slack.support import sign
from tests.twilio.support import AUTH_TOKEN, PUBLIC

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def environ(path: str, body: bytes, headers: dict[str, str], query: str = "") -> dict[str, Any]:
    env: dict[str, Any] = {
        "REQUEST_METHOD": "POST", "SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http", "wsgi.errors": io.StringIO(), "wsgi.version": (1, 0),
        "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
    }
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        env[key if key == "CONTENT_TYPE" else f"HTTP_{key}"] = value
    return env


def call(app: WSGIApp, env: dict[str, Any]) -> tuple[int, bytes]:
    """(status code, body) of one request."""
    seen: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], *_: Any) -> None:
        seen.append(status)

    body = b"".join(app(env, start_response))
    return int(seen[-1].split()[0]), body


def slack_request(body: bytes, content_type: str = "application/x-www-form-urlencoded",
                  extra: dict[str, str] | None = None) -> dict[str, Any]:
    stamp = int(time.time())
    return environ("/slack/events", body, {
        "Content-Type": content_type, "X-Slack-Request-Timestamp": str(stamp),
        "X-Slack-Signature": sign(body, stamp), **(extra or {})})


class _Fields(dict[str, list[str]]):
    """Repeated form fields, as twilio's RequestValidator reads them (``getall``)."""

    def getall(self, name: str) -> list[str]:
        return self[name]


def twilio_request(path: str, body: bytes, query: str = "") -> dict[str, Any]:
    """Signed as Twilio signs: over the public URL and the form as the app will parse it."""
    form = _Fields(parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True))
    url = PUBLIC + path + (f"?{query}" if query else "")
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, form)
    return environ(path, body, {"Content-Type": "application/x-www-form-urlencoded",
                                "X-Twilio-Signature": signature}, query)
