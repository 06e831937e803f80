"""Hypothesis drives random sequences through the service layer on the memory store (a fresh
one per example): outcomes, SMS replies, approvals, new drafts, overrides, releases, clock ticks
and restarts (the service objects built afresh on the same store). After every step the safety
invariants must hold; at the end every started contact must be terminal."""

from __future__ import annotations

import contextlib
import os
import re
from collections import Counter
from datetime import timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from incident_bot.domain.codes import confirmation_code
from incident_bot.domain.commands import (
    ApproveMessage,
    CompleteStep,
    DraftMessage,
    OverrideStep,
    RecordOutcome,
    ReleaseMessage,
)
from incident_bot.domain.decision_log import verify_chain
from incident_bot.domain.directory import Person
from incident_bot.domain.playbook import Channel
from incident_bot.errors import NotFoundError, RefusedError
from incident_bot.service.dispatcher import Dispatcher
from incident_bot.service.timers import TimerPoller
from incident_bot.service.use_cases import IncidentService, StartRequest
from tests.domain.builders import APPROVERS, E0, T0, playbook, staff
from tests.fakes import FakeClock, RecordingChat, RecordingSms, RecordingVoice
from tests.memory_store import MemoryStore, MemoryUnitOfWork

CONTACTS = {f"k{n}": (1 if n <= 4 else 3, "ur" if n % 2 else "en") for n in range(1, 7)}
PHONES = {key: f"+4477009001{n:02d}" for n, key in enumerate(CONTACTS)}
LABEL = re.compile(r"^(?P<id>[\w-]+)@v(?P<n>\d+)/(?P<lang>\w+)$")
OUTCOMES = ("reached", "voicemail", "no_answer", "wrong_number", "declined", "unsafe_to_call")


def people() -> list[Person]:
    staff_people = [
        staff("gold", "bcu_commander"), staff("sio", "investigation_owner"),
        staff("ceo", "council_chief_exec"), staff("leader", "council_leader"),
        staff("silver", "police_silver"), staff("pcomms", "police_comms"),
        staff("ccomms", "council_comms"), staff("eng", "engagement_lead"),
        staff("cal1", "caller"), staff("cal2", "caller"), staff("cllr", "elected_member"),
    ]
    contacts = [Person(key=k, name=k.upper(), tier=tier, phone=PHONES[k], language=lang,
                       channels=(Channel.PHONE, Channel.SMS, Channel.VOICE))
                for k, (tier, lang) in CONTACTS.items()]
    return staff_people + contacts


class EchoTemplates:
    def render(self, template, language, variables):
        return f"{template} ({language}) reply {variables['confirm_code']}"

    def languages(self, template):
        return ["en", "ur", "pl"]


