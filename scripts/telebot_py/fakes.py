"""One fake Telegram Bot API and one fake Stripe API: loopback HTTP servers (127.0.0.1, port 0 by default) that
record every call and answer from a route table. Every fake telebot talks to in scripts/ and Tests/browser/ is
one of these, with its scenario's answers plugged in:

    bot = FakeBotAPI(results={"getStarTransactions": fn}).start()     POST /bot<token>/<method>
    stripe = FakeStripe([("POST", "/v1/customers", fn), ...]).start()   /v1/..., form bodies
    both = FakeProviders(bot, stripe).start()                           one server for both (TELEGRAM_API_BASE_URL
                                                                        and STRIPE_API_BASE_URL the same URL)

A Bot API result (the `results` values) and a Stripe route are either a value or a function of the Call; a Stripe
route may answer (status, object). Bot API answers are {"ok": true, "result": ...}; by default createInvoiceLink
gives a t.me link, send* a Message, anything else `true`. Stripe answers unknown paths 404 (invalid_request_error)
unless `fallback` says otherwise. `recorder` holds the calls: Call(service, name, method, path, query, headers, body,
params), name = the Bot API method or "<HTTP method> <path>" for Stripe.
"""
import collections
import itertools
import json
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Call:
    __slots__ = ("service", "name", "method", "path", "query", "headers", "body", "params", "n")

    def __init__(self, service, name, method, path, query, headers, body, params, n):
        self.service, self.name, self.method, self.path = service, name, method, path
        self.query, self.headers, self.body, self.params, self.n = query, headers, body, params, n

    def form(self):
        """The body as Stripe sends it: parse_qs (every value a list)."""
        return urllib.parse.parse_qs(self.body.decode("utf-8", "replace"))


class Recorder:
    """Every call, in order (`maxlen` keeps the last ones), and a count per name."""

    def __init__(self, maxlen=None):
        self.lock = threading.Lock()
        self.calls = collections.deque(maxlen=maxlen)
        self.counts = collections.Counter()

    def add(self, call):
        with self.lock:
            self.calls.append(call)
            self.counts[call.name] += 1

    def by_method(self):
        """Calls per last path segment (the Bot API method; `events` for /v1/events)."""
        with self.lock:
            return collections.Counter(c.path.rsplit("/", 1)[-1] for c in self.calls)

    def named(self, name):
        with self.lock:
            return [c for c in self.calls if c.name == name]

    def count(self, name):
        with self.lock:
            return self.counts[name]


def parse_params(body, content_type):
    """Bot API parameters: a JSON object or a form (its JSON-valued fields decoded)."""
    if not body:
        return {}
    if "json" in content_type:
        params = json.loads(body)
        if not isinstance(params, dict):
            raise ValueError("not an object")
        return params
    params = dict(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))
    for key in ("prices", "reply_markup"):
        if isinstance(params.get(key), str):
            params[key] = json.loads(params[key])
    return params


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


class _Service:
    """A route table behind a server; answer(call) -> (status, body object or bytes)."""
    server = None
    recorder = None

    def start(self, host="127.0.0.1", port=0, log=None):
        self.server = serve([self], host, port, log)
        self.recorder = self.server.recorder
        return self

    @property
    def port(self):
        return self.server.server_address[1]

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class FakeBotAPI(_Service):
    """POST (or GET) /bot<token>/<method>. `results`: method -> value or fn(call); `default`: fn(call) for the rest;
    `token`: when set, another token is answered 401."""

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
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
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

    def matches(self, path):
        return True

    def name_of(self, path):
        return path

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


class QuietServer(ThreadingHTTPServer):
    """A client that goes away mid-request (a SIGKILLed instance) is not an error worth a traceback."""
    daemon_threads = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def serve(services, host="127.0.0.1", port=0, log=None):
    """A ThreadingHTTPServer (daemon threads, HTTP/1.1 keep-alive) dispatching to the first service whose matches()
    takes the path; `log(call, status)` sees each call (the path of a Bot API call holds the token)."""
    recorder = Recorder()
    counter = itertools.count(1)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            self.handle_call()

        do_POST = do_DELETE = do_GET

        def handle_call(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            split = urllib.parse.urlsplit(self.path)
            service = next((s for s in services if s.matches(split.path)), None)
            if service is None:
                return self.reply(404, {"error": {"type": "invalid_request_error", "message": "no such path"}})
            try:
                params = parse_params(body, self.headers.get("Content-Type", "")) if isinstance(
                    service, FakeBotAPI) else {}
            except (ValueError, UnicodeDecodeError):
                params = {}
            call = Call(type(service).__name__, service.name_of(split.path), self.command, split.path,
                        urllib.parse.parse_qs(split.query), self.headers, body, params, next(counter))
            recorder.add(call)
            status, answer = service.answer(call)
            if server.log is not None:
                server.log(call, status)
            self.reply(status, answer)

        def reply(self, status, answer):
            data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = QuietServer((host, port), Handler)
    server.recorder = recorder
    server.log = log
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
