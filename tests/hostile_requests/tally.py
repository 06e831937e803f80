"""Figures the hostile-request and fault tests record, printed at the end of the run."""

from __future__ import annotations

from collections import Counter

REQUESTS: Counter[str] = Counter()  # hostile requests sent, per category
FAULTS: Counter[str] = Counter()  # faults injected, per kind
DUPLICATES: Counter[str] = Counter()  # duplicate sends or records found (expected: none)


def lines() -> list[str]:
    out = []
    if REQUESTS:
        out.append(f"hostile requests: {sum(REQUESTS.values())} "
                   f"({', '.join(f'{k} {v}' for k, v in sorted(REQUESTS.items()))})")
    if FAULTS:
        out.append(f"faults injected: {sum(FAULTS.values())} "
                   f"({', '.join(f'{k} {v}' for k, v in sorted(FAULTS.items()))})")
    out.append(f"duplicates counted: {sum(DUPLICATES.values())}")
    return out
