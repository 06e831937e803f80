"""What the Slack tests share: the loopback HTTP server (waitress) the real WSGI app is served
on, signed Slack requests (slash commands, button presses, Home tab opens), bounded waits for a
listener thread, and ``drain`` for the background work (no scheduler thread: a test runs it).
The fixtures that build the edge are in this package's ``conftest.py``."""

from __future__ import annotations

import errno
import hashlib
import hmac
import http.client
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import waitress
from waitress import wasyncore
from waitress.server import BaseWSGIServer, MultiSocketServer

from incident_bot.adapters.slack.text import escape
from incident_bot.entrypoints.slack.edge import SlackEdge
from incident_bot.testing.fake_slack import FakeSlack

ROOT = Path(__file__).parents[2]
SECRET = "test-signing-secret-0123456789"
TOKEN = "xoxb-test-token"
START = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # the Slack tests' clock starts here
COMMANDER = "U0NBPOL001"  # nb-pol-01, bcu_commander: may start ct-arrests-and-searches
OUTSIDER = "U0NBCOU008"  # nb-cou-08, housing lead: may not


@dataclass
class Reply:
    status: int
    body: bytes
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Server:
    url_host: str
    port: int

    def request(self, method: str, path: str, body: bytes = b"",
                headers: dict[str, str] | None = None) -> Reply:
        connection = http.client.HTTPConnection(self.url_host, self.port, timeout=10)
        began = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        return Reply(response.status, data, time.perf_counter() - began)


def serve(app: Callable[..., Any]) -> Iterator[Server]:
    server: BaseWSGIServer | MultiSocketServer = waitress.create_server(
        app, host="127.0.0.1", port=0, threads=4, clear_untrusted_proxy_headers=True)
    assert isinstance(server, BaseWSGIServer)
    thread = threading.Thread(target=server.run, name="waitress-test", daemon=True)
    thread.start()
    try:
        yield Server("127.0.0.1", int(server.effective_port))  # type: ignore[arg-type]
    finally:
        # Workers first: one that is finishing a request wakes the loop through the trigger
        # after the client already has its answer, and must not find the trigger closed.
        assert server.task_dispatcher.shutdown(timeout=5)
        try:
            server.trigger.pull_trigger(lambda: _close_all(server))  # runs in the server's loop
            thread.join(timeout=5)
        except OSError as error:
            if error.errno != errno.EBADF:
                raise
            _stop_without_trigger(server, thread)
        assert not thread.is_alive()


def _stop_without_trigger(server: BaseWSGIServer, thread: threading.Thread) -> None:
    """Stop the loop when its wake-up pipe's descriptor was closed under it (seen rarely in
    full CI runs, only in this teardown, cause not found): empty its map, so ``run()`` returns
    after its poll timeout, then close the channels. The pipe's own descriptors are left
    alone: their numbers may already belong to something else."""
    channels = [d for d in list(server._map.values()) if d is not server.trigger]
    server._map.clear()
    thread.join(timeout=5)
    for channel in channels:  # the server's own close() would close the trigger's pipe too
        (wasyncore.dispatcher.close if channel is server else type(channel).close)(channel)
    wasyncore.file_dispatcher.close(server.trigger)  # only its own duplicate of the read end


def _close_all(server: BaseWSGIServer) -> None:
    """Close every dispatcher in the loop's map, so ``run()`` returns cleanly."""
    for dispatcher in list(server._map.values()):
        dispatcher.close()


# ---- signed Slack requests --------------------------------------------------------------


def sign(body: bytes, timestamp: int, secret: str = SECRET) -> str:
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def slack_post(server: Server, form: dict[str, str], *, timestamp: int | None = None,
               signature: str | None = None, extra: dict[str, str] | None = None) -> Reply:
    body = urlencode(form).encode()
    stamp = int(time.time()) if timestamp is None else timestamp
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "X-Slack-Request-Timestamp": str(stamp),
               "X-Slack-Signature": signature or sign(body, stamp), **(extra or {})}
    return server.request("POST", "/slack/events", body, headers)


def command_form(fake: FakeSlack, text: str, user: str = COMMANDER, channel: str = "C0GENERAL",
                 trigger: str = "trig-1", reply: str = "r") -> dict[str, str]:
    """A slash command as Slack sends it: ``text`` is what the person typed, with ``& < >``
    escaped (Slack escapes those three in every text it sends)."""
    return {"token": "legacy", "team_id": fake.team_id, "team_domain": "fake",
            "channel_id": channel, "channel_name": "general", "user_id": user,
            "user_name": user.lower(), "command": "/incident", "text": escape(text),
            "api_app_id": "A0FAKE", "response_url": fake.response_url(reply),
            "trigger_id": trigger}


def action_form(fake: FakeSlack, user: str, action_id: str, value: str,
                reply: str = "a", action_ts: str = "1700000001.000001") -> dict[str, str]:
    payload = {
        "type": "block_actions", "team": {"id": fake.team_id, "domain": "fake"},
        "user": {"id": user, "username": user.lower(), "team_id": fake.team_id},
        "api_app_id": "A0FAKE", "token": "legacy", "trigger_id": f"trig-{action_ts}",
        "container": {"type": "message", "message_ts": "1700000000.000001",
                      "channel_id": "D0FAKE", "is_ephemeral": False},
        "channel": {"id": "D0FAKE", "name": "directmessage"},
        "response_url": fake.response_url(reply),
        "actions": [{"action_id": action_id, "block_id": "b", "value": value,
                     "type": "button", "action_ts": action_ts,
                     "text": {"type": "plain_text", "text": "x"}}],
    }
    return {"payload": json.dumps(payload)}


def open_home(server: Server, fake: FakeSlack, user: str) -> None:
    """A signed ``app_home_opened`` event: ``user`` opens the bot's Home tab."""
    event = {"token": "legacy", "team_id": fake.team_id, "api_app_id": "A0FAKE",
             "type": "event_callback", "event_id": f"Ev-{user}", "event_time": 1,
             "event": {"type": "app_home_opened", "user": user, "channel": "D0FAKE",
                       "tab": "home"}}
    body = json.dumps(event).encode()
    stamp = int(time.time())
    server.request("POST", "/slack/events", body, {
        "Content-Type": "application/json", "X-Slack-Request-Timestamp": str(stamp),
        "X-Slack-Signature": sign(body, stamp)})


def wait_for(condition: Callable[[], Any], seconds: float = 10.0) -> Any:
    """Poll until a listener thread has done its work (bounded; never waits for time)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.01)
    raise AssertionError("condition not met in time")


def drain(edge: SlackEdge) -> None:
    """Run background work until nothing is left: timers, outbox, dashboards."""
    while edge.services.poller.fire_due() + edge.services.dispatcher.dispatch():
        pass
    edge.dashboards.refresh_all()
