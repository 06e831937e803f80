"""People are shown by name wherever a person reads: task notices, call lists, the dashboard,
role changes, SMS feedback, refusals. Directory keys stay in exports and logs.

A whole incident is scripted through the running app (signed Slack requests where a person
clicks or types, the service where a provider or the clock acts), and every text Slack was
given to show a person is swept for a directory key."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from incident_bot.adapters.slack import blocks as kit  # Block Kit builders
from incident_bot.domain.commands import AssignRole, RecordOutcome, SmsReceived
from incident_bot.entrypoints.slack.edge import SlackEdge
from incident_bot.testing.fake_slack import FakeSlack
from tests.fakes import FakeClock
from tests.figures import FIGURES
from tests.slack.support import (
    COMMANDER,
    Server,
    action_form,
    command_form,
    drain,
    slack_post,
    wait_for,
)
from tests.slack.test_http_end_to_end import open_ring_round, start_incident, waiting_task
from tests.slack.test_interactions import submission_form, task_status

SHOWN = ("chat.postMessage", "chat.update", "chat.postEphemeral", "response_url",
         "views.publish", "views.open", "views.update")


def human_texts(value: Any) -> Iterator[str]:
    """Every ``text`` Slack shows (message text, block and element text), not the values,
    ids and metadata a person never sees."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "text" and isinstance(inner, str):
                yield inner
            elif key not in ("value", "block_id", "action_id", "metadata",
                             "private_metadata", "callback_id"):
                yield from human_texts(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from human_texts(inner)


def keys_shown(fake: FakeSlack, keys: set[str]) -> list[tuple[str, str]]:
    pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, sorted(keys))) + r")(?![\w-])")
    return [(call.method, text) for call in fake.calls if call.method in SHOWN
            for text in human_texts(call.args) if pattern.search(text)]


def test_a_task_done_notice_names_the_person_who_did_it(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    incident_id = start_incident(server, fake_slack, edge)
    task_id, key, user = waiting_task(edge, incident_id)
    name = edge.services.incidents.incident(incident_id).people[key].name

    slack_post(server, action_form(fake_slack, user, kit.TASK_DONE, f"{incident_id}|{task_id}"))
    wait_for(lambda: task_status(edge, incident_id, task_id) == "done")
    drain(edge)

    notices = [text for call in fake_slack.calls_to("chat.postMessage")
               for text in human_texts(call.args) if text.startswith("Done:")]
    assert notices
    assert all(text.endswith(f"(by {name}).") for text in notices), notices


def test_no_directory_key_is_shown_to_a_person_in_a_whole_incident(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge, clock: FakeClock) -> None:
    incident_id = open_ring_round(server, fake_slack, edge)
    incidents = edge.services.incidents
    incident = incidents.incident(incident_id)
    keys = set(incident.people)

    # tasks: one acknowledged then done, one that cannot be done
    task_id, _, user = waiting_task(edge, incident_id)
    slack_post(server, action_form(fake_slack, user, kit.TASK_ACK, f"{incident_id}|{task_id}",
                                   action_ts="3.1"))
    wait_for(lambda: task_status(edge, incident_id, task_id) == "acknowledged")
    slack_post(server, action_form(fake_slack, user, kit.TASK_DONE, f"{incident_id}|{task_id}",
                                   action_ts="3.2"))
    wait_for(lambda: task_status(edge, incident_id, task_id) == "done")
    other, _, other_user = waiting_task(edge, incident_id)
    slack_post(server, submission_form(
        fake_slack, other_user, kit.CANNOT_DO_MODAL, f"{incident_id}|{other}",
        {"reason": {"reason": {"type": "plain_text_input", "value": "on leave"}}}))
    wait_for(lambda: task_status(edge, incident_id, other) == "cannot_do")

    # the ring-round: a caller accepts and calls; a contact texts back
    call_list = incident.ringround.tiers[1].lists[0]
    caller = incident.people[call_list.holder].slack_user_id
    assert caller is not None
    slack_post(server, action_form(fake_slack, caller, kit.CALL_ACCEPT,
                                   f"{incident_id}|{call_list.id}", action_ts="3.3"))
    wait_for(lambda: incidents.incident(incident_id).ringround.tiers[1].lists[0].status.value
             == "accepted")
    first, second = call_list.contacts[0], call_list.contacts[1]
    slack_post(server, action_form(fake_slack, caller, kit.OUTCOME_PREFIX + "reached",
                                   f"{incident_id}|{first}", action_ts="3.4"))
    wait_for(lambda: any(t.reached for t in incidents.view(incident_id).tiers))
    incidents.execute(incident_id, RecordOutcome(second, "declined", call_list.holder))
    incidents.execute(incident_id, SmsReceived(second, "who is this?"))
    slack_post(server, action_form(fake_slack, COMMANDER, kit.CALL_OPEN,  # not their caller
                                   f"{incident_id}|{second}", reply="open", action_ts="3.6"))
    assert "number" in wait_for(lambda: fake_slack.replies("open"))[0].args["text"]

    # someone given a role; a stranger clicks a task button; time passes; the end
    newcomer = next(k for k in keys if k not in incident.roles.members())
    incidents.execute(incident_id, AssignRole("caller", newcomer, incident.started_by))
    third, _, _ = waiting_task(edge, incident_id)
    slack_post(server, action_form(fake_slack, caller, kit.TASK_DONE,
                                   f"{incident_id}|{third}", action_ts="3.5"))
    wait_for(lambda: fake_slack.replies("a"))
    drain(edge)
    for _ in range(8):
        clock.advance(minutes=30)
        drain(edge)
    slack_post(server, command_form(fake_slack, "standdown all arrests made", trigger="t9",
                                    reply="down"))
    wait_for(lambda: fake_slack.replies("down"))
    slack_post(server, command_form(fake_slack, "close", trigger="t10", reply="closed"))
    wait_for(lambda: fake_slack.replies("closed"))
    clock.advance(seconds=5)
    drain(edge)

    swept = [text for call in fake_slack.calls if call.method in SHOWN
             for text in human_texts(call.args)]
    FIGURES.append(f"names not keys ({database_name(edge)}): {len(swept)} texts Slack was given "
                   f"to show in one scripted incident, {len(keys)} directory keys looked for")
    assert len(fake_slack.calls_to("chat.postMessage")) > 20  # the sweep saw a whole incident
    assert keys_shown(fake_slack, keys) == []


def database_name(edge: SlackEdge) -> str:
    return edge.services.engine.dialect.name
