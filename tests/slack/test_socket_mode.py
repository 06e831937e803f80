"""Socket Mode: the built-in handler opens its connection through the fake Slack and serves
a slash command that arrives over the WebSocket."""

from __future__ import annotations

from pydantic import SecretStr

from incident_bot.bootstrap import socket_mode_handler
from incident_bot.entrypoints.slack.edge import SlackEdge
from incident_bot.testing.fake_slack import FakeSlack
from tests.slack.support import command_form, wait_for


def test_socket_mode_connects_through_apps_connections_open_and_serves_a_command(
        edge: SlackEdge, fake_slack: FakeSlack) -> None:
    config = edge.services.settings.model_copy(update={"slack_app_token":
                                                       SecretStr("xapp-test-token")})
    handler = socket_mode_handler(edge.app, config, edge.client)
    handler.connect()
    try:
        wait_for(lambda: fake_slack.socket_clients == 1)
        envelope = fake_slack.push_envelope("slash_commands",
                                            command_form(fake_slack, "help", reply="socket"))
        wait_for(lambda: any(a.get("envelope_id") == envelope for a in fake_slack.socket_acks))
        reply = wait_for(lambda: fake_slack.replies("socket"))
    finally:
        handler.close()

    (opened,) = fake_slack.calls_to("apps.connections.open")
    assert opened.token == "xapp-test-token"
    assert "/incident" in reply[0].args["text"]
