"""The shipped key-message templates in ``message_templates/``: complete, renderable, within SMS
budgets, and within the tone rules (facts only; "arrested", never "terrorists"; nothing about
the faith or ethnicity of anyone arrested)."""

import re
from pathlib import Path

import pytest

from incident_bot.adapters.templates import SAMPLE_VALUES, TemplateStore
from incident_bot.domain.codes import RESERVED_WORDS
from incident_bot.domain.personalise import marker, marker_values
from incident_bot.domain.sms import count_for_sending

ROOT = Path(__file__).parents[1] / "message_templates"
STORE = TemplateStore(ROOT)

COMMUNITY_FACING = {
    "ring-round-script", "ring-round-sms", "joint-reassurance", "joint-reassurance-sms",
    "cordon-residents", "hate-incident-reporting", "schools-parents", "rumour-correction",
    "release-statement", "release-sms",
}
TEMPLATE_IDS = COMMUNITY_FACING | {"public-holding-statement", "member-briefing", "outcome-charge"}
SMS_IDS = {"ring-round-sms", "joint-reassurance-sms", "release-sms"}
KINDS = {"ring-round-script": "script", "member-briefing": "briefing",
         **dict.fromkeys(SMS_IDS, "sms")}
ALLOWED_VARIABLES = {
    # built-ins
    "area", "incident_title", "t0_time", "t0_date", "e0_time", "summary", "classification",
    "arrest_count", "contact_point", "next_update", "caller_name", "contact_name",
    "confirm_code",
    # playbook variables
    "partnership_name", "helpline", "updates_url", "hate_report_url", "third_party_centre",
    "welfare_location", "roads_affected", "court_date", "court_name", "charge_summary",
    "rumour_claim", "rumour_fact", "cannot_say_yet", "release_outcome",
}
# The points of each message (domain brief section 5) that travel in a variable: every
# language must carry them.
REQUIRED_VARIABLES = {
    "public-holding-statement": {"area", "t0_time", "arrest_count", "roads_affected",
                                 "updates_url"},
    "ring-round-script": {"caller_name", "partnership_name", "area", "arrest_count",
                          "contact_point"},
    "ring-round-sms": {"area", "confirm_code"},
    "member-briefing": {"area", "arrest_count", "contact_point", "next_update"},
    "joint-reassurance": {"area", "hate_report_url", "updates_url"},
    "joint-reassurance-sms": {"area", "confirm_code"},
    "cordon-residents": {"roads_affected", "welfare_location", "helpline", "next_update"},
    "hate-incident-reporting": {"hate_report_url", "third_party_centre"},
    "schools-parents": {"area", "updates_url"},
    "rumour-correction": {"rumour_claim", "rumour_fact", "cannot_say_yet", "updates_url"},
    "outcome-charge": {"charge_summary", "court_name", "court_date"},
    "release-statement": {"release_outcome", "helpline"},
    "release-sms": {"release_outcome", "helpline", "confirm_code"},
}
# The points carried in wording, checked in the reviewed English original.
REQUIRED_PHRASES = {
    "public-holding-statement": ["pre-planned operation", "Terrorism Act", "searching",
                                 "roads are closed", "happy to talk", "do not speculate",
                                 "trial"],
    "ring-round-script": ["working together", "pass on only", "worries, rumours"],
    "member-briefing": ["What partners are doing", "What we ask of you", "Please do not",
                        "Media enquiries"],
    "joint-reassurance": ["concern individuals", "places of worship", "will not be tolerated",
                          "check before you share"],
    "joint-reassurance-sms": ["concern individuals", "places of worship",
                              "will not be tolerated", "Check before you share"],
    "hate-incident-reporting": ["999", "101", "online"],
    "schools-parents": ["Dear parents and carers"],
    "rumour-correction": ["not correct", "cannot say yet"],
    "outcome-charge": ["proceedings are now active", "fair trial"],
    "release-statement": ["families", "will be dealt with"],
    "release-sms": ["families", "will be dealt with"],
}
# Tone: words that label, speculate about motive, or point at a faith. Urdu and Polish forms
# too ("دہشت گرد" but not "دہشت گردی", terrorism, as in the name of the Act).
FORBIDDEN = re.compile(
    r"terrorists?\b|islamist|muslim|jihad|extremist|terroryst|muzułma"
    r"|دہشت\s*گرد(?!ی)|مسلمان|اسلام\s*پسند|جہادی",
    re.IGNORECASE,
)
SCRIPT_WORD_LIMIT = 150  # about 60 seconds spoken

