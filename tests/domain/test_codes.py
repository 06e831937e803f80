import pytest

from incident_bot.domain.codes import (
    ALPHABET,
    OPT_IN_WORDS,
    OPT_OUT_WORDS,
    acceptable_code,
    confirmation_code,
    is_opt_in,
    is_opt_out,
    keyword,
    mask_numbers,
    match_code,
)

INCIDENTS = [f"inc-{n:08x}" for n in range(300)]


def test_the_code_is_the_same_every_time_for_an_incident_and_tier():
    assert confirmation_code("inc-1a2b3c4d", 1) == confirmation_code("inc-1a2b3c4d", 1)


def test_codes_differ_between_incidents():
    codes = {confirmation_code(incident, 1) for incident in INCIDENTS}
    assert len(codes) > 290  # 234,256 possible codes: a collision or two at most


def test_codes_differ_between_tiers_of_one_incident():
    for incident in INCIDENTS[:50]:
        assert len({confirmation_code(incident, tier) for tier in range(5)}) == 5


def test_a_code_is_four_characters_from_the_unambiguous_alphabet():
    for incident in INCIDENTS:
        code = confirmation_code(incident, 2)
        assert len(code) == 4
        assert set(code) <= set(ALPHABET)


def test_a_code_always_mixes_letters_and_digits_so_it_is_never_a_word():
    for incident in INCIDENTS:
        code = confirmation_code(incident, 3)
        assert any(c.isdigit() for c in code)
        assert any(c.isalpha() for c in code)


@pytest.mark.parametrize("word", ["STOP", "YES", "HELP", "INFO", "QUIT"])
def test_reserved_words_are_never_acceptable_codes(word):
    assert not acceptable_code(word)


@pytest.mark.parametrize("code", ["H47E", "D3AD", "ARMY", "W4R3"])
def test_codes_spelling_something_alarming_are_not_acceptable(code):
    assert not acceptable_code(code)


def test_an_ordinary_mixed_code_is_acceptable():
    assert acceptable_code("K7MR")


@pytest.mark.parametrize("reply", [
    "K7MR", "k7mr", " k7 mr ", "K-7-M-R", "ok K7MR thanks", "K7MRthanks", "Ｋ７ＭＲ", "k7mr.",
])
def test_the_code_matches_leniently(reply):
    assert match_code(reply, "K7MR")


@pytest.mark.parametrize("reply", ["K7MP", "K7", "thanks", "", "yes"])
def test_text_without_the_code_does_not_match(reply):
    assert not match_code(reply, "K7MR")


def test_an_empty_code_never_matches():
    assert not match_code("anything", "")


@pytest.mark.parametrize("reply", ["stop", " Stop. ", "STOPALL", "unsubscribe!", "End"])
def test_opt_out_keywords_are_recognised_as_the_whole_message(reply):
    assert is_opt_out(reply)


def test_a_sentence_containing_stop_is_not_an_opt_out():
    assert not is_opt_out("please stop the rumours")


@pytest.mark.parametrize("reply", ["start", "YES", "unstop"])
def test_opt_in_keywords_are_recognised(reply):
    assert is_opt_in(reply)


def test_keyword_names_the_word_it_found():
    assert keyword(" quit! ") == "QUIT"


def test_opt_out_and_opt_in_words_do_not_overlap():
    assert not OPT_OUT_WORDS & OPT_IN_WORDS


def test_phone_numbers_in_a_reply_are_masked_to_their_last_two_digits():
    masked = mask_numbers("call me on 07700 900123 or +447700900456")
    assert "900123" not in masked
    assert "••••23" in masked
    assert "••••56" in masked


def test_short_numbers_in_a_reply_are_left_alone():
    assert mask_numbers("3 vans at 10:30 on 12 May") == "3 vans at 10:30 on 12 May"


def test_a_keyword_typed_on_an_arabic_keyboard_or_with_extra_spaces_is_still_one():
    assert keyword("  بند   كريں ۔") == "بند کریں"


def test_every_keyword_survives_the_matching_it_is_looked_up_with():
    for word in OPT_OUT_WORDS | OPT_IN_WORDS:
        assert keyword(word.lower()) == word
