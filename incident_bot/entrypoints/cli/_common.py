"""Helpers shared by the CLI modules: settings from the real environment, error exits."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

from incident_bot.errors import IncidentBotError
from incident_bot.settings import Settings, load_settings

console = Console()
err_console = Console(stderr=True)


def settings() -> Settings:
    return load_settings(os.environ)


@contextmanager
def exits_on_error() -> Iterator[None]:
    """Turn our own errors into a one-line message and exit code 1, never a traceback."""
    try:
        yield
    except IncidentBotError as exc:
        err_console.print(f"[red]error:[/red] {exc}", highlight=False, markup=True)
        raise typer.Exit(1) from None