ALL_FILES = sorted((t, lang) for t in STORE.templates() for lang in STORE.languages(t))
TRANSLATIONS = [(t, lang) for t, lang in ALL_FILES if lang != "en"]


def ids(pairs: list[tuple[str, str]]) -> list[str]:
    return [f"{t}.{lang}" for t, lang in pairs]


# ---- completeness --------------------------------------------------------------------------


@pytest.mark.parametrize("template", sorted(TEMPLATE_IDS))
def test_every_template_id_has_an_english_original(template: str):
    assert STORE.exists(template, "en")


@pytest.mark.parametrize("template", sorted(COMMUNITY_FACING))
@pytest.mark.parametrize("language", ["ur", "pl"])
def test_every_community_facing_template_is_translated(template: str, language: str):
    assert STORE.exists(template, language)


def test_there_are_no_templates_outside_the_shared_vocabulary():
    assert set(STORE.templates()) == TEMPLATE_IDS


# ---- front matter --------------------------------------------------------------------------


@pytest.mark.parametrize("template", sorted(TEMPLATE_IDS))
def test_english_originals_are_reviewed_and_not_translations(template: str):
    meta = STORE.meta(template, "en")
    assert (meta.reviewed, meta.translated_from) == (True, None)


@pytest.mark.parametrize(("template", "language"), TRANSLATIONS, ids=ids(TRANSLATIONS))
def test_translations_say_they_come_from_english(template: str, language: str):
    assert STORE.meta(template, language).translated_from == "en"


@pytest.mark.parametrize(("template", "language"), TRANSLATIONS, ids=ids(TRANSLATIONS))
def test_translations_state_whether_a_speaker_reviewed_them(template: str, language: str):
    text = (ROOT / f"{template}.{language}.j2").read_text(encoding="utf-8")
    assert re.search(r"^reviewed: (true|false)$", text, re.MULTILINE)


@pytest.mark.parametrize(("template", "language"), ALL_FILES, ids=ids(ALL_FILES))
def test_every_language_has_the_kind_of_its_message(template: str, language: str):
    assert STORE.meta(template, language).kind == KINDS.get(template, "statement")


# ---- variables and rendering ---------------------------------------------------------------


@pytest.mark.parametrize(("template", "language"), ALL_FILES, ids=ids(ALL_FILES))
def test_templates_use_only_the_shared_variables(template: str, language: str):
    assert STORE.variables(template, language) <= ALLOWED_VARIABLES


@pytest.mark.parametrize(("template", "language"), ALL_FILES, ids=ids(ALL_FILES))
def test_each_language_carries_the_points_held_in_variables(template: str, language: str):
    assert REQUIRED_VARIABLES[template] <= STORE.variables(template, language)


@pytest.mark.parametrize(("template", "language"), TRANSLATIONS, ids=ids(TRANSLATIONS))
def test_a_translation_adds_no_variable_its_original_lacks(template: str, language: str):
    assert STORE.variables(template, language) <= STORE.variables(template, "en")


@pytest.mark.parametrize(("template", "language"), ALL_FILES, ids=ids(ALL_FILES))
def test_every_template_renders_with_the_sample_values(template: str, language: str):
    text = STORE.render_sample(template, language)
    assert text
    assert "{{" not in text
    assert "{%" not in text


@pytest.mark.parametrize(("template", "language"), ALL_FILES, ids=ids(ALL_FILES))
def test_every_template_renders_before_the_arrest_count_is_known(template: str, language: str):
    # Drafts are rendered before the police confirm the number: it may be a placeholder.
    assert STORE.render_sample(template, language, {"arrest_count": "[number: to confirm]"})


@pytest.mark.parametrize(("template", "language"), ALL_FILES, ids=ids(ALL_FILES))
def test_per_recipient_markers_pass_through_unchanged(template: str, language: str):
    # The service drafts with markers such as {confirm_code}; the domain fills them per person.
    text = STORE.render_sample(template, language, marker_values())
    used = STORE.variables(template, language) & set(marker_values())
    assert all(marker(name) in text for name in used)


