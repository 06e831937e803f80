"""What every benchmark shares: a throwaway database, the drill playbook, statistics, machine
facts. Benchmarks report; they never assert."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from incident_bot.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]
DRILL = ROOT / "tests" / "data" / "restart"


@dataclass(frozen=True)
class Spread:
    """Median and spread of repeated measurements."""

    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def text(self, unit: str = "", digits: int = 2) -> str:
        low, high = min(self.values), max(self.values)
        return (f"{self.median:.{digits}f}{unit} (min {low:.{digits}f}, max {high:.{digits}f}, "
                f"n={len(self.values)})")


def percentile(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[rank]


@contextmanager
def scratch_database(url: str | None = None) -> Iterator[str]:
    """``url`` as given, or a fresh SQLite file removed afterwards."""
    if url:
        yield url
        return
    with tempfile.TemporaryDirectory(prefix="incident-bot-bench-") as scratch:
        yield f"sqlite:///{Path(scratch) / 'bench.db'}"


def drill_settings(database_url: str) -> Settings:
    return load_settings({"DATABASE_URL": database_url,
                          "INCIDENT_BOT_PLAYBOOKS": str(DRILL / "playbooks"),
                          "INCIDENT_BOT_TEMPLATES": str(DRILL / "templates")}, base=ROOT)


def machine() -> dict[str, str]:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=False,
                            capture_output=True, text=True).stdout.strip() or "unknown"
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           check=False, capture_output=True, text=True).stdout.strip()
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": str(os.cpu_count()),
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
    }
