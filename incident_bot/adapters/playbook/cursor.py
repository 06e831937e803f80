"""A located view of one value inside a YAML file, and the report its problems go to.

``At`` knows the value, its display path (``tasks[brief-leader].due``) and its line, so the
validators can say exactly where a problem is without threading paths by hand. List items are
labelled by their id (or code, or tier number) when they have one, else by position from 1:
``roles[bcu_commander]``, ``tiers[1].ladder[#3]``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from incident_bot.adapters.located_yaml import LocatedYaml, PathKey
from incident_bot.errors import Problem

MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING"})()
"""The value of a key that is not in the file (as opposed to an explicit ``null``)."""

MAX_PROBLEMS = 500  # per file: enough to fix, not a flood from a hostile file
LABEL_KEYS = ("id", "code", "tier")
_LABEL = re.compile(r"^[A-Za-z0-9_.-]{1,60}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass
class Report:
    """Every problem found in one file, in the order found (at most ``MAX_PROBLEMS`` kept).

    Errors are counted as they are added: the builders ask for the count after every list
    item, so counting by scanning the list would make a hostile 50,000-item file quadratic."""

    file: str
    problems: list[Problem] = field(default_factory=list)
    error_count: int = 0
    dropped: int = 0  # problems beyond MAX_PROBLEMS, counted but not kept

    def add(self, line: int | None, path: str, message: str, severity: str = "error") -> None:
        self.error_count += severity == "error"
        if len(self.problems) >= MAX_PROBLEMS:
            self.dropped += 1
            return
        # A key may hold a line break too: the path is escaped like the message.
        self.problems.append(Problem(self.file, line, one_line(path), one_line(message),
                                     severity))

    def sorted(self) -> list[Problem]:
        shown = sorted(self.problems, key=lambda p: p.line or 0)
        if self.dropped:
            last = max((p.line or 1 for p in shown), default=1)
            shown.append(Problem(self.file, last, "", f"{self.dropped} more problem(s) not "
                                 f"shown (only the first {MAX_PROBLEMS} are): fix these first",
                                 "error" if self.error_count else "warning"))
        return shown


@dataclass(frozen=True)
class At:
    doc: LocatedYaml
    report: Report
    value: Any
    raw: tuple[PathKey, ...] = ()
    path: str = ""

    @classmethod
    def root(cls, doc: LocatedYaml, report: Report) -> At:
        return cls(doc, report, doc.data)

    @property
    def line(self) -> int | None:
        return self.doc.line(self.raw)

    @property
    def given(self) -> bool:
        """Present and not an explicit null."""
        return self.value is not MISSING and self.value is not None

    def error(self, message: str) -> None:
        self.report.add(self.line, self.path, message)

    def warning(self, message: str) -> None:
        self.report.add(self.line, self.path, message, "warning")

    def key(self, name: str) -> At:
        value = self.value.get(name, MISSING) if isinstance(self.value, dict) else MISSING
        path = f"{self.path}.{name}" if self.path else name
        return At(self.doc, self.report, value, (*self.raw, name), path)

    def element(self, index: int) -> At:
        """A list element located on its own line but reported under the list's path."""
        value = self.value[index] if isinstance(self.value, list) else MISSING
        return At(self.doc, self.report, value, (*self.raw, index), self.path)

    def items(self) -> list[At]:
        """The elements of a list value, each labelled by its id/code/tier or position."""
        if not isinstance(self.value, list):
            return []
        return [
            At(self.doc, self.report, item, (*self.raw, i), f"{self.path}[{_label(item, i)}]")
            for i, item in enumerate(self.value)
        ]

    def is_list(self, example: str) -> bool:
        if isinstance(self.value, list):
            return True
        self.error(f"must be a list, e.g. {example}")
        return False

    def is_mapping(self, allowed: Sequence[str], required: Sequence[str] = ()) -> bool:
        """Check the value is a mapping with only ``allowed`` keys and every ``required`` one."""
        if not isinstance(self.value, dict):
            self.error(f"must be a mapping with keys {', '.join(allowed)}")
            return False
        for name in self.value:
            if name not in allowed:
                self.key(name).error(unknown_key_message(name, allowed))
        for name in required:
            if name not in self.value:
                self.error(f"missing required key '{name}'")
        return True


def one_line(text: str) -> str:
    """Escape control characters (newlines above all) so a problem is always one line."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def unknown_key_message(name: str, allowed: Sequence[str]) -> str:
    return f"unknown key '{name}'{did_you_mean(name, allowed)}; allowed keys: {', '.join(allowed)}"


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.75)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _label(item: Any, index: int) -> str:
    if isinstance(item, dict):
        for name in LABEL_KEYS:
            value = item.get(name)
            if isinstance(value, str | int) and not isinstance(value, bool) \
                    and _LABEL.match(str(value)):
                return str(value)
    return f"#{index + 1}"
