"""The two-person rule through signed Slack requests: the author of a public message's version
is refused as its only approver, told who else may approve, and a second person completes it."""

from __future__ import annotations

from dataclasses import replace

from incident_bot.adapters.directory_import import parse_directory
from incident_bot.adapters.slack import blocks as kit  # Block Kit builders
from incident_bot.domain.messages import Version, VersionStatus
from incident_bot.entrypoints.slack.edge import SlackEdge
from incident_bot.testing.fake_slack import FakeSlack
from tests.slack.support import ROOT, Server, action_form, command_form, slack_post, wait_for
from tests.slack.test_http_end_to_end import start_incident

AUTHOR = "U0NBPOL005"  # nb-pol-05, Kwame Sampleton: police_comms, here given investigation_owner
SECOND = "U0NBCTP001"  # nb-ctp-01, DCI Sam Exampleton: investigation_owner
CLICKS = ("alone", "second", "author")  # one click each, each its own action_ts
MESSAGE = "rumour-correction"  # public; approvers police_comms and investigation_owner


def give_the_author_both_approver_roles(edge: SlackEdge) -> None:
    roles = {r.code for pb in edge.services.playbooks.playbooks.values() for r in pb.roles}
    people = parse_directory(ROOT / "incident_bot" / "data" / "sample_directory.csv", roles)
    author = next(p for p in people.people if p.key == "nb-pol-05")
    with edge.services.uow_factory() as uow:
        uow.directory.upsert([replace(author, roles=(*author.roles, "investigation_owner"))])
        uow.commit()


def click_approve(server: Server, fake: FakeSlack, user: str, incident_id: str,
                  reply: str) -> None:
    slack_post(server, action_form(fake, user, kit.MESSAGE_APPROVE,
                                   f"{incident_id}|{MESSAGE}|2", reply=reply,
                                   action_ts=f"1700000001.{CLICKS.index(reply):06d}"))


def test_the_author_is_refused_as_only_approver_until_a_second_person_approves(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    give_the_author_both_approver_roles(edge)
    incident_id = start_incident(server, fake_slack, edge)
    slack_post(server, command_form(fake_slack, f'message draft {MESSAGE} "No wider danger."',
                                    user=AUTHOR, trigger="t-d", reply="draft"))
    wait_for(lambda: fake_slack.replies("draft"))

    def version_two() -> Version:
        return edge.services.incidents.incident(incident_id).messages.get(MESSAGE).version(2)

    click_approve(server, fake_slack, AUTHOR, incident_id, "alone")
    refusal = wait_for(lambda: fake_slack.replies("alone"))[0].args["text"]
    assert "two-person rule" in refusal
    assert "ask Hana Mockford, DCI Sam Exampleton or DI Jo Placeholder to approve it" in refusal
    assert version_two().approvals == []

    click_approve(server, fake_slack, SECOND, incident_id, "second")
    wait_for(lambda: version_two().approvals)
    click_approve(server, fake_slack, AUTHOR, incident_id, "author")
    assert wait_for(lambda: version_two().status is VersionStatus.APPROVED)
    assert not fake_slack.replies("author")
