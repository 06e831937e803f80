"""``incident-bot serve``: the bot, running.

One process does everything: the Slack edge (Socket Mode when ``SLACK_APP_TOKEN`` is set and
``--http`` is not given; otherwise HTTP on waitress, a threaded WSGI server) and the APScheduler
tick that fires due timers, sends the outbox and refreshes dashboards every second.
"""

from __future__ import annotations

import itertools
import logging
import signal
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.error import URLError

import typer
from slack_sdk.errors import SlackApiError

from incident_bot.adapters.db.serving_lock import serving_lock
from incident_bot.bootstrap import socket_mode_handler
from incident_bot.entrypoints.cli._common import console, exits_on_error, settings
from incident_bot.entrypoints.logs import configure_logging, secret_values
from incident_bot.entrypoints.ops import OpsApp
from incident_bot.entrypoints.slack.app import favour_acks, wire
from incident_bot.entrypoints.slack.edge import SlackEdge
from incident_bot.entrypoints.web import WSGIApp, make_web_app
from incident_bot.errors import ConfigError, IncidentBotError
from incident_bot.service.channels import request_channel
from incident_bot.settings import Settings

log = logging.getLogger("incident_bot.serve")
SOCKET_RETRY_SECONDS = (1, 2, 5, 10, 30)  # then every 30 s until Slack answers


def serve(
    http: bool = typer.Option(False, "--http", help="Serve HTTP even if SLACK_APP_TOKEN is set."),
    host: str = typer.Option("127.0.0.1", help="HTTP mode: address to listen on."),
    port: int = typer.Option(3000, help="HTTP mode: port to listen on."),
    threads: int = typer.Option(8, help="HTTP mode: waitress worker threads."),
) -> None:
    """Run the Slack bot, its timers and its outbox until interrupted."""
    with exits_on_error():
        config = settings()
        configure_logging(config.log_level, secret_values(config))  # redacts every record
        socket_mode = config.slack_app_token is not None and not http
        config.require("SLACK_BOT_TOKEN", *(() if socket_mode else ("SLACK_SIGNING_SECRET",)))
        with serving_lock(config.database_url.get_secret_value()):
            edge = wire(config)  # bootstrap builds the Twilio ports (and their pacing) itself
            favour_acks()
            check_slack(edge, socket_mode)
            edge.services.dispatcher.pace_chat()  # Slack: about one post a second per channel
            reopen_missing_channels(edge)
            scheduler = edge.services.scheduler(edge.tick)
            scheduler.start()
            signal.signal(signal.SIGTERM, stop_on_sigterm)
            try:
                if socket_mode:
                    console.print("incident-bot: Slack Socket Mode")
                    run_socket_mode(socket_mode_handler(edge.app, config, edge.client))
                else:
                    console.print(f"incident-bot: HTTP on http://{host}:{port}/slack/events")
                    run_http(edge, config, host, port, threads)
            finally:
                scheduler.shutdown(wait=True)  # a tick under way finishes
                edge.close()  # finish the work of requests already acked
                last_tick(edge)  # and send what that work queued


def stop_on_sigterm(signum: int, frame: object) -> None:
    """SIGTERM ends serving like Ctrl-C (waitress stops its loop on SystemExit), so the
    ``finally`` of :func:`serve` drains the work pool and the outbox; exit code 0."""
    log.info("serve.stopping signal=SIGTERM")
    raise SystemExit(0)


def last_tick(edge: SlackEdge) -> None:
    """One last tick after the work pool drained: its replies and channel openings go out."""
    try:
        edge.tick()
    except IncidentBotError as error:  # Slack or the database down: the outbox keeps it
        log.warning("serve.last_tick_failed error=%s", type(error).__name__)


