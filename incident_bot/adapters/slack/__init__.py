"""The Slack adapter: the chat port on slack_sdk's WebClient, Block Kit views and the
throttled incident dashboard. Listeners live in ``incident_bot.entrypoints.slack``."""
