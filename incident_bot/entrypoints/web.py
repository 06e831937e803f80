"""The WSGI application served in HTTP mode (by waitress, threads):

- ``POST /slack/events`` → the Bolt app (slash commands, interactivity and events share it);
- ``GET /healthz`` → ``200 {"ok": true, ...}``;
- ``mounts``: other WSGI apps by path prefix (e.g. ``{"/twilio/": make_twilio_app(...)}``); the
  mounted app sees the prefix moved from ``PATH_INFO`` to ``SCRIPT_NAME``, like any mount.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from slack_bolt.adapter.wsgi import SlackRequestHandler

if TYPE_CHECKING:
    from slack_bolt import App

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]
SLACK_PATH = "/slack/events"


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
            if method != "POST":
                return _json(start_response, "405 Method Not Allowed", {"ok": False})
            return slack(environ, start_response)
        for prefix, mounted in prefixes:
            if path.startswith(prefix) or path == prefix.rstrip("/"):
                inner = dict(environ)
                inner["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix.rstrip("/")
                inner["PATH_INFO"] = path[len(prefix) - 1:] or "/"
                return mounted(inner, start_response)
        return _json(start_response, "404 Not Found", {"ok": False, "error": "not_found"})

    return application


def _json(start_response: StartResponse, status: str, body: dict[str, Any]) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(data)))])
    return [data]
