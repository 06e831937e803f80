"""The WSGI application served in HTTP mode (by waitress, threads):

- ``POST /slack/events`` → the Bolt app (slash commands, interactivity and events share it);
- ``GET /healthz`` → ``200 {"ok": true, ...}``;
- a Slack request whose body is over ``MAX_SLACK_BODY`` (1 MiB) → ``413`` before it is read, and
  one whose ``X-Slack-Request-Timestamp`` is not a whole number → ``401`` (slack_sdk's verifier
  would raise on ``int()`` and Bolt would answer 500);
- a Slack request Bolt or a listener could not read (not UTF-8, a ``payload`` that is not a JSON
  object, a field of the wrong type, a ``view_submission`` without ``state``: see
  ``slack/payload.py``) → ``400`` before Bolt parses it: a signed request never gets a 5xx;
- ``mounts``: other WSGI apps by path prefix (e.g. ``{"/twilio/": make_twilio_app(...)}``, from
  ``entrypoints/twilio/webhooks.py``); the mounted app sees the prefix moved from ``PATH_INFO``
  to ``SCRIPT_NAME``, like any mount.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from slack_bolt.adapter.wsgi import SlackRequestHandler

from incident_bot.entrypoints.slack.payload import problem

if TYPE_CHECKING:
    from slack_bolt import App

log = logging.getLogger("incident_bot.web")
Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]
SLACK_PATH = "/slack/events"
MAX_SLACK_BODY = 1024 * 1024  # Slack's largest payloads (a 50-block message echoed) are far less


def make_web_app(bolt: App | None, mounts: Mapping[str, WSGIApp] | None = None,
                 health: Callable[[], dict[str, Any]] | None = None) -> WSGIApp:
    slack = SlackRequestHandler(bolt, path=SLACK_PATH) if bolt is not None else None
    prefixes = sorted(((p.rstrip("/") + "/", a) for p, a in (mounts or {}).items()),
                      key=lambda item: -len(item[0]))

    def application(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/healthz" and method in ("GET", "HEAD"):
            return _json(start_response, "200 OK", {"ok": True, **(health() if health else {})})
        if path == SLACK_PATH and slack is not None:
            refusal = _slack_refusal(environ, method)
            if refusal is not None:
                return _json(start_response, refusal[0], {"ok": False, "error": refusal[1]})
            return _slack_readable(environ, start_response, slack)
        for prefix, mounted in prefixes:
            if path.startswith(prefix) or path == prefix.rstrip("/"):
                inner = dict(environ)
                inner["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix.rstrip("/")
                inner["PATH_INFO"] = path[len(prefix) - 1:] or "/"
                return mounted(inner, start_response)
        return _json(start_response, "404 Not Found", {"ok": False, "error": "not_found"})

    return application


def _slack_refusal(environ: Environ, method: str) -> tuple[str, str] | None:
    """Why a request to the Slack path is refused before Bolt reads it, or None."""
    if method != "POST":
        return "405 Method Not Allowed", "method_not_allowed"
    if _declared_length(environ) > MAX_SLACK_BODY:
        return "413 Content Too Large", "body_too_large"
    if not _whole_number(environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "0")):
        return "401 Unauthorized", "invalid_request"
    return None


def _slack_readable(environ: Environ, start_response: StartResponse,
                    slack: SlackRequestHandler) -> Iterable[bytes]:
    """Hand the request to Bolt if Bolt and the listeners can read it, else 400 (or 413)."""
    raw = _read_slack_body(environ)
    if raw is None:
        return _json(start_response, "413 Content Too Large", {"ok": False,
                                                               "error": "body_too_large"})
    wrong = problem(raw, environ.get("CONTENT_TYPE"))
    if wrong is not None:
        log.info("slack.request_unreadable reason=%s", wrong[:120])
        return _json(start_response, "400 Bad Request", {"ok": False,
                                                         "error": "malformed_payload"})
    inner = {**environ, "wsgi.input": io.BytesIO(raw), "CONTENT_LENGTH": str(len(raw))}
    return slack(inner, start_response)


def _read_slack_body(environ: Environ) -> bytes | None:
    """The body, read once (Bolt reads it again from a copy), or None when over the limit."""
    length = _declared_length(environ)
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    if length:
        raw: bytes = stream.read(length)
    elif environ.get("wsgi.input_terminated"):
        raw = stream.read(MAX_SLACK_BODY + 1)
    else:
        raw = b""
    return None if len(raw) > MAX_SLACK_BODY else raw


def _declared_length(environ: Environ) -> int:
    """CONTENT_LENGTH as a number (waitress sets it for chunked bodies too, once buffered)."""
    try:
        return int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _whole_number(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) < 16


def _json(start_response: StartResponse, status: str, body: dict[str, Any]) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(data)))])
    return [data]
