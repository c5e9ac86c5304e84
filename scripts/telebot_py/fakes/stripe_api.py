"""The stateful Stripe the Swift tests drive through the host (host.py): ported from their former Swift fake.

It checks `Authorization: Bearer <api_key>`, honours Idempotency-Key on POST like Stripe (same key, method, path and
body: the stored answer with `Idempotent-Replayed: true` and no new object; same key, anything else: 400
idempotency_error), creates customers, Checkout and billing portal sessions and refunds, updates stubbed
subscriptions, answers GET of any object it stored and lists events (stripe_routes.py, stripe_events.py). Scripted
faults are consumed before authentication, in order, optionally only by one path. Each request is recorded when it is
answered (in answer order) with its method, path, query, headers, form, body, status, replayed flag and fault.

The demo sandbox serves this very fake as its Stripe, so a few hooks (all None by default) let it differ without a
second copy of the semantics: `accepts_key(key)` replaces the one-key check (the key comes as a Bearer token or as
Basic auth's user name, as Stripe takes it), `make_id(kind)` the counter ids, `shape(kind, obj, fields)` may add to
an object it creates before it is stored (URLs of the sandbox's own pages, amounts), and `changed(kind, obj)` hears
of each object created or updated. The hooks run under the fake's lock: they must not call the fake back.
"""
import base64
import binascii
import collections
import random
import threading
import time

from .server import _Service
from .stripe_events import decode_form, error_answer, listed_event, sjson
from .stripe_routes import KINDS, route, stored_object

DEFAULT_API_KEY = "sk_test_fakeStripeKey0123456789abcdef"
FAULT_NAMES = {"rate_limit": "rateLimit", "server_error": "serverError", "card_declined": "cardDeclined",
               "error": "error", "delay": "delay", "lost_response": "lostResponse"}
IDEMPOTENCY_MISMATCH = \
    "Keys for idempotent requests can only be used with the same parameters they were first used with."


class StripeState:
    """Everything the fake remembers; reset() starts a new one (with the same hooks)."""

    def __init__(self, hooks, history=None):
        self.hooks = hooks  # make_id, shape, changed (stripe_routes.py calls them)
        self.requests = collections.deque(maxlen=history)  # the last `history` requests (all when None)
        self.faults = []  # [(fault, path or None)]
        self.idempotent = {}  # key -> (method, path, body, status, data)
        self.objects = {}  # GET path -> JSON bytes, in the order stored
        self.created = []  # [(kind, id)]
        self.counter = 0
        self.events = []  # [(id, type, created, raw bytes)], in the order added


def stripe_fault(spec):
    """A fault from its control-API form, checked: {"kind": "rate_limit"}, {"kind": "server_error"},
    {"kind": "card_declined", "decline_code": "generic_decline"}, {"kind": "error", "status": 409, "type": "...",
    "code": null, "message": "...", "headers": {"Retry-After": "1"}}, {"kind": "delay", "seconds": 0.1},
    {"kind": "lost_response"}. ValueError otherwise."""
    if not isinstance(spec, dict) or spec.get("kind") not in FAULT_NAMES:
        raise ValueError("fault.kind must be one of " + ", ".join(FAULT_NAMES))
    kind = spec["kind"]
    if kind == "card_declined":
        code = spec.get("decline_code", "generic_decline")
        if not isinstance(code, str):
            raise ValueError("fault.decline_code must be a string")
        return {"kind": kind, "decline_code": code}
    if kind == "error":
        status, headers, code = spec.get("status"), spec.get("headers") or {}, spec.get("code")
        if isinstance(status, bool) or not isinstance(status, int):
            raise ValueError("fault.status must be an integer")
        if not isinstance(spec.get("type"), str) or not isinstance(spec.get("message"), str):
            raise ValueError("fault.type and fault.message must be strings")
        if code is not None and not isinstance(code, str):
            raise ValueError("fault.code must be a string or null")
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise ValueError("fault.headers must map names to strings")
        return {"kind": kind, "status": status, "type": spec["type"], "code": code, "message": spec["message"],
                "headers": dict(headers)}
    if kind == "delay":
        seconds = spec.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
            raise ValueError("fault.seconds must be a number")
        return {"kind": kind, "seconds": max(0.0, float(seconds))}
    return {"kind": kind}


def fault_name(fault):
    return "error%d" % fault["status"] if fault["kind"] == "error" else FAULT_NAMES[fault["kind"]]


def fault_answer(fault):
    """The answer a fault gives instead of executing the request, or None (delay, lost_response execute it)."""
    kind = fault["kind"]
    if kind == "rate_limit":
        return error_answer(429, "invalid_request_error", "Too many requests (fake).", code="rate_limit")
    if kind == "server_error":
        return error_answer(500, "api_error", "Something went wrong on Stripe's end (fake).")
    if kind == "card_declined":
        return 402, sjson({"error": {"type": "card_error", "code": "card_declined",
                                     "decline_code": fault["decline_code"], "message": "Your card was declined."}}), {}
    if kind == "error":
        status, data, _ = error_answer(fault["status"], fault["type"], fault["message"], code=fault["code"])
        return status, data, dict(fault["headers"])
    return None


class Hooks:
    def __init__(self, make_id=None, shape=None, changed=None):
        self.make_id, self.shape, self.changed = make_id, shape, changed


def presented_key(authorization):
    """The API key of an Authorization header: `Bearer KEY`, or `Basic base64(KEY:)` (curl -u KEY:); else None."""
    if authorization is None:
        return None
    if authorization.startswith("Bearer "):
        return authorization[7:]
    if authorization.startswith("Basic "):
        try:
            return base64.b64decode(authorization[6:], validate=True).decode("utf-8").split(":", 1)[0]
        except (binascii.Error, ValueError):
            return None
    return None


