"""What both of the sandbox's ports share: a service behind the fakes' one HTTP plumbing (fakes.serve) that answers
/sandbox/health and /sandbox/calls, turns a crash into a 500 that says why (never showing the bot token), and the
HTML, JSON and redirect answers its pages give. TelegramSandbox and StripeSandbox route the rest."""
import json
import re

from ..fakes import _Service, serve
from .common import log


def html_answer(status, text):
    return status, text.encode("utf-8"), {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}


def json_answer(status, obj):
    return status, json.dumps(obj, separators=(",", ":")).encode(), {"Cache-Control": "no-store"}


def redirect(location, status=303):
    return status, b"", {"Content-Type": "text/plain", "Location": location, "Cache-Control": "no-store"}


class SandboxService(_Service):
    kind = None  # "telegram" or "stripe"

    def __init__(self, state):
        self.state = state
        self.config = state.config
        self.base_url = None

    def start(self, host="127.0.0.1", port=0, log=None, keep=0):
        """Listens (calls are logged and recorded by the sandbox itself, so the plumbing keeps none)."""
        self.server = serve([self], host, port, log, keep)
        self.base_url = "http://%s:%d" % (host, self.port)
        return self

    def answer(self, call):
        try:
            if call.path == "/sandbox/health":
                return json_answer(200, {"ok": True, "service": self.kind})
            if call.path == "/sandbox/calls":
                with self.state.lock:
                    calls = list(self.state.calls)
                return json_answer(200, {"calls": calls})
            return self.route(call)
        except Exception as error:  # the sandbox must answer, and say why
            shown = re.sub(r"^/bot[^/]*/", "/bot<token>/", call.path)  # the bot token never reaches a log
            log(f"{self.kind} {call.method} {shown} -> 500 {error!r}")
            return json_answer(500, {"error": {"type": "api_error", "message": "sandbox error: " + repr(error)}})

    def route(self, call):
        raise NotImplementedError
