"""A safe YAML reader that remembers where every value came from.

Playbooks and directory files are written by people, sometimes in a hurry and sometimes by
copying from somewhere untrusted, so this reader treats input as hostile:

- files over 1 MiB are refused before parsing;
- nesting deeper than 50 levels is refused, first by a linear scan of the raw text before
  any parser runs (``yaml_depth``: parsers fail on deep nesting in ways that differ by
  version, one of them in time quadratic in the depth), then by the composer;
- more than 50,000 values (scalars, lists and mappings) is refused, so that composing time
  is bounded too (a third of a second); the biggest shipped playbook has under 2,000;
- anchors and aliases are refused (they make billion-laughs expansion possible and are never
  needed in a playbook);
- bytes that are not UTF-8, duplicate keys, non-scalar keys, unknown tags and syntax errors all
  become located problems (``file:line: <root>: ...``), never a traceback.

Events come from libyaml when PyYAML has it (six times faster than PyYAML's Python scanner);
composing (where the guards above live) and constructing are PyYAML's Python code either way. A
syntax error is worded by PyYAML's Python parser, which says what it expected and what it found.

The result is plain Python values (dict, list, str, int, float, bool, None) plus a map from
each value's path (a tuple of mapping keys and list indexes) to its 1-based line. Keys are
always strings. Scalars follow YAML 1.2 habits where YAML 1.1 surprises authors: only
``true``/``false`` are booleans (so a language code ``no`` stays a string), only plain decimal
digits are integers (``0123`` is not octal, ``1:30`` is not base 60) and ISO timestamps stay
text for the caller to parse.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent, CollectionStartEvent, ScalarEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from incident_bot.adapters.yaml_depth import first_too_deep
from incident_bot.errors import InputError, Problem

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 50
MAX_NODES = 50_000
_REWORD_LIMIT = 64 * 1024  # characters; PyYAML's Python parser reads this in about 0.15 s

PathKey = str | int
YamlPath = tuple[PathKey, ...]

_BOOL_WORDS = frozenset({"true", "false"})
_PLAIN_INT = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")
_TEXT_TAGS = frozenset({"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:binary"})


@dataclass(frozen=True)
class LocatedYaml:
    """Plain values read from one YAML file, and the line each value starts on."""

    name: str  # the file name used in problems
    data: Any
    lines: Mapping[YamlPath, int] = field(default_factory=dict)

    def line(self, path: Sequence[PathKey]) -> int | None:
        """The line of ``path``; for a path that is not in the file, its nearest ancestor's."""
        probe = tuple(path)
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            probe = probe[:-1]
        return self.lines.get((), None)


class _Refused(Exception):
    """Raised inside the composer; turned into a located problem by ``parse_yaml``."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line, self.message = line, message


class _PythonParser(Reader, Scanner, Parser):
    """PyYAML's pure-Python event source, for a PyYAML built without libyaml."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)


# libyaml scans and parses about six times faster than PyYAML's Python code.
_Parser: Any = getattr(getattr(yaml, "cyaml", None), "CParser", None) or _PythonParser


