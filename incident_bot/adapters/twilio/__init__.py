"""Twilio adapters: the SMS and voice ports (``TwilioSms``, ``TwilioVoice``) on the real
``twilio.rest.Client``. The webhooks app Twilio posts to is an entrypoint:
``incident_bot.entrypoints.twilio``."""

from incident_bot.adapters.twilio.messaging import TwilioSms, TwilioVoice, build_twilio_ports

__all__ = ["TwilioSms", "TwilioVoice", "build_twilio_ports"]
