"""Buttons, modals, App Home and where commands act: signed requests into the running app."""

from __future__ import annotations

import json

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
    open_home,
    slack_post,
    wait_for,
)
from tests.slack.test_http_end_to_end import open_ring_round, start_incident, waiting_task


def submission_form(fake: FakeSlack, user: str, callback_id: str, metadata: str,
                    values: dict[str, dict[str, dict[str, object]]]) -> dict[str, str]:
    payload = {"type": "view_submission", "team": {"id": fake.team_id, "domain": "fake"},
               "user": {"id": user, "team_id": fake.team_id}, "api_app_id": "A0FAKE",
               "token": "legacy", "trigger_id": "trig-view",
               "view": {"id": "V0FAKE", "type": "modal", "callback_id": callback_id,
                        "private_metadata": metadata, "state": {"values": values}}}
    return {"payload": json.dumps(payload)}


def task_status(edge: SlackEdge, incident_id: str, task_id: str) -> str:
    return next(t.status for t in edge.services.incidents.view(incident_id).tasks
                if t.id == task_id)


def test_help_lists_the_subcommands(server: Server, fake_slack: FakeSlack) -> None:
    slack_post(server, command_form(fake_slack, "help"))

    text = wait_for(lambda: fake_slack.replies("r"))[0].args["text"]
    assert "`message draft <id> <text>`" in text
    assert "`standdown [reason]`" in text


