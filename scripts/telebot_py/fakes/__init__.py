"""One fake Telegram Bot API and one fake Stripe API: loopback HTTP servers (127.0.0.1, port 0 by default) that
record every call. Every fake telebot talks to, in scripts/, Tests/browser/, the demo sandbox and (through the host)
the Swift tests, is one of these. Two flavours behind one HTTP plumbing (server.py):

Route tables (routes.py), with each scenario's answers plugged in (the drill, the fuzz, the browser tests):

    bot = FakeBotAPI(results={"getStarTransactions": fn}).start()     POST /bot<token>/<method>
    stripe = FakeStripe([("POST", "/v1/customers", fn), ...]).start()   /v1/..., form bodies
    both = FakeProviders(bot, stripe).start()                           one server for both (TELEGRAM_API_BASE_URL
                                                                        and STRIPE_API_BASE_URL the same URL)

A Bot API result (the `results` values) and a Stripe route are either a value or a function of the Call; a Stripe
route may answer (status, object). Bot API answers are {"ok": true, "result": ...}; by default createInvoiceLink
gives a t.me link, send* a Message, anything else `true`. Stripe answers unknown paths 404 (invalid_request_error)
unless `fallback` says otherwise. `recorder` holds the calls: Call(service, name, method, path, query, headers, body,
params), name = the Bot API method, or the path for Stripe.

Stateful and scripted, ports of the Swift tests' FakeBotAPI and FakeStripe with the same answers and error strings:

    ScriptedBotAPI(token)       bot_api.py + bot_results.py: fault queues, scripted results, message ids, refunds,
                                star transactions, getWebhookInfo from the last setWebhook, 401 for a wrong token
    StatefulStripe(api_key)     stripe_api.py + stripe_routes.py + stripe_events.py: Bearer key, Idempotency-Key
                                replays, customers / sessions / refunds / stubbed objects, GET /v1/events, faults

The demo sandbox (telebot_py.sandbox) serves those two as well, with hooks for what it does differently: a key
policy, random ids, its own pages' URLs and a session's amount, createInvoiceLink's link, change callbacks.

The host (host.py, control.py) runs those for the Swift tests: `python3 -m telebot_py.fakes.host --port-file PATH
--parent-pid PID` serves a JSON control API that starts, scripts, inspects, resets and stops them.
"""
from .bot_api import DEFAULT_TOKEN, ScriptedBotAPI, bot_fault
from .bot_results import error as bot_error
from .routes import FakeBotAPI, FakeProviders, FakeStripe, default_bot_result, message, stripe_error
from .server import Call, QuietServer, Recorder, _Service, parse_params, read_body, serve
from .stripe_api import DEFAULT_API_KEY, StatefulStripe, stripe_fault

__all__ = ["Call", "DEFAULT_API_KEY", "DEFAULT_TOKEN", "FakeBotAPI", "FakeProviders", "FakeStripe", "QuietServer",
           "Recorder", "ScriptedBotAPI", "StatefulStripe", "bot_error", "bot_fault", "default_bot_result", "message",
           "parse_params", "read_body", "serve", "stripe_error", "stripe_fault"]
