"""Loopback fakes of the providers' HTTP APIs, for tests and local development.

Each fake is a real HTTP server on 127.0.0.1 that the real vendor client talks to (its base URL
pointed at the fake), records every call and answers like the provider does. Nothing here is
used by the running bot.
"""