def request_headers(message):
    """Header values by lowercased name, repeated ones joined with ", "."""
    headers = {}
    for name, value in message.items():
        name = name.lower()
        headers[name] = headers[name] + ", " + value if name in headers else value
    return headers


class StatefulStripe(_Service):
    """A stateful fake Stripe API for one key. Thread-safe: one lock around the state, delays slept outside it."""

    def __init__(self, api_key=DEFAULT_API_KEY, accepts_key=None, make_id=None, shape=None, changed=None,
                 history=None):
        """`history`: how many requests to remember (all by default, as the tests need; the long-running demo
        sandbox keeps the last ones only)."""
        self.api_key = api_key
        self.history = history
        self.accepts_key = accepts_key
        self.hooks = Hooks(make_id, shape, changed)
        self.lock = threading.Lock()
        self.state = StripeState(self.hooks, self.history)

    def start(self, host="127.0.0.1", port=0, log=None, keep=0):
        return super().start(host, port, log, keep)

    def answer(self, call):
        body = call.body.decode("utf-8", "replace")
        headers = request_headers(call.headers)
        form = decode_form((call.raw_query or "") if call.method == "GET" else body)
        record = {"method": call.method, "path": call.path, "query": call.raw_query, "headers": headers,
                  "form": [list(pair) for pair in form], "body": body, "status": 0, "replayed": False, "fault": None}
        with self.lock:
            index = next((i for i, (_, path) in enumerate(self.state.faults) if path is None or path == call.path),
                         None)
            fault = self.state.faults.pop(index)[0] if index is not None else None
        if fault is not None:
            record["fault"] = fault_name(fault)
            if fault["kind"] == "delay":
                time.sleep(fault["seconds"])
            answer = fault_answer(fault)
            if answer is not None:
                return self.finish(record, answer)
        with self.lock:
            answer, record["replayed"] = self.handle(call.method, call.path, body, form, headers)
        if fault is not None and fault["kind"] == "lost_response":
            answer = error_answer(500, "api_error", "response lost (fake)")
        return self.finish(record, answer)

    def handle(self, method, path, body, form, headers):
        """Under the lock: authentication, idempotency, then the endpoint. Returns (answer, replayed)."""
        key = presented_key(headers.get("authorization"))
        if key is None or not (self.accepts_key(key) if self.accepts_key else key == self.api_key):
            return error_answer(401, "invalid_request_error", "Invalid API Key provided"), False
        key = headers.get("idempotency-key") if method == "POST" else None
        if key is not None and key in self.state.idempotent:
            stored = self.state.idempotent[key]
            if stored[:3] != (method, path, body):
                return error_answer(400, "idempotency_error", IDEMPOTENCY_MISMATCH), False
            return (stored[3], stored[4], {"Idempotent-Replayed": "true"}), True
        answer = route(self.state, method, path, form)
        # Like Stripe, results of requests that began executing are stored (errors included); the faults answered
        # before execution are not.
        if key is not None:
            self.state.idempotent[key] = (method, path, body, answer[0], answer[1])
        return answer, False

    def finish(self, record, answer):
        status, data, headers = answer
        record["status"] = status
        with self.lock:
            self.state.requests.append(record)
        headers = dict({"Content-Type": "application/json"}, **headers)
        headers["Request-Id"] = "req_fake%d" % random.randint(0, 2 ** 32 - 1)
        return status, data, headers

    # -- inspection and scripting (what the host's control API calls) --

    def requests(self, path=None):
        with self.lock:
            return [dict(r) for r in self.state.requests if path is None or r["path"] == path]

    def created_ids(self, kind):
        if kind not in KINDS:
            raise ValueError("kind must be one of " + ", ".join(KINDS))
        with self.lock:
            return [object_id for k, object_id in self.state.created if k == kind]

    def object_json(self, object_id):
        """The stored JSON bytes of the object whose path ends with /object_id (the first stored), or None."""
        with self.lock:
            return next((data for path, data in self.state.objects.items() if path.endswith("/" + object_id)), None)

    def object_at(self, path):
        """The object stored at GET `path`, decoded, or None."""
        with self.lock:
            return stored_object(self.state, path)

    def objects(self, prefix):
        """The stored objects whose GET path starts with `prefix`, decoded, in the order first stored."""
        with self.lock:
            paths = [path for path in self.state.objects if path.startswith(prefix)]
            return [obj for obj in (stored_object(self.state, path) for path in paths) if obj is not None]

    def update(self, path, change):
        """Under the lock, change(object stored at `path`, or None) returns the object to store there (or None to
        store nothing); update returns it. One step, so a caller can claim an object (an open session paid) once."""
        with self.lock:
            obj = change(stored_object(self.state, path))
            if obj is not None:
                self.state.objects[path] = sjson(obj)
            return obj

    def inject(self, fault, count=1, path=None):
        """The next `count` requests (to `path` when given) get `fault`; faults queue in order."""
        fault = stripe_fault(fault)
        with self.lock:
            self.state.faults.extend((dict(fault), path) for _ in range(max(0, count)))

    def stub(self, path, data):
        """Makes GET path answer these JSON bytes (200), for objects the fake does not create."""
        with self.lock:
            self.state.objects[path] = bytes(data)

    def add_events(self, bodies):
        """Events GET /v1/events lists; those without a string id and type and a numeric created are dropped."""
        listed = [event for event in (listed_event(bytes(body)) for body in bodies) if event is not None]
        with self.lock:
            self.state.events.extend(listed)

    def reset(self):
        """Forgets requests, faults, objects, idempotency keys, created ids and events; ids count from 1 again."""
        with self.lock:
            self.state = StripeState(self.hooks, self.history)
