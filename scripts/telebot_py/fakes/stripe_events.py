"""The stateful Stripe's shared pieces: JSON and error answers as the Swift fake writes them, form decoding, and
GET /v1/events (ported from the Swift tests' former fake): newest first, filters, paging, and each
event's bytes exactly as added, so a test can check that telebot stores and verifies the very bytes Stripe sent.
"""
import json
import re
import urllib.parse

from .routes import stripe_error
from .server import compact_json, swift_int

def sjson(value):
    """Compact JSON with sorted keys (JSONSerialization's .sortedKeys)."""
    return compact_json(value, sort_keys=True)


def error_answer(status, kind, message, code=None, param=None):
    """(status, body, headers) of a Stripe error: routes.stripe_error's {"error": {type, message[, code][, param]}},
    written as the Swift fake wrote it (sorted keys)."""
    extra = {name: value for name, value in (("code", code), ("param", param)) if value is not None}
    status, body = stripe_error(status, message, kind, **extra)
    return status, sjson(body), {}


def percent_decode(text):
    """'+' is a space, then %XX; text with a malformed escape or not UTF-8 stays as it is (removingPercentEncoding
    giving nil)."""
    spaced = text.replace("+", " ")
    if re.search(r"%(?![0-9A-Fa-f]{2})", spaced):
        return spaced
    try:
        return urllib.parse.unquote_to_bytes(spaced).decode("utf-8")
    except UnicodeDecodeError:
        return spaced


def decode_form(text):
    """application/x-www-form-urlencoded text as [(name, value)], in order, empty pairs skipped."""
    fields = []
    for pair in text.split("&"):
        if pair:
            name, _, value = pair.partition("=")
            fields.append((percent_decode(name), percent_decode(value)))
    return fields


def listed_event(raw):
    """(id, type, created, raw bytes) of an event body, or None when it lacks one of them (it is then not listed)."""
    try:
        obj = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(obj, dict):
        return None
    created = obj.get("created")
    if not isinstance(obj.get("id"), str) or not isinstance(obj.get("type"), str) \
            or isinstance(created, bool) or not isinstance(created, (int, float)):
        return None
    return obj["id"], obj["type"], int(created), raw


def list_events(events, form):
    """GET /v1/events?created[gte]=&types[]=&limit=&starting_after= over `events` (in the order added)."""
    since, types, limit, starting_after = None, set(), 10, None
    for name, value in form:
        if name == "created[gte]":
            since = swift_int(value)
        elif name == "types[]":
            types.add(value)
        elif name == "limit":
            limit = swift_int(value)
            limit = 10 if limit is None else limit
        elif name == "starting_after":
            starting_after = value
    if not 1 <= limit <= 100:
        return error_answer(400, "invalid_request_error", "limit must be between 1 and 100", param="limit")
    ordered = [event for _, event in sorted(enumerate(events), key=lambda pair: (pair[1][2], pair[0]), reverse=True)]
    matching = [event for event in ordered
                if (since is None or event[2] >= since) and (not types or event[1] in types)]
    if starting_after is not None:
        index = next((i for i, event in enumerate(matching) if event[0] == starting_after), None)
        if index is None:
            return error_answer(400, "invalid_request_error", "No such event: '%s'" % starting_after,
                                param="starting_after")
        matching = matching[index + 1:]
    page = matching[:limit]
    body = b'{"object":"list","url":"/v1/events","has_more":%s,"data":[' % (
        b"true" if len(matching) > limit else b"false")
    body += b",\n  ".join(event[3] for event in page) + b"]}"
    return 200, body, {}
