"""SlackChat: the ChatPort on the real ``slack_sdk.WebClient``.

The dispatcher calls :meth:`SlackChat.send` for every chat item of the outbox. It renders the
notice as Block Kit (task DMs get Acknowledge/Done/Can't-do buttons, call lists get outcome
buttons, approval requests the message and an Approve button), posts it, and returns the
message ts as the provider id. The ``slack.channel_open`` item opens the private incident
channel, invites the people in the incident, posts and pins the header and posts the dashboard.

Errors come out as ours (``adapters/slack/errors.py`` translates them): the dispatcher retries
transient ones later (honouring ``Retry-After``), so nothing here sleeps or retries on the
caller's thread.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient

from incident_bot.adapters.slack import blocks as kit  # Block Kit builders
from incident_bot.adapters.slack.dashboard import (
    DASHBOARD_EVENT,
    HEADER_EVENT,
    Dashboards,
    posted_before,
)
from incident_bot.adapters.slack.errors import call
from incident_bot.adapters.slack.text import MAX_FALLBACK_TEXT, clip, escape
from incident_bot.domain.effects import UPDATE_TS, Notify, OutboxChannel
from incident_bot.domain.incident.model import Incident
from incident_bot.errors import PermanentProviderError, TransientProviderError
from incident_bot.service import channels
from incident_bot.service.ports import Clock, SendResult, UnitOfWork
from incident_bot.service.use_cases import IncidentService

log = logging.getLogger("incident_bot.slack.chat")

TASK_PROMPTS = frozenset({"task.assigned", "task.reminder", "task.overdue",
                          "task.not_acknowledged", "task.escalated", "task.unblocked"})
CHANNEL_WAIT_SECONDS = 5.0
CLOSED = "incident.closed"  # the channel's last post: after its dashboard shows the close
NAME_ATTEMPTS = 5


def make_client(token: str, base_url: str, timeout: int = 10) -> WebClient:
    """The one WebClient of the process: no retry handlers beyond slack_sdk's connection-error
    one; the outbox owns retries."""
    return WebClient(token=token, base_url=base_url, timeout=timeout)


POST_EVENT = "incident_bot_post"


def post_key(notify: Notify) -> str:
    """The outbox key as a digest: metadata is visible to apps in the workspace."""
    return hashlib.sha256(notify.key.encode()).hexdigest()[:24]


class SlackChat:
    def __init__(self, client: WebClient, incidents: IncidentService,
                 uow_factory: Callable[[], UnitOfWork], clock: Clock,
                 dashboards: Dashboards) -> None:
        self._client, self._incidents = client, incidents
        self._uow_factory, self._clock = uow_factory, clock
        self.dashboards = dashboards
        self._dms: dict[str, str] = {}
        self._lock = threading.Lock()

    # ---- ChatPort ---------------------------------------------------------------------------

    def send(self, notify: Notify, incident_id: str, address: str | None) -> SendResult:
        if notify.purpose == channels.CHANNEL_OPEN:
            return self._open_channel(incident_id, address)
        if address is None:
            if notify.channel is OutboxChannel.SLACK_DM:
                raise PermanentProviderError(f"{notify.recipient} has no Slack user",
                                             code="no_slack_user")
            raise TransientProviderError("the incident channel is not open yet",
                                         retry_after=CHANNEL_WAIT_SECONDS)
        if notify.purpose == "incident.member_added":
            self._invite_to_channel(incident_id, [address])
        if notify.purpose == CLOSED and (retry_at := self.dashboards.show_final(incident_id)):
            wait = (retry_at - self._clock.now()).total_seconds()
            raise TransientProviderError("the channel does not show the close yet",
                                         retry_after=max(wait, 1.0))
        channel = self._dm(address) if notify.channel is OutboxChannel.SLACK_DM else address
        if UPDATE_TS in notify.data:  # a folded post: the dispatcher names the message
            return self._update(notify, incident_id, channel, str(notify.data[UPDATE_TS]))
        response = call(self._client.chat_postMessage, channel=channel,
                        text=clip(escape(notify.body), MAX_FALLBACK_TEXT),
                        blocks=self._render(notify, incident_id), unfurl_links=False,
                        unfurl_media=False,
                        metadata={"event_type": POST_EVENT,
                                  "event_payload": {"key": post_key(notify)}})
        log.info("slack.posted incident=%s purpose=%s", incident_id, notify.purpose)
        return SendResult(str(response["ts"]), "posted")

    def _update(self, notify: Notify, incident_id: str, channel: str, ts: str) -> SendResult:
        call(self._client.chat_update, channel=channel, ts=ts,
             text=clip(escape(notify.body), MAX_FALLBACK_TEXT),
             blocks=self._render(notify, incident_id))
        log.info("slack.updated incident=%s purpose=%s", incident_id, notify.purpose)
        return SendResult(ts, "updated")

    def find_posted(self, notify: Notify, incident_id: str,
                    address: str | None) -> SendResult | None:
        """Look for this item's post in the conversation's recent history (by the key in its
        metadata): after a timeout or 5xx, Slack may have posted it all the same."""
        if address is None or notify.purpose == channels.CHANNEL_OPEN:
            return None  # opening a channel finds its own earlier posts
        channel = self._dm(address) if notify.channel is OutboxChannel.SLACK_DM else address
        try:
            history = call(self._client.conversations_history, channel=channel, limit=100,
                           include_all_metadata=True)
        except PermanentProviderError as error:
            if error.code != "missing_scope":
                raise
            # The app was installed without the history scope (im:history for DMs): we can't
            # tell, and a second copy of a notice is better than none.
            log.warning("slack.history_unreadable incident=%s code=%s: sending again",
                        incident_id, error.code)
            return None
        wanted = post_key(notify)
        for message in history.get("messages") or []:
            metadata = message.get("metadata") or {}
            if metadata.get("event_type") == POST_EVENT and \
                    (metadata.get("event_payload") or {}).get("key") == wanted:
                return SendResult(str(message["ts"]), "posted")
        return None

    # ---- rendering ----------------------------------------------------------------------------

    def _render(self, notify: Notify, incident_id: str) -> list[dict[str, Any]]:
        data, dm = notify.data, notify.channel is OutboxChannel.SLACK_DM
        if dm and notify.purpose in TASK_PROMPTS and "task" in data:
            return kit.task_blocks(incident_id, str(data["task"]), notify.body)
        if dm and notify.purpose == "ringround.list" and "list" in data:
            return self._call_list(notify, incident_id)
        if dm and notify.purpose == "message.approval_needed" and "message" in data:
            return self._approval(notify, incident_id)
        return kit.notice_blocks(notify.body)

    def _call_list(self, notify: Notify, incident_id: str) -> list[dict[str, Any]]:
        incident = self._incidents.incident(incident_id)
        keys = [k for k in str(notify.data.get("contacts", "")).split(",") if k]
        lines = [contact_line(incident, key) for key in keys]
        script_id = str(notify.data.get("script", ""))
        current = incident.messages.get(script_id).current if script_id else None
        script = current.texts.get("en", "") if current is not None else ""
        return kit.call_list_blocks(incident_id, str(notify.data["list"]), notify.body, lines,
                                      script)

    def _approval(self, notify: Notify, incident_id: str) -> list[dict[str, Any]]:
        message_id, number = str(notify.data["message"]), int(notify.data.get("version", 0))
        state = self._incidents.incident(incident_id).messages.get(message_id)
        version = next((v for v in state.versions if v.number == number), None)
        text = version.texts.get("en", "") if version is not None else ""
        return kit.approval_blocks(incident_id, message_id, number, notify.body, text)

    # ---- the incident channel -------------------------------------------------------------

    def _open_channel(self, incident_id: str, address: str | None) -> SendResult:
        incident = self._incidents.incident(incident_id)
        channel = address or self._create_channel(incident_id)
        if address is None:
            channels.bind_channel(self._uow_factory, incident_id, channel, self._clock.now())
        members = [p.slack_user_id for key in incident.roles.visible_members(
            incident.playbook, incident.prebrief)
            if (p := incident.people.get(key)) is not None and p.slack_user_id]
        self._invite(channel, members)
        view = self._incidents.view(incident_id)
        shown = kit.channel_views(view)
        posted = posted_before(self._client, channel) if address is not None else {}
        header = posted.get(HEADER_EVENT) or self._post(
            channel, HEADER_EVENT, incident_id, f"{view.classification}: {escape(view.title)}",
            shown.header)
        self._pin(channel, header)
        board = posted.get(DASHBOARD_EVENT) or self._post(
            channel, DASHBOARD_EVENT, incident_id, "Incident dashboard", shown.dashboard)
        self.dashboards.posted(incident_id, channel, header, board,
                               None if HEADER_EVENT in posted else shown.header,
                               None if DASHBOARD_EVENT in posted else shown.dashboard)
        log.info("slack.channel_opened incident=%s members=%d", incident_id, len(members))
        return SendResult(board, "posted")

    def _post(self, channel: str, event_type: str, incident_id: str, text: str,
              blocks: list[dict[str, Any]]) -> str:
        """Post with message metadata naming what it is, so a retry can find it again."""
        response = call(self._client.chat_postMessage, channel=channel, text=text, blocks=blocks,
                        metadata={"event_type": event_type,
                                  "event_payload": {"incident": incident_id}})
        return str(response["ts"])

    def _pin(self, channel: str, ts: str) -> None:
        try:
            call(self._client.pins_add, channel=channel, timestamp=ts)
        except PermanentProviderError as error:
            if error.code != "already_pinned":
                raise

    def _create_channel(self, incident_id: str) -> str:
        for attempt in range(1, NAME_ATTEMPTS + 1):
            name = incident_id.lower() if attempt == 1 else f"{incident_id.lower()}-{attempt}"
            try:
                response = call(self._client.conversations_create, name=name, is_private=True)
            except PermanentProviderError as error:
                if error.code == "name_taken":
                    continue
                raise
            return str(response["channel"]["id"])
        raise PermanentProviderError(f"no free channel name for {incident_id}",
                                     code="name_taken")

    def _invite_to_channel(self, incident_id: str, users: list[str]) -> None:
        channel = self._incidents.incident(incident_id).channel_id
        if channel:
            self._invite(channel, users)

    def _invite(self, channel: str, users: list[str]) -> None:
        """All at once (conversations.invite is rate-limited per call); if Slack refuses the
        batch (someone already in, an unknown id), one by one so nobody else is left out."""
        unique = list(dict.fromkeys(users))
        if not unique:
            return
        try:
            call(self._client.conversations_invite, channel=channel, users=",".join(unique))
            return
        except PermanentProviderError:
            pass
        for user in unique:
            try:
                call(self._client.conversations_invite, channel=channel, users=user)
            except PermanentProviderError as error:
                if error.code != "already_in_channel":
                    log.warning("slack.invite_failed channel=%s code=%s", channel, error.code)

    def _dm(self, user_id: str) -> str:
        with self._lock:
            known = self._dms.get(user_id)
        if known:
            return known
        response = call(self._client.conversations_open, users=user_id)
        channel = str(response["channel"]["id"])
        with self._lock:
            self._dms[user_id] = channel
        return channel


def contact_line(incident: Incident, key: str) -> kit.ContactLine:
    """A contact as a caller sees it in the list: name, masked number (incident.people holds
    masked numbers only), and where the ring-round is with them."""
    person = incident.people.get(key)
    state = "?"
    for round_ in incident.ringround.tiers.values():
        contact = round_.contacts.get(key)
        if contact is not None:
            state = contact.last_outcome or contact.state.value
    return kit.ContactLine(key, person.name if person else key,
                             person.phone if person and person.phone else "(no number)", state)
