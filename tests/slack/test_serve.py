"""``incident-bot serve``: its refusals and the channel catch-up it runs at start."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from incident_bot.adapters.db.serving_lock import serving_lock
from incident_bot.entrypoints.cli import app
from incident_bot.entrypoints.cli.serve import check_slack, reopen_missing_channels, web_app
from incident_bot.entrypoints.slack.edge import SlackEdge
from incident_bot.errors import ConfigError
from incident_bot.service.use_cases import StartRequest
from incident_bot.testing.fake_slack import FakeSlack
from tests.slack.support import drain


def test_serve_without_a_bot_token_names_the_missing_setting(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./.env

    result = CliRunner().invoke(app, ["serve", "--http"], env={
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "SLACK_BOT_TOKEN": "",
        "SLACK_SIGNING_SECRET": "s", "SLACK_APP_TOKEN": ""})

    assert result.exit_code == 1
    assert "SLACK_BOT_TOKEN" in result.output


def test_serve_in_http_mode_needs_the_signing_secret(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(app, ["serve", "--http"], env={
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "SLACK_BOT_TOKEN": "xoxb-t",
        "SLACK_SIGNING_SECRET": "", "SLACK_APP_TOKEN": ""})

    assert result.exit_code == 1
    assert "SLACK_SIGNING_SECRET" in result.output


def test_incident_started_without_slack_gets_its_channel_when_serve_starts(
        edge: SlackEdge, fake_slack: FakeSlack) -> None:
    incident_id = edge.services.incidents.start_incident(StartRequest(
        "ct-arrests-and-searches", "Northbridge", edge.services.clock.now(), "nb-pol-01"))

    assert reopen_missing_channels(edge) == 1
    drain(edge)

    assert reopen_missing_channels(edge) == 0
    assert fake_slack.channel_named(incident_id) is not None


def test_a_second_serve_on_the_same_sqlite_file_is_refused_with_the_way_out(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    with serving_lock(url):
        result = CliRunner().invoke(app, ["serve", "--http"], env={
            "DATABASE_URL": url, "SLACK_BOT_TOKEN": "xoxb-t", "SLACK_SIGNING_SECRET": "s",
            "SLACK_APP_TOKEN": ""})

    assert result.exit_code == 1
    assert "already serving bot.db" in result.output
    assert "PostgreSQL" in result.output


def test_the_served_app_answers_readiness_and_metrics(edge: SlackEdge) -> None:
    application = web_app(edge, edge.services.settings)
    statuses: list[str] = []
    for path in ("/readyz", "/metrics", "/healthz"):
        body = b"".join(application({"REQUEST_METHOD": "GET", "PATH_INFO": path,
                                     "SCRIPT_NAME": ""}, lambda s, h: statuses.append(s)))
        assert body
    assert statuses == ["200 OK", "200 OK", "200 OK"]


def test_serve_checks_the_token_once_at_start(edge: SlackEdge, fake_slack: FakeSlack) -> None:
    check_slack(edge)
    assert len(fake_slack.calls_to("auth.test")) == 1


def test_a_token_slack_refuses_stops_serve_with_the_setting_to_fix(
        edge: SlackEdge, fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("auth.test", status=200, error="invalid_auth")
    with pytest.raises(ConfigError, match="Slack refused SLACK_BOT_TOKEN \\(invalid_auth\\)"):
        check_slack(edge)


def test_slack_unreachable_at_start_is_not_fatal(edge: SlackEdge, fake_slack: FakeSlack,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    edge.client.base_url = "http://127.0.0.1:9/api/"  # nothing listens there
    edge.client.retry_handlers = []
    check_slack(edge)
    assert "slack.unreachable" in caplog.text
