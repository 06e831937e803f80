"""Ring-round confirmation codes, the SMS keywords carriers act on, and reading replies.

A contact confirms an automatic SMS by replying with a short code. The code is derived from the
incident id (random) and the tier, so it is stable for the whole round, differs between incidents
and tiers, and needs no storage to check. Codes use an alphabet without look-alikes (no 0/O,
1/I/L, 2/Z, 5/S, 6/G, 8/B) and always mix letters and digits, so a code is never a word: not
one of the keywords Twilio and the carriers act on (STOP, YES, START, HELP, ...), not a word a
reply might contain by chance.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

ALPHABET = "ACDEFHJKMNPRTUVWXY3479"
CODE_LENGTH = 4
_DIGITS = frozenset("3479")

# Twilio's default opt-out and opt-in keywords (matched on the whole message).
OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN_WORDS = frozenset({"START", "YES", "UNSTOP"})
RESERVED_WORDS = OPT_OUT_WORDS | OPT_IN_WORDS | frozenset({"HELP", "INFO"})

# Read as letters (3=E, 4=A, 7=T, 9=G) a code must not spell something that would upset or
# alarm someone during a counter-terrorism operation.
_LEET = str.maketrans("3479", "EATG")
_UNSAYABLE = ("HATE", "DEAD", "FEAR", "RAPE", "CUNT", "TWAT", "WANK", "ARMY", "RAID", "WAR",
              "KKK", "GUN", "JEW", "TERR", "GAY", "FAG", "KAFF")

_PHONE_NUMBER = re.compile(r"\+?\d[\d\s().-]{5,}\d")
_NON_CODE = re.compile(r"[^A-Z0-9]")
_EDGE_PUNCTUATION = " \t\r\n.!?,;:'\"()[]"


def confirmation_code(incident_id: str, tier: int) -> str:
    """The code contacts of ``tier`` reply with in this incident: HMAC-SHA256 keyed by the
    incident id over the tier number, mapped onto :data:`ALPHABET`. Distinct per tier."""
    taken = {confirmation_code(incident_id, lower) for lower in range(tier)}
    counter = 0
    while True:
        candidate = _candidate(incident_id, tier, counter)
        if acceptable_code(candidate) and candidate not in taken:
            return candidate
        counter += 1


def _candidate(incident_id: str, tier: int, counter: int) -> str:
    message = f"tier:{tier}:{counter}".encode()
    digest = hmac.new(incident_id.encode(), message, hashlib.sha256).digest()
    number = int.from_bytes(digest, "big")
    chars = []
    for _ in range(CODE_LENGTH):
        number, index = divmod(number, len(ALPHABET))
        chars.append(ALPHABET[index])
    return "".join(chars)


def acceptable_code(code: str) -> bool:
    """Letters and digits from the alphabet, at least one of each, spelling nothing unsayable."""
    has_digit = any(c in _DIGITS for c in code)
    has_letter = any(c.isalpha() for c in code)
    spelt = code.translate(_LEET)
    return (
        len(code) == CODE_LENGTH and all(c in ALPHABET for c in code) and has_digit and has_letter
        and code not in RESERVED_WORDS and not any(word in spelt for word in _UNSAYABLE)
    )


def match_code(text: str, code: str) -> bool:
    """Whether a reply contains ``code``: any case, spaces or punctuation inside it, alone or
    run together with other words ("k7 mr", "ok K7MR thanks", "K7MRthanks")."""
    return bool(code) and _normalise(code) in _normalise(text)


def _normalise(text: str) -> str:
    # NFKC folds full-width and other compatibility forms (e.g. "Ｋ７") to plain ASCII.
    return _NON_CODE.sub("", unicodedata.normalize("NFKC", text).upper())


def keyword(text: str) -> str | None:
    """The carrier keyword a whole reply consists of (``"stop."`` → ``"STOP"``), else None."""
    word = unicodedata.normalize("NFKC", text).strip(_EDGE_PUNCTUATION).upper()
    return word if word in OPT_OUT_WORDS | OPT_IN_WORDS else None


def is_opt_out(text: str) -> bool:
    return keyword(text) in OPT_OUT_WORDS


def is_opt_in(text: str) -> bool:
    return keyword(text) in OPT_IN_WORDS


def mask_numbers(text: str) -> str:
    """Mask anything in a reply that looks like a phone number (7+ digits), keeping its last two
    digits, before the reply is shown in chat."""
    def mask(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group())
        return f"••••{digits[-2:]}" if len(digits) >= 7 else match.group()
    return _PHONE_NUMBER.sub(mask, text)
