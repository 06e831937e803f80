"""Read a directory of people and contacts from CSV or YAML, checking every row.

Councils keep contact lists in spreadsheets, so CSV is the main format (YAML, a list of
mappings with the same fields, is accepted too). The columns and rules are documented in
``docs/directory.md``. A row with any error is rejected and reported as a located problem
(``file:line: column: reason``); good rows still import, unless the caller asks for strict.
Phone numbers are normalised to E.164 and never appear in full in a message.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import phonenumbers

from incident_bot.adapters.located_yaml import read_yaml
from incident_bot.domain.directory import NUMBER_CHANNELS, Person, person_key
from incident_bot.domain.playbook import Channel
from incident_bot.errors import DirectoryImportError, InputError, Problem
from incident_bot.service.ports import DirectoryRepository

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 50_000
MAX_YAML_VALUES = 300_000  # bounds the YAML parser's time (a few seconds at most)
MAX_SHOWN_COLUMNS = 20  # of a header echoed in a message
MAX_TEXT = 200  # the database's limit for keys, names and organisations
DEFAULT_REGION = "GB"
REQUIRED_COLUMNS = ("name", "organisation", "roles", "tier", "slack_user_id", "phone",
                    "language", "channels", "deputy", "verified_on")
COLUMNS = ("id", *REQUIRED_COLUMNS)
CONTACT_CHANNELS = (Channel.SLACK, Channel.PHONE, Channel.SMS, Channel.VOICE, Channel.EMAIL)
# Ofcom keeps these UK ranges for drama and exercises; libphonenumber calls them invalid.
FICTIONAL_UK_PREFIXES = ("7700900", "1632960")

_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,30}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_PHONE_CHARACTERS = re.compile(r"^[0-9+\-(). ]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_DATE_SHAPED = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")  # at most 8 digits: never a UK number


@dataclass(frozen=True)
class ParseResult:
    people: list[Person]
    problems: list[Problem]
    rejected: int = 0  # rows with at least one error

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


@dataclass(frozen=True)
class ImportReport:
    added: int
    updated: int
    unchanged: int
    rejected: int
    problems: tuple[Problem, ...] = ()
    imported: bool = True  # False when strict refused the whole file

    def summary(self) -> str:
        return (f"added {self.added}, updated {self.updated}, unchanged {self.unchanged}, "
                f"rejected {self.rejected}")


def import_directory(path: Path, known_roles: set[str], repo: DirectoryRepository,
                     strict: bool = False) -> ImportReport:
    """Upsert the good rows of ``path`` by key; with ``strict``, nothing if any row is bad.

    Raises DirectoryImportError when the file can't be read at all (nothing is imported).
    The caller owns the transaction: commit after this returns.
    """
    parsed = parse_directory(path, known_roles, existing=repo.all())
    problems = tuple(parsed.problems)
    if strict and parsed.errors:
        return ImportReport(0, 0, 0, parsed.rejected, problems, imported=False)
    upserted = repo.upsert(parsed.people)
    return ImportReport(upserted.added, upserted.updated, upserted.unchanged, parsed.rejected,
                        problems)


def parse_directory(path: Path, known_roles: set[str],
                    existing: Iterable[Person] = ()) -> ParseResult:
    """Every good row as a Person, and every problem; ``existing`` people resolve deputies.

    Raises DirectoryImportError when the file can't be read at all.
    """
    rows, file_problems = _read_yaml_rows(path) if path.suffix.lower() in (".yaml", ".yml") \
        else _read_csv_rows(path)
    known = list(existing)
    accepted = [(row, person) for row in rows if row.readable
                and (person := _RowReader(row, known_roles).person()) is not None]
    _mark_duplicate_keys(rows)
    people = _resolve_deputies(_without_slack_clashes(accepted, known), known)
    problems = file_problems + [p for row in rows for p in row.problems]
    rejected = sum(1 for row in rows if row.has_errors)
    return ParseResult(people, sorted(problems, key=lambda p: p.line or 0), rejected)


# ---- reading files into rows ------------------------------------------------------------------


@dataclass
class _Row:
    file: str
    line: int
    values: dict[str, Any]
    lines: dict[str, int] = field(default_factory=dict)  # YAML: each field's own line
    problems: list[Problem] = field(default_factory=list)
    readable: bool = True  # False for a YAML entry that is not a mapping
    key: str = ""  # the person's key, once read

    @property
    def has_errors(self) -> bool:
        return any(p.severity == "error" for p in self.problems)

    def where(self, column: str) -> int:
        return self.lines.get(column, self.line)

    def add(self, column: str, message: str, severity: str = "error") -> None:
        # Cells and keys echoed in a message may hold line breaks: a problem stays one line.
        self.problems.append(Problem(self.file, self.where(column), _one_line(column),
                                     _one_line(message), severity))


def _read_bytes(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise _whole_file(path, None, f"cannot read the file: {exc.strerror or exc}") from None
    if len(raw) > MAX_BYTES:
        raise _whole_file(path, None, f"the file is over the limit of {MAX_BYTES} bytes "
                          "(5 MiB): split it into smaller files")
    return raw


def _decode(raw: bytes, path: Path) -> str:
    try:
        return raw.decode("utf-8-sig")  # a BOM (Excel's "CSV UTF-8") is dropped
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise _whole_file(path, line, f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02x})"
                          ": save it as 'CSV UTF-8'") from None


def _read_csv_rows(path: Path) -> tuple[list[_Row], list[Problem]]:
    records = _csv_records(_decode(_read_bytes(path), path), path)
    header_line, header = next(records, (1, []))
    columns = _check_header(header, header_line, path)
    ignored = [Problem(str(path), header_line, column, "column is not imported (nothing in it "
                       "is stored)", "warning") for column in columns if column not in COLUMNS]
    rows: list[_Row] = []
    for line, cells in records:
        if len(rows) >= MAX_ROWS:
            raise _whole_file(path, line, f"more than {MAX_ROWS} rows: split the file")
        rows.append(_csv_row(_Row(str(path), line, {}), columns, cells))
    return rows, ignored


def _csv_records(text: str, path: Path) -> Iterator[tuple[int, list[str]]]:
    """(first line, cells) of each non-blank record; a quoted cell may span lines."""
    reader = csv.reader(io.StringIO(text, newline=""))
    start = 1
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                yield start, cells
            start = reader.line_num + 1
    except csv.Error as exc:
        raise _whole_file(path, reader.line_num, f"not readable as CSV: {exc}") from None


def _check_header(header: list[str], line: int, path: Path) -> list[str]:
    columns = [_column_name(cell) for cell in header]
    if not any(columns):
        raise _whole_file(path, line, "the file is empty: the first line must name the "
                          f"columns {', '.join(REQUIRED_COLUMNS)}", "header")
    doubled = sorted({c for c in columns if c and columns.count(c) > 1})
    if doubled:
        raise _whole_file(path, line, f"column(s) given twice: {_shown_header(doubled)}",
                          "header")
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise _whole_file(path, line, f"missing required column(s): {', '.join(missing)} "
                          f"(the header line has: {_shown_header(columns)})", "header")
    return columns


def _shown_header(columns: list[str]) -> str:
    """The header as read, for a message: a first line that is really a data row (the header
    was left out) must not be echoed with its names and numbers, so cells are masked and cut."""
    shown = [_quote(c)[1:-1] for c in columns[:MAX_SHOWN_COLUMNS] if c]
    more = len([c for c in columns if c]) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _column_name(cell: str) -> str:
    """``Slack user ID`` and ``slack-user-id`` both mean ``slack_user_id``."""
    return re.sub(r"[\s\-]+", "_", cell.strip().lower())


def _csv_row(row: _Row, columns: list[str], cells: list[str]) -> _Row:
    if any(cell.strip() for cell in cells[len(columns):]):
        row.add("row", f"the row has {len(cells)} cells but the header has {len(columns)} "
                "columns: check for an unquoted comma")
    row.values = {c: cell for c, cell in zip(columns, cells, strict=False) if c in COLUMNS}
    return row


def _read_yaml_rows(path: Path) -> tuple[list[_Row], list[Problem]]:
    try:
        document = read_yaml(path, max_nodes=MAX_YAML_VALUES)
    except InputError as exc:  # not UTF-8, too big, bad syntax: already located
        raise DirectoryImportError([replace(p, path=p.path or "file")
                                    for p in exc.problems]) from None
    if not isinstance(document.data, list):
        raise _whole_file(path, document.line(()), "a YAML directory must be a list of people "
                          "(each '- name: ...' with the same fields as the CSV columns)")
    rows = [_yaml_row(path, document, index, item) for index, item in enumerate(document.data)]
    if len(rows) > MAX_ROWS:
        raise _whole_file(path, None, f"more than {MAX_ROWS} people: split the file")
    return rows, []


def _yaml_row(path: Path, document: Any, index: int, item: Any) -> _Row:
    row = _Row(str(path), document.line((index,)) or 1, {})
    if not isinstance(item, dict):
        row.add("row", "each entry must be a mapping of field: value (name, organisation, ...)")
        row.readable = False
        return row
    for key, value in item.items():
        row.lines[key] = document.line((index, key)) or row.line
        if key not in COLUMNS:
            row.add(key or "row", f"unknown field '{key}' is ignored (nothing in it is stored)"
                    f"{_did_you_mean(key, COLUMNS)}", "warning")
        else:
            row.values[key] = value
    return row


def _whole_file(path: Path, line: int | None, message: str,
                where: str = "file") -> DirectoryImportError:
    return DirectoryImportError([Problem(str(path), line, where, message)])


# ---- one row into a Person ----------------------------------------------------------------------


class _RowReader:
    """Turns one row into a Person, adding a located problem for each bad field."""

    def __init__(self, row: _Row, known_roles: set[str]) -> None:
        self.row, self.known_roles = row, known_roles

    def person(self) -> Person | None:
        """The row's Person (its deputy still as written), or None if the row has an error."""
        name = self._text("name", required=True)
        organisation = self._text("organisation")
        key = self._text("id") or person_key(name, organisation)
        self.row.key = key if name or self._given("id") else ""
        person = Person(
            key=key, name=name, organisation=organisation, roles=self._roles(),
            tier=self._tier(), slack_user_id=self._slack_user_id(), phone=self._phone(),
            language=self._language(), channels=self._channels(),
            deputy=self._text("deputy") or None, verified_on=self._verified_on(),
        )
        self._check_reachable(person)
        return None if self.row.has_errors else person

    def _cell(self, column: str, lists: bool = False) -> str:
        value = self.row.values.get(column)
        if value is None:
            return ""
        if isinstance(value, str | int) and not isinstance(value, bool):
            return str(value).strip()
        if lists and isinstance(value, list) and all(isinstance(v, str) for v in value):
            return ";".join(value)
        self.row.add(column, "must be " + ("text or a list of words" if lists else "text"))
        return ""

    def _given(self, column: str) -> bool:
        """Something was written in the cell, valid or not (so it is not reported twice)."""
        return str(self.row.values.get(column) or "").strip() != ""

    def _text(self, column: str, required: bool = False) -> str:
        text = self._cell(column)
        if required and not text:
            self.row.add(column, f"{column} is required")
        elif len(text) > MAX_TEXT:
            self.row.add(column, f"longer than {MAX_TEXT} characters")
        elif _CONTROL.search(text):
            self.row.add(column, "contains a line break or control character")
        return text

    def _words(self, column: str) -> tuple[str, ...]:
        words = (w.strip() for w in self._cell(column, lists=True).split(";"))
        return tuple(dict.fromkeys(w for w in words if w))  # drop repeats, keep order

    def _roles(self) -> tuple[str, ...]:
        roles = self._words("roles")
        for role in roles:
            if role not in self.known_roles:
                self.row.add("roles", f"unknown role {_quote(role)}"
                             f"{_did_you_mean(role, self.known_roles)}: "
                             "not a role in any loaded playbook")
        return roles

    def _tier(self) -> int | None:
        text = self._cell("tier")
        if not text:
            return None
        if text not in ("0", "1", "2", "3", "4"):
            self.row.add("tier", f"{_quote(text)} is not a tier: use 0, 1, 2, 3, 4 or leave empty")
            return None
        return int(text)

    def _slack_user_id(self) -> str | None:
        text = self._cell("slack_user_id")
        if text and not _SLACK_USER.match(text):
            self.row.add("slack_user_id", f"{_quote(text)} is not a Slack user id "
                         "(U... or W..., from the member's Slack profile)")
        return text or None

    def _phone(self) -> str | None:
        value = self.row.values.get("phone")
        if isinstance(value, int) and not isinstance(value, bool):
            self.row.add("phone", "write the number in quotes: YAML read it as a number")
            return None
        text = self._cell("phone")
        if not text:
            return None
        try:
            return normalise_phone(text)
        except ValueError as exc:
            self.row.add("phone", f"phone number {mask_typed_number(text)} {exc}")
            return None

    def _language(self) -> str:
        text = self._cell("language").lower()
        if not text:
            return "en"
        if not _LANGUAGE.match(text):
            self.row.add("language", f"{_quote(text)} is not a language code: use two letters "
                         "such as en, ur, pl, pa, bn, gu, ar, so, ro, tr")
        return text

    def _channels(self) -> tuple[Channel, ...]:
        allowed = {c.value: c for c in CONTACT_CHANNELS}
        channels = []
        for word in self._words("channels"):
            if word.lower() in allowed:
                channels.append(allowed[word.lower()])
            else:
                self.row.add("channels", f"unknown channel {_quote(word)}"
                             f"{_did_you_mean(word.lower(), allowed)}: use "
                             f"{', '.join(allowed)}")
        return tuple(dict.fromkeys(channels))

    def _verified_on(self) -> date | None:
        text = self._cell("verified_on")
        if not text:
            return None
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                raise ValueError(text)
            return date.fromisoformat(text)
        except ValueError:
            self.row.add("verified_on", f"{_quote(text)} is not a date: write YYYY-MM-DD")
            return None

    def _check_reachable(self, person: Person) -> None:
        by_phone = sorted(c.value for c in person.channels if c in NUMBER_CHANNELS)
        if by_phone and not self._given("phone"):
            self.row.add("phone", f"channel(s) {', '.join(by_phone)} need a phone number")
        if Channel.SLACK in person.channels and not self._given("slack_user_id"):
            self.row.add("slack_user_id", "channel slack needs a Slack user id")
        if person.tier is not None and not person.channels:
            self.row.add("channels", f"a tier {person.tier} contact with no channels can't be "
                         "reached", "warning")


