"""Slash-command and button acknowledgement over real HTTP (issue "Benchmarks" §1).

Two servers, each in its own process with the same waitress configuration (``threads=8``,
127.0.0.1, a free port), each talking to its own loopback fake Slack:

- ``bot``: incident-bot as ``serve --http`` builds it: ``wire(settings)`` (SQLite file, system
  clock, bundled sample directory loaded), ``web_app(edge, settings)``, and the APScheduler tick
  every second (timers, outbox, dashboards), so the background work of every start competes
  with the acks as it would in service;
- ``bare``: a bare ``slack_bolt.App`` (same signing secret, ``WebClient`` on the fake Slack)
  whose ``/incident`` and ``task.ack`` listeners only ack, behind
  ``slack_bolt.adapter.wsgi.SlackRequestHandler``.

The load generator (this process) is a thread pool of ``clients`` keep-alive
``http.client`` connections sending real signed requests (``X-Slack-Signature`` v0,
HMAC-SHA256 of ``v0:{ts}:{body}``) and timing each from sending to the whole answer read.
Two kinds of request:

- ``start``: ``/incident start ct-arrests-and-searches area=Northbridge`` from the commander
  (U0NBPOL001), a distinct ``trigger_id`` each, so every one starts an incident (in Bolt's
  listener thread, after the ack); after each level the run waits for every incident to exist
  and reports how many were created against how many were acked;
- ``click``: the task "Acknowledge" button (``task.ack``) of one open incident, clicked by the
  task's assignee, a distinct ``action_ts`` each (the first click acknowledges the task; later
  ones are answered ephemerally as already done — the ack path is the same).

Each server is wrapped in a tiny WSGI shim answering ``GET /bench/state`` (the listener queue
and the incident count), the same for both, so the load generator can wait for quiet.

    .venv/bin/python -m bench.slack_ack serve bot|bare DIR   # one server; JSON line, then waits
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import itertools
import json
import logging
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.common import ROOT, percentile

SECRET = "bench-signing-secret-0123456789"
TOKEN = "xoxb-bench-token"
COMMANDER = "U0NBPOL001"  # nb-pol-01, bcu_commander: may start ct-arrests-and-searches
START_TEXT = "start ct-arrests-and-searches area=Northbridge"
STATE = "/bench/state"
FAVOUR_ACKS = os.environ.get("BENCH_FAVOUR_ACKS", "1") == "1"

Environ = dict[str, Any]
WSGIApp = Callable[[Environ, Callable[..., Any]], Iterable[bytes]]


# ---- the servers (child process) ---------------------------------------------------------


class ErrorCount(logging.Handler):
    """Counts the ERROR records the server logs (a listener that failed after its ack, a tick
    that raised) and keeps the first few messages."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0
        self.samples: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if len(self.samples) < 3:
            message = record.getMessage()[:160].replace("\n", " ").replace("`", "'")
            self.samples.append(f"{record.name}: {message}")


ERRORS = ErrorCount()


