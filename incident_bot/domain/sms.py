"""SMS encoding and segment counting (GSM 03.38 / UCS-2), as carriers bill and split messages.

A message whose every character is in the GSM-7 alphabet is sent as GSM-7: one septet per
character, two for the extension characters (``^{}\\[~]|€`` and form feed, sent as an escape
plus the character). Anything else makes the whole message UCS-2: one UTF-16 code unit per
character, two for characters outside the Basic Multilingual Plane (most emoji).

One segment holds 160 septets or 70 code units. A longer message is split into parts that also
carry a concatenation header, leaving 153 septets or 67 code units each. A two-unit character
is never split across parts (as Twilio and handsets do): when only one unit is left in a part,
it starts the next part, so a message can need one more part than ``units / 153`` suggests.

The bot sends with Twilio's smart encoding on, which replaces common typographic look-alikes
(curly quotes, dashes, ellipsis, odd spaces) with GSM-7 characters before choosing the encoding.
Budgets are therefore checked with :func:`count_for_sending`. Smart encoding never touches
letters: Polish ``ą`` or Urdu script stay as they are, and the message stays UCS-2.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

GSM7 = "GSM-7"
UCS2 = "UCS-2"

# GSM 03.38 default alphabet (the escape code 0x1B is not a character of its own).
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Extension table: each costs two septets (escape + character).
GSM_EXTENSION = frozenset("^{}\\[~]|€\f")

SINGLE_SEGMENT = MappingProxyType({GSM7: 160, UCS2: 70})
MULTIPART_SEGMENT = MappingProxyType({GSM7: 153, UCS2: 67})

_SPACE, _APOSTROPHE, _QUOTE, _HYPHEN = " ", "'", '"', "-"
# The common part of Twilio's smart-encoding table: typographic characters a word processor or
# phone keyboard puts in, each with the GSM-7 character Twilio sends instead.
LOOK_ALIKES: Mapping[str, str] = MappingProxyType({
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u02bc\u02b9\u00b4`", _APOSTROPHE),
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb\u02ba", _QUOTE),
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2022\ufe63\uff0d", _HYPHEN),
    **dict.fromkeys(
        "\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f"
        "\u205f\u3000\u2028\u2029", _SPACE),
    **dict.fromkeys("\u200b\u2060\ufeff", ""),  # zero-width characters vanish
    "\u2026": "...",
    "\u2039": "<",
    "\u203a": ">",
    "\u203c": "!!",
    "\u2044": "/",
    "\u00f7": "/",
    "\u00bd": "1/2",
    "\u00bc": "1/4",
    "\u00be": "3/4",
    "\t": _SPACE,
})


@dataclass(frozen=True)
class SmsInfo:
    """How a text would travel: ``units`` are septets (GSM-7) or UTF-16 code units (UCS-2)."""

    encoding: str  # "GSM-7" or "UCS-2"
    segments: int
    units: int


def is_gsm7(text: str) -> bool:
    return all(ch in GSM_BASIC or ch in GSM_EXTENSION for ch in text)


def non_gsm_characters(text: str) -> list[str]:
    """The distinct characters that force ``text`` into UCS-2, in order of first appearance."""
    return list(dict.fromkeys(ch for ch in text if ch not in GSM_BASIC and ch not in GSM_EXTENSION))


def sms_segments(text: str) -> SmsInfo:
    """How ``text`` would be encoded as it stands, and into how many parts it would split."""
    encoding = GSM7 if is_gsm7(text) else UCS2
    costs = [_cost(ch, encoding) for ch in text]
    units = sum(costs)
    if units == 0:
        return SmsInfo(encoding, 0, 0)
    if units <= SINGLE_SEGMENT[encoding]:
        return SmsInfo(encoding, 1, units)
    return SmsInfo(encoding, _parts(costs, MULTIPART_SEGMENT[encoding]), units)


def smart_encode(text: str) -> str:
    """Replace Unicode look-alikes with GSM-7 characters, as Twilio's smart encoding does."""
    return "".join(LOOK_ALIKES.get(ch, ch) for ch in text)


def count_for_sending(text: str) -> SmsInfo:
    """The encoding and segments of ``text`` as the bot sends it (smart encoding on)."""
    return sms_segments(smart_encode(text))


def _cost(ch: str, encoding: str) -> int:
    if encoding == GSM7:
        return 2 if ch in GSM_EXTENSION else 1
    return 2 if ord(ch) > 0xFFFF else 1  # a surrogate pair in UTF-16


def _parts(costs: Iterable[int], capacity: int) -> int:
    """Greedy packing that never splits a two-unit character across parts."""
    parts, used = 1, 0
    for cost in costs:
        if used + cost > capacity:
            parts, used = parts + 1, 0
        used += cost
    return parts
