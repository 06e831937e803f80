"""What contacts send back: SMS codes, opt-out and opt-in keywords, feedback, voice digits, and
delivery reports."""

import pytest
from builders import said
from test_ringround_support import MIN, START, contact, notifies, sent, tier, world

from incident_bot.domain.codes import confirmation_code
from incident_bot.domain.effects import OutboxChannel
from incident_bot.domain.ladder import ContactState
from incident_bot.domain.ringround import (
    delivery_report,
    record_outcome,
    sms_received,
    voice_digit,
)
from incident_bot.errors import NotFoundError

LATER = START + 3 * MIN
AUTOMATIC_ONLY = {"engagement_lead": ["cora"]}


def _texted(contacts=None):
    """Contacts c1 (tier 1) and d1 (tier 2), with no callers: both are texted at the start."""
    w = world(contacts=contacts or [contact("c1"), contact("d1", tier=2)],
              tiers=[tier(1), tier(2)], holders=AUTOMATIC_ONLY)
    w.start(1)
    w.start(2)
    return w


def _state(w, key="c1"):
    return w.state.find(key)[1].state


def _code(w, tier=1):
    return w.state.tiers[tier].code


# ---- the confirmation code ----------------------------------------------------------------


def test_replying_with_the_code_confirms():
    w = _texted()
    sms_received(w.state, w.ctx, "c1", _code(w), LATER)
    assert _state(w) is ContactState.CONFIRMED


def test_the_code_is_found_inside_a_friendly_reply():
    w = _texted()
    code = _code(w)
    sms_received(w.state, w.ctx, "c1", f"thanks, got it {code[:2].lower()} {code[2:]}!", LATER)
    assert _state(w) is ContactState.CONFIRMED


def test_a_confirmation_counts_as_reached():
    w = _texted()
    sms_received(w.state, w.ctx, "c1", _code(w), LATER)
    assert w.state.tiers[1].contacts["c1"].last_outcome == "confirmed"


def test_another_tiers_code_is_feedback_not_a_confirmation():
    w = _texted()
    effects = sms_received(w.state, w.ctx, "c1", _code(w, tier=2), LATER)
    assert _state(w) is ContactState.PENDING
    assert notifies(effects, "ringround.feedback")


def test_another_incidents_code_is_feedback_not_a_confirmation():
    w = _texted()
    other = confirmation_code("inc-ffffffff", 1)
    assert other != _code(w)
    sms_received(w.state, w.ctx, "c1", other, LATER)
    assert _state(w) is ContactState.PENDING


def test_the_code_twice_adds_nothing():
    w = _texted()
    sms_received(w.state, w.ctx, "c1", _code(w), LATER)
    assert sms_received(w.state, w.ctx, "c1", _code(w), LATER + MIN) == []


def test_a_code_after_the_red_flag_still_confirms_and_clears_the_flag():
    w = _texted(contacts=[contact("c1")])
    w.fire_next("ringround.rung")
    w.fire_next("ringround.rung")
    assert _state(w) is ContactState.FLAGGED
    effects = sms_received(w.state, w.ctx, "c1", _code(w), START + 40 * MIN)
    assert _state(w) is ContactState.CONFIRMED
    assert notifies(effects, "ringround.flag_cleared")


def test_a_code_from_a_contact_who_declined_changes_nothing():
    w = _texted()
    record_outcome(w.state, w.ctx, "c1", "declined", "cora", LATER)
    assert sms_received(w.state, w.ctx, "c1", _code(w), LATER) == []


# ---- opting out and back in ---------------------------------------------------------------


def test_stop_opts_the_contact_out():
    w = _texted()
    sms_received(w.state, w.ctx, "c1", "STOP", LATER)
    assert _state(w) is ContactState.OPTED_OUT


def test_an_opt_out_tells_the_coordinator():
    w = _texted()
    effects = sms_received(w.state, w.ctx, "c1", "unsubscribe", LATER)
    assert [n.recipient for n in notifies(effects, "ringround.opted_out")] == ["cora"]


