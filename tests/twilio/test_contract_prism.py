"""Contract: every kind of request the Twilio adapters make, sent by the real twilio Client, is
valid against Twilio's own OpenAPI description of the 2010-04-01 API, as checked by a Stoplight
Prism mock of it (422 or 400 with the problems when a request does not match the spec).

Prism is installed by ``scripts/install-prism.sh`` (``scripts/test.sh`` runs it). Without it this
test fails rather than skips: a skipped contract test would claim a check that never ran."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from incident_bot.adapters.twilio import TwilioSms, TwilioVoice
from incident_bot.adapters.twilio.http import RoutedHttpClient
from incident_bot.domain.effects import Notify, OutboxChannel
from tests.fakes import T0
from tests.twilio.support import ACCOUNT_SID, AUTH_TOKEN, PUBLIC

ROOT = Path(__file__).parents[2]
PRISM = ROOT / ".tools" / "prism" / "node_modules" / ".bin" / "prism"
SPEC = Path(os.environ.get("TWILIO_CONTRACT",
                           Path(__file__).with_name("contract") / "twilio_api_v2010.json"))
STARTUP_SECONDS = 25
TO = "+447700900123"


class RecordingHttpClient(RoutedHttpClient):
    """Keeps every answer's status and Prism's violation header."""

    def __init__(self, api_url: str) -> None:
        super().__init__(api_url, timeout=10)
        self.answers: list[tuple[str, str, int, str]] = []

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        response = super().request(method, url, *args, **kwargs)
        # Prism lists request problems (and the spec's own example's problems) in this header.
        violations = json.loads(response.headers.get("sl-violations", "[]"))
        ours = json.dumps([v for v in violations if v.get("location", [""])[0] == "request"])
        self.answers.append((method, url.split("?", maxsplit=1)[0], response.status_code,
                             "" if ours == "[]" else ours))
        return response


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"prism exited early: {process.stdout.read().decode()[-2000:]}"
                        if process.stdout else "prism exited early")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)  # real time: waiting for a subprocess to start, not domain time
    pytest.fail(f"prism did not listen on port {port} within {STARTUP_SECONDS}s")


@pytest.fixture(scope="module")
def prism_url() -> Iterator[str]:
    if not PRISM.exists():
        pytest.fail(f"Stoplight Prism is not installed at {PRISM}: run scripts/install-prism.sh",
                    pytrace=False)
    if not SPEC.is_file():
        pytest.fail(f"Twilio's OpenAPI description is missing at {SPEC}", pytrace=False)
    port = _free_port()
    # Node may be the machine's or the one scripts/install-prism.sh put in .venv/bin.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    process = subprocess.Popen(
        [str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(port), str(SPEC)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, "PATH": path})
    try:
        _wait_until_listening(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()


def _notify() -> Notify:
    return Notify(key="k", channel=OutboxChannel.SMS, recipient="p", body="Drill: reply K7MR",
                  purpose="ringround.sms", valid_for=timedelta(minutes=15))


def test_every_request_the_adapters_make_is_valid_for_twilios_api(prism_url):
    http = RecordingHttpClient(prism_url)
    client = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=http, environment={})
    from_number = TwilioSms(client, PUBLIC, from_numbers=["+447700900000"])
    service = TwilioSms(client, PUBLIC, messaging_service_sid="MG" + "0123456789abcdef" * 2)
    voice = TwilioVoice(client, PUBLIC, "+447700900000")

    from_number.send(_notify(), TO, "1")
    service.send(_notify(), TO, "2")
    from_number.find_sent(TO, "Drill: reply K7MR", T0)
    voice.call(_notify(), TO, "3")
    voice.find_placed(TO, "3", T0)

    kinds = {(method, url.rsplit("/", 1)[-1]) for method, url, _, _ in http.answers}
    assert kinds == {("POST", "Messages.json"), ("GET", "Messages.json"),
                     ("POST", "Calls.json"), ("GET", "Calls.json")}
    refused = [a for a in http.answers if a[2] >= 400 or a[3]]
    assert refused == []


def test_prism_does_refuse_a_request_that_breaks_the_spec(prism_url):
    """The negative control: the mock really validates (ValidityPeriod must be an integer)."""
    client = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=RecordingHttpClient(prism_url),
                    environment={})
    with pytest.raises(TwilioRestException) as raised:
        client.messages.create(to=TO, from_="+447700900000", body="x", validity_period="soon")
    assert raised.value.status == 422
