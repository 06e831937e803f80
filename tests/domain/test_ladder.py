"""One contact's way down the ladder: what each rung does and when it is skipped."""

from datetime import timedelta

from builders import said
from test_ringround_support import (
    LADDER,
    MIN,
    START,
    contact,
    notifies,
    sent,
    tier,
    timers,
    world,
)

from incident_bot.domain.effects import OutboxChannel
from incident_bot.domain.ladder import VOICE_PROMPT, ContactState, effective_ladder
from incident_bot.domain.playbook import Channel, Rung, RungKind
from incident_bot.domain.ringround import accept_list, delivery_report

ACCEPTED = START + 2 * MIN
NO_CALLERS = {"engagement_lead": ["cora"], "police_silver": ["sam"]}
AUTOMATIC_ONLY = {"engagement_lead": ["cora"]}


def _one(**kwargs):
    """A world with the single contact c1 (plus overrides)."""
    kwargs.setdefault("contacts", [contact("c1")])
    return world(**kwargs)


def _accepted():
    w = _one()
    w.start()
    w.record(accept_list(w.state, w.ctx, "alice", "alice", ACCEPTED))
    return w


def _c1(w):
    return w.state.tiers[1].contacts["c1"]


# ---- the effective ladder -----------------------------------------------------------------


def test_a_ladder_ending_in_a_flag_is_used_as_written():
    assert effective_ladder(tier()) == LADDER


def test_a_ladder_without_a_flag_gets_one_at_the_end():
    ladder = (Rung(RungKind.SMS, 15 * MIN),)
    assert [r.kind for r in effective_ladder(tier(ladder=ladder))] == [RungKind.SMS, RungKind.FLAG]


def test_no_ladder_means_the_caller_tries_until_red_then_a_flag():
    ladder = effective_ladder(tier(ladder=()))
    assert [(r.kind, r.timeout) for r in ladder] == [
        (RungKind.CALLER, 90 * MIN), (RungKind.FLAG, None)]


# ---- caller and senior rungs --------------------------------------------------------------


def test_the_caller_rung_times_out_after_its_timeout_from_when_the_list_was_sent():
    w = _accepted()
    assert [t.due_at for t in w.pending_timers("ringround.rung")] == [START + 15 * MIN]


def test_after_the_caller_rung_the_senior_officer_is_asked_to_try():
    w = _accepted()
    effects = w.fire_next("ringround.rung")
    (asked,) = notifies(effects, "ringround.senior")
    assert (asked.recipient, asked.data["contact"]) == ("sam", "c1")


def test_the_senior_rung_has_its_own_timeout():
    w = _accepted()
    effects = w.fire_next("ringround.rung")
    assert [t.due_at for t in timers(effects)] == [START + 30 * MIN]


def test_the_senior_rung_is_skipped_without_a_senior_officer():
    w = _one(holders={"caller": ["alice"], "engagement_lead": ["cora"]})
    w.start()
    w.record(accept_list(w.state, w.ctx, "alice", "alice", ACCEPTED))
    effects = w.fire_next("ringround.rung")
    assert [n.recipient for n in sent(effects, OutboxChannel.SMS)] == ["c1"]


def test_a_later_caller_rung_asks_the_caller_to_call_now():
    ladder = (Rung(RungKind.SMS, 30 * MIN), Rung(RungKind.CALLER, 30 * MIN), Rung(RungKind.FLAG))
    w = _one(tiers=[tier(ladder=ladder)])
    w.start()
    w.record(accept_list(w.state, w.ctx, "alice", "alice", ACCEPTED))
    effects = w.fire_next("ringround.rung")
    assert [n.recipient for n in notifies(effects, "ringround.call_now")] == ["alice"]


# ---- automatic rungs ----------------------------------------------------------------------


def _sms(w):
    """Run c1 from the caller rung down to its SMS."""
    w.fire_next("ringround.rung")
    (sms,) = sent(w.fire_next("ringround.rung"), OutboxChannel.SMS)
    return sms


def test_the_sms_carries_the_tiers_code_and_the_approved_version():
    w = _accepted()
    sms = _sms(w)
    code = w.state.tiers[1].code
    assert (sms.recipient, sms.reply_code, sms.message_version) == (
        "c1", code, "ring-round-sms@v2/en")


def test_the_sms_text_is_personalised_with_names_and_code():
    w = _accepted()
    sms = _sms(w)
    assert sms.body == f"Hello C1, Alice here. Reply {w.state.tiers[1].code}."


def test_the_sms_is_prioritised_by_tier_and_valid_for_the_rung_timeout():
    w = _accepted()
    sms = _sms(w)
    assert (sms.priority, sms.valid_for) == (1, timedelta(minutes=15))