def normalise_phone(text: str, region: str = DEFAULT_REGION) -> str:
    """E.164 for a UK or international number written any usual way (``07700 900123``,
    ``+44 7700 900123``, ``0044 7700 900123``). Raises ValueError with a reason that never
    repeats the number. Ofcom's drama ranges are accepted so exercises can use them."""
    if not _PHONE_CHARACTERS.match(text):
        raise ValueError("may hold only digits, spaces, +, -, brackets and dots "
                         "(no letters or extensions)")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise ValueError("is not a phone number") from None
    if not (phonenumbers.is_valid_number(number) or _is_fictional_uk(number)):
        raise ValueError("is not a valid UK or international number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _is_fictional_uk(number: phonenumbers.PhoneNumber) -> bool:
    national = str(number.national_number)
    return number.country_code == 44 and len(national) == 10 \
        and national.startswith(FICTIONAL_UK_PREFIXES)


def mask_typed_number(text: str) -> str:
    """A number as typed, with all but its first three and last two digits hidden."""
    text = text[:30]
    digits = sum(c.isdigit() for c in text)
    head = min(3, max(digits - 6, 0))
    seen = 0
    masked = []
    for char in text:
        seen += char.isdigit()
        hidden = char.isdigit() and head < seen <= digits - 2
        masked.append("•" if hidden else char)
    return "".join(masked)


def _quote(text: str) -> str:
    """Echo a cell in a message, masked if it could be a phone number in the wrong column; a
    date-shaped cell (``2026-13-01``) is shown as typed so the mistake can be seen."""
    digits = sum(c.isdigit() for c in text)
    phone_like = digits >= 7 and not _DATE_SHAPED.fullmatch(text)
    return f"'{mask_typed_number(text) if phone_like else text[:40]}'"


def _one_line(text: str) -> str:
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.75)
    return f" (did you mean '{close[0]}'?)" if close else ""


