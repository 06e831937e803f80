"""A loopback fake of the Slack Web API (and of a Socket Mode WebSocket endpoint).

Point the real ``slack_sdk.WebClient(base_url=fake.api_url)`` at it. Every call is recorded
(method, parsed form or JSON arguments, bearer token) and answered with JSON shaped like
Slack's for the methods the bot uses. Failures can be scripted per method::

    with FakeSlack() as slack:
        slack.fail_next("chat.postMessage", status=429, retry_after=7)
        ...
        assert slack.calls_to("conversations.create")[0].args["name"] == "inc-..."

``apps.connections.open`` returns a ``ws://`` URL served by the same server: the built-in
Socket Mode client completes its handshake there; :meth:`FakeSlack.push_envelope` sends it an
envelope (a slash command, a button click) and :attr:`FakeSlack.socket_acks` records its acks.

With ``scopes`` (e.g. the manifest's, :func:`manifest_scopes`) the fake answers
``missing_scope`` like Slack when a bot token calls a method without the scope it needs, and
records every scope used (:attr:`FakeSlack.scopes_used`). ``app_token_error`` makes
``apps.connections.open`` refuse the app-level token (``invalid_auth``, ``token_revoked``).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import json
import socket
import threading
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import parse_qsl, urlparse

from incident_bot.testing.loopback import LoopbackServer, read_body, send_json

JSONish = dict[str, Any]
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
JSON_FIELDS = frozenset({"blocks", "attachments", "view", "metadata"})
# The bot-token scope each Web API method needs (Slack's method reference); history depends on
# the conversation's type.
METHOD_SCOPES = {
    "chat.postMessage": "chat:write", "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write", "conversations.create": "groups:write",
    "conversations.invite": "groups:write", "conversations.open": "im:write",
    "pins.add": "pins:write", "users.info": "users:read",
}
HISTORY_SCOPES = {"im": "im:history", "private": "groups:history", "public": "channels:history"}


def manifest_scopes(path: Path | None = None) -> frozenset[str]:
    """The bot scopes the shipped app manifest (docs/slack-manifest.yaml) asks for."""
    import yaml  # noqa: PLC0415 - a test helper's dependency only

    path = path or Path(__file__).parents[2] / "docs" / "slack-manifest.yaml"
    manifest = yaml.safe_load(path.read_text(encoding="utf-8"))
    return frozenset(manifest["oauth_config"]["scopes"]["bot"])


@dataclass(frozen=True)
class SlackCall:
    method: str
    args: JSONish
    token: str | None


@dataclass(frozen=True)
class _Failure:
    status: int
    error: str
    retry_after: int | None


@dataclass
class _Channel:
    id: str
    name: str
    is_private: bool = True
    is_im: bool = False
    members: set[str] = field(default_factory=set)
    messages: dict[str, JSONish] = field(default_factory=dict)  # ts → message
    pins: list[str] = field(default_factory=list)


class FakeSlack(LoopbackServer):
    """The fake Slack Web API server; a context manager that starts and stops its thread."""

    thread_name = "fake-slack"

    def __init__(self, bot_user_id: str = "UBOT00001", team_id: str = "T0FAKE001",
                 scopes: frozenset[str] | None = None) -> None:
        super().__init__()
        self.bot_user_id, self.team_id = bot_user_id, team_id
        self.scopes = scopes  # None: every scope granted
        self.scopes_used: set[str] = set()
        self.app_token_error: str | None = None
        self.calls: list[SlackCall] = []
        self.socket_acks: list[JSONish] = []
        self.channels: dict[str, _Channel] = {}
        self._failures: dict[str, deque[_Failure]] = defaultdict(deque)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []

    # ---- lifecycle (start, stop, context manager: LoopbackServer) --------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    def stop(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _close_quietly(sock)
        super().stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "FakeSlack is not running"
        return int(self._server.server_address[1])

    @property
    def api_url(self) -> str:
        """What to pass as ``WebClient(base_url=...)`` / ``SLACK_API_URL``."""
        return f"http://127.0.0.1:{self.port}/api/"

    # ---- scripting and inspection ---------------------------------------------------------

    def fail_next(self, method: str, *, status: int = 429, error: str | None = None,
                  retry_after: int | None = None, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with this failure instead."""
        default = {429: "ratelimited"}.get(status, "fatal_error" if status >= 500 else "")
        failure = _Failure(status, error or default or "invalid_arguments",
                           retry_after if retry_after is not None or status != 429 else 1)
        with self._lock:
            self._failures[method].extend([failure] * times)

    def calls_to(self, method: str) -> list[SlackCall]:
        with self._lock:
            return [call for call in self.calls if call.method == method]

    def methods(self) -> list[str]:
        with self._lock:
            return [call.method for call in self.calls]

    def channel_named(self, name: str) -> _Channel | None:
        with self._lock:
            return next((c for c in self.channels.values() if c.name == name), None)

    def push_envelope(self, envelope_type: str, payload: JSONish,
                      accepts_response_payload: bool = False) -> str:
        """Send a Socket Mode envelope to every connected client; returns its envelope id."""
        envelope_id = f"env-{next(self._ids)}"
        data = json.dumps({"envelope_id": envelope_id, "type": envelope_type,
                           "payload": payload,
                           "accepts_response_payload": accepts_response_payload}).encode()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            sock.sendall(_frame(0x1, data))
        return envelope_id

    def response_url(self, name: str = "r") -> str:
        """A ``response_url`` to put in a simulated payload; posts to it are recorded as calls
        to the method ``response_url``."""
        return f"http://127.0.0.1:{self.port}/response/{name}"

    def replies(self, name: str = "r") -> list[SlackCall]:
        """What the app posted to :meth:`response_url` ``name``."""
        return [c for c in self.calls_to("response_url") if c.args["url"] == f"/response/{name}"]

    @property
    def socket_clients(self) -> int:
        with self._lock:
            return len(self._sockets)

    # ---- the API --------------------------------------------------------------------------

    def handle(self, method: str, args: JSONish, token: str | None) -> tuple[int, JSONish,
                                                                            dict[str, str]]:
        with self._lock:
            self.calls.append(SlackCall(method, args, token))
            failures = self._failures.get(method)
            failure = failures.popleft() if failures else None
            if failure is not None:
                headers = ({"Retry-After": str(failure.retry_after)}
                           if failure.retry_after is not None else {})
                return failure.status, {"ok": False, "error": failure.error}, headers
            if token is None and method != "api.test":
                return 200, {"ok": False, "error": "not_authed"}, {}
            refused = self._refused(method, args)
            if refused is not None:
                return 200, refused, {}
            answer = self._answers().get(method)
            body = answer(args) if answer else {"ok": True}
        return 200, body, {}

    def _answers(self) -> dict[str, Callable[[JSONish], JSONish]]:
        return {
            "auth.test": self._auth_test, "chat.postMessage": self._post_message,
            "chat.update": self._update, "chat.postEphemeral": self._post_ephemeral,
            "conversations.create": self._create, "conversations.invite": self._invite,
            "conversations.open": self._open_dm, "pins.add": self._pin,
            "conversations.history": self._history, "views.open": self._view,
            "views.publish": self._view, "views.update": self._view,
            "users.info": self._user_info, "apps.connections.open": self._connections_open,
        }

    def _refused(self, method: str, args: JSONish) -> JSONish | None:
        """Slack's answer to a token that may not call ``method``, or None."""
        if method == "apps.connections.open" and self.app_token_error is not None:
            return {"ok": False, "error": self.app_token_error}
        needed = self._scope_for(method, args)
        if needed is None:
            return None
        self.scopes_used.add(needed)
        if self.scopes is None or needed in self.scopes:
            return None
        return {"ok": False, "error": "missing_scope", "needed": needed,
                "provided": ",".join(sorted(self.scopes))}

    def _scope_for(self, method: str, args: JSONish) -> str | None:
        if method != "conversations.history":
            return METHOD_SCOPES.get(method)
        channel = self.channels.get(str(args.get("channel", "")))
        if channel is None:
            return None
        kind = "im" if channel.is_im else "private" if channel.is_private else "public"
        return HISTORY_SCOPES[kind]

    def _auth_test(self, args: JSONish) -> JSONish:
        return {"ok": True, "url": "https://fake.slack.test/", "team": "Fake", "user": "bot",
                "team_id": self.team_id, "user_id": self.bot_user_id, "bot_id": "B0FAKE001"}

    def _ts(self) -> str:
        return f"1700000000.{next(self._ids):06d}"

    def _channel(self, channel_id: str) -> _Channel | None:
        if channel_id.startswith(("U", "W")):  # posting to a user id opens the DM
            return self._dm(channel_id)
        return self.channels.get(channel_id)

    def _post_message(self, args: JSONish) -> JSONish:
        channel = self._channel(str(args.get("channel", "")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        ts = self._ts()
        message = {"ts": ts, "text": args.get("text", ""), "blocks": args.get("blocks", []),
                   "user": self.bot_user_id, "type": "message"}
        if isinstance(args.get("metadata"), dict):
            message["metadata"] = args["metadata"]
        channel.messages[ts] = message
        return {"ok": True, "channel": channel.id, "ts": ts, "message": message}

    def _update(self, args: JSONish) -> JSONish:
        channel = self.channels.get(str(args.get("channel", "")))
        ts = str(args.get("ts", ""))
        if channel is None or ts not in channel.messages:
            return {"ok": False, "error": "message_not_found"}
        channel.messages[ts].update(text=args.get("text", ""), blocks=args.get("blocks", []))
        return {"ok": True, "channel": channel.id, "ts": ts, "text": args.get("text", "")}

    def _post_ephemeral(self, args: JSONish) -> JSONish:
        return {"ok": True, "message_ts": self._ts()}

    def _create(self, args: JSONish) -> JSONish:
        name = str(args.get("name", ""))
        if any(c.name == name for c in self.channels.values()):
            return {"ok": False, "error": "name_taken"}
        private = str(args.get("is_private", "false")).lower() in ("true", "1")
        channel = _Channel(f"C{next(self._ids):08d}", name, private, members={self.bot_user_id})
        self.channels[channel.id] = channel
        return {"ok": True, "channel": {"id": channel.id, "name": name, "is_private": private,
                                        "is_channel": not private, "is_group": private}}

    def _invite(self, args: JSONish) -> JSONish:
        channel = self.channels.get(str(args.get("channel", "")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        users = [u for u in str(args.get("users", "")).split(",") if u]
        if any(u in channel.members for u in users):
            return {"ok": False, "error": "already_in_channel"}
        channel.members.update(users)
        return {"ok": True, "channel": {"id": channel.id, "name": channel.name}}

    def _dm(self, user_id: str) -> _Channel:
        dm_id = f"D{user_id[1:]}"
        return self.channels.setdefault(dm_id, _Channel(dm_id, dm_id, True, True, {user_id}))

    def _open_dm(self, args: JSONish) -> JSONish:
        users = str(args.get("users", ""))
        return {"ok": True, "channel": {"id": self._dm(users.split(",", maxsplit=1)[0]).id}}

    def _history(self, args: JSONish) -> JSONish:
        channel = self.channels.get(str(args.get("channel", "")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        limit = int(args.get("limit") or 100)
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("true", "1")
        newest_first = sorted(channel.messages.values(), key=lambda m: m["ts"], reverse=True)
        return {"ok": True, "has_more": len(newest_first) > limit, "messages": [
            m if with_metadata else {k: v for k, v in m.items() if k != "metadata"}
            for m in newest_first[:limit]]}

    def _pin(self, args: JSONish) -> JSONish:
        channel = self.channels.get(str(args.get("channel", "")))
        ts = str(args.get("timestamp", ""))
        if channel is None or ts not in channel.messages:
            return {"ok": False, "error": "message_not_found"}
        if ts in channel.pins:
            return {"ok": False, "error": "already_pinned"}
        channel.pins.append(ts)
        return {"ok": True}

    def _view(self, args: JSONish) -> JSONish:
        view = args.get("view") or {}
        return {"ok": True, "view": {**(view if isinstance(view, dict) else {}),
                                     "id": f"V{next(self._ids):08d}"}}

    def _user_info(self, args: JSONish) -> JSONish:
        user = str(args.get("user", ""))
        return {"ok": True, "user": {"id": user, "name": user.lower(), "tz": "Europe/London",
                                     "is_bot": False}}

    def _connections_open(self, args: JSONish) -> JSONish:
        return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/link/?ticket=fake"}

    # ---- socket mode ----------------------------------------------------------------------

    def _serve_socket(self, sock: socket.socket, rfile: BinaryIO) -> None:
        with self._lock:
            self._sockets.append(sock)
        sock.sendall(_frame(0x1, json.dumps({"type": "hello", "num_connections": 1}).encode()))
        try:
            while (frame := _read_frame(rfile)) is not None:
                opcode, payload = frame
                if opcode == 0x8:  # close
                    sock.sendall(_frame(0x8, payload[:2]))
                    break
                if opcode == 0x9:  # ping
                    sock.sendall(_frame(0xA, payload))
                elif opcode == 0x1:
                    with self._lock:
                        self.socket_acks.append(json.loads(payload))
        except OSError:
            pass
        finally:
            with self._lock:
                if sock in self._sockets:
                    self._sockets.remove(sock)


def _handler_for(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            self._answer(_parse_body(read_body(self), self.headers.get("Content-Type", "")))

        def do_GET(self) -> None:
            if self.headers.get("Upgrade", "").lower() == "websocket":
                self._upgrade()
                return
            self._answer(dict(parse_qsl(urlparse(self.path).query)))

        def _answer(self, args: JSONish) -> None:
            path = urlparse(self.path).path
            method = path.rsplit("/", 1)[-1]
            token = _bearer(self.headers.get("Authorization")) or args.pop("token", None)
            if path.startswith("/response/"):  # a response_url: no token, any id
                method, token, args = "response_url", "", {**args, "url": path}
            status, body, headers = fake.handle(method, args, token)
            send_json(self, status, body, headers, "application/json; charset=utf-8")

        def _upgrade(self) -> None:
            key = self.headers.get("Sec-WebSocket-Key", "")
            digest = hashlib.sha1((key + WS_GUID).encode(), usedforsecurity=False).digest()
            accept = base64.b64encode(digest).decode()
            self.send_response(101, "Switching Protocols")
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.send_header("Sec-WebSocket-Accept", accept)
            self.end_headers()
            self.wfile.flush()
            self.close_connection = True
            fake._serve_socket(self.connection, self.rfile)  # type: ignore[arg-type]

    return Handler


def _bearer(header: str | None) -> str | None:
    if header and header.lower().startswith("bearer "):
        return header[7:].strip()
    return None


def _parse_body(raw: str, content_type: str) -> JSONish:
    if "json" in content_type:
        parsed = json.loads(raw or "{}")
        return parsed if isinstance(parsed, dict) else {}
    args: JSONish = dict(parse_qsl(raw, keep_blank_values=True))
    for name in JSON_FIELDS & args.keys():
        with contextlib.suppress(ValueError):
            args[name] = json.loads(args[name])
    return args


def _frame(opcode: int, payload: bytes) -> bytes:
    """An unmasked server-to-client WebSocket frame."""
    head = bytes([0x80 | opcode])
    size = len(payload)
    if size < 126:
        return head + bytes([size]) + payload
    if size < 1 << 16:
        return head + bytes([126]) + size.to_bytes(2, "big") + payload
    return head + bytes([127]) + size.to_bytes(8, "big") + payload


def _read_frame(rfile: BinaryIO) -> tuple[int, bytes] | None:
    head = rfile.read(2)
    if len(head) < 2:
        return None
    opcode, masked, size = head[0] & 0x0F, head[1] & 0x80, head[1] & 0x7F
    if size == 126:
        size = int.from_bytes(rfile.read(2), "big")
    elif size == 127:
        size = int.from_bytes(rfile.read(8), "big")
    mask = rfile.read(4) if masked else b"\0\0\0\0"
    data = rfile.read(size)
    return opcode, bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def _close_quietly(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