class _GuardedLoader(Composer, _Parser, SafeConstructor, Resolver):  # type: ignore[misc]
    """A safe loader whose (Python) composer refuses anchors, aliases, deep nesting and too
    many values. Events come from libyaml when PyYAML has it; everything else is PyYAML's."""

    def __init__(self, stream: str, max_nodes: int = MAX_NODES) -> None:
        _Parser.__init__(self, stream)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self._depth = 0
        self._nodes, self._max_nodes = 0, max_nodes

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event: Any = self.peek_event()
        line = event.start_mark.line + 1
        if isinstance(event, AliasEvent):
            raise _Refused(line, f"alias '*{event.anchor}' is not allowed: write the value out")
        if isinstance(event, ScalarEvent | CollectionStartEvent) and event.anchor is not None:
            raise _Refused(line, f"anchor '&{event.anchor}' is not allowed: write values out")
        self._nodes += 1
        if self._nodes > self._max_nodes:
            raise _Refused(line, f"more than {self._max_nodes} values: the file is too big "
                           "to be a playbook or directory")
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(line, _too_deep_message(event.start_mark.column + 1))
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def read_yaml(path: Path, name: str | None = None, max_nodes: int = MAX_NODES) -> LocatedYaml:
    """Read and parse one YAML file; raise InputError with one located problem if it can't."""
    shown = name or str(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise _whole_file(shown, f"file is {size} bytes; the limit is {MAX_BYTES} (1 MiB)")
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise _whole_file(shown, f"cannot read the file: {exc.strerror or exc}") from None
    if len(raw) > MAX_BYTES:  # grew since stat
        raise _whole_file(shown, f"file is over the limit of {MAX_BYTES} bytes (1 MiB)")
    return parse_yaml(raw, shown, max_nodes)


def parse_yaml(source: bytes | str, name: str, max_nodes: int = MAX_NODES) -> LocatedYaml:
    """Parse YAML text (bytes must be UTF-8) into plain values with their lines."""
    text = _decode(source, name) if isinstance(source, bytes) else source
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise _whole_file(name, f"text is over the limit of {MAX_BYTES} bytes (1 MiB)")
    too_deep = first_too_deep(text, MAX_DEPTH)  # before any parser: bounded whatever it does
    if too_deep is not None:
        raise _located(name, too_deep.line, _too_deep_message(too_deep.column))
    lines: dict[YamlPath, int] = {}
    try:
        data = _compose_and_build(text, lines, max_nodes)
    except _Refused as exc:
        raise _located(name, exc.line, exc.message) from None
    except yaml.MarkedYAMLError as exc:
        raise _located(name, *_describe_marked(_python_wording(exc, text))) from None
    except yaml.reader.ReaderError as error:
        found = _python_position(error, text)
        line = text.count("\n", 0, max(found.position, 0)) + 1
        raise _located(name, line, f"character {_code_point(found.character)} is not "
                       "allowed") from None
    except UnicodeEncodeError as exc:  # a lone surrogate in text handed over as str
        line = text.count("\n", 0, max(exc.start, 0)) + 1
        raise _located(name, line, f"character {_code_point(text[exc.start])} is not "
                       "allowed") from None
    except yaml.YAMLError as exc:  # pragma: no cover - every PyYAML error we know is above
        raise _located(name, 1, f"YAML error: {exc}") from None
    lines.setdefault((), 1)  # an empty document is still located: its problems are on line 1
    return LocatedYaml(name, data, lines)


def _compose_and_build(text: str, lines: dict[YamlPath, int], max_nodes: int) -> Any:
    loader = _GuardedLoader(text, max_nodes)  # the reader checks every character here
    try:
        root = loader.get_single_node()
        return _build(loader, root, (), lines) if root is not None else None
    finally:
        loader.dispose()


def _too_deep_message(column: int) -> str:
    return f"nested more than {MAX_DEPTH} levels deep (column {column})"


def _python_wording(exc: yaml.MarkedYAMLError, text: str) -> yaml.MarkedYAMLError:
    """PyYAML's own parser words syntax errors better than libyaml ("expected ',' or ']', but
    got ':'"): on the error path only, parse again with it (events only) for its message.
    Only for texts of playbook size: PyYAML's Python parser is about ten times slower, and a
    refused file must not cost seconds (nesting is already bounded by then)."""
    syntax = isinstance(exc, yaml.scanner.ScannerError | yaml.parser.ParserError)
    if len(text) > _REWORD_LIMIT or not yaml.__with_libyaml__ or not syntax:
        return exc
    try:
        for _ in yaml.parse(text, Loader=yaml.SafeLoader):
            pass
    except yaml.MarkedYAMLError as python_error:
        return python_error
    except yaml.YAMLError:
        return exc
    return exc  # pragma: no cover - the two parsers disagree: keep libyaml's message


def _python_position(exc: yaml.reader.ReaderError, text: str) -> yaml.reader.ReaderError:
    """libyaml counts UTF-8 bytes; PyYAML's reader, which checks every character as it is made,
    counts characters, so its error gives the right line."""
    try:
        Reader(text)
    except yaml.reader.ReaderError as python_error:
        return python_error
    return exc  # pragma: no cover - the two readers disagree: keep libyaml's


def _code_point(character: int | str) -> str:
    return f"U+{character if isinstance(character, int) else ord(character[:1] or ' '):04X}"


def _decode(raw: bytes, name: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise _located(
            name, line, f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02x}): "
            "save it as UTF-8"
        ) from None


def _describe_marked(exc: yaml.MarkedYAMLError) -> tuple[int, str]:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else 1
    column = f" (column {mark.column + 1})" if mark is not None else ""
    what = exc.problem or exc.context or "not valid YAML"
    if what.startswith("but ") and exc.context:  # "expected a single document ..., but found"
        what = f"{exc.context}, {what}"
    return line, f"YAML syntax error{column}: {what}"


def _build(loader: _GuardedLoader, node: Node, path: YamlPath,
           lines: dict[YamlPath, int]) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, MappingNode):
        return _build_mapping(loader, node, path, lines)
    if isinstance(node, SequenceNode):
        return [
            _build(loader, item, (*path, index), lines)
            for index, item in enumerate(node.value)
        ]
    assert isinstance(node, ScalarNode)
    return _scalar(loader, node)


def _build_mapping(loader: _GuardedLoader, node: MappingNode, path: YamlPath,
                   lines: dict[YamlPath, int]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key_node, value_node in node.value:
        key_line = key_node.start_mark.line + 1
        if not isinstance(key_node, ScalarNode):
            raise _Refused(key_line, "a key must be a plain word, not a list or mapping")
        key = str(key_node.value)
        if key == "<<" and key_node.tag == "tag:yaml.org,2002:merge":
            raise _Refused(key_line, "merge keys ('<<') are not allowed: write the keys out")
        if key in result:
            first = lines[(*path, key)]
            raise _Refused(key_line, f"duplicate key '{key}' (first given on line {first})")
        lines[(*path, key)] = key_line  # an entry is located by its key
        result[key] = _build(loader, value_node, (*path, key), lines)
    return result


def _scalar(loader: _GuardedLoader, node: ScalarNode) -> Any:
    text = str(node.value)
    if node.tag in _TEXT_TAGS:
        return text
    if node.tag == "tag:yaml.org,2002:bool" and text.lower() not in _BOOL_WORDS:
        return text  # yes/no/on/off stay words
    if node.tag == "tag:yaml.org,2002:int" and not _PLAIN_INT.match(text):
        return text  # 0123 is not octal 83 (think phone numbers), nor 1:30 base-60 90
    if node.tag == "tag:yaml.org,2002:float" and ":" in text:
        return text
    try:
        return loader.construct_object(node, deep=True)
    except ValueError:  # e.g. an integer with more digits than Python will convert
        raise _Refused(node.start_mark.line + 1, "number is too long") from None


def _located(name: str, line: int, message: str) -> InputError:
    return InputError([Problem(name, line, "", message)])


def _whole_file(name: str, message: str) -> InputError:
    return InputError([Problem(name, None, "", message)])
