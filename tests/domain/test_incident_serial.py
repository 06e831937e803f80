"""The incident as one JSON document: an exact round trip, including the playbook snapshot."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from builders import E0, MIN, T0, playbook, reach, run, start, started

from incident_bot.adapters.playbook_loader import load_playbook
from incident_bot.domain.commands import (
    AssignRole,
    CompleteStep,
    DraftMessage,
    OverrideStep,
    ReleaseMessage,
)
from incident_bot.domain.directory import Person
from incident_bot.domain.durations import IncidentClock, RelativeTime
from incident_bot.domain.incident import Incident
from incident_bot.domain.playbook import Channel
from incident_bot.domain.serial import (
    decode,
    encode,
    person_from_dict,
    person_to_dict,
    playbook_from_dict,
    playbook_to_dict,
)

SMALL_CT = Path(__file__).parents[1] / "data" / "good_playbooks" / "small-ct.yaml"


def through_json(incident: Incident) -> Incident:
    return Incident.from_dict(json.loads(json.dumps(incident.to_dict())))


def test_a_new_incident_survives_the_round_trip():
    incident = started()
    assert through_json(incident) == incident


def test_an_incident_in_full_flow_survives_the_round_trip(briefing_open: Incident):
    run(briefing_open, E0 + MIN, CompleteStep("strategic", "gold"))
    reach(briefing_open, E0 + 2 * MIN, "k1", "k2")
    run(briefing_open, E0 + 3 * MIN,
        OverrideStep("media", "Reported on local radio", "gold"),
        ReleaseMessage("public-holding-statement", "pcomms"),
        DraftMessage("member-briefing", {"en": "Second draft"}, "ccomms"),
        AssignRole("caller", "cllr", "gold"))
    assert through_json(briefing_open) == briefing_open


def test_an_incident_keeps_its_time_zone_through_the_round_trip():
    incident = started(zone="Europe/London")
    assert through_json(incident).params.zone == "Europe/London"


def test_an_incident_stored_before_time_zones_reads_its_times_as_utc():
    document = started(zone="Europe/London").to_dict()
    del document["params"]["zone"]
    assert Incident.from_dict(json.loads(json.dumps(document))).params.zone == "UTC"


def test_the_document_of_a_restored_incident_is_identical(briefing_open: Incident):
    document = briefing_open.to_dict()
    assert through_json(briefing_open).to_dict() == document


def test_the_incident_keeps_its_playbook_when_the_playbook_is_edited_after_start():
    original = playbook()
    incident, _ = start(pb=original)
    edited = replace(original, briefing=original.briefing[:1], title="Edited")
    restored = through_json(incident)
    assert restored.playbook == original
    assert restored.playbook != edited


def test_the_snapshot_masks_phone_numbers():
    incident = started()
    document = json.dumps(incident.to_dict())
    assert "+447700900123" not in document
    assert incident.people["k1"].phone == "+44 7700 ••••23"


def test_the_snapshot_leaves_out_people_the_playbook_does_not_need():
    assert "stranger" not in started().people


def test_a_document_of_another_schema_is_refused():
    document = started().to_dict() | {"schema": 99}
    with pytest.raises(ValueError, match="schema 99"):
        Incident.from_dict(document)


def test_a_playbook_loaded_from_yaml_survives_the_round_trip():
    loaded = load_playbook(SMALL_CT, templates_dir=None)
    assert playbook_from_dict(json.loads(json.dumps(playbook_to_dict(loaded)))) == loaded


def test_a_person_survives_the_round_trip():
    person = Person(key="k9", name="K Nine", roles=("caller",), tier=2, phone="+44 7700 ••••23",
                    language="ur", channels=(Channel.SMS,), verified_on=date(2026, 4, 1))
    assert person_from_dict(json.loads(json.dumps(person_to_dict(person)))) == person


def test_a_sub_second_relative_time_survives_the_round_trip():
    value = RelativeTime(IncidentClock.E0, -timedelta(seconds=90.25))
    assert decode(RelativeTime, encode(value)) == value


def test_an_absolute_time_survives_the_round_trip():
    value = RelativeTime(None, timedelta(0), T0)
    assert decode(RelativeTime, encode(value)) == value