def test_nothing_more_is_sent_after_an_opt_out():
    w = _texted()
    sms_received(w.state, w.ctx, "c1", "stop", LATER)
    effects = [e for t in w.pending_timers() for e in w.fire(t)]
    automatic = sent(effects, OutboxChannel.SMS) + sent(effects, OutboxChannel.VOICE)
    assert "c1" not in {n.recipient for n in automatic}


@pytest.mark.parametrize("reply", [
    "STOP", "stopall", "Unsubscribe", "cancel", "END", "quit", "REVOKE", "optout", "Stopp",
    "koniec", "Rezygnuję", "ANULUJ", "wypisz", "بند کریں", "روکیں", "ختم", "band karo",
])
def test_every_opt_out_word_opts_out_and_is_not_feedback(reply):
    w = _texted()
    effects = sms_received(w.state, w.ctx, "c1", reply, LATER)
    assert _state(w) is ContactState.OPTED_OUT
    assert notifies(effects, "ringround.feedback") == []


@pytest.mark.parametrize("reply", ["START", "yes", "Unstop", "tak", "wznów", "شروع", "ہاں"])
def test_every_opt_in_word_opts_back_in(reply):
    w = _texted()
    sms_received(w.state, w.ctx, "c1", "STOP", LATER)
    effects = sms_received(w.state, w.ctx, "c1", reply, LATER + MIN)
    assert notifies(effects, "ringround.opted_in")
    assert _state(w) is ContactState.PENDING


def test_an_opt_out_word_inside_a_sentence_is_feedback():
    w = _texted()
    effects = sms_received(w.state, w.ctx, "c1", "koniec tego, please stop", LATER)
    assert _state(w) is ContactState.PENDING
    assert notifies(effects, "ringround.feedback")


def test_an_opted_out_contact_is_never_texted_or_phoned_by_the_ladder():
    w = _texted()
    sms_received(w.state, w.ctx, "c1", "Koniec", LATER)
    effects = []
    while w.pending_timers():
        effects += w.fire_next()
    automatic = sent(effects, OutboxChannel.SMS) + sent(effects, OutboxChannel.VOICE)
    assert "c1" not in {n.recipient for n in automatic}


def test_twilio_refusing_the_number_as_opted_out_opts_the_contact_out_without_a_call():
    w = _texted()
    key = w.state.tiers[1].contacts["c1"].send_key
    effects = delivery_report(w.state, w.ctx, key, "failed", LATER, error_code="21610")
    assert sent(effects, OutboxChannel.VOICE) == []
    assert _state(w) is ContactState.OPTED_OUT


def test_stop_twice_tells_the_coordinator_once():
    w = _texted()
    sms_received(w.state, w.ctx, "c1", "STOP", LATER)
    assert sms_received(w.state, w.ctx, "c1", "STOP", LATER) == []


def test_stop_after_being_reached_keeps_the_contact_reached():
    w = _texted()
    record_outcome(w.state, w.ctx, "c1", "reached", "cora", LATER)
    sms_received(w.state, w.ctx, "c1", "STOP", LATER)
    assert _state(w) is ContactState.REACHED
    assert w.state.tiers[1].contacts["c1"].opted_out


def test_start_after_stop_puts_the_contact_back_on_its_rung():
    w = _texted()
    sms_received(w.state, w.ctx, "c1", "STOP", LATER)
    sms_received(w.state, w.ctx, "c1", "START", LATER + MIN)
    assert _state(w) is ContactState.PENDING
    assert w.state.tiers[1].contacts["c1"].rung == 2  # the SMS rung, where they left it


def test_start_after_stop_does_not_resend_the_text_already_sent():
    w = _texted()
    sms_received(w.state, w.ctx, "c1", "STOP", LATER)
    effects = sms_received(w.state, w.ctx, "c1", "START", LATER + MIN)
    assert sent(effects, OutboxChannel.SMS) == []


def test_stop_start_cycles_never_resend_the_text():
    w = _texted()
    first = w.state.tiers[1].contacts["c1"].send_key
    effects = []
    for minute in range(1, 6):
        effects += sms_received(w.state, w.ctx, "c1", "STOP", LATER + minute * MIN)
        effects += sms_received(w.state, w.ctx, "c1", "START", LATER + minute * MIN)
    assert sent(effects, OutboxChannel.SMS) == []
    assert w.state.tiers[1].contacts["c1"].send_key == first


