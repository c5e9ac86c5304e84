"""The route-table fakes: a Bot API and a Stripe API answering from a table of values or functions the caller plugs
in (the drill, the fuzz, the browser tests), and FakeProviders, both behind one server. Stateless apart from what the
plugged-in functions keep; the stateful, scripted ones the Swift tests drive are bot_api.py and stripe_api.py.
"""
import re
import time

from .bot_results import error as bot_error
from .server import _Service, serve


def message(chat_id=1, message_id=1, **content):
    return dict({"message_id": message_id, "date": int(time.time()),
                 "chat": {"id": chat_id, "type": "private"}}, **content)


def default_bot_result(call):
    if call.name == "createInvoiceLink":
        return "https://t.me/$fake_invoice"
    if call.name.startswith("send"):
        return message()
    return True


def stripe_error(status, message_text, kind="invalid_request_error", **extra):
    return status, {"error": dict({"type": kind, "message": message_text}, **extra)}


class FakeBotAPI(_Service):
    """POST (or GET) /bot<token>/<method>. `results`: method -> value or fn(call); `default`: fn(call) for the rest;
    `token`: when set, another token is answered 401."""

    parses_params = True

    def __init__(self, results=None, default=default_bot_result, token=None):
        self.results = dict(results or {})
        self.default = default
        self.token = token

    def matches(self, path):
        return path.startswith("/bot")

    def name_of(self, path):
        return path.rsplit("/", 1)[-1]

    def answer(self, call):
        if self.token is not None and not call.path.startswith("/bot%s/" % self.token):
            return bot_error(401, "Unauthorized")
        result = self.results.get(call.name, self.default)
        result = result(call) if callable(result) else result
        if isinstance(result, tuple):  # (status, whole answer)
            return result
        return 200, {"ok": True, "result": result}


class FakeStripe(_Service):
    """Stripe's API. `routes`: [(HTTP method or None for any, path regex, value or fn(call, match))], the first full
    match answers; a fn may return an object or (status, object). `fallback(call)` answers the rest (default 404)."""

    def __init__(self, routes=(), fallback=None):
        self.routes = [(m, re.compile(p), fn) for m, p, fn in routes]
        self.fallback = fallback

    def answer(self, call):
        for method, pattern, fn in self.routes:
            match = pattern.fullmatch(call.path)
            if match and (method is None or method == call.method):
                out = fn(call, match) if callable(fn) else fn
                return out if isinstance(out, tuple) else (200, out)
        if self.fallback is not None:
            return self.fallback(call)
        return stripe_error(404, "Unrecognized request URL (%s: %s)." % (call.method, call.path))


class FakeProviders(_Service):
    """A Bot API and a Stripe fake behind one server (both base URLs the same)."""

    def __init__(self, *services):
        self.services = services

    def start(self, host="127.0.0.1", port=0, log=None):
        self.server = serve(self.services, host, port, log)
        self.recorder = self.server.recorder
        for s in self.services:
            s.server, s.recorder = self.server, self.recorder
        return self
