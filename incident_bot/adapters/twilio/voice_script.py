"""The TwiML of a ring-round voice call: the key message read in the contact's language where
Twilio has a text-to-speech voice for it (else the English version of the message), then
"press 1 to confirm, 2 to hear it again" in a one-digit ``<Gather>``."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from twilio.twiml.voice_response import VoiceResponse

from incident_bot.domain.incident_model import round_context
from incident_bot.domain.ladder import VOICE_PROMPT, approved_text
from incident_bot.domain.personalise import personalise
from incident_bot.errors import NotFoundError

if TYPE_CHECKING:
    from incident_bot.bootstrap import Services
    from incident_bot.service.ports import OutboxItem

# Our language code -> (Twilio <Say> language, voice). Amazon Polly and Google voices, as listed
# in Twilio's text-to-speech docs; a language missing here is read in English.
SAY_LANGUAGES: dict[str, tuple[str, str]] = {
    "en": ("en-GB", "Polly.Amy"),
    "cy": ("cy-GB", "Polly.Gwyneth"),
    "pl": ("pl-PL", "Polly.Ewa"),
    "ro": ("ro-RO", "Polly.Carmen"),
    "fr": ("fr-FR", "Polly.Celine"),
    "de": ("de-DE", "Polly.Marlene"),
    "es": ("es-ES", "Polly.Conchita"),
    "it": ("it-IT", "Polly.Carla"),
    "pt": ("pt-PT", "Polly.Ines"),
    "tr": ("tr-TR", "Polly.Filiz"),
    "ar": ("arb", "Polly.Zeina"),
    "hi": ("hi-IN", "Polly.Aditi"),
    "pa": ("pa-IN", "Google.pa-IN-Standard-A"),
    "ur": ("ur-IN", "Google.ur-IN-Standard-A"),
    "bn": ("bn-IN", "Google.bn-IN-Standard-A"),
    "gu": ("gu-IN", "Google.gu-IN-Standard-A"),
}
ENGLISH = SAY_LANGUAGES["en"]
GENERIC = ("This is an important message from your local partnership. "
           "Please check your text messages.")
THANKS = "Thank you. Your confirmation has been recorded. Goodbye."
GOODBYE = "We did not hear a reply. Goodbye."
AGAIN = "Please press 1 to confirm, or 2 to hear the message again."


def twiml_for_call(services: Services, delivery_id: int, gather_url: str) -> str:
    item = _item(services, delivery_id)
    text, (language, voice) = _script(services, item)
    response = VoiceResponse()
    gather = response.gather(num_digits=1, action=gather_url, method="POST", timeout=8)
    gather.say(text, language=language, voice=voice)
    gather.say(VOICE_PROMPT, language=ENGLISH[0], voice=ENGLISH[1])
    response.say(GOODBYE, language=ENGLISH[0], voice=ENGLISH[1])
    response.hangup()
    return str(response.to_xml(xml_declaration=True))


def twiml_after_digit(digit: str, voice_url: str) -> str:
    response = VoiceResponse()
    if digit == "1":
        response.say(THANKS, language=ENGLISH[0], voice=ENGLISH[1])
        response.hangup()
    elif digit == "2":
        response.redirect(voice_url, method="POST")
    else:
        response.say(AGAIN, language=ENGLISH[0], voice=ENGLISH[1])
        response.redirect(voice_url, method="POST")
    return str(response.to_xml(xml_declaration=True))


def _item(services: Services, delivery_id: int) -> OutboxItem:
    with services.uow_factory() as uow:
        item = uow.outbox.get(delivery_id)
    if item is None or item.notify.channel.value != "voice":
        raise NotFoundError(f"no voice delivery {delivery_id}")
    return item


def _script(services: Services, item: OutboxItem) -> tuple[str, tuple[str, str]]:
    """The text to read and the (language, voice) to read it in."""
    body = item.notify.body.removesuffix(VOICE_PROMPT).strip()
    if item.notify.language in SAY_LANGUAGES:
        return body, SAY_LANGUAGES[item.notify.language]
    return _english_version(services, item) or GENERIC, ENGLISH


def _english_version(services: Services, item: OutboxItem) -> str | None:
    """The English version of the contact's message, personalised like the original."""
    incident = services.incidents.incident(item.incident_id)
    now: datetime = services.clock.now()
    ctx = round_context(incident, now)
    try:
        round_, contact = incident.ringround.find(item.notify.recipient)
    except NotFoundError:
        return None
    person = ctx.people.get(contact.key)
    if person is None:
        return None
    found = approved_text(ctx, ctx.tier(contact.tier), replace(person, language="en"))
    if found is None:
        return None
    coordinators = ctx.coordinators()
    return personalise(found[1], confirm_code=round_.code, contact_name=person.name,
                       caller_name=ctx.name(coordinators[0]) if coordinators else "").strip()