# ---- across rows: duplicate keys and Slack ids, deputies -----------------------------------------


def _mark_duplicate_keys(rows: list[_Row]) -> None:
    """An error on every row whose key an earlier row (good or bad) already has."""
    first_line: dict[str, int] = {}
    for row in rows:
        if row.key in first_line:
            column = "id" if row.values.get("id") else "name"
            row.add(column, f"duplicate key {_quote(row.key)}: line {first_line[row.key]} already "
                    "has it" + ("" if column == "id" else " (same name and organisation): "
                                "add an id column"))
        elif row.key:
            first_line[row.key] = row.line


def _without_slack_clashes(accepted: list[tuple[_Row, Person]],
                           existing: list[Person]) -> list[tuple[_Row, Person]]:
    """Drop (with an error) a row whose Slack user id belongs to someone else."""
    in_file = {person.key for _, person in accepted}
    slack_owner = {p.slack_user_id: f"{_quote(p.key)} in the directory" for p in existing
                   if p.slack_user_id and p.key not in in_file}
    kept = []
    for row, person in accepted:
        if person.slack_user_id in slack_owner:
            row.add("slack_user_id", f"{person.slack_user_id} already belongs to "
                    f"{slack_owner[person.slack_user_id]}: one Slack user is one person")
        elif not row.has_errors:
            if person.slack_user_id:
                slack_owner[person.slack_user_id] = f"line {row.line}"
            kept.append((row, person))
    return kept