def test_start_restarts_the_rungs_clock_so_the_ladder_moves_on_later():
    w = _texted(contacts=[contact("c1")])
    sms_received(w.state, w.ctx, "c1", "STOP", LATER)
    assert w.fire_next("ringround.rung") == []  # fires while opted out: nothing
    w.record(sms_received(w.state, w.ctx, "c1", "START", START + 20 * MIN))
    (timer,) = w.pending_timers("ringround.rung")
    assert timer.due_at == START + 35 * MIN
    assert [n.recipient for n in sent(w.fire(timer), OutboxChannel.VOICE)] == ["c1"]


def test_start_sends_a_text_the_dispatcher_held_back_while_opted_out():
    w = _texted()
    first = w.state.tiers[1].contacts["c1"].send_key
    sms_received(w.state, w.ctx, "c1", "STOP", LATER)
    delivery_report(w.state, w.ctx, first, "withheld", LATER)
    (again,) = sent(sms_received(w.state, w.ctx, "c1", "UNSTOP", LATER + MIN), OutboxChannel.SMS)
    assert again.key != first


def test_a_held_back_send_from_an_earlier_rung_is_not_resent():
    w = _texted()
    first = w.state.tiers[1].contacts["c1"].send_key
    delivery_report(w.state, w.ctx, first, "failed", LATER)  # on to the voice call
    sms_received(w.state, w.ctx, "c1", "STOP", LATER)
    delivery_report(w.state, w.ctx, first, "withheld", LATER)
    assert sent(sms_received(w.state, w.ctx, "c1", "START", LATER + MIN),
                OutboxChannel.VOICE) == []


def test_opting_back_in_is_not_a_confirmation():
    w = _texted()
    sms_received(w.state, w.ctx, "c1", "STOP", LATER)
    sms_received(w.state, w.ctx, "c1", "YES", LATER + MIN)
    assert _state(w) is not ContactState.CONFIRMED


def test_yes_without_an_opt_out_changes_nothing():
    w = _texted()
    assert sms_received(w.state, w.ctx, "c1", "yes", LATER) == []
    assert _state(w) is ContactState.PENDING


def test_start_twice_puts_the_contact_back_once():
    w = _texted()
    sms_received(w.state, w.ctx, "c1", "STOP", LATER)
    sms_received(w.state, w.ctx, "c1", "START", LATER + MIN)
    assert sms_received(w.state, w.ctx, "c1", "START", LATER + MIN) == []


# ---- feedback -----------------------------------------------------------------------------


def test_any_other_reply_is_posted_to_the_incident_channel():
    w = _texted()
    effects = sms_received(w.state, w.ctx, "c1", "People say the school is closed?", LATER)
    (posted,) = notifies(effects, "ringround.feedback")
    assert (posted.recipient, said(posted)) == (
        "incident", "SMS reply from C1 (tier 1): People say the school is closed?")


def test_feedback_never_shows_the_senders_number():
    w = _texted()
    effects = sms_received(w.state, w.ctx, "c1", "ring me on +447700900123", LATER)
    assert "900123" not in said(notifies(effects, "ringround.feedback")[0])


def test_a_repeated_reply_is_posted_once():
    w = _texted()
    sms_received(w.state, w.ctx, "c1", "who is this?", LATER)
    assert sms_received(w.state, w.ctx, "c1", "who is this?", LATER) == []


def test_an_empty_reply_posts_nothing():
    w = _texted()
    assert sms_received(w.state, w.ctx, "c1", "   ", LATER) == []


def test_a_reply_from_someone_not_in_the_round_is_not_found():
    w = _texted()
    with pytest.raises(NotFoundError):
        sms_received(w.state, w.ctx, "stranger", "hello", LATER)


# ---- voice digits -------------------------------------------------------------------------


def test_pressing_1_on_the_voice_call_confirms():
    w = _texted()
    voice_digit(w.state, w.ctx, "c1", "1", LATER)
    assert _state(w) is ContactState.CONFIRMED


