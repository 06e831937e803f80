"""The WSGI application: health, mounts, and what it does with paths it doesn't serve."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import pytest

from incident_bot.entrypoints.cli.serve import web_app
from incident_bot.entrypoints.slack.edge import SlackEdge
from incident_bot.entrypoints.web import make_web_app
from incident_bot.settings import load_settings
from incident_bot.testing.fake_slack import FakeSlack
from tests.slack.support import (
    ROOT,
    SECRET,
    TOKEN,
    Server,
    command_form,
    serve,
    slack_post,
    wait_for,
)


def echo_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    body = f"{environ['SCRIPT_NAME']}|{environ['PATH_INFO']}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


@pytest.fixture
def mounted(edge: SlackEdge) -> Iterator[Server]:
    yield from serve(make_web_app(edge.app, mounts={"/twilio/": echo_app},
                                  health=lambda: {"open_incidents": 0}))


def test_healthz_answers_200_json(mounted: Server) -> None:
    reply = mounted.request("GET", "/healthz")

    assert reply.status == 200
    assert reply.json() == {"ok": True, "open_incidents": 0}


def test_mounted_app_gets_the_path_below_its_prefix(mounted: Server) -> None:
    reply = mounted.request("POST", "/twilio/sms/inbound?x=1", b"Body=hi")

    assert reply.status == 200
    assert reply.body == b"/twilio|/sms/inbound"


def test_unknown_path_is_404(mounted: Server) -> None:
    assert mounted.request("GET", "/nope").status == 404


def test_get_on_slack_events_is_405(mounted: Server) -> None:
    assert mounted.request("GET", "/slack/events").status == 405


def test_the_served_healthz_says_nothing_about_open_incidents(
        edge: SlackEdge, fake_slack: FakeSlack, database_url: str) -> None:
    settings = load_settings({"DATABASE_URL": database_url, "SLACK_BOT_TOKEN": TOKEN,
                              "SLACK_SIGNING_SECRET": SECRET,
                              "SLACK_API_URL": fake_slack.api_url}, base=ROOT)
    for server in serve(web_app(edge, settings)):
        slack_post(server, command_form(fake_slack, "start ct-arrests-and-searches "
                                        "area=Northbridge t0=+3h", reply="started"))
        wait_for(edge.services.incidents.open_incident_ids)

        reply = server.request("GET", "/healthz")

        assert (reply.status, reply.json()) == (200, {"ok": True})