def _resolve_deputies(accepted: list[tuple[_Row, Person]],
                      existing: list[Person]) -> list[Person]:
    """Replace each deputy as written (an id or a name) by that person's key."""
    in_file = {person.key for _, person in accepted}
    everyone = [p for _, p in accepted] + [p for p in existing if p.key not in in_file]
    keys = {p.key for p in everyone}
    by_name: dict[str, set[str]] = {}
    for person in everyone:
        by_name.setdefault(_fold(person.name), set()).add(person.key)
    return [replace(person, deputy=_deputy_key(row, person, keys, by_name))
            for row, person in accepted]


def _deputy_key(row: _Row, person: Person, keys: set[str],
                by_name: dict[str, set[str]]) -> str | None:
    wanted = person.deputy
    if not wanted:
        return None
    matches = {wanted} if wanted in keys else by_name.get(_fold(wanted), set())
    if len(matches) > 1:
        row.add("deputy", f"{_quote(wanted)} matches {len(matches)} people "
                f"({', '.join(_quote(m) for m in sorted(matches))}): give their id; left empty",
                "warning")
    elif not matches:
        row.add("deputy", f"{_quote(wanted)} is not in this file or the directory; left empty",
                "warning")
    elif matches == {person.key}:
        row.add("deputy", "a person can't be their own deputy; left empty", "warning")
    else:
        return next(iter(matches))
    return None


def _fold(name: str) -> str:
    return " ".join(name.casefold().split())
