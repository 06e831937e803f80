"""Reads of an incident (``IncidentService.incident``) decode its document once per stored
version: an unchanged incident is not decoded again, a changed one always is."""

from __future__ import annotations

import pytest

from incident_bot.domain.commands import ApproveMessage
from incident_bot.errors import NotFoundError
from incident_bot.service.use_cases import OPEN_STATUSES, StartRequest
from tests.fakes import T0


def _start(drill) -> str:
    return drill.incidents.start_incident(
        StartRequest(playbook_id="restart-drill", area="Northbridge", t0=T0, started_by="cmd"),
        incident_id="inc-reads")


def test_an_unchanged_incident_is_read_without_decoding_it_again(drill):
    incident_id = _start(drill)
    assert drill.incidents.incident(incident_id) is drill.incidents.incident(incident_id)


def test_a_changed_incident_is_read_as_it_is_now(drill):
    incident_id = _start(drill)
    before = drill.incidents.incident(incident_id)
    drill.incidents.execute(incident_id, ApproveMessage("drill-sms", 1, by="cmd"))

    after = drill.incidents.incident(incident_id)

    assert after is not before
    assert after.messages.get("drill-sms").current is not None
    assert before.messages.get("drill-sms").current is None


def test_the_stored_version_is_read_alone_and_a_missing_incident_is_not_found(drill):
    incident_id = _start(drill)
    with drill.uow_factory() as uow:
        assert uow.incidents.version(incident_id) == uow.incidents.get(incident_id).version
        with pytest.raises(NotFoundError):
            uow.incidents.version("inc-missing")
        open_versions = uow.incidents.versions(OPEN_STATUSES)
    assert open_versions == {incident_id: drill.incidents.open_incident_versions()[incident_id]}
