"""Twilio adapters: the SMS and voice ports (``TwilioSms``, ``TwilioVoice``) on the real
``twilio.rest.Client``, and the webhooks app (``make_twilio_app``) Twilio posts to."""

from incident_bot.adapters.twilio.messaging import TwilioSms, TwilioVoice, build_twilio_ports

__all__ = ["TwilioSms", "TwilioVoice", "build_twilio_ports"]
