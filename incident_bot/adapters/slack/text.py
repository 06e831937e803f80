"""Slack text rules: escaping user-supplied text and staying inside Block Kit's limits."""

from __future__ import annotations

import re

MAX_BLOCKS = 50  # per message, modal or Home tab
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_ACTION_ID = 255
MAX_BUTTON_VALUE = 2000
MAX_FALLBACK_TEXT = 4000  # the notification text; Slack truncates long ones anyway


def escape(text: str) -> str:
    """Escape the three characters Slack gives meaning to (``& < >``), so text a person typed
    can neither ping ``<!channel>`` nor forge a ``<https://…|link>`` or a ``<@U…>`` mention."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """A slash command's text as the person typed it: Slack sends ``& < >`` as ``&amp; &lt;
    &gt;`` (and nothing else escaped), so one pass turns exactly those three back."""
    return _ENTITY.sub(lambda m: _CHARACTER[m.group(1)], text)


_ENTITY = re.compile(r"&(amp|lt|gt);")
_CHARACTER = {"amp": "&", "lt": "<", "gt": ">"}


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bar(fraction: float, width: int = 10) -> str:
    """A coverage bar: ``▓▓▓▓░░░░░░``."""
    filled = max(0, min(width, round(fraction * width)))
    return "▓" * filled + "░" * (width - filled)
