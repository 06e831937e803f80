"""How deeply a YAML text nests, measured on the raw text before any parser sees it.

YAML parsers differ in how they fail on pathological nesting (a recursion limit, a nesting
limit, or a re-parse that costs time quadratic in the depth), and a hostile or careless file
must be refused in bounded time whatever the installed library does. This scanner reads the
text once, in linear time, and finds the first place where block indentation levels, compact
``- - -`` / ``? ? ?`` indicators and flow ``[`` / ``{`` brackets together go deeper than a
limit.

It is a guard, not a parser: it tracks just enough of YAML's lexical rules (quoted scalars,
comments, block scalars, plain scalars that contain brackets) not to count brackets or indents
that are text. Where it undercounts by a level or two, the composer's own depth check still
applies; what it must never do is let thousands of levels through.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FLOW_SPECIAL = re.compile(r"""[\[\]{}'"#]""")
_NODE_INDICATOR = re.compile(r"[-?:](?=[ \t]|$)")
_PROPERTY = re.compile(r"[!&][^ \t]*[ \t]+")  # a tag or anchor before a node's content
_BLOCK_SCALAR = re.compile(r"[|>][-+0-9]*[ \t]*(#.*)?$")
_VALUE_INDICATOR = re.compile(r":(?=[ \t]|$)|[ \t]#")  # a mapping value, or a comment
_DOCUMENT_MARKER = re.compile(r"(---|\.\.\.)(?=[ \t]|$)")


@dataclass(frozen=True)
class TooDeep:
    """Where the text first nests deeper than the limit (1-based line and column)."""

    line: int
    column: int


@dataclass
class _State:
    limit: int
    block: list[tuple[int, bool]]  # (column, is a sequence entry) of the enclosing block nodes
    flow: int = 0  # open flow collections
    quote: str = ""  # the quote character of a quoted scalar still open, or ""
    line_indent: int = 0  # indentation of the line being read
    block_scalar_indent: int | None = None  # a literal/folded scalar's parent line indent
    found: TooDeep | None = None


def first_too_deep(text: str, limit: int) -> TooDeep | None:
    """The first position where nesting exceeds ``limit`` levels, or None if it never does."""
    state = _State(limit, block=[])
    for number, line in enumerate(text.split("\n"), start=1):
        _scan_line(state, line.rstrip("\r"), number)
        if state.found is not None:
            return state.found
    return None


def _scan_line(state: _State, line: str, number: int) -> None:
    if state.quote or state.flow:
        _scan_content(state, line, 0, number, continued=True)
        return
    indent = len(line) - len(line.lstrip(" "))
    if _inside_block_scalar(state, line, indent):
        return
    content = line[indent:]
    if not content or content.startswith("#"):
        return
    if indent == 0 and _DOCUMENT_MARKER.match(content):
        state.block.clear()
        return
    state.line_indent = indent
    _close_blocks(state, indent, starts_entry=_NODE_INDICATOR.match(line, indent) is not None
                  and line[indent] == "-")
    _scan_node_start(state, line, indent, number)


def _close_blocks(state: _State, indent: int, starts_entry: bool) -> None:
    """Leave the block nodes a line at ``indent`` is not inside. A ``- `` entry at its
    mapping key's own indent is that key's value (an indentless sequence), not a sibling."""
    while state.block:
        column, is_entry = state.block[-1]
        if column < indent or (column == indent and starts_entry and not is_entry):
            return
        state.block.pop()


def _inside_block_scalar(state: _State, line: str, indent: int) -> bool:
    if state.block_scalar_indent is None:
        return False
    if not line.strip() or indent > state.block_scalar_indent:
        return True
    state.block_scalar_indent = None
    return False


def _scan_node_start(state: _State, line: str, column: int, number: int) -> None:
    """A block node starts at ``column``: count it and any compact nodes nested on this line
    (``- - x``, ``? x``), then read what follows them."""
    while True:
        indicator = _NODE_INDICATOR.match(line, column)
        state.block.append((column, indicator is not None and line[column] == "-"))
        if _too_deep(state, number, column):
            return
        if indicator is None:
            break
        column = _skip_spaces(line, column + 1)
        if column >= len(line) or line[column] == "#":
            return
    _scan_content(state, line, column, number)


def _scan_content(state: _State, line: str, column: int, number: int,
                  continued: bool = False) -> None:
    """The rest of a line: flow collections and quoted scalars (which may go on over several
    lines), block scalar headers, and plain scalars, which hold brackets and quotes as text
    and end only at ': ' (a mapping value follows, one level inside) or ' #' (a comment)."""
    extra = 0
    if not continued and line[column] in "[{" and state.block and state.block[-1][0] == column:
        state.block.pop()  # the node is this flow collection: counted by its bracket
    while column < len(line):
        if not continued:
            column = _skip_properties(line, column)
            if column >= len(line):
                return
            if _BLOCK_SCALAR.match(line, column):
                state.block_scalar_indent = state.line_indent
                return
        if continued or line[column] in "[{\"'":
            closed_at = _scan_inline(state, line, column, number, extra)
            if closed_at is None:
                return
            column, continued = closed_at, False
        found = _VALUE_INDICATOR.search(line, column)
        if found is None or found.group().endswith("#"):
            return
        column = _skip_spaces(line, found.end())
        if column >= len(line) or line[column] == "#":
            return
        if line[column] not in "[{":  # a flow value is counted by its bracket
            extra = 1
            if _too_deep(state, number, column, extra):
                return


def _scan_inline(state: _State, line: str, column: int, number: int, extra: int) -> int | None:
    """Flow collections and quoted scalars from ``column``: the column just after the one
    that closed them all, or None if they go on past this line (or the limit was hit)."""
    while column < len(line):
        if state.quote:
            column = _skip_quoted(state, line, column)
        else:
            match = _FLOW_SPECIAL.search(line, column)
            if match is None:
                return None
            char, column = match.group(), match.end()
            if char in "[{":
                state.flow += 1
                if _too_deep(state, number, column - 1, extra):
                    return None
            elif char in "]}":
                state.flow = max(0, state.flow - 1)
            elif char in "'\"" and _at_token_start(line, column - 1):
                state.quote = char
            elif char == "#" and _at_comment(line, column - 1):
                return None
        if not state.flow and not state.quote:
            return column
    return None


def _skip_quoted(state: _State, line: str, column: int) -> int:
    end = _closing_quote(line, column, state.quote)
    if end < 0:
        return len(line)
    state.quote = ""
    return end + 1


def _closing_quote(line: str, column: int, quote: str) -> int:
    """Where a quoted scalar closes on this line (-1: not on it). Single quotes escape
    themselves (''); double quotes are escaped by an odd run of backslashes."""
    while (end := line.find(quote, column)) != -1:
        if quote == "'" and line.startswith("''", end):
            column = end + 2
            continue
        run = end
        while quote == '"' and run > column and line[run - 1] == "\\":
            run -= 1
        if (end - run) % 2 == 0:
            return end
        column = end + 1
    return -1


def _at_token_start(line: str, column: int) -> bool:
    return column == 0 or line[column - 1] in " \t[{,:"


def _at_comment(line: str, column: int) -> bool:
    return column == 0 or line[column - 1] in " \t"


def _skip_spaces(line: str, column: int) -> int:
    while column < len(line) and line[column] in " \t":
        column += 1
    return column


def _skip_properties(line: str, column: int) -> int:
    while (prop := _PROPERTY.match(line, column)) is not None:
        column = prop.end()
    return column


def _too_deep(state: _State, number: int, column: int, extra: int = 0) -> bool:
    if len(state.block) + state.flow + extra > state.limit:
        state.found = TooDeep(number, column + 1)
    return state.found is not None
