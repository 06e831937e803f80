"""When the answer to a request cannot be delivered (its ``response_url`` is unreachable), the
bot logs one line and carries on: the work is done either way, and a traceback would only
bury the line that matters (signed requests into the running app)."""

from __future__ import annotations

import logging
import socket

import pytest

from incident_bot.adapters.slack import blocks as kit  # Block Kit builders
from incident_bot.entrypoints.slack.edge import SlackEdge
from incident_bot.testing.fake_slack import FakeSlack
from tests.slack.support import COMMANDER, Server, action_form, command_form, slack_post, wait_for


def unreachable_url() -> str:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/response"


@pytest.mark.parametrize("kind", ["command", "button"])
def test_an_answer_that_cannot_be_delivered_is_one_line_in_the_log(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge, caplog: pytest.LogCaptureFixture,
        kind: str) -> None:
    if kind == "command":
        form = command_form(fake_slack, "status", user=COMMANDER)
        form["response_url"] = unreachable_url()
    else:
        form = action_form(fake_slack, COMMANDER, kit.TASK_ACK, "inc-missing0|no-task")
        form["payload"] = form["payload"].replace(fake_slack.response_url("a"),
                                                  unreachable_url())
    caplog.set_level(logging.INFO)

    assert slack_post(server, form).status == 200
    failed = wait_for(lambda: [r for r in caplog.records if r.msg.startswith("slack.reply_")])

    assert [r.levelno for r in failed] == [logging.WARNING]
    assert not [r for r in caplog.records if r.exc_info], "no traceback"
