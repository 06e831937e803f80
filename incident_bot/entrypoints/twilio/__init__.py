"""Twilio's inbound edge: the webhooks app Twilio posts to (``webhooks.make_twilio_app``) and
the TwiML it answers calls with (``twiml``). The outbound clients are in
``incident_bot.adapters.twilio``."""
