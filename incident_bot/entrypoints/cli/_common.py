"""Helpers shared by the CLI modules: the settings (read by the composition root), error
exits, output."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.text import Text

from incident_bot.bootstrap import settings_from_environment
from incident_bot.entrypoints.tables import console, err_console
from incident_bot.errors import IncidentBotError
from incident_bot.settings import Settings

__all__ = ["console", "err_console", "exits_on_error", "settings", "write_output"]


def settings() -> Settings:
    return settings_from_environment()


@contextmanager
def exits_on_error() -> Iterator[None]:
    """Turn our own errors into a one-line message and exit code 1, never a traceback."""
    try:
        yield
    except IncidentBotError as exc:
        # One line however narrow the terminal (soft_wrap), and the message's own brackets
        # ("incident-bot[postgres]") printed as written, never read as console markup.
        err_console.print(Text.assemble(("error:", "red"), f" {exc}"), soft_wrap=True,
                          highlight=False)
        raise typer.Exit(1) from None


def write_output(text: str, output: Path | None) -> None:
    """``text`` to standard output, or to the file ``output`` (its folder made if need be)."""
    if output is None:
        console.file.write(text)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    console.print(f"Written: {output}", markup=False, highlight=False)
