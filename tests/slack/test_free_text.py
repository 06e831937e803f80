"""What a person types is data: decisions, rationales, reasons and titles arrive in the decision
log, the incident and its export exactly as typed, through real signed requests into the
running app; a command that fails after its ack still answers; a command naming another
incident acts on it only for someone in it, and every answer says which incident."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incident_bot.adapters.slack import blocks as kit  # Block Kit builders
from incident_bot.domain.classification import marking_in
from incident_bot.domain.decision_log import verify_chain
from incident_bot.entrypoints.cli.incidents import _json_default
from incident_bot.entrypoints.slack import slash
from incident_bot.entrypoints.slack.edge import SlackEdge
from incident_bot.entrypoints.slack.slash import FAILED, answer
from incident_bot.service.exports import export_incident
from incident_bot.service.use_cases import StartRequest
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
from tests.slack.test_http_end_to_end import START_TEXT, start_incident

PLAYBOOK = "ct-arrests-and-searches"
STEP = "tier-1"  # a briefing step the commander may override
# Any text a person can send: no NUL (refused: PostgreSQL can't store it), no lone surrogates
# (not UTF-8, so not in a Slack request), no SECRET marking (refused by design).
TYPED = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))
FREE_TEXT = TYPED.filter(lambda t: t.strip() != "" and marking_in(t) is None
                         and not re.match(r"\s*incident=", t, re.IGNORECASE))
RATIONALE = TYPED.filter(lambda t: marking_in(t) is None)


def command(server: Server, fake: FakeSlack, text: str, name: str, user: str = COMMANDER,
            channel: str = "C0GENERAL") -> str:
    """Send ``/incident text`` signed; the ephemeral reply's text once it has come back."""
    reply = slack_post(server, command_form(fake, text, user=user, channel=channel,
                                            trigger=f"trig-{name}", reply=name))
    assert reply.status == 200
    (answered,) = wait_for(lambda: fake.replies(name))
    assert answered.args["response_type"] == "ephemeral"
    return str(answered.args["text"])


def decisions(edge: SlackEdge, incident_id: str) -> list[tuple[str, str, str]]:
    with edge.services.uow_factory() as uow:
        return [(e.kind, e.decision, e.rationale) for e in uow.decisions.entries(incident_id)]


def exported(edge: SlackEdge, incident_id: str) -> dict[str, Any]:
    """The incident as ``incident-bot incidents export`` writes it, read back from JSON."""
    with edge.services.uow_factory() as uow:
        data = export_incident(uow, incident_id, include_personal_data=False)
    loaded: dict[str, Any] = json.loads(json.dumps(data, ensure_ascii=False,
                                                   default=_json_default))
    return loaded


def chain_holds(edge: SlackEdge, incident_id: str) -> bool:
    with edge.services.uow_factory() as uow:
        return verify_chain(uow.decisions.entries(incident_id)).ok


def titles(edge: SlackEdge, incident_id: str) -> list[str]:
    return [t.title for t in edge.services.incidents.view(incident_id).tasks]


# ---- exactly as typed -------------------------------------------------------------------


