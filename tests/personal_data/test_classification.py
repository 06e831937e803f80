"""SECRET and TOP SECRET material is refused: the bot carries OFFICIAL and OFFICIAL-SENSITIVE
only. The rule is in the domain; the service applies it to every start and command."""

from __future__ import annotations

from datetime import datetime

import pytest

from incident_bot.domain.classification import (
    ClassificationRefused,
    command_texts,
    marking_in,
    refuse_above_official,
)
from incident_bot.domain.commands import AddTask, LogDecision, SmsReceived
from incident_bot.errors import RefusedError
from incident_bot.service.use_cases import StartRequest
from tests.fakes import T0

# ---- domain --------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["SECRET", "Classification: SECRET", "UK SECRET",
                                  "SECRET//UK EYES ONLY", "(SECRET) source report",
                                  "SECRET-marked annex"])
def test_a_secret_marking_is_found(text: str):
    assert marking_in(text) == "SECRET"


@pytest.mark.parametrize("text", ["TOP SECRET", "top secret briefing", "Top  Secret",
                                  "marked TOP SECRET STRAP1"])
def test_a_top_secret_marking_is_found_in_any_case(text: str):
    assert marking_in(text) == "TOP SECRET"


@pytest.mark.parametrize("text", ["OFFICIAL-SENSITIVE", "OFFICIAL", "keep the address secret",
                                  "Secret Garden Nursery", "SECRETARY of the mosque committee",
                                  "secretariat", ""])
def test_ordinary_words_and_official_markings_are_not_refused(text: str):
    assert marking_in(text) is None


def test_the_refusal_names_the_field_the_marking_and_what_to_do_instead():
    with pytest.raises(ClassificationRefused) as refused:
        refuse_above_official({"summary": "fine", "area": "Estate X (SECRET)"})
    message = str(refused.value)
    assert "area" in message
    assert "marked SECRET" in message
    assert "OFFICIAL and OFFICIAL-SENSITIVE material only" in message
    assert "Estate X" not in message  # the refused text is not repeated


def test_a_classification_refusal_is_a_refused_error_so_edges_show_it():
    assert issubclass(ClassificationRefused, RefusedError)


def test_command_texts_are_the_free_text_fields_of_a_command():
    command = LogDecision("Evacuate", "risk", by="cmd", options_rejected="stay")
    assert command_texts(command) == {"decision": "Evacuate", "rationale": "risk",
                                      "options rejected": "stay"}


def test_an_inbound_sms_from_the_public_is_never_refused():
    assert command_texts(SmsReceived("t1-0", "TOP SECRET lol")) == {}


# ---- service -------------------------------------------------------------------------------------


def start_request(**changes: str) -> StartRequest:
    values = {"playbook_id": "restart-drill", "area": "Northbridge", "t0": T0,
              "started_by": "cmd", **changes}
    return StartRequest(**values)


@pytest.mark.parametrize("field", ["summary", "area"])
def test_starting_an_incident_with_secret_text_is_refused_and_nothing_is_stored(drill,
                                                                                field: str):
    with pytest.raises(ClassificationRefused, match=f"the {field}: it is marked SECRET"):
        drill.incidents.start_incident(start_request(**{field: "SECRET source says"}))
    with drill.uow_factory() as uow:
        assert uow.incidents.all() == []
        assert uow.outbox.items() == []


def test_a_refused_start_is_audited_without_the_refused_text(drill):
    with pytest.raises(ClassificationRefused):
        drill.incidents.start_incident(start_request(summary="TOP SECRET: name of the source"))
    with drill.uow_factory() as uow:
        [entry] = uow.audit.entries()
    assert entry["outcome"] == "refused"
    assert "TOP SECRET" in entry["detail"]
    assert "name of the source" not in entry["detail"]


def started(drill) -> str:
    return drill.incidents.start_incident(start_request(), incident_id="inc-class")


def test_a_decision_marked_secret_is_refused_and_not_logged(drill):
    incident_id = started(drill)
    with drill.uow_factory() as uow:
        before = len(uow.decisions.entries(incident_id))
    with pytest.raises(ClassificationRefused, match="the decision: it is marked SECRET"):
        drill.incidents.execute(incident_id, LogDecision("SECRET: move cordon", "x", by="cmd"))
    with drill.uow_factory() as uow:
        assert len(uow.decisions.entries(incident_id)) == before


def test_an_ad_hoc_task_titled_top_secret_is_refused(drill):
    incident_id = started(drill)
    due = datetime(2026, 5, 1, 7, 0, tzinfo=T0.tzinfo)
    with pytest.raises(ClassificationRefused, match="the title: it is marked TOP SECRET"):
        drill.incidents.execute(incident_id, AddTask("Read TOP SECRET annex", "commander",
                                                     due, by="cmd"))
    assert not any(t.title == "Read TOP SECRET annex"
                   for t in drill.incidents.incident(incident_id).tasks.tasks.values())


def test_official_sensitive_text_is_accepted(drill):
    incident_id = started(drill)
    drill.incidents.execute(incident_id, LogDecision(
        "OFFICIAL-SENSITIVE: keep the address secret until E0", "community safety", by="cmd"))
    with drill.uow_factory() as uow:
        assert uow.decisions.entries(incident_id)[-1].decision.startswith("OFFICIAL-SENSITIVE")
