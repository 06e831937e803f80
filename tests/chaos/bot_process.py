"""The real bot, served over HTTP, for the chaos tests; run as a script.

It is ``incident-bot serve --http`` (``incident_bot/entrypoints/cli/serve.py``) put together from
the same functions: the SQLite serving lock, ``wire(settings)`` (services, Twilio ports and pace,
Slack client, Bolt app), ``reopen_missing_channels``, the APScheduler tick calling ``edge.tick``,
and ``web_app(edge, settings)`` (Slack, the Twilio webhooks, /healthz, /readyz, /metrics) on
waitress. Three differences, all for the test: the clock is read from CLOCK_FILE (the test moves
it), the worker name carries the pid, and the tick interval is CHAOS_TICK_SECONDS (default 0.02 s
instead of 1 s, so a test step takes milliseconds; the simulated clock is what the bot acts on).

Settings come from the environment exactly as ``serve`` reads them (DATABASE_URL, SLACK_BOT_TOKEN,
SLACK_SIGNING_SECRET, SLACK_API_URL, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER,
TWILIO_API_URL, PUBLIC_BASE_URL, INCIDENT_BOT_PLAYBOOKS, INCIDENT_BOT_TEMPLATES, ...). It listens
on 127.0.0.1 on a free port and, once serving, writes that port to READY_FILE.

usage: bot_process.py CLOCK_FILE READY_FILE
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import waitress

from incident_bot.adapters.db.serving_lock import serving_lock
from incident_bot.adapters.scheduler import build_scheduler
from incident_bot.entrypoints.cli.serve import reopen_missing_channels, web_app
from incident_bot.entrypoints.logs import configure_logging, secret_values
from incident_bot.entrypoints.slack.app import wire
from incident_bot.settings import load_settings

THREADS = 8  # serve's default


@dataclass
class FileClock:
    """The simulated clock: epoch seconds in a file the test replaces atomically."""

    path: Path

    def now(self) -> datetime:
        return datetime.fromtimestamp(float(self.path.read_text()), UTC)


def write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(text)
    os.replace(partial, path)


def main(argv: list[str]) -> None:
    clock_file, ready_file = (Path(a) for a in argv)
    config = load_settings(os.environ, base=clock_file.parent)
    configure_logging(config.log_level, secret_values(config))  # as serve does: redacted
    config.require("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
    with serving_lock(config.database_url.get_secret_value()):
        edge = wire(config, clock=FileClock(clock_file), worker=f"chaos-bot-{os.getpid()}")
        reopen_missing_channels(edge)
        scheduler = build_scheduler(edge.tick, float(os.environ.get("CHAOS_TICK_SECONDS", "0.02")))
        scheduler.start()
        try:
            server = waitress.create_server(web_app(edge, config), host="127.0.0.1", port=0,
                                            threads=THREADS)
            write_atomically(ready_file, str(server.effective_port))  # type: ignore[union-attr]
            server.run()
        finally:
            scheduler.shutdown(wait=False)


if __name__ == "__main__":
    main(sys.argv[1:])