def _with_state(app: WSGIApp, state: Callable[[], dict[str, Any]]) -> WSGIApp:
    def application(environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == STATE:
            data = json.dumps({**state(), "errors": ERRORS.count,
                               "error_samples": ERRORS.samples}).encode()
            start_response("200 OK", [("Content-Type", "application/json"),
                                      ("Content-Length", str(len(data)))])
            return [data]
        return app(environ, start_response)
    return application


def _queued(bolt: Any) -> int:
    executor = bolt.listener_runner.listener_executor
    return int(executor._work_queue.qsize())  # listeners waiting for a thread to ack


def _bot(scratch: Path, api_url: str) -> tuple[WSGIApp, dict[str, str], Callable[[], None]]:
    from incident_bot.adapters.directory_import import parse_directory  # noqa: PLC0415
    from incident_bot.adapters.scheduler import build_scheduler  # noqa: PLC0415
    from incident_bot.entrypoints.cli.serve import web_app  # noqa: PLC0415
    from incident_bot.entrypoints.slack.app import favour_acks, wire  # noqa: PLC0415
    from incident_bot.entrypoints.slack.slash import start_incident  # noqa: PLC0415
    from incident_bot.settings import load_settings  # noqa: PLC0415

    database = scratch / "bench.db"
    settings = load_settings({"DATABASE_URL": f"sqlite:///{database}",
                              "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
                              "SLACK_API_URL": api_url}, base=ROOT)
    edge = wire(settings, worker="bench")
    if FAVOUR_ACKS:
        favour_acks()  # as serve does
    roles = {r.code for pb in edge.services.playbooks.playbooks.values() for r in pb.roles}
    people = parse_directory(ROOT / "incident_bot" / "data" / "sample_directory.csv", roles)
    with edge.services.uow_factory() as uow:
        uow.directory.upsert(people.people)
        uow.commit()
    # The incident whose task button is clicked (started as the slash command starts one).
    start_incident(edge, COMMANDER, "bench-click-target", "ct-arrests-and-searches",
                   "Northbridge", {}, {})
    (incident_id,) = edge.services.incidents.open_incident_ids()
    task = next(t for t in edge.services.incidents.view(incident_id).tasks
                if t.status == "waiting")
    user = edge.services.incidents.incident(incident_id).people[task.assignees[0]].slack_user_id
    scheduler = build_scheduler(edge.tick, 1.0)
    scheduler.start()

    def state() -> dict[str, Any]:
        return {"queued": _queued(edge.app) + edge.queued(),
                "incidents": len(edge.services.incidents.open_incident_ids())}

    def stop() -> None:
        scheduler.shutdown(wait=True)
        edge.close()
        edge.services.engine.dispose()

    info = {"click_value": f"{incident_id}|{task.id}", "click_user": str(user),
            "database": str(database)}
    return _with_state(web_app(edge, settings), state), info, stop


def _bare(api_url: str) -> tuple[WSGIApp, dict[str, str], Callable[[], None]]:
    from slack_bolt import Ack, App  # noqa: PLC0415
    from slack_bolt.adapter.wsgi import SlackRequestHandler  # noqa: PLC0415
    from slack_sdk import WebClient  # noqa: PLC0415

    app = App(signing_secret=SECRET, client=WebClient(token=TOKEN, base_url=api_url),
              process_before_response=False, logger=logging.getLogger("bench.bare"))

    @app.command("/incident")
    def incident(ack: Ack) -> None:
        ack()

    @app.action("task.ack")
    def task_ack(ack: Ack) -> None:
        ack()

    handler = SlackRequestHandler(app, path="/slack/events")

    def stop() -> None:
        app.listener_runner.listener_executor.shutdown(wait=True)

    info = {"click_value": "inc-bare|task", "click_user": COMMANDER, "database": ""}
    return _with_state(handler, lambda: {"queued": _queued(app), "incidents": 0}), info, stop


def serve(kind: str, scratch: Path) -> None:
    """Serve until stdin closes; the first stdout line says where (JSON)."""
    import waitress  # noqa: PLC0415

    from incident_bot.testing.fake_slack import FakeSlack  # noqa: PLC0415

    logging.basicConfig(level=logging.ERROR)  # the tables count what went wrong
    logging.getLogger().addHandler(ERRORS)
    with FakeSlack() as slack:
        app, info, stop = _bot(scratch, slack.api_url) if kind == "bot" else _bare(slack.api_url)
        server: Any = waitress.create_server(app, host="127.0.0.1", port=0, threads=8)
        thread = threading.Thread(target=server.run, name="waitress", daemon=True)
        thread.start()
        sys.stdout.write(json.dumps({"port": int(server.effective_port), "team_id": slack.team_id,
                                     "response_url": slack.response_url("bench"), **info}) + "\n")
        sys.stdout.flush()
        sys.stdin.read()  # until the parent closes it
        server.close()
        stop()


# ---- the load generator (this process) ---------------------------------------------------


class Target:
    """A server process and the signed requests it is sent."""

    def __init__(self, kind: str, scratch: Path) -> None:
        self.kind = kind
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.slack_ack", "serve", kind, str(scratch)], cwd=ROOT,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the {kind} server did not start")
        self.info: dict[str, Any] = json.loads(line)
        self.port = int(self.info["port"])

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=120)

    def state(self) -> dict[str, Any]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request("GET", STATE)
            result: dict[str, Any] = json.loads(connection.getresponse().read())
            return result
        finally:
            connection.close()

    def incidents(self) -> int:
        if not self.info["database"]:
            return 0
        with sqlite3.connect(self.info["database"], timeout=30) as db:
            (count,) = db.execute("SELECT count(*) FROM incident").fetchone()
        return int(count) - 1  # the click target

    def quiet(self, timeout: float = 300.0, incidents: int | None = None) -> float:
        """Wait until no listener work is queued (and ``incidents`` exist); seconds waited."""
        began = time.monotonic()
        while time.monotonic() - began < timeout:
            state = self.state()
            if state["queued"] == 0 and (incidents is None or self.incidents() >= incidents):
                break
            time.sleep(0.1)
        time.sleep(0.5)  # let the last listeners in flight finish
        return time.monotonic() - began

    # ---- bodies ------------------------------------------------------------------------

    def start_body(self, n: str) -> bytes:
        return urlencode({
            "token": "legacy", "team_id": self.info["team_id"], "team_domain": "fake",
            "channel_id": "C0GENERAL", "channel_name": "general", "user_id": COMMANDER,
            "user_name": COMMANDER.lower(), "command": "/incident", "text": START_TEXT,
            "api_app_id": "A0FAKE", "response_url": self.info["response_url"],
            "trigger_id": f"bench-{self.kind}-{n}"}).encode()

    def help_body(self, n: str) -> bytes:
        return self.start_body(n).replace(urlencode({"text": START_TEXT}).encode(),
                                          b"text=help")

    def click_body(self, n: int) -> bytes:
        team, user = self.info["team_id"], self.info["click_user"]
        action_ts = f"1700000001.{n:06d}"
        payload = {
            "type": "block_actions", "team": {"id": team, "domain": "fake"},
            "user": {"id": user, "username": user.lower(), "team_id": team},
            "api_app_id": "A0FAKE", "token": "legacy", "trigger_id": f"trig-{action_ts}",
            "container": {"type": "message", "message_ts": "1700000000.000001",
                          "channel_id": "D0FAKE", "is_ephemeral": False},
            "channel": {"id": "D0FAKE", "name": "directmessage"},
            "response_url": self.info["response_url"],
            "actions": [{"action_id": "task.ack", "block_id": "b",
                         "value": self.info["click_value"], "type": "button",
                         "action_ts": action_ts, "text": {"type": "plain_text", "text": "x"}}],
        }
        return urlencode({"payload": json.dumps(payload)}).encode()


