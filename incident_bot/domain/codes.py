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
from collections.abc import Mapping
from types import MappingProxyType

ALPHABET = "ACDEFHJKMNPRTUVWXY3479"
CODE_LENGTH = 4
_DIGITS = frozenset("3479")

# Opt-out and opt-in keywords, matched as Twilio matches its own: the whole message, any case,
# surrounding spaces and punctuation ignored (docs/twilio.md, "Opting out"). Twilio's standard
# words first, then the same in each language of message_templates/ (en, pl, ur), with the
# spellings people type without diacritics and Urdu in Roman letters as well as in its script.
TWILIO_OPT_OUT = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT",
                            "REVOKE", "OPTOUT"})
TWILIO_OPT_IN = frozenset({"START", "YES", "UNSTOP"})
OPT_OUT_BY_LANGUAGE: Mapping[str, frozenset[str]] = MappingProxyType({
    "en": frozenset({"STOPP", "OPT OUT", "OPT-OUT"}),
    "pl": frozenset({"KONIEC", "ANULUJ", "WYPISZ", "WYPISZ MNIE", "REZYGNUJĘ", "REZYGNUJE",
                     "REZYGNACJA", "ZAKOŃCZ", "ZAKONCZ"}),
    "ur": frozenset({"بند", "بند کریں", "بند کرو", "روکیں", "روکو", "ختم", "منسوخ",
                     "BAND", "BAND KARO", "BAND KAREN", "RUKO", "KHATAM"}),
})
OPT_IN_BY_LANGUAGE: Mapping[str, frozenset[str]] = MappingProxyType({
    "en": frozenset({"OPT IN", "OPT-IN", "OPTIN"}),
    "pl": frozenset({"TAK", "WZNÓW", "WZNOW"}),
    "ur": frozenset({"شروع", "شروع کریں", "ہاں", "جی ہاں", "SHURU", "HAAN"}),
})
OPT_OUT_WORDS = TWILIO_OPT_OUT.union(*OPT_OUT_BY_LANGUAGE.values())
OPT_IN_WORDS = TWILIO_OPT_IN.union(*OPT_IN_BY_LANGUAGE.values())
RESERVED_WORDS = OPT_OUT_WORDS | OPT_IN_WORDS | frozenset({"HELP", "INFO"})

# Read as letters (3=E, 4=A, 7=T, 9=G) a code must not spell something that would upset or
# alarm someone during a counter-terrorism operation.
_LEET = str.maketrans("3479", "EATG")
_UNSAYABLE = ("HATE", "DEAD", "FEAR", "RAPE", "CUNT", "TWAT", "WANK", "ARMY", "RAID", "WAR",
              "KKK", "GUN", "JEW", "TERR", "GAY", "FAG", "KAFF")

_PHONE_NUMBER = re.compile(r"\+?\d[\d\s().-]{5,}\d")
_NON_CODE = re.compile(r"[^A-Z0-9]")
_EDGE_PUNCTUATION = " \t\r\n.!?,;:'\"()[]\u06d4\u061f\u060c"  # with Urdu ۔ ؟ ،
# Arabic-keyboard letters typed for their Urdu look-alikes (yeh, kaf, heh).
_ARABIC_TO_URDU = str.maketrans({"\u064a": "\u06cc", "\u0649": "\u06cc", "\u0643": "\u06a9",
                                 "\u0647": "\u06c1"})


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
    """The opt-out or opt-in keyword a whole reply consists of (``" stop. "`` → ``"STOP"``),
    else None: a keyword inside a sentence ("please stop texting") is not one."""
    folded = unicodedata.normalize("NFKC", text).translate(_ARABIC_TO_URDU)
    word = " ".join(folded.strip(_EDGE_PUNCTUATION).split()).upper()
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
