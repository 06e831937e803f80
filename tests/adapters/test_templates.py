"""TemplateStore: files with front matter, strict rendering, discovery and sample values."""

import os
from pathlib import Path

import pytest

from incident_bot.adapters.templates import SAMPLE_VALUES, TemplateMeta, TemplateStore
from incident_bot.errors import TemplateError

ENGLISH = ("---\ntitle: Note\nkind: sms\nreviewed: true\n---\n"
           "Hello {{ area }}, code {{ confirm_code }}\n")
URDU = ("---\ntitle: Note (Urdu)\nkind: sms\nreviewed: false\ntranslated_from: en\n---\n"
        "سلام {{ area }}\n")
BUILT_INS = {"area", "incident_title", "t0_time", "t0_date", "e0_time", "summary",
             "classification", "arrest_count", "contact_point", "next_update", "caller_name",
             "contact_name", "confirm_code"}
PLAYBOOK_VARIABLES = {"partnership_name", "helpline", "updates_url", "hate_report_url",
                      "third_party_centre", "welfare_location", "roads_affected", "court_date",
                      "court_name", "charge_summary", "rumour_claim", "rumour_fact",
                      "cannot_say_yet", "release_outcome"}


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write(tmp_path, "note.en.j2", ENGLISH)
    write(tmp_path, "note.ur.j2", URDU)
    return tmp_path


@pytest.fixture
def store(folder: Path) -> TemplateStore:
    return TemplateStore(folder)


# ---- front matter --------------------------------------------------------------------------


def test_meta_reads_the_front_matter_of_an_original(store: TemplateStore):
    assert store.meta("note", "en") == TemplateMeta("Note", "sms", True, None)


def test_meta_reads_the_front_matter_of_a_translation(store: TemplateStore):
    assert store.meta("note", "ur") == TemplateMeta("Note (Urdu)", "sms", False, "en")


def test_the_front_matter_is_not_part_of_the_rendered_text(store: TemplateStore):
    assert store.render("note", "en", {"area": "X", "confirm_code": "K7QM"}) == \
        "Hello X, code K7QM"


def test_a_kind_outside_the_four_kinds_is_refused(folder: Path, store: TemplateStore):
    write(folder, "odd.en.j2", "---\ntitle: Odd\nkind: poem\nreviewed: true\n---\nHi")
    with pytest.raises(TemplateError, match=r"odd\.en\.j2: front matter 'kind' must be one of"):
        store.meta("odd", "en")


def test_reviewed_must_be_a_boolean(folder: Path, store: TemplateStore):
    write(folder, "odd.en.j2", "---\ntitle: Odd\nkind: sms\nreviewed: maybe\n---\nHi")
    with pytest.raises(TemplateError, match="'reviewed' must be true or false"):
        store.meta("odd", "en")


def test_a_missing_title_is_refused(folder: Path, store: TemplateStore):
    write(folder, "odd.en.j2", "---\nkind: sms\nreviewed: true\n---\nHi")
    with pytest.raises(TemplateError, match="needs a 'title'"):
        store.meta("odd", "en")


def test_meta_of_a_file_without_front_matter_is_an_error(folder: Path, store: TemplateStore):
    write(folder, "bare.en.j2", "Hello {{ area }}")
    with pytest.raises(TemplateError, match=r"bare\.en\.j2: no front matter"):
        store.meta("bare", "en")


def test_a_file_without_front_matter_still_renders(folder: Path, store: TemplateStore):
    write(folder, "bare.en.j2", "Hello {{ area }}")
    assert store.render("bare", "en", {"area": "X"}) == "Hello X"


def test_front_matter_that_is_not_yaml_is_an_error_naming_the_file(folder: Path,
                                                                    store: TemplateStore):
    write(folder, "odd.en.j2", "---\ntitle: [unclosed\n---\nHi")
    with pytest.raises(TemplateError, match=r"odd\.en\.j2: front matter is not valid YAML"):
        store.render("odd", "en", {})


def test_a_byte_order_mark_does_not_hide_the_front_matter(folder: Path, store: TemplateStore):
    (folder / "bom.en.j2").write_text("\ufeff" + ENGLISH, encoding="utf-8")
    assert store.meta("bom", "en").title == "Note"


# ---- rendering -----------------------------------------------------------------------------


def test_a_missing_variable_is_an_error_naming_the_variable(store: TemplateStore):
    with pytest.raises(TemplateError, match="confirm_code"):
        store.render("note", "en", {"area": "X"})


def test_a_missing_variable_error_names_the_template_and_language(store: TemplateStore):
    with pytest.raises(TemplateError, match=r"template 'note' \(en\)"):
        store.render("note", "en", {"area": "X"})


