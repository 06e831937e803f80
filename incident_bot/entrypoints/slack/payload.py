"""Is a signed Slack request one Bolt and our listeners can read? A pure check of the decoded
payload's shape, run before Bolt parses it: Bolt raises (and the server answers 500) on a body
that is not UTF-8, a ``payload`` that is not a JSON object, or a field of the wrong type, and a
listener handed a ``view_submission`` without ``state`` would fail after its ack.

``problem(raw, content_type)`` names what is wrong, or returns None for a readable request.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.request.internals import parse_body

Spec = dict[str, Any]  # field -> type, tuple of types, nested Spec (an object) or [Spec] (a list)

_ID = {"id": str, "team_id": str, "enterprise_id": str, "name": str, "username": str,
       "domain": str}
_STATE = {"values": dict}
SHAPE: Spec = {
    "type": str, "token": str, "team_id": str, "enterprise_id": str, "api_app_id": str,
    "user_id": str, "channel_id": str, "trigger_id": str, "response_url": str, "command": str,
    "text": str, "callback_id": str, "event_id": str, "challenge": str,
    "is_enterprise_install": (bool, str), "is_ext_shared_channel": bool,
    "context_team_id": str, "context_enterprise_id": str,
    "team": _ID, "user": _ID, "channel": _ID, "enterprise": (dict, str),
    "container": {"channel_id": str, "message_ts": str, "type": str, "view_id": str},
    "actions": [{"action_id": str, "block_id": str, "value": str, "action_ts": str,
                 "type": str, "selected_option": {"value": str}}],
    "view": {"id": str, "callback_id": str, "team_id": str, "app_installed_team_id": str,
             "private_metadata": str, "state": _STATE, "type": str},
    "event": {"type": str, "user": str, "channel": str, "team": str, "user_team": str,
              "tab": str, "subtype": str, "message": dict, "previous_message": dict},
    "authorizations": [{"team_id": str, "enterprise_id": str, "user_id": str,
                        "is_enterprise_install": bool}],
    "message": dict, "previous_message": dict, "function_data": dict,
}
# What each kind of request must carry for its listener to answer at all.
REQUIRED: dict[str, tuple[tuple[str, ...], ...]] = {
    "command": (("user_id",), ("response_url",)),
    "block_actions": (("user", "id"), ("actions",)),
    "view_submission": (("user", "id"), ("view", "callback_id"), ("view", "state", "values")),
    "view_closed": (("user", "id"), ("view", "callback_id")),
    "event_callback": (("event", "type"),),
}


def problem(raw: bytes, content_type: str | None) -> str | None:
    try:
        text = raw.decode("utf-8")
        body = parse_body(text, content_type)
    except (UnicodeDecodeError, ValueError):  # JSONDecodeError is a ValueError
        return "payload is not UTF-8 JSON or form data"
    if not isinstance(body, dict):
        return "payload is not a JSON object"
    return _mistyped(body, SHAPE, "") or _missing(body) or _bad_url(body)


def _mistyped(value: dict[str, Any], spec: Spec, where: str) -> str | None:
    for key, expected in spec.items():
        if key in value and (found := _wrong(value[key], expected, f"{where}{key}")):
            return found
    return None


def _wrong(value: Any, expected: Any, where: str) -> str | None:
    if isinstance(expected, dict):
        return _mistyped(value, expected, f"{where}.") if isinstance(value, dict) \
            else f"{where} is not an object"
    if isinstance(expected, list):
        if not isinstance(value, list):
            return f"{where} is not a list"
        return next((found for n, item in enumerate(value)
                     if (found := _wrong(item, expected[0], f"{where}[{n}]"))), None)
    return None if isinstance(value, expected) else f"{where} is not {_name(expected)}"


def _name(expected: Any) -> str:
    types = expected if isinstance(expected, tuple) else (expected,)
    return " or ".join(t.__name__ for t in types)


def _missing(body: dict[str, Any]) -> str | None:
    kind = "command" if "command" in body else str(body.get("type", ""))
    for path in REQUIRED.get(kind, ()):
        value: Any = body
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if value is None or (value in ("", []) and path[-1] != "values"):
            return f"{kind} without {'.'.join(path)}"
    return None


def _bad_url(body: dict[str, Any]) -> str | None:
    url = body.get("response_url")
    if url is None or str(url).startswith(("https://", "http://")):
        return None
    return "response_url is not an http(s) URL"

