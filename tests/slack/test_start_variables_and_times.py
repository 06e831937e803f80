"""A commander starts an incident with the playbook's variables, in the command or the start
form, and types clock times as the partnership reads them (UK time by default); notices show
times with their zone. Signed requests into the running app, on each database backend."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from incident_bot.adapters.slack import blocks as kit  # Block Kit builders
from incident_bot.entrypoints.slack.edge import SlackEdge
from incident_bot.testing.fake_slack import FakeSlack
from tests.slack.support import (
    COMMANDER,
    Server,
    command_form,
    drain,
    open_home,
    slack_post,
    wait_for,
)
from tests.slack.test_http_end_to_end import waiting_task
from tests.slack.test_interactions import submission_form

SUMMER = datetime(2026, 7, 14, 6, 0, tzinfo=UTC)  # 07:00 BST
PLAYBOOK = "ct-arrests-and-searches"
ROADS = 'Elm Street and part of Station Road "north of the bridge"'


@pytest.fixture
def clock_start() -> datetime:
    """This module's clock (``clock`` in ``tests/conftest.py``) starts in summer time."""
    return SUMMER


def start(server: Server, fake: FakeSlack, text: str) -> str:
    """Send ``/incident <text>`` and return the ephemeral answer."""
    slack_post(server, command_form(fake, text))
    return str(wait_for(lambda: fake.replies("r"))[0].args["text"])


def only_incident(edge: SlackEdge) -> str:
    (incident_id,) = wait_for(edge.services.incidents.open_incident_ids)
    return str(incident_id)


def first_version(edge: SlackEdge, incident_id: str, message_id: str) -> str:
    book = edge.services.incidents.incident(incident_id).messages
    return book.get(message_id).versions[0].texts["en"]


def form_values(variables: str) -> dict[str, dict[str, dict[str, object]]]:
    text = {"type": "plain_text_input"}
    return {"playbook": {"playbook": {"type": "static_select",
                                      "selected_option": {"value": PLAYBOOK}}},
            "area": {"area": {**text, "value": "Northbridge"}},
            "t0": {"t0": {**text, "value": "09:30"}},
            "e0": {"e0": {**text, "value": None}},
            "classification": {"classification": {"type": "static_select",
                                                  "selected_option": None}},
            "summary": {"summary": {**text, "value": None}},
            "variables": {"variables": {**text, "value": variables}}}


# ---- variables at start -----------------------------------------------------------------