def test_a_decision_keeps_its_equals_words_and_its_rationale(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    incident_id = start_incident(server, fake_slack, edge)

    command(server, fake_slack, "log Move E0=10:30 and keep the cordon on route=A34 because "
            "police asked", "log")

    assert decisions(edge, incident_id)[-1] == (
        "decision", "Move E0=10:30 and keep the cordon on route=A34", "police asked")


def test_apostrophes_quotes_and_incident_words_stay_in_the_decision(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    incident_id = start_incident(server, fake_slack, edge)

    reply = command(server, fake_slack, "log don't reopen inc-deadbeef \"yet\"", "log")

    assert reply.startswith(f"`{incident_id}` · ")
    assert decisions(edge, incident_id)[-1] == ("decision", "don't reopen inc-deadbeef \"yet\"",
                                                "")


def test_ampersands_and_angle_brackets_are_stored_as_typed_not_as_slack_sends_them(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    """Slack sends ``& < >`` as ``&amp; &lt; &gt;``; the log keeps what the person typed."""
    incident_id = start_incident(server, fake_slack, edge)
    decision = "Brief MSc & MBA students <before> 10:00 (not &amp; or &lt; as typed)"

    command(server, fake_slack, f"log {decision} because a > b & c", "log")

    assert decisions(edge, incident_id)[-1] == ("decision", decision, "a > b & c")
    assert exported(edge, incident_id)["decision_log"][-1]["decision"] == decision


def test_unicode_newlines_and_edge_spaces_survive_the_signed_request(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    incident_id = start_incident(server, fake_slack, edge)
    decision = "  Évacuer le bloc C —\n« tout de suite » ✓ 🚓 "
    rationale = " the device\r\nis live  "

    command(server, fake_slack, f"log {decision} because {rationale}", "log")

    assert decisions(edge, incident_id)[-1] == ("decision", decision, rationale)
    assert exported(edge, incident_id)["decision_log"][-1]["decision"] == decision


def test_a_task_title_keeps_equals_words_and_inner_quotes(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    incident_id = start_incident(server, fake_slack, edge)

    command(server, fake_slack, 'task add Tell owner=x the "A34" route=closed '
            "owner=police_silver due=+1h", "task")

    assert 'Tell owner=x the "A34" route=closed' in titles(edge, incident_id)


def test_override_and_compromised_reasons_are_logged_exactly(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    incident_id = start_incident(server, fake_slack, edge)

    command(server, fake_slack, f"override {STEP} police asked: don't wait ", "override")
    command(server, fake_slack, 'compromised "on social media" incident=inc-0ther', "comp")

    logged = {kind: rationale for kind, _, rationale in decisions(edge, incident_id)}
    assert logged["override"] == "police asked: don't wait "
    assert logged["compromised"] == '"on social media" incident=inc-0ther'


@given(data=st.data())
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_typed_text_round_trips_into_the_decision_log_and_the_export(
        edge: SlackEdge, data: st.DataObject) -> None:
    """Through the command handler (parse, service, database) for a fresh incident each time;
    the signed-request layer is covered by the tests above."""
    incident_id = f"inc-typed-{next(SERIAL)}"
    edge.services.incidents.start_incident(StartRequest(
        playbook_id=PLAYBOOK, area="Northbridge", t0=edge.services.clock.now(),
        started_by="nb-pol-01"), incident_id)
    decision = data.draw(FREE_TEXT.filter(lambda t: " because " not in t), "decision")
    rationale, title = data.draw(RATIONALE, "rationale"), data.draw(FREE_TEXT, "title")
    override, compromise = data.draw(FREE_TEXT, "override"), data.draw(FREE_TEXT, "compromise")

    for text in (f"log incident={incident_id} {decision} because {rationale}",
                 f'task add incident={incident_id} "{title}" owner=police_silver due=+1h',
                 f"override incident={incident_id} {STEP} {override}",
                 f"compromised incident={incident_id} {compromise}"):
        reply = answer(edge, {"text": text, "user_id": COMMANDER, "channel_id": "C0GENERAL"},
                       edge.client)
        assert not reply.startswith(":no_entry:"), reply

    export = exported(edge, incident_id)
    logged = {(e["kind"], e["decision"] if e["kind"] == "decision" else "", e["rationale"])
              for e in export["decision_log"]}
    assert {("decision", decision, rationale), ("override", "", override),
            ("compromised", "", compromise)} <= logged
    assert title in [t["title"] for t in export["document"]["tasks"]["tasks"]]
    assert chain_holds(edge, incident_id)


SERIAL = itertools.count()


# ---- failures after the ack still answer ---------------------------------------------------


def test_a_due_time_beyond_a_year_is_refused_with_a_reason(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    incident_id = start_incident(server, fake_slack, edge)
    before = titles(edge, incident_id)

    reply = command(server, fake_slack, 'task add "Close the road" owner=police_silver '
                    "due=+99999999d", "task")

    assert reply.startswith(f":no_entry: `{incident_id}` · ")
    assert "more than a year away" in reply
    assert titles(edge, incident_id) == before


def test_a_start_time_beyond_a_year_is_refused_with_a_reason(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    reply = command(server, fake_slack, f"{START_TEXT} t0=+99999999d", "start")

    assert "more than a year away" in reply
    assert edge.services.incidents.open_incident_ids() == []


def test_an_unknown_classification_is_refused_with_the_choices(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    reply = command(server, fake_slack, f"{START_TEXT} classification=secret", "start")

    assert "OFFICIAL, OFFICIAL-SENSITIVE" in reply
    assert edge.services.incidents.open_incident_ids() == []


def test_an_approve_button_whose_version_is_not_a_number_is_refused_ephemerally(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    incident_id = start_incident(server, fake_slack, edge)
    approver = edge.services.incidents.incident(incident_id).people["nb-pol-05"].slack_user_id
    assert approver is not None

    slack_post(server, action_form(fake_slack, approver, kit.MESSAGE_APPROVE,
                                   f"{incident_id}|ring-round-script|NaN"))

    (answered,) = wait_for(lambda: fake_slack.replies("a"))
    assert answered.args["response_type"] == "ephemeral"
    assert "'NaN' is not a message version" in answered.args["text"]
    state = edge.services.incidents.incident(incident_id).messages.get("ring-round-script")
    assert state.versions[0].approvals == []


def test_a_command_that_fails_unexpectedly_still_answers(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge,
        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> str:
        raise RuntimeError("a fault nobody foresaw")

    monkeypatch.setitem(slash.HANDLERS, "help", broken)

    reply = command(server, fake_slack, "help", "help")

    assert reply == FAILED


# ---- which incident ------------------------------------------------------------------------


def two_incidents(server: Server, fake: FakeSlack, edge: SlackEdge) -> tuple[str, str, str]:
    """A (started now, everyone in it, with its channel) and B (T0 in two hours: before T0
    only need-to-know roles are in it); A's channel id."""
    first = start_incident(server, fake, edge)
    command(server, fake, "start ct-arrests-and-searches area=Southmoor t0=+2h", "second")
    (second,) = set(edge.services.incidents.open_incident_ids()) - {first}
    drain(edge)
    channel = edge.services.incidents.incident(first).channel_id
    assert channel is not None
    return first, second, channel


def test_a_command_in_one_channel_naming_another_incident_acts_on_it_and_says_so(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    first, second, channel = two_incidents(server, fake_slack, edge)
    before = decisions(edge, first)

    reply = command(server, fake_slack, f"log incident={second} hold the leaflets",
                    "log", channel=channel)

    assert reply.startswith(f"`{second}` · ")
    assert decisions(edge, second)[-1] == ("decision", "hold the leaflets", "")
    assert decisions(edge, first) == before


def test_naming_an_incident_the_person_is_not_in_is_refused_and_changes_nothing(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    first, second, channel = two_incidents(server, fake_slack, edge)
    in_first = command(server, fake_slack, "log sweep the car park", "here", user=OUTSIDER,
                       channel=channel)
    before = decisions(edge, second)

    reply = command(server, fake_slack, f"log incident={second} sweep the car park",
                    "there", user=OUTSIDER, channel=channel)

    assert in_first.startswith(f"`{first}` · ")
    assert decisions(edge, first)[-1][1] == "sweep the car park"
    assert reply == f":no_entry: no incident '{second}'"  # as if it did not exist
    assert decisions(edge, second) == before
