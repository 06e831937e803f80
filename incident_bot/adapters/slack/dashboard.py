"""The live dashboard in each incident channel, updated with ``chat.update`` — throttled.

However many events arrive, an incident's dashboard is updated at most once every
``min_interval`` (2 s), by the injected clock: :meth:`Dashboards.refresh` renders the current
view and updates only when the blocks changed and the interval has passed; anything newer is
picked up by the next refresh (the scheduler's tick), so bursts coalesce into one update. A 429
pushes the next update past ``Retry-After``; nothing sleeps.

The tick's :meth:`Dashboards.refresh_all` renders only incidents whose stored version changed
since their last render, or every ``recheck`` (30 s) for what changes with the clock alone
(a task falling overdue): rendering every open incident on every tick grew with the number of
incidents open (bench/slack_ack.py, hundreds of incidents).

An incident with a channel but no dashboard is checked at most once every ``reopen_every``
(1 min): if its channel opening failed (the header refused, retries run out), the opening is
queued again (:func:`channels.reopen_failed`) rather than leaving the channel bare for good.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk import WebClient

from incident_bot.adapters.slack import channels
from incident_bot.adapters.slack.blocks import dashboard_blocks
from incident_bot.adapters.slack.errors import call
from incident_bot.errors import NotFoundError, PermanentProviderError, TransientProviderError
from incident_bot.service.handlers import IncidentService
from incident_bot.service.ports import Clock, UnitOfWork

log = logging.getLogger("incident_bot.slack.dashboard")


@dataclass
class _Board:
    channel: str
    ts: str
    digest: str = ""
    updated_at: datetime | None = None
    not_before: datetime | None = None
    shown_version: int | None = None  # the incident version the dashboard shows
    checked_at: datetime | None = None


class Dashboards:
    def __init__(self, client: WebClient, incidents: IncidentService,
                 uow_factory: Callable[[], UnitOfWork], clock: Clock,
                 min_interval: timedelta = timedelta(seconds=2),
                 recheck: timedelta = timedelta(seconds=30),
                 reopen_every: timedelta = timedelta(minutes=1)) -> None:
        self._client, self._incidents = client, incidents
        self._uow_factory, self._clock = uow_factory, clock
        self._min_interval, self._recheck = min_interval, recheck
        self._reopen_every = reopen_every
        self._boards: dict[str, _Board] = {}
        self._no_board: dict[str, int] = {}  # incident -> version seen without a dashboard
        self._opening_checked: dict[str, datetime] = {}  # incident -> last reopen_failed
        self._lock = threading.Lock()
        self.updates = 0  # chat.update calls made (for the serve log and tests)

    def posted(self, incident_id: str, channel: str, ts: str, blocks: list[dict[str, object]]
               ) -> None:
        """The dashboard was just posted (by the channel opening)."""
        with self._lock:
            self._boards[incident_id] = _Board(channel, ts, _digest(blocks), self._clock.now())

    def refresh_all(self) -> int:
        versions = self._incidents.open_incident_versions()
        return sum(self.refresh(incident_id, version) for incident_id, version in versions.items())

    def refresh(self, incident_id: str, version: int | None = None) -> bool:
        """Update the dashboard if it changed and may be updated now; True when updated.
        With the incident's ``version``, an incident unchanged since its last render is not
        rendered again until ``recheck`` has passed."""
        with self._lock:
            board = self._board(incident_id, version)
            now = self._clock.now()
            if board is None or not self._due(board, now) or self._unchanged(board, version, now):
                return False
            blocks = dashboard_blocks(self._incidents.view(incident_id))
            digest = _digest(blocks)
            updated = digest != board.digest and self._update(incident_id, board, blocks,
                                                               digest, now)
            if updated or digest == board.digest:  # the dashboard shows this version now
                board.shown_version, board.checked_at = version, now
            return updated

    def _unchanged(self, board: _Board, version: int | None, now: datetime) -> bool:
        return (version is not None and version == board.shown_version
                and board.checked_at is not None and now - board.checked_at < self._recheck)

    def _due(self, board: _Board, now: datetime) -> bool:
        if board.not_before is not None and now < board.not_before:
            return False
        return board.updated_at is None or now - board.updated_at >= self._min_interval

    def _update(self, incident_id: str, board: _Board, blocks: list[dict[str, object]],
                digest: str, now: datetime) -> bool:
        try:
            call(self._client.chat_update, channel=board.channel, ts=board.ts, blocks=blocks,
                 text="Incident dashboard")
        except TransientProviderError as error:
            board.not_before = now + timedelta(seconds=error.retry_after or 2.0)
            log.info("dashboard.deferred incident=%s retry_after=%s", incident_id,
                     error.retry_after)
            return False
        except PermanentProviderError as error:
            log.warning("dashboard.failed incident=%s code=%s", incident_id, error.code)
            board.not_before = now + timedelta(minutes=5)
            return False
        board.digest, board.updated_at, board.not_before = digest, now, None
        self.updates += 1
        return True

    def _board(self, incident_id: str, version: int | None = None) -> _Board | None:
        board = self._boards.get(incident_id)
        if board is not None:
            return board
        now = self._clock.now()
        check_opening = self._opening_due(incident_id, now)
        if version is not None and self._no_board.get(incident_id) == version \
                and not check_opening:
            return None  # no channel or dashboard yet, and nothing has changed since
        try:
            channel = self._incidents.incident(incident_id).channel_id
        except NotFoundError:
            return None
        ts = channels.dashboard_ts(self._uow_factory, incident_id) if channel else None
        if check_opening:
            self._opening_checked[incident_id] = now
            if channel is not None and ts is None and \
                    channels.reopen_failed(self._uow_factory, incident_id, now):
                log.warning("dashboard.channel_reopened incident=%s", incident_id)
        if channel is None or ts is None:
            if version is not None:
                self._no_board[incident_id] = version
            return None
        self._no_board.pop(incident_id, None)
        self._opening_checked.pop(incident_id, None)
        board = self._boards[incident_id] = _Board(channel, ts)
        return board

    def _opening_due(self, incident_id: str, now: datetime) -> bool:
        checked = self._opening_checked.get(incident_id)
        return checked is None or now - checked >= self._reopen_every


def _digest(blocks: list[dict[str, object]]) -> str:
    return hashlib.sha256(json.dumps(blocks, sort_keys=True).encode()).hexdigest()