def test_the_sms_is_in_the_contacts_language():
    w = _one(contacts=[contact("c1", language="ur")], holders=AUTOMATIC_ONLY)
    (sms,) = sent(w.start(), OutboxChannel.SMS)
    assert (sms.language, sms.message_version) == ("ur", "ring-round-sms@v2/ur")


def test_the_sms_falls_back_to_english_without_an_approved_translation():
    w = _one(contacts=[contact("c1", language="pl")], holders=AUTOMATIC_ONLY)
    (sms,) = sent(w.start(), OutboxChannel.SMS)
    assert (sms.language, sms.message_version) == ("en", "ring-round-sms@v2/en")


def test_without_any_approved_text_the_sms_and_voice_rungs_are_skipped():
    w = _one(holders=AUTOMATIC_ONLY, texts={})
    effects = w.start()
    assert _c1(w).state is ContactState.FLAGGED
    assert sent(effects, OutboxChannel.SMS) == []


def test_a_flag_for_want_of_approved_text_says_so():
    w = _one(holders=AUTOMATIC_ONLY, texts={})
    (flag, _) = notifies(w.start(), "ringround.flag")
    assert "no approved version of ring-round-sms" in said(flag)


def test_a_contact_without_an_sms_channel_skips_to_the_voice_call():
    w = _one(contacts=[contact("c1", channels=(Channel.VOICE,))], holders=AUTOMATIC_ONLY)
    effects = w.start()
    assert [n.recipient for n in sent(effects, OutboxChannel.VOICE)] == ["c1"]


def test_the_voice_call_speaks_the_message_and_asks_for_a_digit():
    w = _one(contacts=[contact("c1", channels=(Channel.VOICE,))], holders=AUTOMATIC_ONLY)
    (call,) = sent(w.start(), OutboxChannel.VOICE)
    assert call.body.endswith(VOICE_PROMPT)
    assert call.purpose == "ringround.voice"


def test_each_automatic_attempt_has_its_own_outbox_key():
    w = _one(holders=AUTOMATIC_ONLY)
    (sms,) = sent(w.start(), OutboxChannel.SMS)
    (call,) = sent(w.fire_next("ringround.rung"), OutboxChannel.VOICE)
    assert sms.key.endswith("|sms|1")
    assert call.key.endswith("|voice|2")


def test_a_contact_with_no_phone_at_all_is_flagged_at_once():
    w = _one(contacts=[contact("c1", phone=None)])
    w.start()
    assert _c1(w).state is ContactState.FLAGGED


# ---- the flag -----------------------------------------------------------------------------


def test_the_end_of_the_ladder_flags_the_contact():
    w = _one(holders=AUTOMATIC_ONLY)
    w.start()
    w.fire_next("ringround.rung")
    w.fire_next("ringround.rung")
    assert _c1(w).state is ContactState.FLAGGED


def test_a_flag_tells_the_coordinator_and_the_incident_channel():
    w = _one(holders=AUTOMATIC_ONLY)
    w.start()
    w.fire_next("ringround.rung")
    effects = w.fire_next("ringround.rung")
    assert {(n.recipient, n.channel) for n in notifies(effects, "ringround.flag")} == {
        ("cora", OutboxChannel.SLACK_DM), ("incident", OutboxChannel.SLACK_CHANNEL)}


def test_a_flag_sets_no_timer():
    w = _one(holders=AUTOMATIC_ONLY)
    w.start()
    w.fire_next("ringround.rung")
    assert timers(w.fire_next("ringround.rung")) == []


def test_without_a_coordinator_the_flag_still_reaches_the_incident_channel():
    w = _one(holders={}, texts={})
    effects = w.start()
    assert [n.recipient for n in notifies(effects, "ringround.flag")] == ["incident"]


# ---- stale timers -------------------------------------------------------------------------


def test_a_rung_timer_fired_twice_moves_the_contact_once():
    w = _accepted()
    timer = w.pending_timers("ringround.rung")[0]
    w.fire(timer)
    assert w.fire(timer) == []


def test_a_rung_timer_from_a_rung_already_left_does_nothing():
    w = _one(holders=AUTOMATIC_ONLY)
    (sms,) = sent(w.start(), OutboxChannel.SMS)
    sms_timer = w.pending_timers("ringround.rung")[0]
    w.record(delivery_report(w.state, w.ctx, sms.key, "failed", START + MIN))  # on to voice
    assert w.fire(sms_timer) == []


def test_a_late_rung_timer_still_moves_the_contact_on():
    w = _accepted()
    timer = w.pending_timers("ringround.rung")[0]
    effects = w.fire(timer, now=timer.due_at + timedelta(hours=3))
    assert notifies(effects, "ringround.senior")
