"""Operations endpoints for load balancers and monitoring, as one small WSGI app:

- ``GET /healthz``: the process is up (no database call: a load balancer polls it often);
- ``GET /readyz``: the database answers and its schema is the newest migration (else 503);
- ``GET /metrics``: Prometheus text format (names below, documented in docs/deploy.md).

Metric names: ``incident_bot_incidents{status}``, ``incident_bot_deliveries{channel,status}``,
``incident_bot_send_queue_depth``, ``incident_bot_timers{status}``,
``incident_bot_timers_overdue``, ``incident_bot_timer_lateness_seconds{quantile}`` (with
``_count``), ``incident_bot_up``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from incident_bot.adapters.db.metrics import Figures, collect
from incident_bot.adapters.db.migrate import current_revision, head_revision
from incident_bot.errors import StoreError

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8"


def render_metrics(figures: Figures) -> str:
    lines = [
        "# HELP incident_bot_up 1 while this replica serves.",
        "# TYPE incident_bot_up gauge", "incident_bot_up 1",
        "# HELP incident_bot_incidents Incidents by lifecycle status.",
        "# TYPE incident_bot_incidents gauge",
        *(f'incident_bot_incidents{{status="{s}"}} {n}' for s, n in sorted(
            figures.incidents.items())),
        "# HELP incident_bot_deliveries Outbox deliveries by channel and status.",
        "# TYPE incident_bot_deliveries gauge",
        *(f'incident_bot_deliveries{{channel="{c}",status="{s}"}} {n}'
          for (c, s), n in sorted(figures.deliveries.items())),
        "# HELP incident_bot_send_queue_depth Deliveries due now and not yet sent.",
        "# TYPE incident_bot_send_queue_depth gauge",
        f"incident_bot_send_queue_depth {figures.outbox_due}",
        "# HELP incident_bot_timers Scheduled actions by status.",
        "# TYPE incident_bot_timers gauge",
        *(f'incident_bot_timers{{status="{s}"}} {n}' for s, n in sorted(
            figures.timers.items())),
        "# HELP incident_bot_timers_overdue Pending timers due more than one poll ago.",
        "# TYPE incident_bot_timers_overdue gauge",
        f"incident_bot_timers_overdue {figures.timers_overdue}",
        "# HELP incident_bot_timer_lateness_seconds Due time to firing, last 15 minutes.",
        "# TYPE incident_bot_timer_lateness_seconds summary",
        *_quantiles(figures.lateness),
        f"incident_bot_timer_lateness_seconds_count {len(figures.lateness)}",
    ]
    return "\n".join(lines) + "\n"


def _quantiles(ordered: tuple[float, ...]) -> Iterable[str]:
    for q in (0.5, 0.99):
        if ordered:
            value = ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]
            yield f'incident_bot_timer_lateness_seconds{{quantile="{q}"}} {value:.3f}'


class OpsApp:
    """``/healthz``, ``/readyz`` and ``/metrics`` on ``engine``."""

    def __init__(self, engine: Engine, now: Callable[[], datetime]) -> None:
        self._engine = engine
        self._now = now

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        # Mounted under a prefix, the prefix is in SCRIPT_NAME: the full path is both.
        full = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        path = full.rstrip("/") or "/"
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD"):
            return _reply(start_response, "405 Method Not Allowed", {"error": "GET only"})
        if path == "/healthz":
            return _reply(start_response, "200 OK", {"status": "ok"})
        if path == "/readyz":
            return self._ready(start_response)
        if path == "/metrics":
            return self._metrics(start_response)
        return _reply(start_response, "404 Not Found", {"error": "not found"})

    def _ready(self, start_response: StartResponse) -> list[bytes]:
        try:
            schema = current_revision(self._engine)
        except (SQLAlchemyError, StoreError) as error:
            return _reply(start_response, "503 Service Unavailable",
                          {"status": "database unavailable", "error": type(error).__name__})
        newest = head_revision()
        if schema != newest:
            return _reply(start_response, "503 Service Unavailable",
                          {"status": "schema out of date", "schema": schema, "newest": newest,
                           "fix": "incident-bot db upgrade"})
        return _reply(start_response, "200 OK", {"status": "ready", "schema": schema})

    def _metrics(self, start_response: StartResponse) -> list[bytes]:
        try:
            body = render_metrics(collect(self._engine, self._now()))
        except SQLAlchemyError as error:
            return _reply(start_response, "503 Service Unavailable",
                          {"status": "database unavailable", "error": type(error).__name__})
        start_response("200 OK", [("Content-Type", PROMETHEUS)])
        return [body.encode()]


def _reply(start_response: StartResponse, status: str, body: dict[str, object]) -> list[bytes]:
    start_response(status, [("Content-Type", "application/json")])
    return [json.dumps(body).encode()]
