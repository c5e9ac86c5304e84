"""The host's control API: JSON over HTTP/1.1 on loopback, one more service behind the fakes' plumbing (server.py).
The Swift tests' thin client starts, scripts, inspects, resets and stops fakes with it; each fake gets its own
server on 127.0.0.1 (port 0), so its base URL is plain http://127.0.0.1:<port>.

  POST   /fakes                       {"kind": "bot_api", "token": T} | {"kind": "stripe", "api_key": K}
                                      -> {"id": "<string>", "port": <int>}
  DELETE /fakes/{id}                  -> {} once its server is shut down and its sockets closed (what it recorded
                                         stays readable)
  POST   /fakes/{id}/reset            -> {}
  bot_api:  GET /fakes/{id}/calls[?method=M], POST /fakes/{id}/faults, /results, /star-transactions
  stripe:   GET /fakes/{id}/requests, /objects/{object_id}, /created?kind=; POST /fakes/{id}/faults, /objects, /events

A malformed request is 400 {"error": "..."}; an unknown fake, or an endpoint the fake's kind lacks, 404.
"""
import itertools
import json
import threading
import urllib.parse

from .bot_api import ScriptedBotAPI
from .server import _Service
from .stripe_api import StatefulStripe


class BadRequest(Exception):
    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


def need(body, key, kinds, what):
    value = body.get(key)
    if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
        raise BadRequest("%s must be %s" % (key, what))
    return value


def count_of(body, key):
    value = body.get(key)
    value = 1 if value is None else value
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(key + " must be an integer")
    return value


class ControlService(_Service):
    """The fakes by id, and the endpoints above."""

    def __init__(self):
        self.lock = threading.Lock()
        self.fakes = {}
        self.ids = itertools.count(1)

    def answer(self, call):
        try:
            body = json.loads(call.body) if call.body.strip() else {}
            if not isinstance(body, dict):
                raise BadRequest("the body must be a JSON object")
            result = self.route(call, [urllib.parse.unquote(p) for p in call.path.strip("/").split("/")], body)
        except BadRequest as error:
            return error.status, {"error": str(error)}
        except (ValueError, UnicodeDecodeError) as error:
            return 400, {"error": str(error) or type(error).__name__}
        return result if isinstance(result, tuple) else (200, result)

    def route(self, call, parts, body):
        method = call.method
        if parts == ["fakes"] and method == "POST":
            return self.create(body)
        if len(parts) < 2 or parts[0] != "fakes":
            raise BadRequest("no such endpoint: %s %s" % (method, call.path), 404)
        with self.lock:
            fake = self.fakes.get(parts[1])
        if fake is None:
            raise BadRequest("no such fake: " + parts[1], 404)
        rest = parts[2:]
        if not rest and method == "DELETE":
            # Stopped, not forgotten: a test may still read what the fake recorded after it stopped (Swift's
            # `fake.calls()` after `FakeBotAPI.with { … }` returns). Stopping twice is harmless.
            fake.stop()
            return {}
        if rest == ["reset"] and method == "POST":
            fake.reset()
            return {}
        handler = self.bot_endpoint if isinstance(fake, ScriptedBotAPI) else self.stripe_endpoint
        result = handler(fake, method, rest, body, call)
        if result is None:
            raise BadRequest("no such endpoint for this fake: %s %s" % (method, call.path), 404)
        return result

    def create(self, body):
        kind = body.get("kind")
        if kind == "bot_api":
            fake = ScriptedBotAPI(need(body, "token", (str,), "a string"))
        elif kind == "stripe":
            fake = StatefulStripe(need(body, "api_key", (str,), "a string"))
        else:
            raise BadRequest('kind must be "bot_api" or "stripe"')
        fake.start()
        with self.lock:
            fake_id = str(next(self.ids))
            self.fakes[fake_id] = fake
        return {"id": fake_id, "port": fake.port}

    def bot_endpoint(self, fake, method, rest, body, call):
        if rest == ["calls"] and method == "GET":
            # ?method=sendMessage: only those (a test polling for one method's calls fetches only them).
            only = ((call.query or {}).get("method") or [None])[0]
            return {"calls": fake.calls(only), "unauthorized": fake.unauthorized}
        if rest == ["faults"] and method == "POST":
            fake.inject(body.get("fault"), need(body, "method", (str,), "a string"), count_of(body, "times"))
            return {}
        if rest == ["results"] and method == "POST":
            name = need(body, "method", (str,), "a string")
            if body.get("clear") is True:
                fake.clear_result(name)
            elif "result" in body:
                fake.set_result(name, body["result"])
            else:
                raise BadRequest('results needs "result" or "clear": true')
            return {}
        if rest == ["star-transactions"] and method == "POST":
            fake.add_star_transactions(need(body, "transactions", (list,), "an array"))
            return {}
        return None

    def stripe_endpoint(self, fake, method, rest, body, call):
        if rest == ["requests"] and method == "GET":
            return {"requests": fake.requests()}
        if rest == ["faults"] and method == "POST":
            path = body.get("path")
            if path is not None and not isinstance(path, str):
                raise BadRequest("path must be a string or null")
            fake.inject(body.get("fault"), count_of(body, "count"), path)
            return {}
        if rest == ["objects"] and method == "POST":
            fake.stub(need(body, "path", (str,), "a string"), need(body, "json", (str,), "a string").encode())
            return {}
        if len(rest) == 2 and rest[0] == "objects" and method == "GET":
            data = fake.object_json(rest[1])
            if data is None:
                raise BadRequest("no such object: " + rest[1], 404)
            return 200, data
        if rest == ["created"] and method == "GET":
            kinds = (call.query or {}).get("kind") or [""]
            return {"ids": fake.created_ids(kinds[0])}
        if rest == ["events"] and method == "POST":
            events = need(body, "events", (list,), "an array")
            if not all(isinstance(event, str) for event in events):
                raise BadRequest("events must be an array of strings")
            fake.add_events([event.encode() for event in events])
            return {}
        return None

    def stop_all(self):
        with self.lock:
            fakes, self.fakes = list(self.fakes.values()), {}
        for fake in fakes:
            fake.stop()