def test_start_without_arguments_opens_the_start_modal(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    slack_post(server, command_form(fake_slack, "start"))

    (opened,) = wait_for(lambda: fake_slack.calls_to("views.open"))
    assert opened.args["view"]["callback_id"] == kit.START_MODAL
    assert edge.services.incidents.open_incident_ids() == []


def test_start_modal_submission_starts_the_incident(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    values = {"playbook": {"playbook": {"type": "static_select", "selected_option":
                                        {"value": "ct-arrests-and-searches"}}},
              "area": {"area": {"type": "plain_text_input", "value": "Northbridge"}},
              "t0": {"t0": {"type": "plain_text_input", "value": None}},
              "e0": {"e0": {"type": "plain_text_input", "value": "+3h"}},
              "classification": {"classification": {"type": "static_select",
                                                    "selected_option": None}},
              "summary": {"summary": {"type": "plain_text_input", "value": "Two addresses"}}}

    reply = slack_post(server, submission_form(fake_slack, COMMANDER, kit.START_MODAL,
                                               "trig-modal", values))

    assert reply.status == 200
    (incident_id,) = wait_for(edge.services.incidents.open_incident_ids)
    view = edge.services.incidents.view(incident_id)
    assert view.e0 is not None
    assert (view.e0 - view.t0).total_seconds() == 3 * 3600


def test_cant_do_opens_a_modal_that_asks_why(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    incident_id = start_incident(server, fake_slack, edge)
    task_id, _, user = waiting_task(edge, incident_id)

    slack_post(server, action_form(fake_slack, user, kit.TASK_CANNOT, f"{incident_id}|{task_id}"))

    (opened,) = wait_for(lambda: fake_slack.calls_to("views.open"))
    assert opened.args["view"]["callback_id"] == kit.CANNOT_DO_MODAL
    assert opened.args["view"]["private_metadata"] == f"{incident_id}|{task_id}"


def test_cant_do_submission_without_a_reason_is_refused_in_the_modal(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    incident_id = start_incident(server, fake_slack, edge)
    task_id, _, user = waiting_task(edge, incident_id)

    reply = slack_post(server, submission_form(
        fake_slack, user, kit.CANNOT_DO_MODAL, f"{incident_id}|{task_id}",
        {"reason": {"reason": {"type": "plain_text_input", "value": "  "}}}))

    assert reply.json()["response_action"] == "errors"
    assert task_status(edge, incident_id, task_id) == "waiting"


def test_cant_do_submission_with_a_reason_marks_the_task(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    incident_id = start_incident(server, fake_slack, edge)
    task_id, _, user = waiting_task(edge, incident_id)

    slack_post(server, submission_form(
        fake_slack, user, kit.CANNOT_DO_MODAL, f"{incident_id}|{task_id}",
        {"reason": {"reason": {"type": "plain_text_input", "value": "on leave"}}}))

    assert wait_for(lambda: task_status(edge, incident_id, task_id) == "cannot_do")


def test_done_button_completes_the_task(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    incident_id = start_incident(server, fake_slack, edge)
    task_id, _, user = waiting_task(edge, incident_id)

    slack_post(server, action_form(fake_slack, user, kit.TASK_DONE, f"{incident_id}|{task_id}"))

    assert wait_for(lambda: task_status(edge, incident_id, task_id) == "done")


def test_a_stranger_clicking_a_task_button_gets_an_ephemeral_refusal(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    incident_id = start_incident(server, fake_slack, edge)
    task_id, _, _ = waiting_task(edge, incident_id)

    slack_post(server, action_form(fake_slack, "U0NOBODY01", kit.TASK_ACK,
                                   f"{incident_id}|{task_id}"))

    answer = wait_for(lambda: fake_slack.replies("a"))[0].args
    assert answer["response_type"] == "ephemeral"
    assert "directory" in answer["text"]
    assert task_status(edge, incident_id, task_id) == "waiting"


def test_approve_button_approves_the_message_version(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    incident_id = start_incident(server, fake_slack, edge)
    approver = edge.services.incidents.incident(incident_id).people["nb-pol-05"]  # police_comms
    assert approver.slack_user_id is not None

    slack_post(server, action_form(fake_slack, approver.slack_user_id, kit.MESSAGE_APPROVE,
                                   f"{incident_id}|ring-round-script|1"))

    def approvals() -> int:
        state = edge.services.incidents.incident(incident_id).messages.get("ring-round-script")
        return len(state.versions[0].approvals)
    assert wait_for(approvals) == 1


def test_approval_request_dm_shows_the_text_and_an_approve_button(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    start_incident(server, fake_slack, edge)
    slack_post(server, command_form(fake_slack, 'message draft rumour-correction "No <!here> '
                                    'arrests & no danger"', user="U0NBPOL005", trigger="t-d",
                                    reply="draft"))
    wait_for(lambda: fake_slack.replies("draft"))
    drain(edge)

    dm = next(c for c in fake_slack.calls_to("chat.postMessage")  # v1 was asked for at start
              if any(b.get("block_id") == "approve:rumour-correction"
                     and b["elements"][0]["value"].endswith("|2") for b in c.args["blocks"]))
    shown = json.dumps(dm.args["blocks"])
    assert "No &lt;!here&gt; arrests &amp; no danger" in shown
    assert '"action_id": "message.approve"' in shown


def test_caller_opening_a_contact_sees_the_number_in_a_modal_and_it_is_audited(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    incident_id = open_ring_round(server, fake_slack, edge)
    incident = edge.services.incidents.incident(incident_id)
    call_list = incident.ringround.tiers[1].lists[0]
    caller = incident.people[call_list.holder].slack_user_id
    contact = call_list.contacts[0]
    assert caller is not None
    with edge.services.uow_factory() as uow:
        person = uow.directory.get(contact)
    assert person is not None
    assert person.phone is not None

    slack_post(server, action_form(fake_slack, caller, kit.CALL_OPEN, f"{incident_id}|{contact}"))

    (opened,) = wait_for(lambda: fake_slack.calls_to("views.open"))
    assert person.phone in json.dumps(opened.args["view"])
    with edge.services.uow_factory() as uow:
        audit = [e for e in uow.audit.entries() if e["action"] == "contact.phone_viewed"]
    assert [(e["outcome"], e["detail"]) for e in audit] == [("viewed", f"{incident_id}: {contact}")]


def test_someone_else_opening_a_contact_is_refused(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    incident_id = open_ring_round(server, fake_slack, edge)
    contact = edge.services.incidents.incident(incident_id).ringround.tiers[1].lists[0].contacts[0]

    slack_post(server, action_form(fake_slack, OUTSIDER, kit.CALL_OPEN,
                                   f"{incident_id}|{contact}"))

    answer = wait_for(lambda: fake_slack.replies("a"))[0].args
    assert "their caller" in answer["text"]
    assert fake_slack.calls_to("views.open") == []


def test_command_in_an_incident_channel_acts_on_that_incident(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    first = start_incident(server, fake_slack, edge)
    slack_post(server, command_form(fake_slack, "start ct-arrests-and-searches area=Southmoor",
                                    trigger="trig-2", reply="second"))
    wait_for(lambda: fake_slack.replies("second"))
    drain(edge)
    channel = edge.services.incidents.incident(first).channel_id
    assert channel is not None

    slack_post(server, command_form(fake_slack, "status", channel=channel, trigger="t3",
                                    reply="status"))

    text = wait_for(lambda: fake_slack.replies("status"))[0].args["text"]
    assert f"`{first}`" in text
    assert "Northbridge" in text


def test_command_outside_a_channel_with_two_open_incidents_asks_which(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    start_incident(server, fake_slack, edge)
    slack_post(server, command_form(fake_slack, "start ct-arrests-and-searches area=Southmoor",
                                    trigger="trig-2", reply="second"))
    wait_for(lambda: fake_slack.replies("second"))

    slack_post(server, command_form(fake_slack, "status", trigger="t3", reply="status"))

    text = wait_for(lambda: fake_slack.replies("status"))[0].args["text"]
    assert "more than one incident is open" in text


def test_app_home_lists_my_tasks(server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    incident_id = start_incident(server, fake_slack, edge)
    task_id, _, user = waiting_task(edge, incident_id)
    title = next(t.title for t in edge.services.incidents.view(incident_id).tasks
                 if t.id == task_id)

    open_home(server, fake_slack, user)

    (published,) = wait_for(lambda: fake_slack.calls_to("views.publish"))
    assert published.args["user_id"] == user
    assert title in json.dumps(published.args["view"])


def test_cant_do_refusal_after_the_modal_closes_arrives_as_a_dm(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    incident_id = start_incident(server, fake_slack, edge)
    task_id, _, _ = waiting_task(edge, incident_id)

    slack_post(server, submission_form(
        fake_slack, OUTSIDER, kit.CANNOT_DO_MODAL, f"{incident_id}|{task_id}",
        {"reason": {"reason": {"type": "plain_text_input", "value": "not mine"}}}))

    dm = wait_for(lambda: [c for c in fake_slack.calls_to("chat.postMessage")
                           if c.args.get("channel") == OUTSIDER])
    assert "may not" in dm[0].args["text"]
    assert task_status(edge, incident_id, task_id) == "waiting"


def test_log_command_records_the_decision_and_rationale(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    incident_id = start_incident(server, fake_slack, edge)

    slack_post(server, command_form(fake_slack, "log open the welfare centre because cordon "
                                    "overnight", trigger="t-log", reply="log"))

    assert "logged" in wait_for(lambda: fake_slack.replies("log"))[0].args["text"]
    with edge.services.uow_factory() as uow:
        entries = uow.decisions.entries(incident_id)
    assert (entries[-1].decision, entries[-1].rationale) == ("open the welfare centre",
                                                             "cordon overnight")


def test_standdown_command_moves_the_incident_to_standing_down(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    incident_id = start_incident(server, fake_slack, edge)

    slack_post(server, command_form(fake_slack, "standdown all suspects charged",
                                    trigger="t-sd", reply="sd"))

    wait_for(lambda: fake_slack.replies("sd"))
    assert edge.services.incidents.view(incident_id).status == "standing_down"
