"""Refusals a person meets in Slack name the real reason: the list they asked for, not another,
and never a role they hold as the only ones who may."""

from __future__ import annotations

from incident_bot.adapters.slack import blocks as kit  # Block Kit builders
from incident_bot.entrypoints.slack.edge import SlackEdge
from incident_bot.testing.fake_slack import FakeSlack
from tests.slack.support import Server, action_form, slack_post, wait_for
from tests.slack.test_http_end_to_end import open_ring_round


def test_accepting_another_callers_list_is_refused_naming_that_list_and_its_callers(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    incident_id = open_ring_round(server, fake_slack, edge)
    incident = edge.services.incidents.incident(incident_id)
    lists = [lst for r in incident.ringround.tiers.values() for lst in r.lists]
    mine = lists[0]
    theirs = next(lst for lst in lists if mine.caller not in (lst.caller, lst.backup))
    me = incident.people[mine.caller]
    assert me.slack_user_id is not None

    slack_post(server, action_form(fake_slack, me.slack_user_id, kit.CALL_ACCEPT,
                                   f"{incident_id}|{theirs.id}"))

    text = wait_for(lambda: fake_slack.replies("a"))[0].args["text"]
    assert f"call list {theirs.id}" in text
    assert f"{incident.name(theirs.caller)} (its caller)" in text
    assert mine.id not in text
    assert "only caller may" not in text  # the refused person holds the caller role
    after = edge.services.incidents.incident(incident_id).ringround
    assert [lst.status.value for r in after.tiers.values() for lst in r.lists
            if lst.id == theirs.id] == ["offered"]