def test_every_missing_variable_is_named_at_once(store: TemplateStore):
    with pytest.raises(TemplateError, match="needs variable\\(s\\) area, confirm_code "):
        store.render("note", "en", {})


def test_a_missing_language_is_an_error_naming_the_path(folder: Path, store: TemplateStore):
    with pytest.raises(TemplateError, match=str(folder / "note.pl.j2")):
        store.render("note", "pl", {"area": "X"})


def test_a_missing_template_is_an_error_naming_the_path(folder: Path, store: TemplateStore):
    with pytest.raises(TemplateError, match=str(folder / "nothing.en.j2")):
        store.render("nothing", "en", {})


def test_a_syntax_error_names_the_file_line_counting_the_front_matter(folder: Path,
                                                                      store: TemplateStore):
    write(folder, "broken.en.j2", "---\ntitle: B\nkind: sms\nreviewed: true\n---\nok\n{{ area ")
    with pytest.raises(TemplateError, match=r"broken\.en\.j2:7: "):
        store.render("broken", "en", {"area": "X"})


def test_variables_of_a_broken_template_is_an_error_naming_file_and_line(folder: Path,
                                                                        store: TemplateStore):
    write(folder, "broken.en.j2", "ok\n{% if %}")
    with pytest.raises(TemplateError, match=r"broken\.en\.j2:2: "):
        store.variables("broken", "en")


def test_text_is_not_html_escaped(folder: Path, store: TemplateStore):
    write(folder, "plain.en.j2", "{{ area }} <b>&</b>")
    assert store.render("plain", "en", {"area": "Smith & Sons <Ltd>"}) == \
        "Smith & Sons <Ltd> <b>&</b>"


def test_surrounding_blank_lines_and_the_trailing_newline_are_dropped(folder: Path,
                                                                      store: TemplateStore):
    write(folder, "airy.en.j2", "---\ntitle: A\nkind: sms\nreviewed: true\n---\n\n\nHi\n\n")
    assert store.render("airy", "en", {}) == "Hi"


def test_an_edited_file_is_rendered_afresh(folder: Path, store: TemplateStore):
    assert store.render("note", "en", {"area": "X", "confirm_code": "C"}).startswith("Hello")
    path = write(folder, "note.en.j2", ENGLISH.replace("Hello", "Hi"))
    os.utime(path, (1_000_000, 1_000_000))  # a different mtime, however fast the file system
    assert store.render("note", "en", {"area": "X", "confirm_code": "C"}).startswith("Hi ")


def test_a_template_id_that_could_leave_the_folder_is_refused(store: TemplateStore):
    with pytest.raises(TemplateError, match="is not a template id"):
        store.render("../secrets", "en", {})


def test_a_malformed_language_code_is_refused(store: TemplateStore):
    with pytest.raises(TemplateError, match="is not a language code"):
        store.render("note", "EN/x", {})


# ---- discovery -----------------------------------------------------------------------------


def test_languages_lists_each_file_of_a_template_sorted(store: TemplateStore):
    assert store.languages("note") == ["en", "ur"]


def test_languages_of_an_unknown_template_is_empty(store: TemplateStore):
    assert store.languages("nothing") == []


def test_templates_lists_ids_once_ignoring_misnamed_files(folder: Path, store: TemplateStore):
    write(folder, "other.pl.j2", "x")
    write(folder, "README.md", "x")
    write(folder, "nolang.j2", "x")
    assert store.templates() == ["note", "other"]


def test_exists_is_true_only_for_a_present_language(store: TemplateStore):
    assert (store.exists("note", "ur"), store.exists("note", "pl")) == (True, False)


def test_variables_are_found_in_every_branch_but_not_local_names(folder: Path,
                                                                  store: TemplateStore):
    write(folder, "branchy.en.j2",
          '{% set one = arrest_count == "1" %}{{ area }} {{ "a" if one else b_name }}')
    assert store.variables("branchy", "en") == {"arrest_count", "area", "b_name"}


# ---- sample values -------------------------------------------------------------------------


def test_render_sample_fills_variables_with_the_sample_values(store: TemplateStore):
    assert store.render_sample("note", "en") == "Hello Northbridge, code K7QM"


def test_render_sample_extra_values_override_samples(store: TemplateStore):
    assert store.render_sample("note", "en", {"area": "Eastham"}) == "Hello Eastham, code K7QM"


def test_sample_values_cover_every_built_in_variable():
    assert set(SAMPLE_VALUES) >= BUILT_INS


def test_sample_values_cover_every_playbook_variable():
    assert set(SAMPLE_VALUES) - BUILT_INS == PLAYBOOK_VARIABLES


def test_sample_values_are_never_empty():
    assert all(value.strip() for value in SAMPLE_VALUES.values())
