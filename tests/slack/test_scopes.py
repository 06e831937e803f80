"""The app manifest's scopes against what the bot calls: the fake Slack refuses a method whose
scope the manifest does not grant (``missing_scope``), as Slack does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from incident_bot.domain.effects import Notify, OutboxChannel
from incident_bot.entrypoints.slack.edge import SlackEdge
from incident_bot.service.channels import request_channel
from incident_bot.service.use_cases import StartRequest
from incident_bot.testing.fake_slack import FakeSlack, manifest_scopes
from tests.fakes import FakeClock
from tests.slack.support import drain


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack(scopes=manifest_scopes()) as slack:
        yield slack


def start(edge: SlackEdge) -> str:
    incident_id = edge.services.incidents.start_incident(StartRequest(
        "ct-arrests-and-searches", "Northbridge", edge.services.clock.now(), "nb-pol-01"))
    request_channel(edge.services.uow_factory, incident_id, edge.services.clock.now())
    drain(edge)
    return incident_id


def dm_after_a_server_error(edge: SlackEdge, fake_slack: FakeSlack, clock: FakeClock) -> str:
    """Queue a DM whose first post meets a 500 (Slack may have posted it), then retry it."""
    incident_id = start(edge)
    notify = Notify(key=f"{incident_id}|nb-pol-05|probe|slack_dm|1",
                    channel=OutboxChannel.SLACK_DM, recipient="nb-pol-05", body="probe DM",
                    purpose="test.probe")
    with edge.services.uow_factory() as uow:
        uow.outbox.add(incident_id, notify, clock.now())
        uow.commit()
    fake_slack.fail_next("chat.postMessage", status=500)
    drain(edge)
    clock.advance(seconds=5)
    drain(edge)
    with edge.services.uow_factory() as uow:
        (item,) = [i for i in uow.outbox.items(incident_id) if i.key == notify.key]
    return item.status


def probe_dms(fake_slack: FakeSlack) -> list[dict[str, object]]:
    dm = fake_slack.channels["D0NBPOL005"]
    return [m for m in dm.messages.values() if m["text"] == "probe DM"]


def test_the_manifest_grants_the_history_a_retried_dm_looks_in(
        edge: SlackEdge, fake_slack: FakeSlack, clock: FakeClock) -> None:
    assert dm_after_a_server_error(edge, fake_slack, clock) == "sent"
    assert "im:history" in fake_slack.scopes_used
    assert len(probe_dms(fake_slack)) == 1


def test_a_retried_dm_without_the_history_scope_is_sent_again_not_failed(
        edge: SlackEdge, fake_slack: FakeSlack, clock: FakeClock) -> None:
    fake_slack.scopes = manifest_scopes() - {"im:history"}  # installed from an older manifest

    assert dm_after_a_server_error(edge, fake_slack, clock) == "sent"
    assert len(probe_dms(fake_slack)) == 1


def test_the_manifest_asks_for_no_scope_the_bot_does_not_use(
        edge: SlackEdge, fake_slack: FakeSlack, clock: FakeClock) -> None:
    fake_slack.fail_next("pins.add", status=429, retry_after=1)  # the opening is retried
    dm_after_a_server_error(edge, fake_slack, clock)

    unused = manifest_scopes() - {"commands"} - fake_slack.scopes_used
    assert unused == set()