def test_pressing_1_twice_confirms_once():
    w = _texted()
    voice_digit(w.state, w.ctx, "c1", "1", LATER)
    assert voice_digit(w.state, w.ctx, "c1", "1", LATER) == []


@pytest.mark.parametrize("digit", ["2", "9", "*", ""])
def test_other_digits_change_nothing(digit):
    w = _texted()
    assert voice_digit(w.state, w.ctx, "c1", digit, LATER) == []
    assert _state(w) is ContactState.PENDING


# ---- delivery reports ---------------------------------------------------------------------


def test_a_failed_sms_moves_the_contact_to_the_next_rung_at_once():
    w = _texted()
    key = w.state.tiers[1].contacts["c1"].send_key
    effects = delivery_report(w.state, w.ctx, key, "undelivered", LATER)
    assert [n.recipient for n in sent(effects, OutboxChannel.VOICE)] == ["c1"]


def test_a_failed_voice_call_moves_the_contact_to_the_flag():
    w = _texted()
    sms_key = w.state.tiers[1].contacts["c1"].send_key
    delivery_report(w.state, w.ctx, sms_key, "failed", LATER)
    voice_key = w.state.tiers[1].contacts["c1"].send_key
    delivery_report(w.state, w.ctx, voice_key, "failed", LATER)
    assert _state(w) is ContactState.FLAGGED  # undelivered rungs hold nothing open


def test_the_same_failure_reported_twice_moves_the_contact_once():
    w = _texted()
    key = w.state.tiers[1].contacts["c1"].send_key
    delivery_report(w.state, w.ctx, key, "failed", LATER)
    assert delivery_report(w.state, w.ctx, key, "failed", LATER) == []


@pytest.mark.parametrize("status", ["delivered", "sent"])
def test_a_successful_delivery_changes_nothing(status):
    w = _texted()
    key = w.state.tiers[1].contacts["c1"].send_key
    assert delivery_report(w.state, w.ctx, key, status, LATER) == []


def test_a_failure_of_an_unknown_delivery_changes_nothing():
    w = _texted()
    assert delivery_report(w.state, w.ctx, "inc|x|y|sms|1", "failed", LATER) == []


# ---- folding a contact's replies ------------------------------------------------------------


def test_a_contacts_replies_share_one_fold():
    w = _texted()
    first = notifies(sms_received(w.state, w.ctx, "c1", "who is this?", LATER))[0]
    second = notifies(sms_received(w.state, w.ctx, "c1", "hello?", LATER))[0]
    assert first.fold == second.fold == "reply:c1"
    assert first.key != second.key


def test_each_fold_post_carries_every_reply_so_far_newest_last():
    w = _texted()
    sms_received(w.state, w.ctx, "c1", "who is this?", LATER)
    (post,) = notifies(sms_received(w.state, w.ctx, "c1", "hello?", LATER))
    assert said(post) == ("SMS replies from C1 (tier 1), 2 so far:\n"
                         "• who is this?\n• hello?")


def test_a_long_fold_shows_the_newest_ten_and_counts_the_rest():
    w = _texted()
    for n in range(25):
        effects = sms_received(w.state, w.ctx, "c1", f"message {n}", LATER)
    body = said(notifies(effects)[0])
    assert "25 so far (15 earlier not shown here" in body
    assert body.count("•") == 10
    assert body.endswith("• message 24")


def test_replies_are_chatter_and_an_incident_notice_goes_first():
    w = _texted(contacts=[contact("c1")])
    (reply,) = notifies(sms_received(w.state, w.ctx, "c1", "hello?", LATER))
    w.fire_next("ringround.rung")
    flags = notifies(w.fire_next("ringround.rung"), "ringround.flag")
    assert flags
    assert (reply.lane, reply.priority) == ("chat", 5)
    assert {(f.lane, f.priority) for f in flags} == {("notice", 0)}


def test_two_contacts_replies_fold_apart():
    w = _texted()
    a = notifies(sms_received(w.state, w.ctx, "c1", "hello?", LATER))[0]
    b = notifies(sms_received(w.state, w.ctx, "d1", "hello?", LATER))[0]
    assert a.fold != b.fold
