"""Per-recipient markers in key-message text.

Key-message versions are rendered once per language when drafted, but a few values differ per
recipient (the caller's and contact's names, the confirmation code). The service renders those
variables as markers like ``{confirm_code}``; the domain fills them when it builds a delivery.
"""

from __future__ import annotations

PER_RECIPIENT = ("caller_name", "contact_name", "confirm_code")


def marker(name: str) -> str:
    return "{" + name + "}"


def marker_values() -> dict[str, str]:
    """Template variables that render as markers, for the service to pass when drafting."""
    return {name: marker(name) for name in PER_RECIPIENT}


def personalise(text: str, **values: str) -> str:
    """Fill the per-recipient markers present in ``text``; unknown markers are left alone."""
    for name, value in values.items():
        text = text.replace(marker(name), value)
    return text
