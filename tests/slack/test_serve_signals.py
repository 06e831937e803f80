"""``incident-bot serve`` as a process: SIGTERM finishes the work already acked and sends what
it queued; a refused token (bot or app) is one line, not a traceback; Slack unreachable at start
is one line, and Socket Mode connects once Slack answers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from incident_bot.adapters.directory_import import parse_directory
from incident_bot.entrypoints.slack.app import wire
from incident_bot.settings import load_settings
from incident_bot.testing.fake_slack import FakeSlack
from tests.slack.support import ROOT, SECRET, TOKEN, Server, command_form, slack_post, wait_for

START_TEXT = "start ct-arrests-and-searches area=Northbridge"


def prepared_database(tmp_path: Path, fake_slack: FakeSlack) -> dict[str, str]:
    """A migrated SQLite file with the sample directory, and serve's environment for it."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}", "SLACK_BOT_TOKEN": TOKEN,
           "SLACK_SIGNING_SECRET": SECRET, "SLACK_APP_TOKEN": "",
           "SLACK_API_URL": fake_slack.api_url,
           "INCIDENT_BOT_PLAYBOOKS": str(ROOT / "playbooks"),
           "INCIDENT_BOT_TEMPLATES": str(ROOT / "message_templates"),
           "INCIDENT_BOT_TICK_SECONDS": "10"}  # no tick of its own within the test
    edge = wire(load_settings(env, base=ROOT), worker="prep")
    roles = {r.code for pb in edge.services.playbooks.playbooks.values() for r in pb.roles}
    people = parse_directory(ROOT / "incident_bot" / "data" / "sample_directory.csv", roles)
    with edge.services.uow_factory() as uow:
        uow.directory.upsert(people.people)
        uow.commit()
    edge.close()
    edge.services.engine.dispose()
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_sigterm_finishes_acked_work_and_sends_what_it_queued(
        tmp_path: Path, fake_slack: FakeSlack) -> None:
    env = prepared_database(tmp_path, fake_slack)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", "from incident_bot.entrypoints.cli import main; main()",
         "serve", "--http", "--port", str(port)],
        env={**os.environ, **env, "PYTHONPATH": str(ROOT)}, cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: fake_slack.calls_to("auth.test"), seconds=30)
        wait_for(lambda: _listening(port), seconds=30)
        reply = slack_post(Server("127.0.0.1", port), command_form(fake_slack, START_TEXT))
        assert reply.status == 200
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()

    assert process.returncode == 0, output.decode()
    assert "Started" in fake_slack.replies("r")[0].args["text"]
    assert len(fake_slack.calls_to("conversations.create")) == 1  # the last tick opened it


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_a_refused_app_token_ends_socket_mode_with_one_line_naming_it(
        tmp_path: Path, fake_slack: FakeSlack) -> None:
    env = prepared_database(tmp_path, fake_slack)
    fake_slack.app_token_error = "invalid_auth"

    result = subprocess.run(
        [sys.executable, "-c", "from incident_bot.entrypoints.cli import main; main()", "serve"],
        env={**os.environ, **env, "SLACK_APP_TOKEN": "xapp-revoked", "PYTHONPATH": str(ROOT)},
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)

    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert "Slack refused SLACK_APP_TOKEN (invalid_auth)" in result.stderr
    assert "connections:write" in result.stderr


def test_socket_mode_started_while_slack_is_down_says_so_in_one_line_and_serves_once_it_is_up(
        tmp_path: Path, fake_slack: FakeSlack) -> None:
    env = prepared_database(tmp_path, fake_slack)
    fake_slack.stop()  # Slack can't be reached when the bot starts
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-c", "from incident_bot.entrypoints.cli import main; main()",
             "serve"],
            env={**os.environ, **env, "SLACK_APP_TOKEN": "xapp-test-token", "COLUMNS": "80",
                 "PYTHONPATH": str(ROOT)}, cwd=tmp_path, stdout=stdout, stderr=stderr)
    try:
        wait_for(lambda: "not reachable" in out.read_text(), seconds=30)
        fake_slack.start()  # Slack comes back at the same address
        wait_for(lambda: fake_slack.socket_clients == 1, seconds=30)
        fake_slack.push_envelope("slash_commands", command_form(fake_slack, "help",
                                                                reply="socket"))
        reply = wait_for(lambda: fake_slack.replies("socket"), seconds=30)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()

    printed = out.read_text()
    assert (process.returncode, "Traceback" in printed + err.read_text()) == (0, False)
    assert [line for line in printed.splitlines() if "not reachable" in line] == [
        f"incident-bot: Slack is not reachable at SLACK_API_URL ({fake_slack.api_url}): "
        "serving anyway; commands are served once Socket Mode connects (it keeps trying); "
        "messages will wait in the outbox and be retried. If this lasts, check the network "
        "and SLACK_API_URL"]
    assert "/incident" in reply[0].args["text"]


@pytest.mark.parametrize("mode", [("serve", "--http", "--port", "0"), ("serve",)])
def test_a_bot_token_slack_refuses_ends_serve_in_either_mode_with_one_line_naming_it(
        tmp_path: Path, fake_slack: FakeSlack, mode: tuple[str, ...]) -> None:
    env = prepared_database(tmp_path, fake_slack)
    fake_slack.fail_next("auth.test", status=200, error="invalid_auth")

    result = subprocess.run(
        [sys.executable, "-c", "from incident_bot.entrypoints.cli import main; main()", *mode],
        env={**os.environ, **env, "SLACK_APP_TOKEN": "xapp-test-token", "COLUMNS": "80",
             "PYTHONPATH": str(ROOT)},
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)

    assert (result.returncode, "Traceback" in result.stdout + result.stderr) == (1, False)
    assert [line for line in result.stderr.splitlines() if line.startswith("error:")] == [
        "error: Slack refused SLACK_BOT_TOKEN (invalid_auth): check the token and SLACK_API_URL"]
