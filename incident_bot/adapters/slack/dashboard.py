"""The incident channel's two live views of an incident — the pinned header and the
dashboard — updated with ``chat.update``, throttled. Both are rendered from one
:class:`~incident_bot.domain.incident.read_model.IncidentView` by :func:`blocks.channel_views`,
the one rendering path for what the channel shows. Whenever the channel is updated, the App Homes of
the people in the incident that changed are published again (:class:`home.Homes`).

However many events arrive, an incident's channel is updated at most once every
``min_interval`` (2 s), by the injected clock: :meth:`Dashboards.refresh` renders the current
view and updates only what changed, once the interval has passed; anything newer is picked up
by the next refresh (the scheduler's tick), so bursts coalesce into one update. A 429 pushes the
next update past ``Retry-After``; nothing sleeps.

The throttle never swallows the last word: a closed incident is shown at once (the interval
does not hold back its final state), and the tick keeps refreshing an incident that is no longer
open until its channel shows it closed (after a 429 or an outage too). Then its board is final
and the tick leaves it alone. Across a restart, the close's own notice holds the line: its
outbox item is sent only once the channel shows the incident closed (:meth:`show_final`), and
until then the dispatcher retries it like any send.

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
from typing import Any

from slack_sdk import WebClient

from incident_bot.adapters.slack.blocks import Blocks, ChannelViews, channel_views
from incident_bot.adapters.slack.errors import call
from incident_bot.adapters.slack.home import Homes
from incident_bot.errors import (
    NotFoundError,
    PermanentProviderError,
    ProviderError,
    TransientProviderError,
)
from incident_bot.service import channels
from incident_bot.service.ports import Clock, UnitOfWork
from incident_bot.service.use_cases import IncidentService

log = logging.getLogger("incident_bot.slack.dashboard")
HEADER_EVENT, DASHBOARD_EVENT = "incident_bot_header", "incident_bot_dashboard"
FINAL_STATUS = "closed"  # nothing changes an incident after this


@dataclass
class _Board:
    channel: str
    ts: str
    header_ts: str | None = None  # None: not found (the dashboard alone is kept up to date)
    digest: str = ""
    header_digest: str = ""
    updated_at: datetime | None = None
    not_before: datetime | None = None
    shown_version: int | None = None  # the incident version the channel shows
    checked_at: datetime | None = None
    final: bool = False  # the channel shows the incident closed


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
        self.homes = Homes(client, incidents)

    def posted(self, incident_id: str, channel: str, header_ts: str, ts: str,
               header: Blocks | None, dashboard: Blocks | None) -> None:
        """The channel opening posted the header and dashboard with these blocks (None: found
        from an earlier attempt, showing what it showed then: the next refresh updates it)."""
        with self._lock:
            self._boards[incident_id] = _Board(
                channel, ts, header_ts, _digest(dashboard) if dashboard is not None else "",
                _digest(header) if header is not None else "", self._clock.now())

    def refresh_all(self) -> int:
        versions = self._incidents.open_incident_versions()
        versions.update(self._incidents.incident_versions(self._closing(versions)))
        return sum(self.refresh(incident_id, version) for incident_id, version in versions.items())

    def _closing(self, open_ids: dict[str, int]) -> list[str]:
        """Incidents no longer open whose channel does not show them closed yet."""
        with self._lock:
            return [incident_id for incident_id, board in self._boards.items()
                    if incident_id not in open_ids and not board.final]

    def refresh(self, incident_id: str, version: int | None = None) -> bool:
        """Update the header and dashboard where they changed, if the channel may be updated
        now; True when updated. With the incident's ``version``, an incident unchanged since
        its last render is not rendered again until ``recheck`` has passed."""
        with self._lock:
            board = self._board(incident_id, version)
            now = self._clock.now()
            if board is None or board.final or self._unchanged(board, version, now) \
                    or not self._due(board, now, self._is_final(incident_id)):
                return False
            view = self._incidents.view(incident_id)
            shown = channel_views(view)
            updated = self._update(incident_id, board, shown, now)
            if self._shows(board, shown):
                board.shown_version, board.checked_at = version, now
                board.final = view.status == FINAL_STATUS
        if updated:  # the people's Homes follow the channel (outside the lock: views.publish)
            self.homes.incident_changed(self._incidents.incident(incident_id))
        return updated

    def show_final(self, incident_id: str) -> datetime | None:
        """Make the channel show the closed incident; None once it does (or has no dashboard
        to show it in), else when to try again."""
        self.refresh(incident_id)
        with self._lock:
            board = self._boards.get(incident_id)
            if board is None or board.final:
                return None
            return board.not_before or self._clock.now() + self._min_interval

    def _is_final(self, incident_id: str) -> bool:
        return str(self._incidents.incident(incident_id).status) == FINAL_STATUS

    def _unchanged(self, board: _Board, version: int | None, now: datetime) -> bool:
        return (version is not None and version == board.shown_version
                and board.checked_at is not None and now - board.checked_at < self._recheck)

    def _due(self, board: _Board, now: datetime, final: bool) -> bool:
        """The throttle: a 429's Retry-After always holds; the interval holds back everything
        but the final state."""
        if board.not_before is not None and now < board.not_before:
            return False
        return final or board.updated_at is None or now - board.updated_at >= self._min_interval

    @staticmethod
    def _shows(board: _Board, shown: ChannelViews) -> bool:
        return board.digest == _digest(shown.dashboard) and (
            board.header_ts is None or board.header_digest == _digest(shown.header))

    def _update(self, incident_id: str, board: _Board, shown: ChannelViews,
                now: datetime) -> bool:
        """chat.update the dashboard, then the header, each only if its blocks changed."""
        digest, header_digest = _digest(shown.dashboard), _digest(shown.header)
        updated = False
        if digest != board.digest:
            if not self._chat_update(incident_id, board, board.ts, shown.dashboard,
                                     "Incident dashboard", now):
                return False
            board.digest, updated = digest, True
        if board.header_ts is not None and header_digest != board.header_digest:
            if not self._chat_update(incident_id, board, board.header_ts, shown.header,
                                     "Incident header", now):
                return updated
            board.header_digest, updated = header_digest, True
        return updated

    def _chat_update(self, incident_id: str, board: _Board, ts: str, blocks: Blocks,
                     text: str, now: datetime) -> bool:
        try:
            call(self._client.chat_update, channel=board.channel, ts=ts, blocks=blocks,
                 text=text)
        except TransientProviderError as error:
            board.not_before = now + timedelta(seconds=error.retry_after or 2.0)
            log.info("dashboard.deferred incident=%s retry_after=%s", incident_id,
                     error.retry_after)
            return False
        except PermanentProviderError as error:
            log.warning("dashboard.failed incident=%s code=%s", incident_id, error.code)
            if ts == board.header_ts:  # the header is gone: keep the dashboard going
                board.header_ts = None
            else:
                board.not_before = now + timedelta(minutes=5)
            return False
        board.updated_at, board.not_before = now, None
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
        board = self._boards[incident_id] = _Board(channel, ts, self._header_ts(channel))
        return board

    def _header_ts(self, channel: str) -> str | None:
        """The header an earlier process posted (after a restart), found by its metadata."""
        try:
            return posted_before(self._client, channel).get(HEADER_EVENT)
        except ProviderError as error:
            log.warning("dashboard.header_not_found channel=%s error=%s", channel,
                        type(error).__name__)
            return None

    def _opening_due(self, incident_id: str, now: datetime) -> bool:
        checked = self._opening_checked.get(incident_id)
        return checked is None or now - checked >= self._reopen_every


def posted_before(client: WebClient, channel: str) -> dict[str, str]:
    """The header and dashboard this app posted in the channel (by their metadata), oldest
    first: a retried channel opening reuses them, and a restarted process finds them."""
    history = call(client.conversations_history, channel=channel, limit=100,
                   include_all_metadata=True)
    found: dict[str, str] = {}
    messages: list[dict[str, Any]] = history.get("messages") or []
    for message in reversed(messages):  # oldest first
        event = (message.get("metadata") or {}).get("event_type")
        if event in (HEADER_EVENT, DASHBOARD_EVENT) and message.get("user") is not None:
            found.setdefault(event, str(message["ts"]))
    return found


def _digest(blocks: Blocks) -> str:
    return hashlib.sha256(json.dumps(blocks, sort_keys=True).encode()).hexdigest()