def sign(body: bytes, timestamp: int, secret: str = SECRET) -> str:
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def load(port: int, body: Callable[[int], bytes], total: int, clients: int) -> dict[str, Any]:
    """``total`` signed POSTs from ``clients`` keep-alive connections; latencies in seconds."""
    counter = itertools.count()
    lock = threading.Lock()
    latencies: list[float] = []
    failures: list[str] = []

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                n = next(counter)
            if n >= total:
                break
            data = body(n)
            stamp = int(time.time())
            headers = {"Content-Type": "application/x-www-form-urlencoded",
                       "X-Slack-Request-Timestamp": str(stamp),
                       "X-Slack-Signature": sign(data, stamp)}
            began = time.perf_counter()
            try:
                connection.request("POST", "/slack/events", data, headers)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                with lock:
                    failures.append(type(error).__name__)
                continue
            took = time.perf_counter() - began
            with lock:
                latencies.append(took)
                if response.status != 200:
                    failures.append(str(response.status))
        connection.close()

    began = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for future in [pool.submit(client) for _ in range(clients)]:
            future.result()
    wall = time.perf_counter() - began
    return {"requests": total, "ok": len(latencies) - len(failures), "failures": failures,
            "wall_s": wall, "per_s": len(latencies) / wall,
            "p50": percentile(latencies, 50), "p95": percentile(latencies, 95),
            "p99": percentile(latencies, 99), "max": max(latencies, default=float("nan"))}


def _numbered(make: Callable[[str], bytes], prefix: int, n: int) -> bytes:
    return make(f"{prefix}-{n}")


def run(kind: str, scratch: Path, levels: dict[int, int]) -> dict[str, Any]:
    """One server: for each concurrency, ``levels[c]`` starts, then as many clicks."""
    target = Target(kind, scratch)
    results: dict[str, Any] = {"kind": kind, "levels": {}}
    try:
        load(target.port, lambda n: target.help_body(f"warm-{n}"), 20, 2)  # warm-up
        target.quiet()
        started = 0
        for clients, total in levels.items():
            level: dict[str, Any] = {}
            level["start"] = load(target.port, partial(_numbered, target.start_body, clients),
                                  total, clients)
            started += total
            level["start"]["drain_s"] = target.quiet(incidents=started if kind == "bot" else None)
            level["start"]["incidents_total"] = target.incidents()
            level["click"] = load(target.port, target.click_body, total, clients)
            level["click"]["drain_s"] = target.quiet()
            results["levels"][clients] = level
            sys.stderr.write(f"  {kind} x{clients}: start p99 {level['start']['p99'] * 1000:.1f}"
                             f" ms, click p99 {level['click']['p99'] * 1000:.1f} ms\n")
        state = target.state()
        results["errors"], results["error_samples"] = state["errors"], state["error_samples"]
        results["incidents"] = target.incidents()
        results["starts_sent"] = started
    finally:
        target.close()
    return results


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2], Path(sys.argv[3]))
