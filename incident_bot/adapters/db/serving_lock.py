"""One serving process per SQLite database.

SQLite has one writer at a time and no ``SKIP LOCKED``: two bot processes on one file would
contend for every write and could both claim the same timer. PostgreSQL is the way to run
several replicas. A second ``serve`` on the same SQLite file is refused, with a message saying
so. The lock is an ``flock`` on a file beside the database: the kernel releases it when the
process ends, however it ends (SIGKILL included), so a crash never leaves a stale lock.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from incident_bot.errors import ConfigError


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL; None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).resolve()


@contextmanager
def serving_lock(url: str) -> Iterator[None]:
    """Hold the serving lock of ``url``'s SQLite file (a no-op on PostgreSQL)."""
    database = sqlite_file(url)
    if database is None:
        yield
        return
    database.parent.mkdir(parents=True, exist_ok=True)
    lock_path = database.with_name(database.name + ".serving.lock")
    fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(
                f"another incident-bot process is already serving {database.name}: SQLite "
                "allows one serving process per database file. To run several replicas, use "
                "PostgreSQL (DATABASE_URL=postgresql+psycopg://...); see docs/deploy.md"
            ) from None
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
