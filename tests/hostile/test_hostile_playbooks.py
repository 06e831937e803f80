"""Hostile playbook files: whatever bytes are in the file, loading gives a playbook or located
problems (``file:line: key.path: message``), never a traceback and never a hang.

The examples are derandomised (the same on every run, so CI is deterministic) and bounded so
the whole folder stays well under a minute."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incident_bot.adapters import located_yaml
from incident_bot.adapters.playbook_loader import load_playbook
from incident_bot.domain.playbook import Playbook
from incident_bot.errors import PlaybookError

ROOT = Path(__file__).parents[2]
CT_PLAYBOOK = ROOT / "playbooks" / "ct-arrests-and-searches.yaml"
TEMPLATES = ROOT / "message_templates"
FUZZ = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def load_outcome(path: Path, templates: Path | None = None) -> Playbook | PlaybookError:
    """The playbook, or the PlaybookError; any other exception fails the test."""
    try:
        return load_playbook(path, templates)
    except PlaybookError as error:
        return error


def assert_located(error: PlaybookError, path: Path) -> None:
    assert error.problems
    for problem in error.problems:
        assert problem.file == str(path)
        assert problem.line is None or problem.line >= 1
        assert problem.message
        assert "\n" not in str(problem), str(problem)
    assert any(p.line is not None for p in error.problems) or _whole_file(error)


def _whole_file(error: PlaybookError) -> bool:
    return all("limit" in p.message or "cannot read" in p.message for p in error.problems)


def scratch(tmp_path_factory: Any) -> Path:
    """One directory reused by every example (a new one per example costs more than a test)."""
    folder = tmp_path_factory.getbasetemp() / "hostile"
    folder.mkdir(exist_ok=True)
    return folder


def write(tmp_path: Path, content: bytes | str, name: str = "fuzz.yaml") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8", "surrogatepass") if isinstance(content, str)
                     else content)
    return path


def assert_loads_or_located(path: Path, templates: Path | None = None) -> None:
    outcome = load_outcome(path, templates)
    if isinstance(outcome, PlaybookError):
        assert_located(outcome, path)
    else:
        assert isinstance(outcome, Playbook)


# ---- random text and bytes --------------------------------------------------------------------

YAML_PIECES = st.sampled_from([
    "id: fuzz\n", "title: T\n", "roles:\n", "  - ", "- ", "{", "}", "[", "]", ": ", ", ", "&a ",
    "*a", "!!python/object:os.system ", "!!binary ", "\t", "'", '"', "|\n", ">\n", "#", "---\n",
    "...\n", "? ", "<<: ", "%YAML 1.1\n", "\r\n", "\x00", "\ufeff", "\x85", "\u2028", "é",
    "1e999", "0x1F", "0o17", "1_000", ".inf", ".nan", "~", "null", "yes", "2026-05-01T05:30Z",
    "T0+2h", "9" * 5000,
])


@FUZZ
@given(st.lists(YAML_PIECES | st.text(max_size=20), max_size=60).map("".join))
def test_random_yaml_like_text_loads_or_is_located(tmp_path_factory, text: str):
    path = write(scratch(tmp_path_factory), text)
    assert_loads_or_located(path)


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes_load_or_are_located(tmp_path_factory, raw: bytes):
    path = write(scratch(tmp_path_factory), raw)
    assert_loads_or_located(path)


@FUZZ
@given(prefix=st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"]),
       line_end=st.sampled_from([b"\n", b"\r\n", b"\r"]),
       insert=st.sampled_from([b"", b"\x00", b"\xc3\x28", b"\xed\xa0\x80", b"\x1b[31m"]),
       at=st.integers(min_value=0, max_value=40_000))
def test_boms_line_ends_nul_and_bad_bytes_in_a_real_playbook(tmp_path_factory, prefix: bytes,
                                                             line_end: bytes, insert: bytes,
                                                             at: int):
    body = CT_PLAYBOOK.read_bytes().replace(b"\n", line_end)
    at = min(at, len(body))
    path = write(scratch(tmp_path_factory), prefix + body[:at] + insert + body[at:],
                 "ct-arrests-and-searches.yaml")
    assert_loads_or_located(path, TEMPLATES)


# ---- wrong types at every key -----------------------------------------------------------------

def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


CT_DATA = yaml.safe_load(CT_PLAYBOOK.read_text(encoding="utf-8"))
CT_PATHS = _paths(CT_DATA)
WRONG_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(),
                                                         max_size=3),
    st.just([[[]]]), st.just({"": None}), st.just("x" * 10_000),
)


def _replace(data: Any, path: tuple[Any, ...], value: Any, delete: bool) -> Any:
    data = copy.deepcopy(data)
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return data


@settings(FUZZ, max_examples=100)  # each example loads and checks the whole CT playbook
@given(path=st.sampled_from(CT_PATHS), value=WRONG_VALUES, delete=st.booleans())
def test_a_wrong_type_or_missing_value_at_any_key_is_located(tmp_path_factory, path, value,
                                                            delete: bool):
    mutated = _replace(CT_DATA, path, value, delete)
    path_file = write(scratch(tmp_path_factory), yaml.safe_dump(mutated, sort_keys=False),
                      "ct-arrests-and-searches.yaml")
    assert_loads_or_located(path_file, TEMPLATES)


@FUZZ
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=40))
def test_any_yaml_document_shape_loads_or_is_located(tmp_path_factory, document: Any):
    path = write(scratch(tmp_path_factory), yaml.safe_dump(document))
    assert_loads_or_located(path)


# ---- size, depth and expansion limits ---------------------------------------------------------

def test_a_playbook_over_one_mebibyte_is_refused_before_parsing(tmp_path: Path):
    path = write(tmp_path, b"# padding\n" * (located_yaml.MAX_BYTES // 10 + 1))
    error = load_outcome(path)
    assert isinstance(error, PlaybookError)
    assert "limit" in str(error)
    assert "1 MiB" in str(error)


@pytest.mark.parametrize("opening", ["[", "{a: ", "- "])
def test_nesting_ten_thousand_deep_is_refused_with_a_line(tmp_path: Path, opening: str):
    text = opening * 10_000 if opening != "- " else \
        "".join("  " * i + "-\n" for i in range(200))
    path = write(tmp_path, text)
    error = load_outcome(path)
    assert isinstance(error, PlaybookError)
    assert_located(error, path)
    assert any("nested more than 50 levels deep (column " in p.message for p in error.problems)


def test_billion_laughs_aliases_are_refused_at_the_first_anchor(tmp_path: Path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]"
              for i in range(9)]
    path = write(tmp_path, "\n".join(lines) + "\n")
    error = load_outcome(path)
    assert isinstance(error, PlaybookError)
    assert str(error.problems[0]) == f"{path}:1: <root>: anchor '&a' is not allowed: " \
                                     "write values out"


def test_a_huge_single_line_under_the_limit_is_handled(tmp_path: Path):
    path = write(tmp_path, "id: " + "x" * (located_yaml.MAX_BYTES - 100) + "\n")
    error = load_outcome(path)
    assert isinstance(error, PlaybookError)
    assert_located(error, path)


def test_fifty_thousand_list_items_are_refused_quickly(tmp_path: Path):
    path = write(tmp_path, "roles:\n" + "  - r\n" * 60_000)
    error = load_outcome(path)
    assert isinstance(error, PlaybookError)
    assert_located(error, path)
    assert "more than 50000 values" in str(error)


def test_a_file_with_thousands_of_bad_items_reports_a_bounded_number_of_problems(
        tmp_path: Path):
    path = write(tmp_path, "roles:\n" + "  - {code: r, title: t}\n" * 4_000)
    error = load_outcome(path)
    assert isinstance(error, PlaybookError)
    assert len(error.problems) <= 501
    assert "more problem(s) not shown" in error.problems[-1].message


def test_a_syntax_error_at_the_end_of_a_big_file_is_located_on_its_line(tmp_path: Path):
    path = write(tmp_path, "id: x\nvariables:\n" + "  v: w\n" * 20_000 + "  a: [b: c: d\n")
    error = load_outcome(path)
    assert isinstance(error, PlaybookError)
    assert str(error.problems[0]).startswith(f"{path}:20003: <root>: YAML syntax error")


@pytest.mark.parametrize("timeout", [-86_399_999_918_080, 10**15, "99999999999d", "9" * 400 + "h"])
def test_a_duration_too_long_for_the_clock_is_located_not_an_overflow(tmp_path: Path,
                                                                       timeout: object):
    """Found by the wrong-type fuzz test: an integer timeout of -86399999918080 seconds
    overflowed ``timedelta`` (OverflowError) instead of becoming a located problem."""
    data = _replace(CT_DATA, ("tiers", 0, "ladder", 0, "timeout"), timeout, delete=False)
    path = write(tmp_path, yaml.safe_dump(data, sort_keys=False), "ct-arrests-and-searches.yaml")
    error = load_outcome(path, TEMPLATES)
    assert isinstance(error, PlaybookError)
    assert [p.path for p in error.problems] == ["tiers[0].ladder[#1].timeout"]
    assert "is too long: a duration is at most ten years" in error.problems[0].message


def test_a_control_character_after_accented_text_is_located_on_its_own_line(tmp_path: Path):
    """libyaml counts bytes, not characters: the line must still be the character's own."""
    path = write(tmp_path, "description: Zoë Ångström\n" * 100 + "title: \x01\n")
    error = load_outcome(path)
    assert isinstance(error, PlaybookError)
    assert str(error.problems[0]) == f"{path}:101: <root>: character U+0001 is not allowed"
