"""A change aimed at an incident the person may not see is answered as if no incident were
open: neither the reply nor its refusal names the hidden incident (signed requests)."""

from __future__ import annotations

import pytest

from incident_bot.adapters.slack import blocks as kit  # Block Kit builders
from incident_bot.entrypoints.slack.edge import SlackEdge
from incident_bot.testing.fake_slack import FakeSlack
from tests.slack.support import (
    COMMANDER,
    OUTSIDER,
    Server,
    action_form,
    command_form,
    drain,
    slack_post,
    wait_for,
)

STRANGER = "UAZNOTLISTED"


def start_prebrief(server: Server, fake: FakeSlack, edge: SlackEdge) -> str:
    slack_post(server, command_form(fake, "start ct-arrests-and-searches area=Northbridge t0=+3h",
                                    user=COMMANDER, reply="started"))
    wait_for(lambda: fake.replies("started"))
    (incident_id,) = edge.services.incidents.open_incident_ids()
    drain(edge)
    assert edge.services.incidents.incident(incident_id).prebrief
    return incident_id


@pytest.mark.parametrize("user", [OUTSIDER, STRANGER], ids=["no role", "stranger"])
@pytest.mark.parametrize("text", ["log Close the road because police asked",
                                  "compromised it is on social media", "close"])
def test_a_change_to_a_hidden_incident_reads_as_nothing_open(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge, user: str, text: str) -> None:
    incident_id = start_prebrief(server, fake_slack, edge)
    before = edge.services.incidents.open_incident_versions()[incident_id]

    slack_post(server, command_form(fake_slack, text, user=user, trigger="t-hidden",
                                    reply="hidden"))

    answer = wait_for(lambda: fake_slack.replies("hidden"))[0].args["text"]
    assert answer == ":no_entry: no incident is open"
    assert incident_id not in answer
    assert edge.services.incidents.open_incident_versions()[incident_id] == before
    with edge.services.uow_factory() as uow:
        refused = [e for e in uow.audit.entries() if e["action"] == "read.command"]
    assert [(e["outcome"], incident_id in e["detail"]) for e in refused] == [("refused", True)]


def test_naming_a_hidden_incident_reads_as_naming_a_missing_one(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    incident_id = start_prebrief(server, fake_slack, edge)

    for target, reply in ((incident_id, "hidden"), ("inc-missing0", "missing")):
        slack_post(server, command_form(fake_slack, f"log incident={target} Go", user=OUTSIDER,
                                        trigger=f"t-{reply}", reply=reply))
    hidden = wait_for(lambda: fake_slack.replies("hidden"))[0].args["text"]
    missing = wait_for(lambda: fake_slack.replies("missing"))[0].args["text"]
    assert hidden.replace(incident_id, "inc-missing0") == missing


@pytest.mark.parametrize(("action_id", "value"), [
    (kit.MESSAGE_APPROVE, "{incident}|public-holding-statement|1"),
    (kit.TASK_ACK, "{incident}|brief-council-leader"),
    (kit.CALL_ACCEPT, "{incident}|t1-1"),
    (kit.CALL_OPEN, "{incident}|nb-ki-01"),
], ids=["approve", "acknowledge", "accept a call list", "open a contact"])
def test_a_button_naming_a_hidden_incident_reads_as_naming_a_missing_one(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge, action_id: str,
        value: str) -> None:
    """A signed click carries its incident in its value; a person outside need-to-know is
    answered as for an incident that does not exist, not told who may."""
    incident_id = start_prebrief(server, fake_slack, edge)
    before = edge.services.incidents.open_incident_versions()[incident_id]

    for target, reply, ts in ((incident_id, "hidden", "1700000002.000001"),
                              ("inc-missing0", "missing", "1700000003.000001")):
        slack_post(server, action_form(fake_slack, OUTSIDER, action_id,
                                       value.format(incident=target), reply=reply,
                                       action_ts=ts))
    hidden = wait_for(lambda: fake_slack.replies("hidden"))[0].args["text"]
    missing = wait_for(lambda: fake_slack.replies("missing"))[0].args["text"]
    assert hidden.replace(incident_id, "inc-missing0") == missing
    assert edge.services.incidents.open_incident_versions()[incident_id] == before
    with edge.services.uow_factory() as uow:
        refused = [e for e in uow.audit.entries() if e["action"] == "read.command"]
    assert any(incident_id in e["detail"] for e in refused)
