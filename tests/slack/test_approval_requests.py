"""Approvers' story through signed Slack requests into the running app: a commander starts an
incident, every approver gets a DM for each version 1 with its text and an Approve button, and
clicking it approves; a tier whose SMS message is still unapproved raises a red flag to the
coordinator naming, by name, who has not approved it."""

from __future__ import annotations

from typing import Any

from incident_bot.adapters.slack import blocks as kit  # Block Kit builders
from incident_bot.adapters.slack.text import escape
from incident_bot.domain.commands import ApproveMessage
from incident_bot.domain.messages import VersionStatus
from incident_bot.entrypoints.slack.edge import SlackEdge
from incident_bot.testing.fake_slack import FakeSlack
from tests.slack.support import Server, action_form, command_form, drain, slack_post, wait_for
from tests.slack.test_http_end_to_end import start_incident

SMS = "ring-round-sms"  # approvers: police_comms and investigation_owner
KWAME = "U0NBPOL005"  # nb-pol-05, police_comms
SAM = "U0NBCTP001"  # nb-ctp-01, investigation_owner
COORDINATORS = ("U0NBCOU007", "U0NBPOL007")  # engagement_lead: Imran Dummyson, Gwen Notreal


def dm_messages(fake: FakeSlack, user: str) -> list[dict[str, Any]]:
    channel = fake.channels.get(f"D{user[1:]}")
    return list(channel.messages.values()) if channel is not None else []


def approve_buttons(fake: FakeSlack, user: str) -> dict[str, dict[str, Any]]:
    """The user's DMs that hold an Approve button, by the button's value."""
    found = {}
    for message in dm_messages(fake, user):
        for block in message["blocks"]:
            for element in block.get("elements", []) if block["type"] == "actions" else []:
                if element["action_id"] == kit.MESSAGE_APPROVE:
                    found[element["value"]] = message
    return found


def section_texts(message: dict[str, Any]) -> str:
    return "\n".join(b["text"]["text"] for b in message["blocks"] if b["type"] == "section")


def test_every_approver_is_asked_in_a_dm_for_each_version_one_and_the_button_approves(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    incident_id = start_incident(server, fake_slack, edge)
    incident = edge.services.incidents.incident(incident_id)

    for message in incident.playbook.messages:
        v1 = incident.messages.get(message.id).version(1)
        for key in incident.roles.holders_of_any(message.approvers):
            user = incident.people[key].slack_user_id
            assert user is not None
            dm = approve_buttons(fake_slack, user).get(f"{incident_id}|{message.id}|1")
            assert dm is not None, f"{key} was not asked to approve {message.id} v1"
            assert escape(v1.texts["en"]) in section_texts(dm)

    for user, stamp in ((KWAME, "1.1"), (SAM, "1.2")):
        slack_post(server, action_form(fake_slack, user, kit.MESSAGE_APPROVE,
                                       f"{incident_id}|{SMS}|1", action_ts=stamp))
    assert wait_for(lambda: edge.services.incidents.incident(incident_id).messages.get(SMS)
                    .version(1).status is VersionStatus.APPROVED)


def test_a_tier_whose_sms_message_is_unapproved_raises_a_red_flag_naming_who_has_not_approved(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    incident_id = start_incident(server, fake_slack, edge)
    incident = edge.services.incidents.incident(incident_id)
    for message in incident.playbook.messages:  # every approval but investigation_owner's on SMS
        for role in message.approvers:
            if (message.id, role) != (SMS, "investigation_owner"):
                holder = incident.roles.holders_of(role)[0]
                edge.services.incidents.execute(incident_id, ApproveMessage(message.id, 1, holder))

    slack_post(server, command_form(fake_slack, 'compromised "on social media"', trigger="t2",
                                    reply="compromised"))
    wait_for(lambda: fake_slack.replies("compromised"))
    drain(edge)

    expected = ("ring-round-sms v1 is awaiting approval by investigation_owner "
                "(DCI Sam Exampleton, DI Jo Placeholder)")
    for user in COORDINATORS:
        flags = [m["text"] for m in dm_messages(fake_slack, user) if "Red flag" in m["text"]]
        assert any("tiers 1, 2" in text and expected in text for text in flags), flags
    assert 1 not in edge.services.incidents.incident(incident_id).ringround.tiers
