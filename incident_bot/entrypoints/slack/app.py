"""The Bolt app (sync ``App`` only), built by :func:`wire` with the services, never at import.

Listeners are registered per module (``slash``, ``actions``, ``home``). A global middleware
drops Slack's HTTP retries (``X-Slack-Retry-Num``): the first delivery was acked — Slack retries
only because the ack came late — so doing the work again would duplicate it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse

from incident_bot.bootstrap import bootstrap
from incident_bot.entrypoints.slack import actions, home, slash
from incident_bot.entrypoints.slack.edge import SlackEdge
from incident_bot.service.ports import Clock, SmsPort, VoicePort
from incident_bot.settings import Settings

log = logging.getLogger("incident_bot.slack.app")
LISTENER_THREADS = 64
# How long a busy thread may hold the GIL while another waits (CPython's default is 5 ms). An
# ack needs the GIL a dozen times (after each socket read and write); behind the tick and the
# work threads each wait could take a full interval. 1 ms keeps acks quick for a small cost in
# throughput (bench/slack_ack.py).
ACK_SWITCH_INTERVAL = 0.001


def wire(settings: Settings, *, clock: Clock | None = None, migrate: bool = True,
         worker: str | None = None, sms: SmsPort | None = None, voice: VoicePort | None = None,
         build: Callable[[SlackEdge], Any] | None = None) -> SlackEdge:
    """The services with Slack as the chat transport (bootstrap), and the Bolt app on them."""
    services = bootstrap(settings, clock=clock, sms=sms, voice=voice, migrate=migrate,
                         worker=worker, slack=True)
    assert services.slack is not None  # bootstrap built it, or refused
    parts = services.slack
    edge = SlackEdge(services, parts.client, parts.chat, parts.dashboards)
    edge.app = (build or build_app)(edge)
    return edge


def build_app(edge: SlackEdge) -> App:
    settings = edge.services.settings
    secret = settings.slack_signing_secret
    app = App(
        signing_secret=secret.get_secret_value() if secret else "",
        request_verification_enabled=secret is not None,
        client=edge.client,
        # Bolt would call auth.test here and die with a traceback when Slack is unreachable at
        # start-up; serve checks the token itself (see cli/serve.py check_slack).
        token_verification_enabled=False,
        process_before_response=False,
        # Listeners ack first, then do the work on the same thread. Bolt's default pool of 5
        # threads let a burst of starts hold every thread while new requests waited unacked
        # past Slack's 3 seconds (bench/slack_ack.py): give acks room to run at once.
        listener_executor=ThreadPoolExecutor(max_workers=LISTENER_THREADS,
                                             thread_name_prefix="slack-listener"),
        logger=logging.getLogger("incident_bot.slack.bolt"),
    )
    app.middleware(skip_retries)
    slash.register(app, edge)
    actions.register(app, edge)
    home.register(app, edge)
    return app


def favour_acks() -> None:
    """Let request threads take the GIL from busy background threads sooner (process-wide)."""
    sys.setswitchinterval(ACK_SWITCH_INTERVAL)


def skip_retries(request: BoltRequest, next: Callable[[], Any]) -> Any:
    if request.headers.get("x-slack-retry-num"):
        log.info("slack.retry_ignored reason=%s", request.headers.get("x-slack-retry-reason"))
        return BoltResponse(status=200, body="")
    return next()
