"""The fake Stripe and Bot API of the reconciliation phase (telebot_py.fakes with two listings plugged in):

  GET  /v1/events?created[gte]=&types[]=&limit=&starting_after=   newest first, has_more, cursor paging (Stripe)
  POST /bot<token>/getStarTransactions {offset, limit}             newest first, offset paging (Telegram)
"""
import collections
import json
import threading
import time

from ...fakes import FakeBotAPI, FakeProviders, FakeStripe, bot_error, message


class ProviderLists:
    """What the fake Stripe and Bot API list: published events and Stars transactions, plus call counters."""

    def __init__(self, bot_token):
        self.bot_token = bot_token
        self.lock = threading.Lock()
        self.events = []  # (created, seq, id, type, raw bytes), in publication order
        self.event_index = {}
        self.transactions = []  # (date, seq, transaction dict)
        self.seq = 0
        self.pages = collections.Counter()  # provider -> pages served
        self.errors = []

    def publish_event(self, event_id, event_type, created, raw):
        with self.lock:
            self.seq += 1
            self.events.append((created, self.seq, event_id, event_type, raw))

    def publish_transaction(self, transaction):
        with self.lock:
            self.seq += 1
            self.transactions.append((transaction["date"], self.seq, transaction))

    def list_events(self, query):
        """Stripe's GET /v1/events: newest first (created, then the later listed first), cursor paging."""
        since = int((query.get("created[gte]") or ["0"])[0])
        types = set(query.get("types[]") or [])
        limit = int((query.get("limit") or ["10"])[0])
        after = (query.get("starting_after") or [None])[0]
        if not 1 <= limit <= 100:
            return 400, {"error": {"type": "invalid_request_error", "param": "limit",
                                   "message": "limit must be between 1 and 100"}}
        with self.lock:
            ordered = sorted(self.events, key=lambda e: (e[0], e[1]), reverse=True)
        matching = [e for e in ordered if e[0] >= since and (not types or e[3] in types)]
        if after is not None:
            at = next((i for i, e in enumerate(matching) if e[2] == after), None)
            if at is None:
                return 400, {"error": {"type": "invalid_request_error", "param": "starting_after",
                                       "message": "No such event: '%s'" % after}}
            matching = matching[at + 1:]
        page = matching[:limit]
        with self.lock:
            self.pages["stripe"] += 1
        body = (b'{"object":"list","url":"/v1/events","has_more":' + (b"true" if len(matching) > limit else b"false")
                + b',"data":[' + b",\n  ".join(e[4] for e in page) + b"]}")
        return 200, body

    def list_transactions(self, body):
        """Bot API getStarTransactions: newest first, offset + limit (1-100, default 100)."""
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            params = {}
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        if not 1 <= limit <= 100 or offset < 0:
            return bot_error(400, "Bad Request: invalid limit or offset")
        with self.lock:
            ordered = sorted(self.transactions, key=lambda t: (t[0], t[1]), reverse=True)
            self.pages["telegram_stars"] += 1
        return 200, {"ok": True, "result": {"transactions": [t[2] for t in ordered[offset:offset + limit]]}}


def start_fake(lists, log_path):
    """Serves `lists` (a ProviderLists); send* answer a Message, other Bot API methods `true`, other Stripe paths a stub
    object; a wrong bot token 401. Non-200 answers go to lists.errors; the log names the method only."""
    def log(call, status):
        method = call.path.rsplit("/", 1)[-1]
        if status != 200:
            with lists.lock:
                lists.errors.append("%s %s -> %d" % (call.method, method, status))
        with open(log_path, "a") as f:
            f.write("%s %s\n" % (time.strftime("%H:%M:%S"), method))

    bot = FakeBotAPI(results={"getStarTransactions": lambda call: lists.list_transactions(call.body)},
                     default=lambda call: message(date=int(time.time())) if call.name.startswith("send") else True,
                     token=lists.bot_token)
    stripe = FakeStripe([("GET", "/v1/events", lambda call, _: lists.list_events(call.query))],
                        fallback=lambda call: (200, {"id": "stub_1", "object": "stub"}))
    server = FakeProviders(bot, stripe).start(log=log)
    lists.recorder = server.recorder
    return server
