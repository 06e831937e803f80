"""The decision log's hash chain: canonical hashing and verification that names the first bad
entry."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from incident_bot.domain.decision_log import (
    GENESIS_HASH,
    canonical_value,
    entry_hash,
    fields_of,
    verify_chain,
)

T = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Entry:
    incident_id: str
    seq: int
    kind: str
    decision: str
    rationale: str
    decided_by: str
    recorded_by: str
    decided_at: datetime
    recorded_at: datetime
    options_rejected: str
    refers_to: int | None
    prev_hash: str = ""
    hash: str = ""


def _chain(*decisions: str) -> list[Entry]:
    entries, previous = [], GENESIS_HASH
    for seq, decision in enumerate(decisions, start=1):
        draft = Entry("inc-1", seq, "decision", decision, "why", "gold", "loggist", T, T, "", None)
        entry = replace(draft, prev_hash=previous, hash=entry_hash(previous, fields_of(draft)))
        entries.append(entry)
        previous = entry.hash
    return entries


def _rehash(entry: Entry) -> Entry:
    return replace(entry, hash=entry_hash(entry.prev_hash, fields_of(entry)))


def test_the_hash_format_is_fixed_so_stored_logs_stay_verifiable():
    fields = fields_of(_chain("hold media")[0])
    assert entry_hash(GENESIS_HASH, fields) == (
        "2da3ca41b5d2070d3c07e7c97db2f98c4e4a4c0775f49c70df3cb599af722a18")


def test_the_hash_is_sha256_hex():
    assert len(entry_hash(GENESIS_HASH, {"a": "b"})) == 64


def test_the_hash_depends_on_the_previous_hash():
    assert entry_hash(GENESIS_HASH, {"a": "b"}) != entry_hash("1" * 64, {"a": "b"})


def test_the_hash_does_not_depend_on_field_order():
    assert entry_hash(GENESIS_HASH, {"a": "1", "b": "2"}) == entry_hash(
        GENESIS_HASH, {"b": "2", "a": "1"})


@pytest.mark.parametrize("field", ["incident_id", "kind", "decision", "rationale", "decided_by",
                                   "recorded_by", "options_rejected"])
def test_changing_any_text_field_changes_the_hash(field: str):
    (entry,) = _chain("hold media")
    assert fields_of(replace(entry, **{field: "other"})) != fields_of(entry)


def test_the_same_instant_in_another_zone_hashes_the_same():
    later_zone = T.astimezone(timezone(timedelta(hours=1)))
    assert canonical_value(later_zone) == canonical_value(T) == "2026-05-01T05:00:00.000000+00:00"


def test_a_naive_time_cannot_be_hashed():
    with pytest.raises(ValueError, match="timezone-aware"):
        canonical_value(datetime(2026, 5, 1, 5, 0))


def test_a_missing_reference_hashes_as_empty():
    assert canonical_value(None) == ""


def test_an_intact_chain_verifies():
    check = verify_chain(_chain("a", "b", "c"))
    assert (check.ok, check.first_bad_seq, check.entries) == (True, None, 3)


def test_an_empty_log_verifies():
    assert verify_chain([]).ok


def test_entries_are_checked_in_order_of_their_number():
    assert verify_chain(list(reversed(_chain("a", "b", "c")))).ok


def test_an_edited_entry_is_named():
    entries = _chain("a", "b", "c")
    entries[1] = replace(entries[1], decision="forged")
    check = verify_chain(entries)
    assert (check.ok, check.first_bad_seq, check.reason) == (
        False, 2, "entry 2 was changed after it was written")


def test_an_edited_entry_with_a_recomputed_hash_breaks_the_next_link():
    entries = _chain("a", "b", "c")
    entries[1] = _rehash(replace(entries[1], decision="forged"))
    check = verify_chain(entries)
    assert (check.first_bad_seq, check.reason) == (
        3, "entry 3 does not follow entry 2: an earlier entry or its hash was rewritten")


def test_a_missing_entry_is_named():
    entries = _chain("a", "b", "c")
    check = verify_chain([entries[0], entries[2]])
    assert (check.first_bad_seq, check.reason) == (2, "entry 2 is missing (the next entry is 3)")


def test_a_log_must_start_at_one():
    check = verify_chain(_chain("a", "b")[1:])
    assert (check.ok, check.first_bad_seq) == (False, 1)


def test_an_entry_claimed_for_another_incident_is_named():
    entries = _chain("a", "b")
    entries[1] = replace(entries[1], incident_id="inc-2")
    assert verify_chain(entries).first_bad_seq == 2


def test_a_first_entry_that_does_not_start_from_genesis_is_named():
    (entry,) = _chain("a")
    forged = _rehash(replace(entry, prev_hash="f" * 64))
    assert verify_chain([forged]).reason == (
        "entry 1 does not follow the start of the log: an earlier entry or its hash was rewritten")
