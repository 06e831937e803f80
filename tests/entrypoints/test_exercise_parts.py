"""The exercise's small parts: the agenda, the transports, the transcript, the live view's
pieces, the start-up hints."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from incident_bot.domain.effects import Notify, OutboxChannel
from incident_bot.domain.incident.read_model import TierView
from incident_bot.entrypoints.cli import app
from incident_bot.entrypoints.cli.exercise import connect_hint, parse_t0
from incident_bot.entrypoints.exercise.live import coverage_bar
from incident_bot.entrypoints.exercise.runner import Agenda
from incident_bot.entrypoints.exercise.session import default_t0
from incident_bot.entrypoints.exercise.transcript import Transcript, stamp
from incident_bot.entrypoints.exercise.transport import DEAD_NUMBER_CODE, ExerciseTransport
from incident_bot.errors import ConfigError, PermanentProviderError
from tests.entrypoints.exercise_support import T0, settings_for

DEAD, ALIVE = "+447700900001", "+447700900002"


def sms(recipient: str = "c1") -> Notify:
    return Notify(key=f"k-{recipient}", channel=OutboxChannel.SMS, recipient=recipient,
                  body="text", purpose="ringround.sms", reply_code="AC3D")


def test_the_agenda_gives_the_earliest_action_first():
    agenda, order = Agenda(), []
    agenda.schedule(T0 + timedelta(minutes=5), "b", "later", lambda: order.append("later"))
    agenda.schedule(T0, "a", "first", lambda: order.append("first"))
    while (action := agenda.pop_due(T0 + timedelta(hours=1))) is not None:
        action.act()
    assert order == ["first", "later"]


def test_the_agenda_keeps_actions_at_the_same_time_in_the_order_they_were_scheduled():
    agenda = Agenda()
    for label in ("one", "two", "three"):
        agenda.schedule(T0, label, label, lambda: None)
    labels = [agenda.pop_due(T0).label for _ in range(3)]  # type: ignore[union-attr]
    assert labels == ["one", "two", "three"]


def test_the_agenda_holds_back_actions_not_yet_due():
    agenda = Agenda()
    agenda.schedule(T0 + timedelta(minutes=1), "a", "soon", lambda: None)
    assert agenda.pop_due(T0) is None


def test_an_sms_to_a_dead_number_fails_permanently_with_twilios_code():
    transport = ExerciseTransport(dead=frozenset({DEAD}))
    with pytest.raises(PermanentProviderError) as failed:
        transport.send(sms(), DEAD, "7")
    assert failed.value.code == DEAD_NUMBER_CODE


def test_an_sms_to_a_live_number_reaches_the_participants_with_its_callback_id():
    transport = ExerciseTransport(dead=frozenset({DEAD}))
    transport.send(sms(), ALIVE, "7")
    delivered = transport.take()
    assert [(d.kind, d.outbox_id, d.phone) for d in delivered] == [("sms", 7, ALIVE)]


def test_a_failed_send_message_never_contains_the_full_number():
    transport = ExerciseTransport(dead=frozenset({DEAD}))
    with pytest.raises(PermanentProviderError) as failed:
        transport.call(sms(), DEAD, "7")
    assert "900001" not in str(failed.value)


def test_a_transcript_line_shows_local_time_and_the_offset_from_t0():
    assert stamp(T0 - timedelta(minutes=30), T0) == "04:30:00 T0-0:30"


def test_the_transcript_hands_each_line_to_its_sink():
    seen: list[str] = []
    Transcript(T0, sink=seen.append).note(T0 + timedelta(hours=1, minutes=5), "hello")
    assert seen == ["06:05:00 T0+1:05  hello"]


def test_a_tier_not_started_shows_as_not_started():
    tier = TierView(1, "Tier 1", False, 0, 0, 0, 0, 0, 0, 0.0, 0.8, None, False)
    assert coverage_bar(tier).plain == "not started"


def test_the_coverage_bar_shows_the_share_reached_against_the_target():
    tier = TierView(1, "Tier 1", True, 4, 3, 1, 0, 0, 0, 0.75, 0.8, None, False)
    assert coverage_bar(tier, width=4).plain == "███░ 75% (target 80%)"


def test_without_slack_credentials_run_explains_how_to_connect_slack_and_twilio(tmp_path):
    lines = connect_hint(settings_for(tmp_path))
    assert [len(lines), "SLACK_BOT_TOKEN" in lines[0], "TWILIO_ACCOUNT_SID" in lines[0]] == [
        2, True, True]


def test_with_slack_credentials_run_serves_slack_instead_of_the_exercise(tmp_path, monkeypatch):
    served = []
    serve_module = importlib.import_module("incident_bot.entrypoints.cli.serve")
    monkeypatch.setattr(serve_module, "serve", lambda **options: served.append(options))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["run"], env={
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_APP_TOKEN": "xapp-test", "SLACK_SIGNING_SECRET": ""})
    assert result.exit_code == 0, result.output
    assert served == [{"http": False, "host": "127.0.0.1", "port": 3000, "threads": 8}]
    assert "exercise" not in result.output


def test_the_default_strike_is_tomorrow_at_five_uk_time():
    assert default_t0(datetime(2026, 7, 1, 12, 0, tzinfo=UTC)) == datetime(
        2026, 7, 2, 4, 0, tzinfo=UTC)  # 05:00 British Summer Time


def test_a_t0_without_an_offset_is_refused():
    with pytest.raises(ConfigError, match="no UTC offset"):
        parse_t0("2026-11-24T05:00:00")
