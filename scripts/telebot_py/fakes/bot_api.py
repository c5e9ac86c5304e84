"""The scripted Bot API the Swift tests drive through the host (host.py): ported from their former Swift fake.

POST /bot<token>/<method> with a JSON body. Each call that comes with the right token is recorded at decision time
with its final status (before a delayed answer sleeps): index, method, body (decoded JSON; {} when empty, None when
not JSON), status, received_at. A wrong token gets 401 `Unauthorized` and is only counted. Scripting: per-method
fault queues (inject), results that replace the computed ones (set_result), getStarTransactions' list
(add_star_transactions); the answers themselves are in bot_results.py.

The demo sandbox serves this very fake as its Bot API; `invoice_link(body)`, when given, makes the URL a valid
createInvoiceLink answers (the sandbox's own Stars invoice page instead of a t.me link). It runs under the fake's
lock, so it must not call the fake back.
"""
import collections
import json
import threading
import time

from . import bot_results
from .bot_results import error
from .server import _Service

DEFAULT_TOKEN = "7001234567:AAHfakeSecretPartOfTheTokenXYZ0123456"
FAULT_KINDS = ("rate_limited", "server_error", "api_error", "raw", "delay")


class BotState:
    """Everything the fake remembers; reset() starts a new one."""

    def __init__(self, history=None):
        self.calls = collections.deque(maxlen=history)  # the last `history` calls (all when None)
        self.call_count = 0
        self.faults = {}  # method -> [fault]
        self.results = {}  # method -> scripted result (any JSON, None included)
        self.next_message_id = 1
        self.refunded_charges = set()
        self.unauthorized = 0
        self.star_transactions = []


def bot_fault(spec):
    """A fault from its control-API form, checked: {"kind": "rate_limited", "retry_after": 1},
    {"kind": "server_error", "status": 500}, {"kind": "api_error", "code": 400, "description": "..."},
    {"kind": "raw", "status": 502, "body": "<html>..."}, {"kind": "delay", "seconds": 0.25}. ValueError otherwise."""
    if not isinstance(spec, dict) or spec.get("kind") not in FAULT_KINDS:
        raise ValueError("fault.kind must be one of " + ", ".join(FAULT_KINDS))
    kind = spec["kind"]

    def number(key, default=None, kinds=(int,)):
        value = spec.get(key, default)
        if isinstance(value, bool) or not isinstance(value, kinds):
            raise ValueError("fault.%s must be a number" % key)
        return value

    if kind == "rate_limited":
        return {"kind": kind, "retry_after": number("retry_after")}
    if kind == "server_error":
        return {"kind": kind, "status": number("status", 500)}
    if kind == "api_error":
        if not isinstance(spec.get("description"), str):
            raise ValueError("fault.description must be a string")
        return {"kind": kind, "code": number("code", 400), "description": spec["description"]}
    if kind == "raw":
        if not isinstance(spec.get("body"), str):
            raise ValueError("fault.body must be a string")
        return {"kind": kind, "status": number("status"), "body": spec["body"]}
    return {"kind": kind, "seconds": max(0.0, float(number("seconds", kinds=(int, float))))}


def decode_body(body):
    """The body as the Swift fake decodes it: {} when empty, None when not JSON (NaN and friends are not JSON)."""
    if not body:
        return {}
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_reject)
    except (ValueError, UnicodeDecodeError):
        return None


def _reject(constant):
    raise ValueError(constant)


class ScriptedBotAPI(_Service):
    """A stateful fake Bot API for one token. Thread-safe: one lock around the state, delays slept outside it."""

    def __init__(self, token=DEFAULT_TOKEN, invoice_link=None, history=None):
        """`history`: how many calls to remember (all by default, as the tests need; the long-running demo sandbox
        keeps the last ones only)."""
        self.token = token
        self.invoice_link = invoice_link
        self.history = history
        self.lock = threading.Lock()
        self.state = BotState(history)

    def start(self, host="127.0.0.1", port=0, log=None, keep=0):
        return super().start(host, port, log, keep)

    def name_of(self, path):
        return path.rsplit("/", 1)[-1]

    def answer(self, call):
        parts = call.path.split("/")
        if call.method != "POST" or len(parts) != 3 or not parts[1] or not parts[2]:
            return error(404, "Not Found")
        status, body, delay = self.decide(parts[1], parts[2], call.body)
        if delay:
            time.sleep(delay)
        return status, body

    def decide(self, path_token, method, raw):
        """Records the call and decides its answer in one critical section, so fault queues are consumed in
        arrival order. Returns (status, body bytes, seconds to wait first)."""
        if path_token != "bot" + self.token:
            with self.lock:
                self.state.unauthorized += 1
            return error(401, "Unauthorized") + (0,)
        body = decode_body(raw)
        with self.lock:
            state = self.state
            queue = state.faults.get(method)
            fault = queue.pop(0) if queue else None
            kind = fault and fault["kind"]
            delay = 0
            if kind == "rate_limited":
                retry = fault["retry_after"]
                status, data = error(429, "Too Many Requests: retry after %d" % retry, {"retry_after": retry})
            elif kind == "server_error":
                status, data = error(fault["status"], "Internal Server Error")
            elif kind == "api_error":
                status, data = error(fault["code"], fault["description"])
            elif kind == "raw":
                status, data = fault["status"], fault["body"].encode()
            else:
                delay = fault["seconds"] if kind == "delay" else 0
                status, data = bot_results.result(self, method, body, state)
            state.call_count += 1
            state.calls.append({"index": state.call_count - 1, "method": method, "body": body, "status": status,
                                "received_at": time.time()})
            return status, data, delay

    # -- inspection and scripting (what the host's control API calls) --

    def calls(self, method=None):
        with self.lock:
            return [dict(c) for c in self.state.calls if method is None or c["method"] == method]

    @property
    def unauthorized(self):
        with self.lock:
            return self.state.unauthorized

    def inject(self, fault, method, times=1):
        """The next `times` calls of `method` get `fault` (after those scripted earlier); times <= 0 adds none."""
        fault = bot_fault(fault)
        with self.lock:
            self.state.faults.setdefault(method, []).extend(dict(fault) for _ in range(max(0, times)))

    def set_result(self, method, result):
        """Successful calls of `method` answer `result` (any JSON, None included) instead of the computed one."""
        with self.lock:
            self.state.results[method] = result

    def clear_result(self, method):
        with self.lock:
            self.state.results.pop(method, None)

    def add_star_transactions(self, transactions):
        """What getStarTransactions lists, in this order (Telegram lists the newest first), paged by offset/limit."""
        with self.lock:
            self.state.star_transactions.extend(transactions)

    def reset(self):
        """Forgets calls, faults, scripted results, refunded charges, star transactions and the unauthorized count;
        message ids start at 1 again."""
        with self.lock:
            self.state = BotState(self.history)