def check_slack(edge: SlackEdge, socket_mode: bool = False) -> None:
    """A wrong token is a setting to fix now; Slack being unreachable is not fatal (sends wait
    in the outbox and are retried, Socket Mode keeps trying to connect), so the bot starts and
    says so in one line."""
    try:
        identity = edge.client.auth_test()
    except SlackApiError as refused:
        raise ConfigError(f"Slack refused SLACK_BOT_TOKEN ({refused.response.get('error')}): "
                          "check the token and SLACK_API_URL") from None
    except (URLError, OSError) as unreachable:
        log.warning("slack.unreachable error=%s: serving anyway; messages wait in the outbox",
                    type(unreachable).__name__)
        console.print(unreachable_line(edge.client.base_url, socket_mode), soft_wrap=True,
                      markup=False, highlight=False)
        return
    log.info("slack.connected team=%s bot=%s", identity.get("team"), identity.get("user"))


def unreachable_line(api_url: str, socket_mode: bool) -> str:
    waits = ("commands are served once Socket Mode connects (it keeps trying); " if socket_mode
             else "")
    return (f"incident-bot: Slack is not reachable at SLACK_API_URL ({api_url}): serving "
            f"anyway; {waits}messages will wait in the outbox and be retried. If this lasts, "
            "check the network and SLACK_API_URL")


def run_socket_mode(handler: Any, pause: Callable[[float], object] = time.sleep) -> None:
    """Connect (waiting for Slack if need be), then serve until interrupted."""
    try:
        connect_when_reachable(handler, pause)
        threading.Event().wait()  # the handler's threads serve; Ctrl-C or SIGTERM ends this
    finally:
        handler.close()  # no new envelopes while the work pool drains


def connect_when_reachable(handler: Any, pause: Callable[[float], object]) -> None:
    """Open the Socket Mode connection. While Slack can't be reached, try again after
    ``SOCKET_RETRY_SECONDS`` rather than end, as HTTP mode does: timers, texts and calls go on
    meanwhile. An app token Slack refuses is a setting to fix now."""
    for attempt in itertools.count():
        try:
            handler.connect()
        except SlackApiError as refused:
            raise ConfigError(
                f"Slack refused SLACK_APP_TOKEN ({refused.response.get('error')}): create an "
                "app-level token with the connections:write scope (Basic Information → "
                "App-Level Tokens) and put it in SLACK_APP_TOKEN") from None
        except (URLError, OSError) as unreachable:
            delay = SOCKET_RETRY_SECONDS[min(attempt, len(SOCKET_RETRY_SECONDS) - 1)]
            log.log(logging.INFO if attempt else logging.WARNING,
                    "slack.socket_mode_unreachable error=%s retry_in=%ss",
                    type(unreachable).__name__, delay)
            pause(delay)
        else:
            if attempt:
                console.print("incident-bot: Slack Socket Mode connected", markup=False)
            return


def run_http(edge: SlackEdge, config: Settings, host: str, port: int, threads: int) -> None:
    import waitress  # noqa: PLC0415 - HTTP mode only

    waitress.serve(web_app(edge, config), host=host, port=port, threads=threads)


def web_app(edge: SlackEdge, config: Settings) -> WSGIApp:
    """Slack, the Twilio webhooks (when configured) and the ops endpoints, as one WSGI app."""
    ops = OpsApp(edge.services.engine, edge.services.clock.now)
    return make_web_app(edge.app, mounts={**twilio_mounts(edge, config),
                                          "/readyz": ops, "/metrics": ops})
    # /healthz is unauthenticated: it must not tell anyone that a (pre-brief) incident is open


def twilio_mounts(edge: SlackEdge, config: Settings) -> dict[str, WSGIApp]:
    if not config.twilio_configured:
        return {}
    from incident_bot.entrypoints.twilio.webhooks import make_twilio_app  # noqa: PLC0415

    return {"/twilio/": make_twilio_app(edge.services.incidents, config)}


def reopen_missing_channels(edge: SlackEdge) -> int:
    """Queue a channel for every open incident that has none (e.g. started from the CLI, or
    before Slack was configured); the outbox key makes this a no-op for the others."""
    now = edge.services.clock.now()
    return sum(request_channel(edge.services.uow_factory, incident_id, now)
               for incident_id in edge.services.incidents.open_incident_ids()
               if edge.services.incidents.incident(incident_id).channel_id is None)
