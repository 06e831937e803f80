"""SMS encoding and segment counting (GSM 03.38 / UCS-2) and smart encoding."""

import pytest

from incident_bot.domain.sms import (
    SmsInfo,
    count_for_sending,
    is_gsm7,
    non_gsm_characters,
    smart_encode,
    sms_segments,
)

URDU_WORD = "گرفتاری"  # 7 characters, all in the Basic Multilingual Plane


# ---- GSM-7 ---------------------------------------------------------------------------------


def test_160_gsm_characters_fit_one_segment():
    assert sms_segments("a" * 160) == SmsInfo("GSM-7", 1, 160)


def test_161_gsm_characters_need_two_segments():
    assert sms_segments("a" * 161) == SmsInfo("GSM-7", 2, 161)


def test_a_multipart_gsm_segment_holds_153_septets():
    assert sms_segments("a" * 306).segments == 2
    assert sms_segments("a" * 307).segments == 3


def test_gsm_accented_letters_in_the_basic_set_stay_gsm7():
    assert sms_segments("é è ù ì ò Ä Ö Ñ Ü ä ö ñ ü à £ ¥ §").encoding == "GSM-7"


def test_an_extension_character_costs_two_septets():
    assert sms_segments("€").units == 2


@pytest.mark.parametrize("character", list("^{}\\[~]|€\f"))
def test_every_extension_character_is_gsm7_at_two_septets(character: str):
    assert sms_segments(character) == SmsInfo("GSM-7", 1, 2)


def test_eighty_extension_characters_fill_one_segment_exactly():
    assert sms_segments("€" * 80) == SmsInfo("GSM-7", 1, 160)


def test_eighty_one_extension_characters_need_two_segments():
    assert sms_segments("€" * 81).segments == 2


def test_an_extension_character_is_not_split_across_segments():
    # 306 septets would fill two 153-septet parts exactly, but the escape pair would straddle
    # the boundary: it moves whole into part 2, which pushes the last septet into part 3.
    info = sms_segments("a" * 152 + "€" + "a" * 152)
    assert (info.units, info.segments) == (306, 3)


def test_newlines_count_as_one_septet():
    assert sms_segments("a\nb\r\n").units == 5


# ---- UCS-2 ---------------------------------------------------------------------------------


def test_one_non_gsm_character_makes_the_whole_message_ucs2():
    assert sms_segments("a" * 69 + "ś") == SmsInfo("UCS-2", 1, 70)


def test_70_ucs2_units_fit_one_segment():
    assert sms_segments("ś" * 70) == SmsInfo("UCS-2", 1, 70)


def test_71_ucs2_units_need_two_segments():
    assert sms_segments("ś" * 71) == SmsInfo("UCS-2", 2, 71)


def test_a_multipart_ucs2_segment_holds_67_units():
    assert sms_segments("ś" * 134).segments == 2
    assert sms_segments("ś" * 135).segments == 3


def test_urdu_text_is_ucs2_one_unit_per_letter():
    assert sms_segments(URDU_WORD * 10) == SmsInfo("UCS-2", 1, 70)


def test_urdu_text_of_201_units_fits_three_segments():
    assert sms_segments("ا" * 201).segments == 3
    assert sms_segments("ا" * 202).segments == 4


def test_an_emoji_takes_two_utf16_units():
    assert sms_segments("🙂") == SmsInfo("UCS-2", 1, 2)


def test_an_emoji_is_not_split_across_segments():
    info = sms_segments("a" * 66 + "🙂" + "a" * 66)
    assert (info.units, info.segments) == (134, 3)


def test_greek_capitals_of_the_gsm_set_are_gsm7_but_lower_case_greek_is_not():
    assert is_gsm7("ΔΦΓΛΩΠΨΣΘΞ")
    assert not is_gsm7("α")


def test_empty_text_has_no_segments():
    assert sms_segments("") == SmsInfo("GSM-7", 0, 0)


def test_non_gsm_characters_lists_each_offender_once_in_order():
    assert non_gsm_characters("zażółć ż") == ["ż", "ó", "ł", "ć"]


# ---- smart encoding ------------------------------------------------------------------------


def test_smart_encoding_straightens_curly_quotes():
    assert smart_encode("“Don’t”") == '"Don\'t"'


def test_smart_encoding_turns_en_and_em_dashes_into_hyphens():
    assert smart_encode("a – b — c") == "a - b - c"


def test_smart_encoding_expands_the_ellipsis():
    assert smart_encode("wait…") == "wait..."


def test_smart_encoding_turns_a_non_breaking_space_into_a_space():
    assert smart_encode("0300\u00a0123") == "0300 123"


def test_smart_encoding_removes_zero_width_spaces():
    assert smart_encode("a\u200bb") == "ab"


def test_smart_encoding_leaves_polish_and_urdu_letters_alone():
    assert smart_encode("zażółć " + URDU_WORD) == "zażółć " + URDU_WORD


def test_a_curly_apostrophe_alone_would_force_ucs2():
    assert sms_segments("Don’t").encoding == "UCS-2"


def test_counting_for_sending_applies_smart_encoding_first():
    assert count_for_sending("Don’t worry – we’re here…") == SmsInfo("GSM-7", 1, 27)


def test_counting_for_sending_keeps_a_long_curly_quoted_text_in_gsm7_segments():
    # 100 curly apostrophes would be two UCS-2 segments; smart-encoded they are one GSM-7.
    assert count_for_sending("’" * 100) == SmsInfo("GSM-7", 1, 100)
