"""Hostile directory files: whatever is in a CSV or YAML directory file, parsing gives people
and located problems (``file:line: column: reason``) or one DirectoryImportError, never a
traceback and never a hang; no problem message repeats a phone number in full.

The examples are derandomised (the same on every run) and bounded in number and size."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incident_bot.adapters import directory_import
from incident_bot.adapters.directory_import import COLUMNS, ParseResult, parse_directory
from incident_bot.errors import DirectoryImportError

ROOT = Path(__file__).parents[2]
SAMPLE = ROOT / "incident_bot" / "data" / "sample_directory.csv"
ROLES = {"bcu_commander", "police_silver", "caller", "engagement_lead",
         "neighbourhood_inspector"}
FUZZ = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FULL_NUMBER = re.compile(r"(?<![A-Za-z0-9])(?:\+?44|0)\d{9,10}")


def parse_outcome(path: Path) -> ParseResult | DirectoryImportError:
    try:
        return parse_directory(path, ROLES)
    except DirectoryImportError as error:
        return error


def assert_located(path: Path, outcome: ParseResult | DirectoryImportError) -> None:
    problems = outcome.problems
    if isinstance(outcome, DirectoryImportError):
        assert problems
    for problem in problems:
        assert problem.file == str(path)
        assert problem.line is None or problem.line >= 1
        assert problem.path, str(problem)  # the column, "row", "header" or "file"
        assert problem.message
        assert not re.search(r"[\r\n]", str(problem)), str(problem)
        assert not FULL_NUMBER.search(problem.message.replace(" ", "")), str(problem)
    if isinstance(outcome, ParseResult):
        assert all(p.line is not None for p in problems)
        assert all(p.phone is None or p.phone.startswith("+") for p in outcome.people)


def scratch(tmp_path_factory: Any) -> Path:
    """One directory reused by every example (a new one per example costs more than a test)."""
    folder = tmp_path_factory.getbasetemp() / "hostile"
    folder.mkdir(exist_ok=True)
    return folder


def write(tmp_path: Path, content: bytes | str, name: str = "d.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8", "surrogatepass") if isinstance(content, str)
                     else content)
    return path


def check(tmp_path_factory: Any, content: bytes | str, name: str = "d.csv") -> None:
    path = write(scratch(tmp_path_factory), content, name)
    assert_located(path, parse_outcome(path))


# ---- CSV ---------------------------------------------------------------------------------------

CELL = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["07700 900123", "+44 7700 900123", "0044 7700 900123", "+1 202 555 0100",
                     "7700900123", "+447700900123" * 3, "tel:07700900123", "=cmd|' /C calc'!A0",
                     "U0ABC123", "W123", "slack;phone;sms", "email", "0", "4", "5", "-1", "1.0",
                     "2026-02-30", "2026-09-14", "bcu_commander;caller", "unknown_role", "en",
                     "xx-yy", "a" * 300, "\x00", "\ufeff", "\u2028", '"', '""', ",", "\r\n",
                     "nb-pol-01", "Supt Alex Testwood"]),
)
HEADERS = st.sampled_from([
    ",".join(COLUMNS), ",".join(reversed(COLUMNS)), ",".join(COLUMNS[1:]),
    ",".join(COLUMNS) + ",notes", ",".join(COLUMNS) + ",name", "Name,Organisation", "", "\ufeff",
    " ID , Name , Organisation , Roles , Tier , Slack user ID , Phone , Language , Channels , "
    "Deputy , Verified on",
])


def _csv(header: str, rows: list[list[str]], line_end: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=line_end)
    for row in rows:
        writer.writerow(row)
    return header + line_end + buffer.getvalue()


@FUZZ
@given(header=HEADERS, rows=st.lists(st.lists(CELL, max_size=13), max_size=12),
       line_end=st.sampled_from(["\n", "\r\n", "\r"]))
def test_random_csv_rows_parse_or_are_located(tmp_path_factory, header: str,
                                              rows: list[list[str]], line_end: str):
    check(tmp_path_factory, _csv(header, rows, line_end))


@FUZZ
@given(st.text(max_size=600))
def test_random_text_as_csv_parses_or_is_located(tmp_path_factory, text: str):
    check(tmp_path_factory, ",".join(COLUMNS) + "\n" + text)


@FUZZ
@given(st.binary(max_size=1500))
def test_random_bytes_as_csv_parse_or_are_located(tmp_path_factory, raw: bytes):
    check(tmp_path_factory, raw)


@FUZZ
@given(prefix=st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xef\xbb\xbf" * 2]),
       line_end=st.sampled_from([b"\n", b"\r\n", b"\r"]),
       insert=st.sampled_from([b"", b"\x00", b"\xc3\x28", b"\xed\xa0\x80", b'"', b"\n",
                               b"\x85", b"\xe2\x80\xa8"]),
       at=st.integers(min_value=0, max_value=12_000))
def test_boms_line_ends_nul_and_bad_bytes_in_the_sample_directory(
        tmp_path_factory, prefix: bytes, line_end: bytes, insert: bytes, at: int):
    body = SAMPLE.read_bytes().replace(b"\n", line_end)
    at = min(at, len(body))
    check(tmp_path_factory, prefix + body[:at] + insert + body[at:])


# ---- YAML --------------------------------------------------------------------------------------

VALUE = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**25), max_value=10**25),
    st.floats(), st.text(max_size=15), CELL,
    st.lists(st.text(max_size=8) | st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
ENTRY = st.dictionaries(st.sampled_from([*COLUMNS, "notes", "Name", ""]), VALUE, max_size=12)


@FUZZ
@given(st.lists(ENTRY | VALUE, max_size=10) | VALUE)
def test_wrong_types_in_a_yaml_directory_parse_or_are_located(tmp_path_factory, data: Any):
    check(tmp_path_factory, yaml.safe_dump(data, allow_unicode=True), "d.yaml")


@FUZZ
@given(st.binary(max_size=1500))
def test_random_bytes_as_yaml_parse_or_are_located(tmp_path_factory, raw: bytes):
    check(tmp_path_factory, raw, "d.yaml")


# ---- limits ------------------------------------------------------------------------------------

def test_a_csv_over_five_mebibytes_is_refused_before_parsing(tmp_path: Path):
    path = write(tmp_path, ",".join(COLUMNS) + "\n" + "x" * directory_import.MAX_BYTES)
    outcome = parse_outcome(path)
    assert isinstance(outcome, DirectoryImportError)
    assert "5 MiB" in str(outcome)


def test_a_csv_of_more_than_fifty_thousand_rows_is_refused_at_the_first_row_too_many(
        tmp_path: Path):
    path = write(tmp_path, ",".join(COLUMNS) + "\n" + "a,b\n" * 50_001)
    outcome = parse_outcome(path)
    assert isinstance(outcome, DirectoryImportError)
    assert str(outcome.problems[0]) == f"{path}:50002: file: more than 50000 rows: split the file"


def test_a_yaml_directory_with_aliases_is_refused_with_a_line(tmp_path: Path):
    path = write(tmp_path, "- &p {name: A}\n- *p\n", "d.yaml")
    outcome = parse_outcome(path)
    assert isinstance(outcome, DirectoryImportError)
    assert str(outcome.problems[0]).startswith(f"{path}:1: ")
    assert "anchor '&p' is not allowed" in str(outcome)


def test_a_deeply_nested_yaml_directory_is_refused_with_a_line(tmp_path: Path):
    path = write(tmp_path, "[" * 5_000, "d.yaml")
    outcome = parse_outcome(path)
    assert isinstance(outcome, DirectoryImportError)
    assert "nested more than 50 levels deep" in str(outcome)


def test_a_cell_spanning_the_whole_file_is_located_at_its_first_line(tmp_path: Path):
    path = write(tmp_path, ",".join(COLUMNS) + '\nk,"' + "x\n" * 1000)
    outcome = parse_outcome(path)
    assert_located(path, outcome)


def test_a_file_without_its_header_line_does_not_echo_the_first_rows_number(tmp_path: Path):
    """Found by fuzzing: with the header left out, the first data row was echoed in full as
    "the header line has: ..." — phone numbers included."""
    path = write(tmp_path, "k-1,Kim Keyperson,Testtown Forum,,1,,+447700900123,en,sms,,\n")
    outcome = parse_outcome(path)
    assert isinstance(outcome, DirectoryImportError)
    assert "missing required column(s)" in str(outcome)
    assert "+447700900123" not in str(outcome)
    assert_located(path, outcome)
