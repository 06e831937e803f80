"""The decision log's hash chain: tamper evidence for any later inquiry.

Each entry carries the SHA-256 of a canonical JSON of its fields together with the previous
entry's hash (the first entry chains to ``GENESIS_HASH``). Editing an entry breaks its own hash;
rewriting that hash as well breaks the next entry's link; deleting or renumbering an entry
leaves a gap. Only removing the newest entries cannot be seen from the chain alone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

GENESIS_HASH = "0" * 64
HASHED_FIELDS = ("incident_id", "seq", "kind", "decision", "rationale", "decided_by",
                 "recorded_by", "decided_at", "recorded_at", "options_rejected", "refers_to")


class LoggedEntry(Protocol):
    """What the chain needs of a stored entry (``service.ports.DecisionEntry`` fits)."""

    @property
    def incident_id(self) -> str: ...
    @property
    def seq(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def decision(self) -> str: ...
    @property
    def rationale(self) -> str: ...
    @property
    def decided_by(self) -> str: ...
    @property
    def recorded_by(self) -> str: ...
    @property
    def decided_at(self) -> datetime: ...
    @property
    def recorded_at(self) -> datetime: ...
    @property
    def options_rejected(self) -> str: ...
    @property
    def refers_to(self) -> int | None: ...
    @property
    def prev_hash(self) -> str: ...
    @property
    def hash(self) -> str: ...


def canonical_value(value: object) -> str:
    """One field as hashed text: datetimes as UTC ISO 8601 with microseconds, None as ""."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            raise ValueError("decision log times must be timezone-aware")
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    return str(value)


def hashed_fields(values: Mapping[str, object]) -> dict[str, str]:
    """The fields the hash covers, as canonical text (``values`` may hold more)."""
    return {name: canonical_value(values[name]) for name in HASHED_FIELDS}


def fields_of(entry: LoggedEntry) -> dict[str, str]:
    return hashed_fields({name: getattr(entry, name) for name in HASHED_FIELDS})


def entry_hash(prev_hash: str, fields: Mapping[str, str]) -> str:
    """SHA-256 (hex) of ``{"fields": {...}, "prev_hash": "..."}`` as UTF-8 JSON with sorted keys
    and no whitespace. Stable on purpose: anyone can recompute it to check a printed log."""
    canonical = json.dumps({"fields": dict(fields), "prev_hash": prev_hash}, sort_keys=True,
                           separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    first_bad_seq: int | None = None
    reason: str = ""
    entries: int = 0


def verify_chain(entries: Sequence[LoggedEntry]) -> ChainCheck:
    """Numbering from 1 without gaps, each entry linked to the one before and matching its hash.
    Names the first entry that fails (for a gap: the missing number)."""
    previous = GENESIS_HASH
    for expected, entry in enumerate(sorted(entries, key=lambda e: e.seq), start=1):
        reason = _first_problem(entry, expected, previous)
        if reason:
            return ChainCheck(False, expected, reason, len(entries))
        previous = entry.hash
    return ChainCheck(True, None, "", len(entries))


def _first_problem(entry: LoggedEntry, expected: int, previous: str) -> str:
    if entry.seq != expected:
        return f"entry {expected} is missing (the next entry is {entry.seq})"
    if entry.prev_hash != previous:
        after = f"entry {expected - 1}" if expected > 1 else "the start of the log"
        return (f"entry {expected} does not follow {after}: "
                "an earlier entry or its hash was rewritten")
    if entry_hash(entry.prev_hash, fields_of(entry)) != entry.hash:
        return f"entry {expected} was changed after it was written"
    return ""