class IncidentMachine(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        store = MemoryStore()
        self.clock = FakeClock(T0)
        self.chat, self.sms, self.voice = RecordingChat(), RecordingSms(), RecordingVoice()
        self.uow = lambda: MemoryUnitOfWork(store)
        with self.uow() as uow:
            uow.directory.upsert(people())
            uow.commit()
        self.wire()
        self.incident_id = self.incidents.start_incident(StartRequest(
            playbook_id="ct-test", area="Anytown", t0=T0, e0=E0, started_by="gold"),
            incident_id="inc-hyp")
        self.sent_labels_ok = True

    def wire(self) -> None:
        """Build the service objects afresh: what a process restart does."""
        self.incidents = IncidentService(self.uow, self.clock, {"ct-test": playbook()},
                                         EchoTemplates(), zone="Europe/London")
        self.poller = TimerPoller(self.uow, self.clock, "hyp")
        self.dispatcher = Dispatcher(self.uow, self.clock, self.incidents, self.chat, self.sms,
                                     self.voice, worker="hyp")

    def execute(self, command) -> None:
        # refusals are allowed; the invariants check that nothing unsafe happened anyway
        with contextlib.suppress(RefusedError, NotFoundError):
            self.incidents.execute(self.incident_id, command)
        self.tick()

    def tick(self) -> None:
        before = len(self.sms.sent) + len(self.voice.calls)
        while self.poller.fire_due() + self.dispatcher.dispatch():
            pass
        self.check_new_sends_use_current_versions(before)

    def check_new_sends_use_current_versions(self, before: int) -> None:
        view = self.incidents.view(self.incident_id)
        current = {m.id: m.current_version for m in view.messages}
        for sent in (self.sms.sent + self.voice.calls)[before:]:
            match = LABEL.match(sent.notify.message_version or "")
            assert match, sent.notify.message_version
            assert int(match["n"]) == current[match["id"]], "a stale version was sent"

    # ---- rules ------------------------------------------------------------------------

    @rule(message=st.sampled_from(["ring-round-sms", "ring-round-script",
                                   "public-holding-statement", "member-briefing"]),
          approver=st.sampled_from(sorted(set(APPROVERS.values()))))
    def approve(self, message, approver) -> None:
        view = self.incidents.view(self.incident_id)
        latest = next(m for m in view.messages if m.id == message).versions[-1].number
        self.execute(ApproveMessage(message, latest, by=approver))

    @rule(message=st.sampled_from(["ring-round-sms", "ring-round-script"]))
    def redraft_in_english_only(self, message) -> None:
        self.execute(DraftMessage(message, {"en": f"{message} redraft {{confirm_code}}"},
                                  by="pcomms"))

    @rule(contact=st.sampled_from(sorted(CONTACTS)), outcome=st.sampled_from(OUTCOMES))
    def record_outcome(self, contact, outcome) -> None:
        self.execute(RecordOutcome(contact, outcome, by="eng"))

    @rule(contact=st.sampled_from(sorted(CONTACTS)),
          reply=st.sampled_from(["code", "other-code", "stop", "start", "feedback"]))
    def sms_reply(self, contact, reply) -> None:
        tier = CONTACTS[contact][0]
        text = {"code": confirmation_code(self.incident_id, tier),
                "other-code": confirmation_code("inc-other", tier),
                "stop": "STOP", "start": "START", "feedback": "people are worried"}[reply]
        self.incidents.sms_inbound(PHONES[contact], text)
        self.tick()

    @rule()
    def complete_strategic_step(self) -> None:
        self.execute(CompleteStep("strategic", by="gold"))

    @rule(by=st.sampled_from(["gold", "cal1"]))
    def override_media_hold(self, by) -> None:
        self.execute(OverrideStep("media", "statement must go out now", by=by))

    @rule()
    def release_public_statement(self) -> None:
        self.execute(ReleaseMessage("public-holding-statement", by="pcomms"))

    @rule(minutes=st.integers(min_value=1, max_value=45))
    def time_passes(self, minutes) -> None:
        self.clock.advance(minutes=minutes)
        self.tick()

    @rule()
    def restart(self) -> None:
        self.wire()
        self.tick()

    # ---- invariants ------------------------------------------------------------------------

    @invariant()
    def media_never_opens_before_its_gate_without_a_logged_override(self) -> None:
        if not hasattr(self, "incident_id"):
            return
        view = self.incidents.view(self.incident_id)
        steps = {s.id: s for s in view.steps}
        media = steps["media"]
        if media.status not in ("open", "complete"):
            return
        with self.uow() as uow:
            kinds = [e.kind for e in uow.decisions.entries(self.incident_id)]
        allowed = {
            "gate": steps["tier-1"].status == "complete",
            "timeout": media.opened_at is not None and media.opened_at >= E0 + timedelta(
                minutes=90),
            "override": "override" in kinds,
            "compromised": "compromised" in kinds,
        }
        assert allowed.get(media.opened_by or "", False), (media.opened_by, kinds)

    @invariant()
    def nobody_gets_the_same_version_twice_on_one_channel(self) -> None:
        if not hasattr(self, "sms"):
            return
        sends = [("sms", s.notify.recipient, s.notify.message_version) for s in self.sms.sent]
        sends += [("voice", c.notify.recipient, c.notify.message_version)
                  for c in self.voice.calls]
        assert [k for k, n in Counter(sends).items() if n > 1] == []

    @invariant()
    def the_decision_log_is_gap_free_and_its_chain_verifies(self) -> None:
        if not hasattr(self, "incident_id"):
            return
        with self.uow() as uow:
            entries = uow.decisions.entries(self.incident_id)
        assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
        assert verify_chain(entries).ok

    def finish(self) -> None:
        """Past the end of every ladder: every started contact must be terminal."""
        self.clock.advance(hours=8)
        self.tick()
        view = self.incidents.view(self.incident_id)
        assert all(t.pending == 0 for t in view.tiers if t.started), view.tiers


class FinishingMachine(IncidentMachine):
    def teardown(self) -> None:
        if hasattr(self, "incident_id"):
            self.finish()


FinishingMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get("STATEFUL_EXAMPLES", "25")), stateful_step_count=25,
    deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
test_incident_machine = FinishingMachine.TestCase
