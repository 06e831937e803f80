"""Use cases. Each one: open the unit of work, load and lock, call the domain with the clock's
``now``, save the aggregate and write its effects (timers, outbox, decision log), commit.

A refused command rolls back, leaves an audit row and is re-raised for the edge to show.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from incident_bot.domain import incident as domain
from incident_bot.domain.access import Read, may_read
from incident_bot.domain.classification import command_texts, refuse_above_official
from incident_bot.domain.commands import Command, DeliveryReport, SmsReceived, VoiceDigit
from incident_bot.domain.directory import Person
from incident_bot.domain.effects import Effect, Notify, OutboxChannel, RecordDecision, ScheduleTimer
from incident_bot.domain.incident import read_model
from incident_bot.domain.ladder import VOICE_PROMPT
from incident_bot.domain.playbook import Classification, Playbook
from incident_bot.errors import NotAuthorised, NotFoundError, RefusedError
from incident_bot.service import wording
from incident_bot.service.call_script import CallScript, english_version
from incident_bot.service.channels import channel_open_notify
from incident_bot.service.ports import Clock, OutboxItem, TemplateRenderer, UnitOfWork
from incident_bot.service.variables import incident_variables, refuse_unknown

log = logging.getLogger("incident_bot.service")

OPEN_STATUSES = ("prebrief", "active", "standing_down")
FAILED_STATUSES = frozenset({"failed", "undelivered"})


def new_incident_id() -> str:
    return f"inc-{secrets.token_hex(4)}"


@dataclass(frozen=True)
class StartRequest:
    playbook_id: str
    area: str
    t0: datetime
    started_by: str  # person key
    e0: datetime | None = None
    classification: Classification | None = None  # defaults to the playbook's
    summary: str = ""
    variables: Mapping[str, str] = field(default_factory=dict)
    open_channel: bool = False  # queue the incident channel's opening with it (Slack)


def write_effects(uow: UnitOfWork, incident_id: str, effects: Iterable[Effect],
                  now: datetime) -> None:
    """Turn domain effects into rows in the caller's transaction: decisions one by one (each
    is chained to the one before), timers and notifications in one statement each (chat
    notices worded first: :mod:`incident_bot.service.wording`)."""
    timers: list[ScheduleTimer] = []
    notices: list[Notify] = []
    for effect in effects:
        if isinstance(effect, ScheduleTimer):
            timers.append(effect)
        elif isinstance(effect, Notify):
            notices.append(wording.render(effect))
        elif isinstance(effect, RecordDecision):
            uow.decisions.append(incident_id, effect, now)
    uow.timers.schedule_all(incident_id, timers)
    uow.outbox.add_all(incident_id, notices, now)


READ_CACHE_SIZE = 64  # decoded incidents kept for reads (open incidents are few)


class IncidentService:
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        clock: Clock,
        playbooks: Mapping[str, Playbook],
        templates: TemplateRenderer,
        new_id: Callable[[], str] = new_incident_id,
        *,
        zone: str,
    ) -> None:
        """``zone``: the partnership's IANA time zone, which each new incident keeps for the
        times in its notices and messages."""
        self._uow_factory = uow_factory
        self._clock = clock
        self._playbooks = playbooks
        self._templates = templates
        self._new_id = new_id
        self._zone = zone
        # Decoded incidents by id, with the version they were read at: a read checks the
        # stored version (one indexed column) and decodes the document only when it changed.
        # The tick's deliveries read the same incident many times a second.
        self._read_cache: OrderedDict[str, tuple[int, domain.Incident]] = OrderedDict()
        self._read_lock = threading.Lock()

    # ---- commands -----------------------------------------------------------------------

    def start_incident(self, request: StartRequest, incident_id: str | None = None) -> str:
        playbook = self._playbook(request.playbook_id)
        classification = request.classification or playbook.classification
        params = domain.IncidentParams(
            area=request.area, t0=request.t0, e0=request.e0, classification=classification,
            summary=request.summary, variables=dict(request.variables), zone=self._zone,
        )
        incident_id = incident_id or self._new_id()
        now = self._clock.now()
        try:
            refuse_unknown(playbook, request.variables)
            drafts = self._render_drafts(playbook, params)
            refuse_above_official({"summary": request.summary, "area": request.area,
                                   **{f"variable {k}": v for k, v in request.variables.items()}})
            with self._uow_factory() as uow:
                incident, effects = domain.start_incident(
                    incident_id, playbook, params, uow.directory.all(), request.started_by,
                    drafts, now,
                )
                uow.incidents.add(incident, now)
                write_effects(uow, incident_id, effects, now)
                if request.open_channel:
                    uow.outbox.add(incident_id, channel_open_notify(incident_id), now)
                uow.commit()
        except RefusedError as refused:
            self._audit_refusal(request.started_by, f"start {playbook.id}", refused)
            raise
        log.info("incident.started incident=%s playbook=%s", incident_id, playbook.id)
        return incident_id

    def execute(self, incident_id: str, command: Command) -> None:
        """Run one domain command against the locked incident."""
        now = self._clock.now()
        try:
            refuse_above_official(command_texts(command))
            with self._uow_factory() as uow:
                incident = self._load_for_update(uow, incident_id)
                # On error the transaction rolls back and this copy is dropped: no snapshot.
                effects = domain.handle(incident, command, now, restore=False)
                uow.incidents.save(incident, now)
                write_effects(uow, incident_id, effects, now)
                uow.commit()
        except RefusedError as refused:
            self._audit_refusal(command.by, type(command).__name__, refused, incident_id)
            raise

    # ---- provider events ------------------------------------------------------------------

    def sms_inbound(self, from_e164: str, text: str) -> list[str]:
        """Route a reply to the incident that most recently texted this number.

        Each open incident's SMS carries its own code, so a reply belongs to the incident that
        asked for it. Replies go to one incident only: feedback posted to the wrong incident's
        channel would leak need-to-know information. Returns the incident ids it went to."""
        with self._uow_factory() as uow:
            targets = self._latest_sms_per_person(uow, from_e164)
        routed = []
        for incident_id, person_key in targets:
            self.execute(incident_id, SmsReceived(contact_key=person_key, text=text, by="twilio"))
            routed.append(incident_id)
        return routed

    def voice_digit(self, outbox_id: int, digit: str) -> None:
        incident_id, person_key = self._outbox_target(outbox_id)
        self.execute(incident_id, VoiceDigit(contact_key=person_key, digit=digit, by="twilio"))

    def delivery_status(self, outbox_id: int, status: str, error_code: str | None) -> None:
        """Record a provider status callback; a failure moves the contact on its ladder."""
        now = self._clock.now()
        with self._uow_factory() as uow:
            item = uow.outbox.get(outbox_id)
            if item is None:
                raise NotFoundError(f"no delivery {outbox_id}")
            uow.outbox.record_status(outbox_id, status, error_code, now)
            uow.commit()
        if status in FAILED_STATUSES:
            self.execute(item.incident_id, DeliveryReport(
                outbox_key=item.key, status=status, error_code=error_code, by="twilio"))

    def delivery(self, outbox_id: int, channel: OutboxChannel,
                 sid: str | None = None) -> OutboxItem:
        """The delivery a provider's webhook is about, if it went out on ``channel`` and (for a
        status callback) the provider's ``sid`` is the one recorded for it; NotFoundError
        otherwise."""
        with self._uow_factory() as uow:
            item = uow.outbox.get(outbox_id)
            if item is None or item.notify.channel != channel:
                raise NotFoundError(f"no {channel.value} delivery {outbox_id}")
            if sid is not None and not self._holds_sid(uow, item, sid):
                raise NotFoundError(f"delivery {outbox_id} is not Twilio's {sid[:40]!r}")
        return item

    @staticmethod
    def _holds_sid(uow: UnitOfWork, item: OutboxItem, sid: str) -> bool:
        """Whether Twilio's ``sid`` is the delivery's. A callback can come before the sender
        recorded the SID (a slow commit, or a replica that died after sending): the signed
        request names our delivery in its URL, so its SID is taken as the delivery's."""
        if not sid:
            return False
        if item.provider_id is not None:
            return item.provider_id == sid
        adopted = uow.outbox.adopt_provider_id(item.id, sid)
        uow.commit()
        if adopted:
            log.info("twilio.sid_adopted delivery=%s", item.id)
        return adopted

    # ---- who is asking ---------------------------------------------------------------------

    def actor_by_slack_id(self, slack_user_id: str) -> str:
        """The directory key of the Slack user acting; RefusedError when the directory does
        not know them (audited: someone in the workspace tried to act)."""
        with self._uow_factory() as uow:
            person = uow.directory.by_slack_user(slack_user_id)
            if person is None:
                uow.audit.record(at=self._clock.now(), actor=f"slack:{slack_user_id}",
                                 action="slack.unknown_user", outcome="refused",
                                 detail="not in the directory")
                uow.commit()
        if person is None:
            raise RefusedError("you are not in the incident-bot directory: ask the emergency "
                               "planning team to add your Slack user")
        return person.key

    def reader_by_slack_id(self, slack_user_id: str) -> str:
        """Who is reading: their directory key, or ``slack:<id>`` for a Slack user outside the
        directory (who may read nothing; :meth:`read` audits the refusal)."""
        with self._uow_factory() as uow:
            person = uow.directory.by_slack_user(slack_user_id)
        return person.key if person is not None else f"slack:{slack_user_id}"

    # ---- queries ----------------------------------------------------------------------------

    def reveal_contact(self, incident_id: str, contact_key: str, by: str) -> Person | None:
        """A contact's directory entry (with their number) for their caller only; every
        request is audited, a refused one too (NotAuthorised)."""
        incident = self.incident(incident_id)
        round_, entry = incident.ringround.find(contact_key)
        lst = round_.call_list(entry.list_id)
        if lst is None or by not in (lst.holder, lst.caller, lst.backup):
            refused = NotAuthorised(f"see {incident.name(contact_key)}'s number",
                                    ["their caller"])
            self._audit_refusal(by, "contact.phone_viewed", refused, incident_id)
            raise refused
        with self._uow_factory() as uow:
            person = uow.directory.get(contact_key)
            uow.audit.record(at=self._clock.now(), actor=by, action="contact.phone_viewed",
                             outcome="viewed", detail=f"{incident_id}: {contact_key}")
            uow.commit()
        return person

    def call_script(self, outbox_id: int, spoken: Collection[str]) -> CallScript | None:
        """What the voice delivery ``outbox_id`` reads: its own text when the call can speak its
        language (one of ``spoken``), else the English version of the contact's message; None
        when there is none. NotFoundError when it is not a voice delivery."""
        item = self.delivery(outbox_id, OutboxChannel.VOICE)
        if item.notify.language in spoken:
            return CallScript(item.notify.body.removesuffix(VOICE_PROMPT).strip(),
                              item.notify.language)
        text = english_version(self.incident(item.incident_id), item.notify.recipient,
                               self._clock.now())
        return CallScript(text, "en") if text else None

    def incident(self, incident_id: str) -> domain.Incident:
        """The incident as stored now (read-only: callers must not change it; commands go
        through :meth:`execute`)."""
        with self._uow_factory() as uow:
            version = uow.incidents.version(incident_id)
            with self._read_lock:
                cached = self._read_cache.get(incident_id)
            if cached is not None and cached[0] == version:
                return cached[1]
            record = uow.incidents.get(incident_id)
        incident = record.incident
        with self._read_lock:
            self._read_cache[incident_id] = (record.version, incident)
            self._read_cache.move_to_end(incident_id)
            while len(self._read_cache) > READ_CACHE_SIZE:
                self._read_cache.popitem(last=False)
        return incident

    def view(self, incident_id: str) -> read_model.IncidentView:
        """The whole picture, unguarded: for the system (dashboards in the incident's private
        channel, the exercise runner). A person's read goes through :meth:`read`."""
        return read_model.incident_view(self.incident(incident_id), self._clock.now())

    # ---- a person's reads: guarded like commands ------------------------------------------

    def read(self, by: str, what: Read, incident_id: str | None = None,
             channel_id: str | None = None) -> read_model.IncidentView:
        """The incident ``by`` asks about — the one named, else the one whose channel they are
        in, else the only one open that they may see — if they may read it. A refused read is
        audited and answered exactly as a missing incident would be."""
        incident_id = self.target(by, what, incident_id, channel_id)
        return read_model.incident_view(self.incident(incident_id), self._clock.now())

    def target(self, by: str, what: Read, incident_id: str | None = None,
               channel_id: str | None = None) -> str:
        """The id of the incident ``by`` means (as :meth:`read` chooses it), if they may see
        that it exists. Every command is aimed through this before it is authorised, so that
        neither a reply nor its refusal tells a person of an incident hidden from them."""
        if incident_id is None:
            return self._choose(by, what, channel_id)
        if not may_read(self.incident(incident_id), by):
            self._audit_refused_read(by, what, [incident_id])
            raise NotFoundError(f"no incident {incident_id!r}")
        return incident_id

    def readable_open(self, by: str, what: Read, *, audit: bool = True
                      ) -> list[tuple[domain.Incident, read_model.IncidentView]]:
        """The open incidents ``by`` may read, with their views; the others are audited
        (unless ``audit`` is False: the system refreshing what the person opened before)."""
        now = self._clock.now()
        readable, hidden = self._open_split(by)
        if hidden and audit:
            self._audit_refused_read(by, what, hidden)
        return [(incident, read_model.incident_view(incident, now)) for incident in readable]

    def _choose(self, by: str, what: Read, channel_id: str | None) -> str:
        readable, hidden = self._open_split(by)
        ids = [incident.id for incident in readable]
        here = [incident.id for incident in readable
                if channel_id and incident.channel_id == channel_id]
        if here or len(ids) == 1:
            return (here or ids)[0]
        if not ids:
            if hidden:
                self._audit_refused_read(by, what, hidden)
            raise RefusedError("no incident is open")
        raise RefusedError(f"more than one incident is open: add incident=<id> ({', '.join(ids)})")

    def _open_split(self, by: str) -> tuple[list[domain.Incident], list[str]]:
        """Open incidents ``by`` may read, and the ids of those they may not."""
        readable, hidden = [], []
        for incident_id in self.open_incident_ids():
            incident = self.incident(incident_id)
            if may_read(incident, by):
                readable.append(incident)
            else:
                hidden.append(incident_id)
        return readable, hidden

    def open_incident_ids(self) -> list[str]:
        with self._uow_factory() as uow:
            return list(uow.incidents.versions(OPEN_STATUSES))

    def open_incident_versions(self) -> dict[str, int]:
        """Open incidents' ids and versions (a version changes whenever the incident does)."""
        with self._uow_factory() as uow:
            return uow.incidents.versions(OPEN_STATUSES)

    def incident_versions(self, incident_ids: Iterable[str]) -> dict[str, int]:
        """The versions of these incidents, whatever their status (absent ones left out)."""
        found: dict[str, int] = {}
        with self._uow_factory() as uow:
            for incident_id in incident_ids:
                try:
                    found[incident_id] = uow.incidents.version(incident_id)
                except NotFoundError:
                    continue
        return found

    # ---- helpers ------------------------------------------------------------------------------

    def _playbook(self, playbook_id: str) -> Playbook:
        try:
            return self._playbooks[playbook_id]
        except KeyError:
            known = ", ".join(sorted(self._playbooks)) or "none loaded"
            raise NotFoundError(f"no playbook {playbook_id!r} (known: {known})") from None

    def _render_drafts(self, playbook: Playbook,
                       params: domain.IncidentParams) -> dict[tuple[str, str], str]:
        variables = incident_variables(
            playbook, area=params.area, t0=params.t0, e0=params.e0, summary=params.summary,
            classification=params.classification.value, supplied=params.variables,
            zone=ZoneInfo(params.zone),
        )
        return {
            (message.id, language): self._templates.render(message.template, language, variables)
            for message in playbook.messages
            for language in message.languages
        }

    @staticmethod
    def _load_for_update(uow: UnitOfWork, incident_id: str) -> domain.Incident:
        return uow.incidents.get_for_update(incident_id).incident

    @staticmethod
    def _latest_sms_per_person(uow: UnitOfWork, from_e164: str) -> list[tuple[str, str]]:
        latest = [
            item for person in uow.directory.by_phone(from_e164)
            if (item := uow.outbox.latest_to(person.key, OutboxChannel.SMS.value)) is not None
        ]
        if not latest:
            return []
        newest = max(latest, key=lambda item: item.id)
        return [(newest.incident_id, newest.notify.recipient)]

    def _outbox_target(self, outbox_id: int) -> tuple[str, str]:
        with self._uow_factory() as uow:
            item = uow.outbox.get(outbox_id)
        if item is None:
            raise NotFoundError(f"no delivery {outbox_id}")
        return item.incident_id, item.notify.recipient

    def _audit_refusal(self, actor: str, action: str, refused: RefusedError,
                       incident_id: str | None = None) -> None:
        with self._uow_factory() as uow:
            audit = getattr(uow, "audit", None)
            if audit is not None:
                audit.record(at=self._clock.now(), actor=actor, action=action, outcome="refused",
                             detail=f"{incident_id or '-'}: {refused}")
                uow.commit()
        log.info("command.refused actor=%s action=%s incident=%s", actor, action, incident_id)

    def _audit_refused_read(self, actor: str, what: Read, incident_ids: list[str]) -> None:
        """One row per refused read, naming every incident it was refused (for the operator;
        the person is told nothing)."""
        detail = f"{', '.join(incident_ids)}: not in the incident"
        with self._uow_factory() as uow:
            uow.audit.record(at=self._clock.now(), actor=actor, action=f"read.{what}",
                             outcome="refused", detail=detail)
            uow.commit()
        log.info("read.refused actor=%s read=%s incidents=%d", actor, what, len(incident_ids))
