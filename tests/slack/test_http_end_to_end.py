"""Real signed HTTP requests into the running WSGI app (waitress), the real Bolt app and the real
WebClient talking to the fake Slack; background work driven with an injected clock. Unlike the
other Slack tests, these run on every backend (``tests/conftest.py``'s ``database_url``)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from incident_bot.adapters.slack import blocks as kit  # Block Kit builders
from incident_bot.domain.commands import ApproveMessage
from incident_bot.entrypoints.slack.edge import SlackEdge
from incident_bot.testing.fake_slack import FakeSlack
from tests.databases import BACKENDS, empty_database
from tests.fakes import FakeClock
from tests.slack.support import (
    COMMANDER,
    OUTSIDER,
    Server,
    action_form,
    command_form,
    drain,
    sign,
    slack_post,
    wait_for,
)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with empty_database(request.param, tmp_path) as url:
        yield url


START_TEXT = "start ct-arrests-and-searches area=Northbridge"


def start_incident(server: Server, fake: FakeSlack, edge: SlackEdge) -> str:
    reply = slack_post(server, command_form(fake, START_TEXT))
    assert reply.status == 200
    wait_for(lambda: fake.calls_to("response_url"))
    (incident_id,) = edge.services.incidents.open_incident_ids()
    drain(edge)
    return incident_id


def waiting_task(edge: SlackEdge, incident_id: str) -> tuple[str, str, str]:
    """The first waiting task: its id, its first assignee and their Slack user id."""
    task = next(t for t in edge.services.incidents.view(incident_id).tasks
                if t.status == "waiting")
    user = edge.services.incidents.incident(incident_id).people[task.assignees[0]].slack_user_id
    assert user is not None
    return task.id, task.assignees[0], user


def approve_everything(edge: SlackEdge, incident_id: str) -> None:
    incident = edge.services.incidents.incident(incident_id)
    for message in incident.playbook.messages:
        for role in message.approvers:
            holder = incident.roles.holders_of(role)[0]
            edge.services.incidents.execute(incident_id, ApproveMessage(message.id, 1, holder))


def test_start_command_is_acked_fast_and_starts_nothing_before_the_ack(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    reply = slack_post(server, command_form(fake_slack, START_TEXT))

    assert reply.status == 200
    assert reply.seconds < 1.0, f"ack took {reply.seconds:.3f}s"
    wait_for(lambda: fake_slack.calls_to("response_url"))
    assert "Started" in fake_slack.calls_to("response_url")[0].args["text"]
    assert fake_slack.calls_to("conversations.create") == []  # the channel waits for the outbox


def test_tick_opens_private_channel_invites_members_and_pins_the_header(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    incident_id = start_incident(server, fake_slack, edge)

    (create,) = fake_slack.calls_to("conversations.create")
    assert create.args["name"] == incident_id
    assert str(create.args["is_private"]).lower() in ("true", "1")
    channel = fake_slack.channel_named(incident_id)
    assert channel is not None
    incident = edge.services.incidents.incident(incident_id)
    members = incident.roles.visible_members(incident.playbook, incident.prebrief)
    expected = {incident.people[k].slack_user_id for k in members} - {None}
    assert COMMANDER in channel.members
    assert channel.members == expected | {fake_slack.bot_user_id}
    assert len(channel.pins) == 1
    header = channel.messages[channel.pins[0]]
    assert "OFFICIAL-SENSITIVE" in header["blocks"][0]["elements"][0]["text"]
    assert edge.services.incidents.incident(incident_id).channel_id == channel.id


def test_dashboard_is_posted_in_the_incident_channel(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    incident_id = start_incident(server, fake_slack, edge)

    channel = fake_slack.channel_named(incident_id)
    assert channel is not None
    texts = [m["text"] for m in channel.messages.values()]
    assert "Incident dashboard" in texts
    board = next(m for m in channel.messages.values() if m["text"] == "Incident dashboard")
    assert any("Briefing order" in b.get("text", {}).get("text", "") for b in board["blocks"])


def test_unauthorised_user_gets_an_ephemeral_refusal_and_no_incident(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    reply = slack_post(server, command_form(fake_slack, START_TEXT, user=OUTSIDER))

    assert reply.status == 200
    answer = wait_for(lambda: fake_slack.calls_to("response_url"))[0].args
    assert answer["response_type"] == "ephemeral"
    assert "bcu_commander" in answer["text"]
    assert edge.services.incidents.open_incident_ids() == []


def test_forged_signature_is_rejected_with_401(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    stamp = int(time.time())
    reply = slack_post(server, command_form(fake_slack, START_TEXT), timestamp=stamp,
                       signature=sign(b"something else", stamp))

    assert reply.status == 401
    assert edge.services.incidents.open_incident_ids() == []


def test_stale_timestamp_is_rejected_with_401(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    reply = slack_post(server, command_form(fake_slack, START_TEXT),
                       timestamp=int(time.time()) - 6 * 60)

    assert reply.status == 401
    assert edge.services.incidents.open_incident_ids() == []


def test_a_retried_start_does_not_start_a_second_incident(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    form = command_form(fake_slack, START_TEXT)
    slack_post(server, form)
    retry = slack_post(server, form, extra={"X-Slack-Retry-Num": "1",
                                            "X-Slack-Retry-Reason": "http_timeout"})
    wait_for(lambda: fake_slack.calls_to("response_url"))
    again = slack_post(server, form)  # the same trigger delivered twice without the header
    wait_for(lambda: again.status == 200)

    assert retry.status == 200
    assert len(edge.services.incidents.open_incident_ids()) == 1


def open_ring_round(server: Server, fake: FakeSlack, edge: SlackEdge) -> str:
    """Start, approve every message, and open every step with ``/incident compromised``."""
    incident_id = start_incident(server, fake, edge)
    approve_everything(edge, incident_id)
    slack_post(server, command_form(fake, 'compromised "on social media"', trigger="t2",
                                    reply="compromised"))
    wait_for(lambda: fake.replies("compromised"))
    drain(edge)
    return incident_id


def test_caller_outcome_button_moves_the_ring_round_on(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    incident_id = open_ring_round(server, fake_slack, edge)
    incident = edge.services.incidents.incident(incident_id)
    call_list = incident.ringround.tiers[1].lists[0]
    caller = incident.people[call_list.holder].slack_user_id
    contact = call_list.contacts[0]
    assert caller is not None

    slack_post(server, action_form(fake_slack, caller, kit.CALL_ACCEPT,
                                   f"{incident_id}|{call_list.id}", action_ts="1.1"))
    wait_for(lambda: edge.services.incidents.incident(incident_id).ringround.tiers[1]
             .lists[0].status.value == "accepted")
    slack_post(server, action_form(fake_slack, caller, kit.OUTCOME_PREFIX + "reached",
                                   f"{incident_id}|{contact}", action_ts="1.2"))

    assert wait_for(lambda: edge.services.incidents.view(incident_id).tiers[1].reached) == 1


def test_task_acknowledge_button_acks_the_task(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    incident_id = start_incident(server, fake_slack, edge)
    task_id, _, user = waiting_task(edge, incident_id)

    reply = slack_post(server, action_form(fake_slack, user, kit.TASK_ACK,
                                           f"{incident_id}|{task_id}"))

    assert reply.status == 200
    assert wait_for(lambda: next(t.status for t in edge.services.incidents.view(incident_id).tasks
                                 if t.id == task_id) == "acknowledged")


def test_answered_task_dm_loses_its_buttons(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    incident_id = start_incident(server, fake_slack, edge)
    task_id, _, user = waiting_task(edge, incident_id)

    slack_post(server, action_form(fake_slack, user, kit.TASK_ACK, f"{incident_id}|{task_id}"))

    (replaced,) = wait_for(lambda: fake_slack.replies("a"))
    assert replaced.args["replace_original"] is True
    assert all(b["type"] != "actions" for b in replaced.args["blocks"])


def test_dashboard_update_shows_the_outcome_and_the_acknowledged_task(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge, clock: FakeClock) -> None:
    incident_id = open_ring_round(server, fake_slack, edge)
    incident = edge.services.incidents.incident(incident_id)
    call_list = incident.ringround.tiers[1].lists[0]
    caller = incident.people[call_list.holder].slack_user_id
    task = next(t for t in edge.services.incidents.view(incident_id).tasks
                if t.status == "waiting")
    assignee = incident.people[task.assignees[0]].slack_user_id
    assert caller is not None
    assert assignee is not None
    clock.advance(seconds=5)

    slack_post(server, action_form(fake_slack, caller, kit.CALL_ACCEPT,
                                   f"{incident_id}|{call_list.id}", action_ts="2.1"))
    slack_post(server, action_form(fake_slack, caller, kit.OUTCOME_PREFIX + "reached",
                                   f"{incident_id}|{call_list.contacts[0]}", action_ts="2.2"))
    slack_post(server, action_form(fake_slack, assignee, kit.TASK_ACK,
                                   f"{incident_id}|{task.id}", action_ts="2.3"))
    wait_for(lambda: edge.services.incidents.view(incident_id).tiers[1].reached == 1
             and any(t.id == task.id and t.status == "acknowledged"
                     for t in edge.services.incidents.view(incident_id).tasks))
    clock.advance(seconds=5)
    drain(edge)

    board = fake_slack.calls_to("chat.update")[-1].args["blocks"]
    text = "\n".join(b.get("text", {}).get("text", "") for b in board)
    assert f"1/{edge.services.incidents.view(incident_id).tiers[1].total} reached" in text
    assert f"{task.title} — {task.owner}, acknowledged" in text
