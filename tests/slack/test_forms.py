"""A form (modal) Slack does not open: the request was acked already, so the person is told
ephemerally what failed. Signed requests into the running app."""

from __future__ import annotations

from incident_bot.adapters.slack import blocks as kit  # Block Kit builders
from incident_bot.entrypoints.slack.edge import SlackEdge
from incident_bot.testing.fake_slack import FakeSlack
from tests.slack.support import Server, action_form, command_form, slack_post, wait_for
from tests.slack.test_http_end_to_end import start_incident, waiting_task


def test_a_start_form_slack_does_not_open_is_explained_to_the_person(
        server: Server, fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("views.open", status=200, error="expired_trigger_id")

    reply = slack_post(server, command_form(fake_slack, "start"))

    assert reply.status == 200
    answer = wait_for(lambda: fake_slack.replies("r"))[0].args
    assert answer["text"] == (":warning: Slack did not open the form (expired_trigger_id): "
                              "please try again.")
    assert answer["response_type"] == "ephemeral"


def test_a_cant_do_form_slack_does_not_open_is_explained_to_the_person(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    incident_id = start_incident(server, fake_slack, edge)
    task_id, _, user = waiting_task(edge, incident_id)
    fake_slack.fail_next("views.open", status=503)

    reply = slack_post(server, action_form(fake_slack, user, kit.TASK_CANNOT,
                                           f"{incident_id}|{task_id}"))

    assert reply.status == 200
    answer = wait_for(lambda: fake_slack.replies("a"))[0].args
    assert "did not open the form (Slack unreachable or busy)" in answer["text"]
    assert answer["response_type"] == "ephemeral"
