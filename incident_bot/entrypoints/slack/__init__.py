"""The Slack edge: the Bolt app and its thin listeners (``/incident``, buttons, modals, App
Home), wired by :func:`incident_bot.entrypoints.slack.app.wire`."""