@pytest.mark.parametrize("template", sorted(TEMPLATE_IDS - SMS_IDS))
def test_a_single_arrest_reads_in_the_singular(template: str):
    text = STORE.render_sample(template, "en", {"arrest_count": "1"})
    assert "1 people" not in text
    assert "people have been" not in text


@pytest.mark.parametrize(("template", "phrase"),
                         [(t, p) for t, phrases in REQUIRED_PHRASES.items() for p in phrases])
def test_the_english_original_conveys_its_points(template: str, phrase: str):
    assert phrase.lower() in STORE.render_sample(template, "en").lower()


# ---- tone ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("template", "language"), ALL_FILES, ids=ids(ALL_FILES))
def test_no_template_labels_anyone_or_names_a_faith(template: str, language: str):
    text = (ROOT / f"{template}.{language}.j2").read_text(encoding="utf-8")
    assert FORBIDDEN.findall(text) == []


def test_the_tone_check_catches_the_words_it_is_for():
    samples = ["terrorists", "Terrorist", "Islamist", "Muslim", "دہشت گرد", "terrorysta"]
    assert all(FORBIDDEN.search(sample) for sample in samples)


def test_the_tone_check_allows_the_name_of_the_act():
    assert FORBIDDEN.search("Terrorism Act, انسداد دہشت گردی ایکٹ") is None


# ---- the ring-round script -----------------------------------------------------------------


def test_the_english_script_is_short_enough_to_say_in_a_minute():
    assert len(STORE.render_sample("ring-round-script", "en").split()) <= SCRIPT_WORD_LIMIT


def test_the_english_script_ends_by_asking_what_they_are_hearing():
    assert STORE.render_sample("ring-round-script", "en").endswith("What are you hearing?")


@pytest.mark.parametrize("language", STORE.languages("ring-round-script"))
def test_the_script_ends_with_a_question_in_every_language(language: str):
    assert STORE.render_sample("ring-round-script", language)[-1] in "?؟"


@pytest.mark.parametrize("language", STORE.languages("ring-round-script"))
def test_the_caller_says_who_they_are_in_every_language(language: str):
    text = STORE.render_sample("ring-round-script", language)
    assert SAMPLE_VALUES["caller_name"] in text


# ---- SMS -----------------------------------------------------------------------------------

SMS_FILES = [(t, lang) for t, lang in ALL_FILES if t in SMS_IDS]


@pytest.mark.parametrize("language", STORE.languages("ring-round-sms"))
def test_the_ring_round_sms_asks_for_the_confirmation_code(language: str):
    assert SAMPLE_VALUES["confirm_code"] in STORE.render_sample("ring-round-sms", language)


@pytest.mark.parametrize(("template", "language"), SMS_FILES, ids=ids(SMS_FILES))
def test_every_sms_asks_for_the_confirmation_code(template: str, language: str):
    assert "confirm_code" in STORE.variables(template, language)


@pytest.mark.parametrize(("template", "language"), SMS_FILES, ids=ids(SMS_FILES))
def test_no_sms_uses_a_word_carriers_act_on(template: str, language: str):
    words = set(re.findall(r"[A-Z]{2,}", STORE.render_sample(template, language)))
    assert words & RESERVED_WORDS == set()


@pytest.mark.parametrize(("template", "language"), SMS_FILES, ids=ids(SMS_FILES))
def test_every_sms_fits_three_segments(template: str, language: str):
    assert count_for_sending(STORE.render_sample(template, language)).segments <= 3


@pytest.mark.parametrize("template", sorted(SMS_IDS))
def test_english_sms_is_gsm7_in_at_most_two_segments(template: str):
    info = count_for_sending(STORE.render_sample(template, "en"))
    assert (info.encoding, info.segments <= 2) == ("GSM-7", True)


def test_the_ring_round_sms_fits_two_segments_in_english():
    assert count_for_sending(STORE.render_sample("ring-round-sms", "en")).segments <= 2


@pytest.mark.parametrize("language", ["ur", "pl"])
def test_the_ring_round_sms_fits_three_segments_in_ucs2_languages(language: str):
    info = count_for_sending(STORE.render_sample("ring-round-sms", language))
    assert (info.encoding, info.segments <= 3) == ("UCS-2", True)