def test_a_variable_given_at_start_is_in_version_1_of_the_key_messages(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    answer = start(server, fake_slack, f'start {PLAYBOOK} area=Northbridge '
                                       'roads_affected="Elm Street and part of  Station Road" '
                                       "arrest_count=2")

    assert answer.endswith("opening its channel. Variables set: arrest_count, roads_affected.")
    incident_id = only_incident(edge)
    statement = first_version(edge, incident_id, "public-holding-statement")
    assert "while they do so: Elm Street and part of  Station Road." in statement
    assert "Officers have arrested 2 people" in statement
    assert "Roads affected: Elm Street" in first_version(edge, incident_id, "cordon-residents")


def test_an_unknown_variable_at_start_is_refused_naming_it_and_the_known_ones(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    answer = start(server, fake_slack, f"start {PLAYBOOK} area=Northbridge road_affected=Elm "
                                       "helpline=0300")

    assert answer.startswith(":no_entry: playbook ct-arrests-and-searches has no variable "
                             "road_affected: its variables are arrest_count, ")
    assert "roads_affected" in answer
    assert edge.services.incidents.open_incident_ids() == []


def test_a_variable_given_without_a_value_is_refused(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    answer = start(server, fake_slack, f"start {PLAYBOOK} area=Northbridge helpline=")

    assert answer.startswith(":no_entry: variable helpline has no value")
    assert edge.services.incidents.open_incident_ids() == []


def test_the_start_form_has_a_variables_field_naming_the_playbooks_variables(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    slack_post(server, command_form(fake_slack, f'start {PLAYBOOK} roads_affected="Elm Street"'))

    (opened,) = wait_for(lambda: fake_slack.calls_to("views.open"))
    field = next(b for b in opened.args["view"]["blocks"] if b["block_id"] == "variables")
    assert field["element"]["initial_value"] == "roads_affected=Elm Street"  # kept, not lost
    assert "ct-arrests-and-searches: arrest_count, " in field["hint"]["text"]
    assert "roads_affected" in field["hint"]["text"]


def test_variables_given_in_the_start_form_are_stored_exactly(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    lines = f"roads_affected={ROADS}\nhelpline = 0300 123 4567"

    slack_post(server, submission_form(fake_slack, COMMANDER, kit.START_MODAL, "trig-form",
                                       form_values(lines)))

    incident = edge.services.incidents.incident(only_incident(edge))
    assert incident.params.variables == {"roads_affected": ROADS, "helpline": "0300 123 4567"}
    assert f"while they do so: {ROADS}." in first_version(edge, incident.id,
                                                          "public-holding-statement")


def test_an_unknown_variable_in_the_start_form_is_shown_under_the_field(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    reply = slack_post(server, submission_form(fake_slack, COMMANDER, kit.START_MODAL,
                                               "trig-form", form_values("road=Elm Street")))

    assert reply.json()["response_action"] == "errors"
    assert reply.json()["errors"]["variables"].startswith(
        "playbook ct-arrests-and-searches has no variable road: its variables are")
    assert edge.services.incidents.open_incident_ids() == []


# ---- times in the partnership's zone ----------------------------------------------------


def test_t0_typed_in_summer_is_uk_time(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    start(server, fake_slack, f"start {PLAYBOOK} area=Northbridge t0=09:30")

    view = edge.services.incidents.view(only_incident(edge))
    assert view.t0 == datetime(2026, 7, 14, 8, 30, tzinfo=UTC)
    assert view.zone == "Europe/London"  # stored with the incident, read back from the database


def test_key_messages_state_t0_in_uk_time(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    start(server, fake_slack, f"start {PLAYBOOK} area=Northbridge t0=09:30")

    statement = first_version(edge, only_incident(edge), "public-holding-statement")
    assert "since 09:30 on Tuesday 14 July 2026" in statement


def test_t0_typed_in_the_start_form_is_uk_time(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    slack_post(server, submission_form(fake_slack, COMMANDER, kit.START_MODAL, "trig-form",
                                       form_values("")))

    view = edge.services.incidents.view(only_incident(edge))
    assert view.t0 == datetime(2026, 7, 14, 8, 30, tzinfo=UTC)


def test_a_task_notice_shows_its_due_time_with_the_zone(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    start(server, fake_slack, f"start {PLAYBOOK} area=Northbridge")
    incident_id = only_incident(edge)
    drain(edge)

    slack_post(server, command_form(
        fake_slack, f'task add incident={incident_id} "Check the cordon" owner=bcu_commander '
                    "due=10:15", trigger="trig-2", reply="task"))
    wait_for(lambda: fake_slack.replies("task"))
    drain(edge)

    texts = [str(c.args.get("text", "")) for c in fake_slack.calls_to("chat.postMessage")]
    assert any("New task: Check the cordon (due 10:15 BST)." in t for t in texts), texts


def test_the_channel_header_shows_t0_with_the_zone(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    start(server, fake_slack, f"start {PLAYBOOK} area=Northbridge t0=09:30")
    only_incident(edge)
    drain(edge)

    sections = [b["text"]["text"] for c in fake_slack.calls_to("chat.postMessage")
                for b in c.args.get("blocks") or [] if b.get("type") == "section"]
    assert any("*T0* 14 Jul 09:30 BST" in s for s in sections), sections


def test_the_app_home_shows_task_due_times_with_the_zone(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    start(server, fake_slack, f"start {PLAYBOOK} area=Northbridge t0=09:30")
    incident_id = only_incident(edge)
    task_id, _, user = waiting_task(edge, incident_id)
    task = next(t for t in edge.services.incidents.view(incident_id).tasks if t.id == task_id)
    assert task.due is not None

    open_home(server, fake_slack, user)

    (published,) = wait_for(lambda: fake_slack.calls_to("views.publish"))
    shown = task.due.astimezone(ZoneInfo("Europe/London")).strftime("due %d %b %H:%M BST")
    assert shown in json.dumps(published.args["view"], ensure_ascii=False)
