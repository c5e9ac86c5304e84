"""The sandbox's HTTP handler: plumbing and the top-level route; the two services' routes are mixins."""
import json
import re
import urllib.parse
from http.server import BaseHTTPRequestHandler

from .checkout import CheckoutRoutes
from .common import log
from .stars import StarsRoutes
from .stripe_api import StripeApiRoutes
from .telegram import TelegramRoutes


class Handler(TelegramRoutes, StarsRoutes, StripeApiRoutes, CheckoutRoutes, BaseHTTPRequestHandler):
    server_version = "telebot-sandbox/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass  # one line per call is logged by the routes themselves

    @property
    def state(self):
        return self.server.state

    @property
    def config(self):
        return self.server.state.config

    # -- plumbing --

    def read_body(self):
        if getattr(self, "_body", None) is None:
            length = int(self.headers.get("Content-Length") or 0)
            self._body = self.rfile.read(length) if length else b""
        return self._body

    def send(self, status, body, content_type="application/json", headers=None):
        data = body if isinstance(body, bytes) else body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_json(self, status, obj, headers=None):
        self.send(status, json.dumps(obj, separators=(",", ":")), "application/json", headers)

    def send_html(self, status, text):
        self.send(status, text, "text/html; charset=utf-8")

    def redirect(self, location, status=303):
        self.send(status, b"", "text/plain", {"Location": location})

    def do_GET(self):
        self.route("GET")

    def do_HEAD(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_DELETE(self):
        self.route("DELETE")

    def route(self, method):
        path = urllib.parse.urlsplit(self.path).path
        self._body = None
        self.read_body()  # always consumed, so a kept-alive connection stays in step
        try:
            if path == "/sandbox/health":
                return self.send_json(200, {"ok": True, "service": self.server.kind})
            if path == "/sandbox/calls":
                with self.state.lock:
                    calls = list(self.state.calls)
                return self.send_json(200, {"calls": calls})
            if self.server.kind == "telegram":
                return self.route_telegram(method, path)
            return self.route_stripe(method, path)
        except BrokenPipeError:
            pass
        except Exception as error:  # the sandbox must answer, and say why
            shown = re.sub(r"^/bot[^/]*/", "/bot<token>/", path)  # the bot token never reaches a log
            log(f"{self.server.kind} {method} {shown} -> 500 {error!r}")
            try:
                self.send_json(500, {"error": {"type": "api_error", "message": "sandbox error: " + repr(error)}})
            except OSError:
                pass

    # -- Telegram Bot API --
