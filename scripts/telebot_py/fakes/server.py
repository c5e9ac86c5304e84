"""The one HTTP plumbing of the fakes: a ThreadingHTTPServer (daemon threads, HTTP/1.1 keep-alive, Content-Length
answers) that hands each request, as a Call, to the first service whose matches() takes its path, records it, and
writes the service's answer. The route-table fakes (routes.py), the stateful ones (bot_api.py, stripe_api.py) and the
control host (host.py) are all services behind it, so there is one server layer to get right.

A service's answer(call) returns (status, body object or bytes) or (status, body, headers).
"""
import collections
import itertools
import json
import re
import socket
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Call:
    """One request. `query` is parse_qs of the query string, `raw_query` the string itself (None without a `?`),
    `headers` the request's HTTPMessage (repeated headers kept)."""
    __slots__ = ("service", "name", "method", "path", "query", "headers", "body", "params", "n", "raw_query")

    def __init__(self, service, name, method, path, query, headers, body, params, n, raw_query=None):
        self.service, self.name, self.method, self.path = service, name, method, path
        self.query, self.headers, self.body, self.params, self.n = query, headers, body, params, n
        self.raw_query = raw_query

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


def compact_json(value, sort_keys=False):
    """Compact UTF-8 JSON, as the fakes answer; \\u escapes only when a string holds a lone surrogate (a body's
    "\\ud800" echoed back)."""
    try:
        return json.dumps(value, sort_keys=sort_keys, separators=(",", ":"), ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return json.dumps(value, sort_keys=sort_keys, separators=(",", ":")).encode()


INT64 = range(-(1 << 63), 1 << 63)


def swift_int(text):
    """Int64(text) in Swift: optional sign, digits only, in range; else None."""
    if re.fullmatch(r"[+-]?[0-9]+", text) and int(text) in INT64:
        return int(text)
    return None


class _Service:
    """A service behind a server of its own (start) or a shared one (FakeProviders); answer(call) -> (status, body
    object or bytes[, headers])."""
    server = None
    recorder = None
    parses_params = False  # True: Call.params holds the Bot API parameters (parse_params)
    name_of = staticmethod(lambda path: path)

    def matches(self, path):
        return True

    def start(self, host="127.0.0.1", port=0, log=None, keep=None):
        self.server = serve([self], host, port, log, keep)
        self.recorder = self.server.recorder
        return self

    @property
    def port(self):
        return self.server.server_address[1]

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def stop(self):
        """Stops serving, closes the listening socket and every kept-alive connection (a client's next request on
        one fails, as with a real server that went away)."""
        self.server.shutdown()
        self.server.server_close()
        self.server.close_connections()


class QuietServer(ThreadingHTTPServer):
    """A client that goes away mid-request (a SIGKILLed instance) is not an error worth a traceback. It knows its
    open connections, so stopping a fake also ends the kept-alive ones (their handler threads read EOF and end).
    A deep listen backlog: the tests fire the same request dozens of times at once, and socketserver's default of 5
    resets some of those connections."""
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, *args, **kwargs):
        self.open_connections = set()
        self.connections_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request(self, request, client_address):
        with self.connections_lock:
            self.open_connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self.connections_lock:
            self.open_connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self):
        with self.connections_lock:
            connections = list(self.open_connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def read_body(rfile, headers):
    """The request body: Content-Length bytes, or the chunks of a chunked one (so a kept-alive connection stays in
    step whichever way the client sends it)."""
    if "chunked" in (headers.get("Transfer-Encoding") or "").lower():
        chunks = []
        while True:
            size = int(rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            chunks.append(rfile.read(size))
            rfile.readline()
    length = int(headers.get("Content-Length") or 0)
    return rfile.read(length) if length else b""


def serve(services, host="127.0.0.1", port=0, log=None, keep=None):
    """A ThreadingHTTPServer (daemon threads, HTTP/1.1 keep-alive) dispatching to the first service whose matches()
    takes the path; `log(call, status)` sees each call (the path of a Bot API call holds the token). `keep`: how
    many calls the recorder keeps (None: all; the stateful fakes keep their own records and pass 0)."""
    recorder = Recorder(maxlen=keep)
    counter = itertools.count(1)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            self.handle_call()

        do_POST = do_DELETE = do_PUT = do_PATCH = do_HEAD = do_GET

        def handle_call(self):
            body = read_body(self.rfile, self.headers)
            split = urllib.parse.urlsplit(self.path)
            service = next((s for s in services if s.matches(split.path)), None)
            if service is None:
                return self.reply(404, {"error": {"type": "invalid_request_error", "message": "no such path"}})
            try:
                params = parse_params(body, self.headers.get("Content-Type", "")) if service.parses_params else {}
            except (ValueError, UnicodeDecodeError):
                params = {}
            call = Call(type(service).__name__, service.name_of(split.path), self.command, split.path,
                        urllib.parse.parse_qs(split.query), self.headers, body, params, next(counter),
                        split.query if "?" in self.path else None)
            recorder.add(call)
            status, answer, *headers = service.answer(call)
            if server.log is not None:
                server.log(call, status)
            self.reply(status, answer, headers[0] if headers else {})

        def reply(self, status, answer, headers=None):
            data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
            self.send_response(status)
            extra = dict(headers or {})
            self.send_header("Content-Type", extra.pop("Content-Type", "application/json"))
            self.send_header("Content-Length", str(len(data)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":  # a HEAD answer has the GET's headers and no body
                self.wfile.write(data)

    server = QuietServer((host, port), Handler)
    server.recorder = recorder
    server.log = log
    # A short poll interval: shutdown() waits for it, and tests start and stop hundreds of fakes.
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server
