"""The safe YAML reader: plain values, a line for every key, hostile input refused with a
located problem and never a traceback."""

from pathlib import Path

import pytest

from incident_bot.adapters.located_yaml import MAX_BYTES, MAX_DEPTH, parse_yaml, read_yaml
from incident_bot.errors import InputError


def only_problem(source: bytes | str) -> str:
    with pytest.raises(InputError) as caught:
        parse_yaml(source, "f.yaml")
    assert len(caught.value.problems) == 1
    return str(caught.value.problems[0])


def test_values_are_plain_python():
    doc = parse_yaml("a: 1\nb: [x, {y: 2.5}]\nc: true\nd:\n", "f.yaml")
    assert doc.data == {"a": 1, "b": ["x", {"y": 2.5}], "c": True, "d": None}


def test_every_key_and_list_item_has_its_line():
    doc = parse_yaml("a: 1\nb:\n  - x\n  - y: 2\n    z: 3\n", "f.yaml")
    assert (doc.lines[("a",)], doc.lines[("b",)], doc.lines[("b", 1)]) == (1, 2, 4)
    assert doc.lines[("b", 1, "z")] == 5


def test_a_path_not_in_the_file_takes_its_nearest_ancestors_line():
    doc = parse_yaml("a: 1\nb:\n  c: 2\n", "f.yaml")
    assert doc.line(("b", "missing", 3)) == 2


def test_keys_are_always_text():
    assert parse_yaml("1: one\ntrue: yes\n", "f.yaml").data == {"1": "one", "true": "yes"}


def test_yes_no_on_off_stay_words_so_a_language_code_no_is_not_false():
    doc = parse_yaml("languages: [en, no]\nflag: on\n", "f.yaml")
    assert doc.data == {"languages": ["en", "no"], "flag": "on"}


def test_colon_numbers_are_not_base_60():
    assert parse_yaml("at: 1:30\n", "f.yaml").data == {"at": "1:30"}


def test_a_leading_zero_number_stays_text_not_octal():
    assert parse_yaml("helpline: 0123\n", "f.yaml").data == {"helpline": "0123"}


def test_plain_decimal_numbers_are_numbers():
    assert parse_yaml("a: -12\nb: 0\nc: 2.5\n", "f.yaml").data == {"a": -12, "b": 0, "c": 2.5}


def test_timestamps_stay_text_for_the_caller_to_parse():
    doc = parse_yaml("at: 2026-05-01T06:00:00+00:00\n", "f.yaml")
    assert doc.data == {"at": "2026-05-01T06:00:00+00:00"}


def test_an_empty_document_is_none():
    assert parse_yaml(b"", "f.yaml").data is None


def test_a_utf8_byte_order_mark_is_accepted():
    assert parse_yaml(b"\xef\xbb\xbfa: 1\n", "f.yaml").data == {"a": 1}


def test_an_alias_is_refused_where_its_anchor_is():
    assert only_problem("a: &x [1, 2]\nb: *x\n") == (
        "f.yaml:1: <root>: anchor '&x' is not allowed: write values out"
    )


def test_a_billion_laughs_document_is_refused_without_expanding():
    laughs = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
        f"{n}: &{n} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
        for p, n in zip("abcdefgh", "bcdefghi", strict=True)
    )
    assert "anchor '&a' is not allowed" in only_problem(laughs)


def test_a_merge_key_is_refused():
    assert only_problem("<<: {a: 1}\n") == (
        "f.yaml:1: <root>: merge keys ('<<') are not allowed: write the keys out"
    )


def test_nesting_deeper_than_the_limit_is_refused():
    assert only_problem("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)) == (
        f"f.yaml:1: <root>: nested more than {MAX_DEPTH} levels deep (column {MAX_DEPTH + 1})"
    )


def test_nesting_at_the_limit_is_read():
    assert parse_yaml("[" * MAX_DEPTH + "]" * MAX_DEPTH, "f.yaml").data is not None


def test_very_deep_nesting_is_refused_without_a_recursion_error():
    assert "nested more than" in only_problem("[" * 100_000)


def test_a_duplicate_key_names_the_line_of_the_first():
    assert only_problem("a: 1\nb: 2\na: 3\n") == (
        "f.yaml:3: <root>: duplicate key 'a' (first given on line 1)"
    )


def test_a_duplicate_key_inside_a_list_item_is_refused():
    assert "duplicate key 'id'" in only_problem("- id: x\n  id: y\n")


def test_a_list_as_a_key_is_refused():
    assert only_problem("? [a]\n: 1\n") == (
        "f.yaml:1: <root>: a key must be a plain word, not a list or mapping"
    )


def test_a_syntax_error_gives_line_and_column():
    assert only_problem("a: 1\nb: [x\nc: 2\n") == (
        "f.yaml:3: <root>: YAML syntax error (column 2): expected ',' or ']', but got ':'"
    )


def test_two_documents_in_one_file_are_refused():
    assert "but found another document" in only_problem("a: 1\n---\nb: 2\n")


def test_an_unknown_tag_is_refused():
    assert "could not determine a constructor" in only_problem("a: !!python/object:os.system 1\n")


def test_bytes_that_are_not_utf8_are_located():
    assert only_problem(b"a: 1\nb: caf\xe9\n") == (
        "f.yaml:2: <root>: the file is not UTF-8 text (byte 0xe9): save it as UTF-8"
    )


def test_a_control_character_is_located():
    assert only_problem("a: 1\nb: \x07\n") == "f.yaml:2: <root>: character U+0007 is not allowed"


def test_a_number_too_long_to_convert_is_refused():
    assert only_problem("a: " + "9" * 5000) == "f.yaml:1: <root>: number is too long"


def test_read_yaml_names_problems_by_the_given_name(tmp_path: Path):
    path = tmp_path / "x.yaml"
    path.write_text("a: [\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_yaml(path, "playbooks/x.yaml")
    assert caught.value.problems[0].file == "playbooks/x.yaml"


def test_a_file_over_one_mebibyte_is_refused_before_parsing(tmp_path: Path):
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * (MAX_BYTES + 1))
    with pytest.raises(InputError) as caught:
        read_yaml(path)
    assert str(caught.value.problems[0]) == (
        f"{path}:?: <root>: file is {MAX_BYTES + 1} bytes; the limit is {MAX_BYTES} (1 MiB)"
    )


def test_a_file_of_exactly_one_mebibyte_is_read(tmp_path: Path):
    path = tmp_path / "full.yaml"
    path.write_bytes(b"a: 1\n" + b"#" * (MAX_BYTES - 5))
    assert read_yaml(path).data == {"a": 1}


def test_a_missing_file_is_a_problem_not_a_traceback(tmp_path: Path):
    with pytest.raises(InputError) as caught:
        read_yaml(tmp_path / "absent.yaml")
    assert "cannot read the file" in caught.value.problems[0].message


def test_a_large_file_with_a_syntax_error_is_located_without_a_second_parse():
    text = "note: '" + "x" * 70_000 + "'\nb: [x\nc: 2\n"
    assert only_problem(text).startswith("f.yaml:3: <root>: YAML syntax error (column ")
