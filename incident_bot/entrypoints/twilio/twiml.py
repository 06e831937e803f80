"""The TwiML the webhooks answer a ring-round voice call with: the call's script (see
:meth:`IncidentService.call_script`) read with a Twilio text-to-speech voice for its language,
or a generic message when there is none, then "press 1 to confirm, 2 to hear it again" in a
one-digit ``<Gather>``; and the answer to the digit pressed."""

from __future__ import annotations

from twilio.twiml.voice_response import VoiceResponse

from incident_bot.domain.ladder import VOICE_PROMPT
from incident_bot.service.call_script import CallScript

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


def twiml_for_call(script: CallScript | None, gather_url: str) -> str:
    """The call: ``script`` (None: the generic message), then the one-digit ``<Gather>``."""
    text, (language, voice) = ((script.text, SAY_LANGUAGES[script.language]) if script
                               else (GENERIC, ENGLISH))
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
