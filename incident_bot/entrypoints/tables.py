"""The tables the command line prints, whole in any terminal width and in a pipe.

In a terminal (or as a Rich renderable, inside a ``Group``) a table is drawn to fit the width:
a ``whole`` column (ids, keys, role codes, masked numbers) is never wrapped or cut, the others
wrap between words, and when even that is too wide the columns with the highest ``drop`` rank
are left out and named under the table. Where the columns that are never left out do not fit
on their own, each row is printed as ``column: value`` lines instead, wrapped between words.
Not in a terminal (a pipe, a file), a table is tab-separated lines, the header line first,
every value whole; notes then go to standard error so the lines stay clean for ``cut`` or
``awk``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.table import Table
from rich.text import Text

# The command line's output: tables and data on stdout, notes and errors on stderr.
console = Console()
err_console = Console(stderr=True)

RULE = 3  # a column's padding on each side and the rule on its left
_CONTROL = str.maketrans({"\t": " ", "\n": " ", "\r": " "})


@dataclass(frozen=True)
class Column:
    header: str
    whole: bool = False  # never wrapped or cut
    drop: int = 0  # 0: always shown; otherwise left out when too wide, highest first


@dataclass
class Listing:
    title: str
    columns: Sequence[Column]
    rows: list[list[str]] = field(default_factory=list)
    show_header: bool = True

    def add(self, *cells: object) -> None:
        self.rows.append(["" if cell is None else str(cell) for cell in cells])

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        """Rich draws a listing fitted to the width it is given (in a ``Group`` too)."""
        yield from fitted(self, options.max_width)


def print_listings(*listings: Listing) -> None:
    """Each listing as a fitted table in a terminal, or as tab-separated lines (headed by
    ``# title`` when there are several) in a pipe."""
    for listing in listings:
        if not console.is_terminal:
            _print_plain(console, listing, titled=len(listings) > 1)
        else:
            console.print(listing)


def print_note(text: str) -> None:
    """A line about a table (a count, a legend): beside it in a terminal, on stderr in a pipe."""
    if console.is_terminal:
        console.print(text, markup=False, highlight=False)
    else:
        err_console.print(text, markup=False, highlight=False, soft_wrap=True)


def print_json(records: list[dict[str, Any]]) -> None:
    console.file.write(json.dumps(records, indent=2, ensure_ascii=False) + "\n")


# ---- a pipe ---------------------------------------------------------------------------------


def _print_plain(console: Console, listing: Listing, titled: bool) -> None:
    lines = [f"# {listing.title}"] if titled else []
    if listing.show_header:
        lines.append(_tab_line([c.header for c in listing.columns]))
    lines += [_tab_line(row) for row in listing.rows]
    console.file.write("\n".join(lines) + ("\n\n" if titled else "\n"))


def _tab_line(cells: Sequence[str]) -> str:
    return "\t".join(cell.translate(_CONTROL) for cell in cells)


# ---- a terminal -----------------------------------------------------------------------------


def fitted(listing: Listing, width: int) -> Iterator[RenderableType]:
    """The table that fits in ``width`` and a line naming the columns left out; or, when not
    even the columns that are never left out fit, the rows as lines."""
    shown = fit_columns(listing, width)
    if shown is None:
        yield _records(listing)
        return
    yield _table(listing, shown, column_widths(listing, shown, width))
    left_out = [c.header for i, c in enumerate(listing.columns) if i not in shown]
    if left_out:
        yield Text(f"Not shown at {width} columns: {', '.join(left_out)} (widen the terminal, "
                   "or pipe the output, to see every column)")


def fit_columns(listing: Listing, width: int) -> list[int] | None:
    """The columns that fit in ``width``, leaving out the highest ``drop`` ranks first; None
    when even the columns that are never left out do not fit."""
    shown = list(range(len(listing.columns)))
    least = _least_widths(listing)
    while sum(least[i] for i in shown) + RULE * len(shown) + 1 > width:
        droppable = [i for i in shown if listing.columns[i].drop]
        if not droppable:
            return None
        shown.remove(max(droppable, key=lambda i: (listing.columns[i].drop, i)))
    return shown


def column_widths(listing: Listing, shown: list[int], width: int) -> list[int]:
    """Each shown column's width: at least its least, then spare room shared out one cell at a
    time to the columns whose longest value would still wrap."""
    least, most = _least_widths(listing), _natural_widths(listing)
    widths = [least[i] for i in shown]
    spare = width - (sum(widths) + RULE * len(shown) + 1)
    while spare > 0:
        wanting = [k for k, i in enumerate(shown) if widths[k] < most[i]]
        if not wanting:
            break
        for k in wanting[:spare]:
            widths[k] += 1
        spare -= min(spare, len(wanting))
    return widths


def _natural_widths(listing: Listing) -> list[int]:
    """The width each column needs to show every value on one line."""
    return [max([cell_len(c.header) if listing.show_header else 0,
                 *(cell_len(row[i]) for row in listing.rows)])
            for i, c in enumerate(listing.columns)]


def _least_widths(listing: Listing) -> list[int]:
    """A whole column's natural width; another's longest word (header words included)."""
    natural = _natural_widths(listing)
    return [natural[i] if c.whole else
            max([1, *(cell_len(word) for text in _texts(listing, i) for word in text.split())])
            for i, c in enumerate(listing.columns)]


def _texts(listing: Listing, index: int) -> list[str]:
    header = [listing.columns[index].header] if listing.show_header else []
    return header + [row[index] for row in listing.rows]


def _table(listing: Listing, shown: list[int], widths: list[int]) -> Table:
    table = Table(title=Text(listing.title), title_justify="left",
                  show_header=listing.show_header)
    for i, width in zip(shown, widths, strict=True):
        column = listing.columns[i]
        table.add_column(column.header, width=width, no_wrap=column.whole, overflow="fold")
    for row in listing.rows:
        # Text() so that brackets in names are shown, never read as console markup.
        table.add_row(*(Text(row[i]) for i in shown))
    return table


def _records(listing: Listing) -> Text:
    """Too narrow for a table: each row as ``column: value`` lines, wrapped between words (only
    a word wider than the terminal itself is folded)."""
    lines = [listing.title, ""]
    for row in listing.rows:
        if listing.show_header:
            lines += [f"{c.header}: {cell}" for c, cell in zip(listing.columns, row, strict=True)]
            lines.append("")
        else:
            lines.append(": ".join(row))
    return Text("\n".join(lines), overflow="fold")
