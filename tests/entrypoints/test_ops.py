"""/healthz, /readyz and /metrics, over real HTTP on loopback."""

from __future__ import annotations

import json
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest

from incident_bot.adapters.db import make_engine
from incident_bot.domain.effects import ScheduleTimer
from incident_bot.entrypoints.ops import OpsApp

NOW = datetime(2026, 5, 1, 6, 0, tzinfo=UTC)


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *_: object) -> None:
        """Tests read replies, not access logs."""


@pytest.fixture
def serve() -> Iterator[callable]:
    servers = []

    def start(app) -> str:
        server = make_server("127.0.0.1", 0, app, handler_class=QuietHandler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode()


def test_healthz_answers_without_the_database(serve, tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'missing' / 'x.db'}")
    base = serve(OpsApp(engine, lambda: NOW))
    assert get(base + "/healthz") == (200, '{"status": "ok"}')


def test_readyz_is_ready_on_a_migrated_database(serve, engine):
    status, body = get(serve(OpsApp(engine, lambda: NOW)) + "/readyz")
    assert (status, json.loads(body)["status"]) == (200, "ready")


def test_readyz_is_503_with_the_fix_on_an_unmigrated_database(serve, database_url):
    engine = make_engine(database_url)
    status, body = get(serve(OpsApp(engine, lambda: NOW)) + "/readyz")
    engine.dispose()
    assert status == 503
    assert json.loads(body)["fix"] == "incident-bot db upgrade"


def test_metrics_count_timers_and_report_lateness(serve, engine, uow_factory):
    with uow_factory() as uow:
        for n in range(3):
            uow.timers.schedule("inc-1", ScheduleTimer(f"k{n}", NOW - timedelta(minutes=1),
                                                       "ringround.red", {"tier": 1}))
        uow.commit()
    with uow_factory() as uow:
        [first, *_] = uow.timers.claim_due(NOW, 1, 60, "w")
        uow.timers.mark_fired(first.id, NOW)
        uow.commit()
    status, body = get(serve(OpsApp(engine, lambda: NOW)) + "/metrics")
    assert status == 200
    assert 'incident_bot_timers{status="pending"} 2' in body
    assert 'incident_bot_timers{status="fired"} 1' in body
    assert "incident_bot_timers_overdue 2" in body
    assert 'incident_bot_timer_lateness_seconds{quantile="0.99"} 60.000' in body


def test_metrics_lines_are_prometheus_text(serve, engine):
    _, body = get(serve(OpsApp(engine, lambda: NOW)) + "/metrics")
    sample = re.compile(r'^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9.]+$')
    bad = [line for line in body.splitlines()
           if not line.startswith("# ") and not sample.match(line)]
    assert bad == []


def test_other_paths_are_404_and_writes_405(serve, engine):
    base = serve(OpsApp(engine, lambda: NOW))
    assert get(base + "/nothing")[0] == 404
    request = urllib.request.Request(base + "/metrics", data=b"x", method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    refused.value.close()
    assert refused.value.code == 405


def test_mounted_under_its_own_path_it_still_answers(engine):
    replies = []
    app = OpsApp(engine, lambda: NOW)
    body = app({"SCRIPT_NAME": "/metrics", "PATH_INFO": "/", "REQUEST_METHOD": "GET"},
               lambda status, headers: replies.append(status))
    assert replies == ["200 OK"]
    assert b"incident_bot_up 1" in b"".join(body)
