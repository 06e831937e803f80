"""Run the real ``incident-bot`` command as a person would: in a terminal of a given width (a
pseudo-terminal with that window size, and no COLUMNS to hint at it), or with its output piped."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

ROOT = Path(__file__).parents[2]
COMMAND = "from incident_bot.entrypoints.cli import main; main()"
_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")  # colours and bold


def _environment(env: dict[str, str]) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    return {**inherited, "PYTHONPATH": str(ROOT), **env}


def in_terminal(columns: int, env: dict[str, str], *args: str, cwd: Path) -> str:
    """What a terminal ``columns`` wide shows (escape codes removed); the command must exit 0."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    process = subprocess.Popen([sys.executable, "-c", COMMAND, *args], stdin=terminal,
                               stdout=terminal, stderr=terminal, env=_environment(env), cwd=cwd)
    os.close(terminal)
    shown = b""
    while chunk := _read(controller):
        shown += chunk
    os.close(controller)
    assert process.wait(timeout=60) == 0, shown.decode()
    return _ESCAPES.sub("", shown.decode()).replace("\r\n", "\n")


def _read(controller: int) -> bytes:
    try:
        return os.read(controller, 65536)
    except OSError:  # EIO: the command has exited and the terminal is closed
        return b""


def piped(env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-c", COMMAND, *args], env=_environment(env),
                            cwd=cwd, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return result
