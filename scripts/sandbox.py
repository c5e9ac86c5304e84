#!/usr/bin/env python3
"""telebot sandbox: loopback stand-ins for the Telegram Bot API and Stripe (python3 standard library only).

One process, two HTTP servers on 127.0.0.1:

  Bot API  (TELEGRAM_API_BASE_URL)  POST /bot<TOKEN>/<method>   JSON or form bodies, {"ok":true,"result":...}
           GET  /invoice/<id>        the page a `createInvoiceLink` link opens: "Pay" sends telebot a
                                     pre_checkout_query update, waits for the answer (in the webhook's
                                     response body, as telebot sends it, or as an answerPreCheckoutQuery call),
                                     then a message.successful_payment update, and returns to the Mini App
           GET  /demo                redirects to the Mini App with freshly signed initData (demo user)
           GET  /demo/init-data      the same as JSON: {"init_data", "url", "telegram_id"}
  Stripe   (STRIPE_API_BASE_URL)    POST /v1/customers, /v1/checkout/sessions, /v1/billing_portal/sessions,
                                     GET /v1/subscriptions/<id>, /v1/customers/<id>, /v1/checkout/sessions/<id>,
                                     POST /v1/subscriptions/<id> (cancel_at_period_end)
                                     (form-encoded, Bearer key, Idempotency-Key replays the first answer)
           GET  /checkout/<cs_id>    Checkout page: "Pay" sends telebot checkout.session.completed (and, for a
                                     subscription, customer.subscription.created and invoice.paid with the price
                                     and the period on its line), each signed like Stripe signs webhooks, then
                                     redirects to the session's success_url
           GET  /portal/<bps_id>     billing portal: the customer's subscriptions, "Cancel" sends
                                     customer.subscription.deleted, "Return" goes to return_url
           GET  /invoices/<in_id>    hosted invoice page (hosted_invoice_url of the invoices it sends)
  both     GET  /sandbox/calls       recent calls and webhook deliveries as JSON (no secrets)
           GET  /sandbox/health      {"ok": true}

Secrets come from the environment only (never from arguments, never printed): TELEGRAM_BOT_TOKEN,
TELEGRAM_WEBHOOK_SECRET, STRIPE_WEBHOOK_SECRET (the first of a comma-separated list signs), and STRIPE_API_KEY
(when set, the Stripe stand-in requires exactly that Bearer key; otherwise any sk_/rk_ key).

Usage:
  scripts/sandbox.py [serve] [--telebot-url URL] [--miniapp-url URL] [--telegram-port N] [--stripe-port N]
                             [--ports-file PATH] [--user-id ID] [--price PRICE=AMOUNT[:DAYS]]...
  scripts/sandbox.py init-data [--user-id ID]            prints freshly signed initData
  scripts/sandbox.py demo-url  [--miniapp-url URL]       prints the Mini App URL with #tgWebAppData=...

Ports 0 (the default) pick free ones; --ports-file gets KEY=value lines (TELEGRAM_API_BASE_URL=...,
STRIPE_API_BASE_URL=..., SANDBOX_TELEGRAM_PORT=..., SANDBOX_STRIPE_PORT=...) once both listen.
Each call is logged to stderr as one line starting with [sandbox].
"""
import argparse
import base64
import collections
import hashlib
import hmac
import html
import json
import os
import re
import secrets
import signal
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEMO_TELEGRAM_ID = 424242
DEMO_FIRST_NAME = "Demo"
DEMO_USERNAME = "demo_user"

# Prices of the example catalog (plans.example.json has only the price ids): amount in cents, currency, days.
DEFAULT_PRICES = {
    "price_premium_monthly": (499, "usd", 30),
    "price_premium_yearly": (4999, "usd", 365),
}
STRIPE_API_VERSION = "2024-06-20"
STARS_SUBSCRIPTION_PERIOD = 2592000


def log(message):
    print("[sandbox] " + message, file=sys.stderr, flush=True)


def now():
    return int(time.time())


def new_id(prefix, length=14):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length))


# --- Telegram initData --------------------------------------------------------------------------------------------

def demo_user(telegram_id):
    return {"id": telegram_id, "is_bot": False, "first_name": DEMO_FIRST_NAME, "last_name": "User",
            "username": DEMO_USERNAME, "language_code": "en"}


def signed_init_data(bot_token, telegram_id, auth_date=None):
    """initData as Telegram signs it: secret = HMAC_SHA256(key="WebAppData", bot_token); hash = hex
    HMAC_SHA256(secret, the sorted key=value lines of every field but hash)."""
    user = demo_user(telegram_id)
    user.pop("is_bot")
    user["allows_write_to_pm"] = True
    pairs = {
        "query_id": "AAH" + secrets.token_urlsafe(18),
        "user": json.dumps(user, separators=(",", ":"), ensure_ascii=False),
        "auth_date": str(auth_date if auth_date is not None else now()),
    }
    check_string = "\n".join(f"{key}={pairs[key]}" for key in sorted(pairs))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    pairs["hash"] = hmac.new(secret, check_string.encode(), hashlib.sha256).hexdigest()
    return urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote)


def demo_url(miniapp_url, init_data):
    """The Mini App URL carrying initData the way Telegram passes it to web apps: in the fragment."""
    base = miniapp_url.split("#", 1)[0]
    return base + "#tgWebAppData=" + urllib.parse.quote(init_data, safe="")


# --- Stripe webhook signing -----------------------------------------------------------------------------------------

def stripe_signature(secret, body, timestamp):
    """`Stripe-Signature` for `body`: HMAC-SHA256 over "t.body" keyed with the whole whsec_ string."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


# --- shared state ---------------------------------------------------------------------------------------------------

class State:
    def __init__(self, config):
        self.config = config
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.calls = collections.deque(maxlen=500)
        # Stripe
        self.customers = {}
        self.sessions = {}
        self.subscriptions = {}
        self.invoices = {}
        self.portals = {}
        self.idempotent = {}
        # Telegram
        self.tg_invoices = {}
        self.answers = {}
        self.update_id = int(time.time() * 1000)  # unique across sandbox restarts on one database
        self.message_id = 1000

    def record(self, service, name, status, **detail):
        entry = {"service": service, "name": name, "status": status, "at": time.time(), "detail": detail}
        with self.lock:
            self.calls.append(entry)
        return entry

    def next_update_id(self):
        with self.lock:
            self.update_id += 1
            return self.update_id

    def next_message_id(self):
        with self.lock:
            self.message_id += 1
            return self.message_id


def post_json(url, body, headers, attempts=3):
    """POSTs JSON bytes; retries connection errors and 5xx (as Stripe and Telegram redeliver).
    Returns (status, response text); status 0 when telebot could not be reached."""
    status, text = 0, ""
    for attempt in range(1, attempts + 1):
        request = urllib.request.Request(url, data=body, method="POST",
                                         headers=dict({"Content-Type": "application/json; charset=utf-8"}, **headers))
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode("utf-8", "replace")
            if status < 500:
                return status, text
        except OSError as error:
            status, text = 0, str(error)
        if attempt < attempts:
            time.sleep(0.5 * attempt)
    return status, text


# --- HTML -----------------------------------------------------------------------------------------------------------

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
*, *::before, *::after {{ box-sizing: border-box; }}
body {{ font: 15px/1.45 -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; padding: 0 12px; background: {bg};
        color: #1c1c1e; }}
main {{ max-width: 460px; margin: 24px auto; padding: 20px; background: #fff; border-radius: 14px;
        box-shadow: 0 2px 14px rgba(0,0,0,.08); }}
.sandbox {{ font-size: 12px; color: #8a5a00; background: #fff1cc; border-radius: 8px; padding: 6px 10px; }}
h1 {{ font-size: 20px; margin: 14px 0 4px; }} .muted {{ color: #6b6b70; font-size: 13px; }}
.amount {{ font-size: 28px; font-weight: 700; margin: 12px 0; }}
button, .button {{ font: inherit; border: 0; border-radius: 10px; padding: 12px 16px; cursor: pointer; width: 100%;
          background: {accent}; color: #fff; display: block; text-align: center; text-decoration: none;
          margin-top: 10px; }}
.secondary {{ background: transparent; color: {accent}; }}
table {{ width: 100%; border-collapse: collapse; margin: 10px 0; }} td {{ padding: 4px 0; }}
td:last-child {{ text-align: right; }} .error {{ color: #d93025; }}
</style></head>
<body><main><div class="sandbox">{banner}</div>
{body}
</main></body></html>"""


def page(title, body, accent="#635bff", bg="#f6f9fc", banner="telebot sandbox: no real money moves"):
    return PAGE.format(title=html.escape(title), body=body, accent=accent, bg=bg, banner=html.escape(banner))


def money(amount, currency):
    if currency.upper() == "XTR":
        return f"{amount} Stars"
    return f"{amount / 100:.2f} {currency.upper()}"


# --- HTTP handler ---------------------------------------------------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
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

    def route_telegram(self, method, path):
        match = re.fullmatch(r"/bot([^/]+)/([A-Za-z]+)", path)
        if match:
            return self.bot_api(match.group(1), match.group(2))
        match = re.fullmatch(r"/invoice/([A-Za-z0-9_-]+)(/pay)?", path)
        if match:
            invoice_id, pay = match.group(1), bool(match.group(2))
            if pay and method == "POST":
                return self.stars_pay(invoice_id)
            return self.stars_page(invoice_id)
        if path in ("/demo", "/demo/"):
            return self.redirect(self.fresh_demo_url(), status=302)
        if path == "/demo/init-data":
            init_data = signed_init_data(self.config.bot_token, self.config.user_id)
            return self.send_json(200, {"init_data": init_data, "url": demo_url(self.config.miniapp_url, init_data),
                                        "telegram_id": self.config.user_id})
        if path == "/":
            return self.send_html(200, page("telebot sandbox: Bot API", (
                "<h1>Bot API stand-in</h1><p class='muted'>Bot API calls go to /bot&lt;token&gt;/&lt;method&gt;.</p>"
                "<a class='button' href='/demo'>Open the Mini App as the demo user</a>"), accent="#2481cc"))
        return self.send_json(404, {"ok": False, "error_code": 404, "description": "Not Found"})

    def fresh_demo_url(self):
        return demo_url(self.config.miniapp_url, signed_init_data(self.config.bot_token, self.config.user_id))

    def bot_api(self, token, name):
        raw = self.read_body()
        if not hmac.compare_digest(token.encode(), self.config.bot_token.encode()):
            self.state.record("telegram", name, 401)
            log(f"telegram {name} -> 401 (wrong bot token)")
            return self.send_json(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        content_type = self.headers.get("Content-Type", "")
        params = {}
        try:
            if raw and "json" in content_type:
                params = json.loads(raw)
            elif raw:
                params = {k: v for k, v in urllib.parse.parse_qsl(raw.decode(), keep_blank_values=True)}
                for key in ("prices", "reply_markup"):
                    if isinstance(params.get(key), str):
                        params[key] = json.loads(params[key])
            if not isinstance(params, dict):
                raise ValueError("not an object")
        except (ValueError, UnicodeDecodeError):
            self.state.record("telegram", name, 400)
            log(f"telegram {name} -> 400 (unparsable parameters)")
            return self.send_json(400, {"ok": False, "error_code": 400, "description": "Bad Request: can't parse JSON"})
        query = urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query, keep_blank_values=True)
        for key, value in query:
            params.setdefault(key, value)
        status, payload, summary = self.bot_method(name, params)
        self.state.record("telegram", name, status, params=params)
        log(f"telegram {name} -> {status}{(' ' + summary) if summary else ''}")
        self.send_json(status, payload)

    def bot_method(self, name, params):
        def ok(result, summary=""):
            return 200, {"ok": True, "result": result}, summary

        def bad(description):
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: " + description}, description

        if name == "getMe":
            bot_id = int(self.config.bot_token.split(":", 1)[0]) if self.config.bot_token.split(":", 1)[0].isdigit() else 1
            return ok({"id": bot_id, "is_bot": True, "first_name": "telebot sandbox", "username": "telebot_sandbox_bot",
                       "can_join_groups": True, "supports_inline_queries": False})
        if name == "createInvoiceLink":
            error = self.check_invoice(params)
            if error:
                return bad(error)
            invoice_id = new_id("", 20)
            with self.state.lock:
                self.state.tg_invoices[invoice_id] = {
                    "id": invoice_id, "title": params["title"], "description": params.get("description", ""),
                    "payload": params["payload"], "currency": params["currency"], "prices": params["prices"],
                    "subscription_period": params.get("subscription_period"), "paid": None}
            url = f"{self.server.base_url}/invoice/{invoice_id}"
            total = sum(int(p["amount"]) for p in params["prices"])
            return ok(url, f"{money(total, params['currency'])} link /invoice/{invoice_id}")
        if name == "sendInvoice":
            error = self.check_invoice(params)
            if error:
                return bad(error)
            return ok(self.message(params.get("chat_id"), invoice={
                "title": params["title"], "description": params.get("description", ""),
                "start_parameter": params.get("start_parameter", ""), "currency": params["currency"],
                "total_amount": sum(int(p["amount"]) for p in params["prices"])}))
        if name == "sendMessage":
            if not params.get("chat_id") or not params.get("text"):
                return bad("chat_id and text are required")
            text = str(params["text"])
            return ok(self.message(params["chat_id"], text=text),
                      f"to {params['chat_id']}: {text[:60]!r}")
        if name == "answerPreCheckoutQuery":
            query_id = str(params.get("pre_checkout_query_id", ""))
            if not query_id:
                return bad("pre_checkout_query_id is required")
            self.remember_answer(query_id, params)
            return ok(True, f"ok={params.get('ok')}")
        if name == "getStarTransactions":
            return ok({"transactions": []})
        if name in ("answerCallbackQuery", "refundStarPayment", "editUserStarSubscription", "setWebhook",
                    "deleteWebhook", "setMyCommands", "setChatMenuButton", "editMessageText",
                    "editMessageReplyMarkup", "deleteMessage"):
            return ok(True)
        return 404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"}, "unknown method"

    @staticmethod
    def check_invoice(params):
        for key in ("title", "payload", "currency", "prices"):
            if not params.get(key):
                return f"{key} is required"
        if len(str(params["payload"]).encode()) > 128:
            return "invoice payload is too long"
        prices = params["prices"]
        if not isinstance(prices, list) or not all(isinstance(p, dict) and "amount" in p for p in prices):
            return "prices must be an array of LabeledPrice"
        if params["currency"] == "XTR":
            if params.get("provider_token"):
                return "provider_token must be empty for payments in Telegram Stars"
            if len(prices) != 1:
                return "exactly one price is allowed for payments in Telegram Stars"
        if params.get("subscription_period") is not None:
            if params["currency"] != "XTR" or int(params["subscription_period"]) != STARS_SUBSCRIPTION_PERIOD:
                return "SUBSCRIPTION_PERIOD_INVALID"
        return None

    def message(self, chat_id, **content):
        if isinstance(chat_id, str) and not chat_id.lstrip("-").isdigit():
            chat = {"id": -1001000000001, "type": "channel", "title": chat_id.lstrip("@"), "username": chat_id.lstrip("@")}
        else:
            chat = {"id": int(chat_id or 0), "type": "private", "first_name": DEMO_FIRST_NAME}
        return dict({"message_id": self.state.next_message_id(), "date": now(), "chat": chat}, **content)

    def remember_answer(self, query_id, params):
        with self.state.changed:
            self.state.answers[query_id] = {"ok": bool(params.get("ok")), "error_message": params.get("error_message")}
            self.state.changed.notify_all()

    def stars_page(self, invoice_id):
        with self.state.lock:
            invoice = self.state.tg_invoices.get(invoice_id)
        if invoice is None:
            return self.send_html(404, page("Invoice not found", "<h1>Invoice not found</h1>", accent="#2481cc"))
        total = sum(int(p["amount"]) for p in invoice["prices"])
        lines = "".join(f"<tr><td>{html.escape(str(p.get('label', '')))}</td><td>{money(int(p['amount']), invoice['currency'])}"
                        f"</td></tr>" for p in invoice["prices"])
        every = "<p class='muted'>Renews every 30 days until cancelled.</p>" if invoice["subscription_period"] else ""
        if invoice["paid"] == "pending":
            action = "<p id='pending'>Payment in progress&hellip; reload in a moment.</p>"
        elif invoice["paid"]:
            action = (f"<p id='paid'>Paid. Charge {html.escape(invoice['paid'])}.</p>"
                      f"<a class='button' id='back' href='{html.escape(self.config.miniapp_url)}'>Back to the app</a>")
        else:
            action = (f"<form method='post' action='/invoice/{invoice_id}/pay'>"
                      f"<button id='pay' type='submit'>Pay {total} Stars</button></form>"
                      f"<a class='button secondary' id='cancel' href='{html.escape(self.config.miniapp_url)}'>Cancel</a>")
        body = (f"<h1>{html.escape(invoice['title'])}</h1><p class='muted'>{html.escape(invoice['description'])}</p>"
                f"<table>{lines}</table><div class='amount'>{total} Stars</div>{every}"
                f"<p class='muted'>Paying as {DEMO_FIRST_NAME} (Telegram id {self.config.user_id}).</p>{action}")
        self.send_html(200, page("Telegram Stars invoice", body, accent="#2481cc", bg="#eef3f8",
                                 banner="telebot sandbox: Telegram Stars, no real Stars move"))

    def stars_pay(self, invoice_id):
        with self.state.lock:
            invoice = self.state.tg_invoices.get(invoice_id)
            already = invoice is not None and invoice["paid"] is not None
            if invoice is not None and not already:
                invoice["paid"] = "pending"  # claimed: a second click cannot pay twice
                invoice = dict(invoice)
        if invoice is None:
            return self.stars_page(invoice_id)
        if already:
            return self.redirect(self.return_url("invoice=paid"))
        try:
            charge_id = self.stars_charge(invoice)
        finally:
            with self.state.lock:
                if self.state.tg_invoices[invoice_id]["paid"] == "pending":
                    self.state.tg_invoices[invoice_id]["paid"] = None
        if charge_id:
            with self.state.lock:
                self.state.tg_invoices[invoice_id]["paid"] = charge_id
            self.redirect(self.return_url("invoice=paid"))

    def stars_charge(self, invoice):
        """Runs Telegram's side of a Stars payment; returns the charge id, or None after answering with an error page."""
        config = self.config
        user = demo_user(config.user_id)
        total = sum(int(p["amount"]) for p in invoice["prices"])
        query_id = str(secrets.randbits(62))
        update = {"update_id": self.state.next_update_id(), "pre_checkout_query": {
            "id": query_id, "from": user, "currency": invoice["currency"], "total_amount": total,
            "invoice_payload": invoice["payload"]}}
        status, text = self.deliver_telegram(update, "pre_checkout_query")
        answer = None
        if status == 200:
            try:
                reply = json.loads(text or "{}")
            except ValueError:
                reply = {}
            if reply.get("method") == "answerPreCheckoutQuery" and str(reply.get("pre_checkout_query_id")) == query_id:
                self.remember_answer(query_id, reply)
                self.state.record("telegram", "answerPreCheckoutQuery", 200, via="webhook reply", ok=reply.get("ok"))
                log(f"telegram answerPreCheckoutQuery (webhook reply) ok={reply.get('ok')}")
        deadline = time.time() + 10  # Telegram cancels a payment whose pre-checkout query is not answered in 10 s
        with self.state.changed:
            while query_id not in self.state.answers and time.time() < deadline:
                self.state.changed.wait(deadline - time.time())
            answer = self.state.answers.pop(query_id, None)
        if answer is None or not answer["ok"]:
            reason = ("telebot did not answer the pre-checkout query within 10 s (webhook status "
                      f"{status})" if answer is None else (answer.get("error_message") or "refused"))
            log(f"stars payment refused: {reason}")
            body = (f"<h1>Payment failed</h1><p class='error' id='failure'>{html.escape(reason)}</p>"
                    f"<a class='button' href='{html.escape(config.miniapp_url)}'>Back to the app</a>")
            self.send_html(402, page("Payment failed", body, accent="#2481cc", bg="#eef3f8"))
            return None
        charge_id = new_id("stxsandbox", 24)
        payment = {"currency": invoice["currency"], "total_amount": total, "invoice_payload": invoice["payload"],
                   "telegram_payment_charge_id": charge_id, "provider_payment_charge_id": ""}
        if invoice["subscription_period"]:
            payment.update({"subscription_expiration_date": now() + int(invoice["subscription_period"]),
                            "is_recurring": True, "is_first_recurring": True})
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"], "username": user["username"]}
        update = {"update_id": self.state.next_update_id(), "message": {
            "message_id": self.state.next_message_id(), "date": now(), "chat": chat, "from": user,
            "successful_payment": payment}}
        status, text = self.deliver_telegram(update, "successful_payment")
        if status != 200:
            body = (f"<h1>Payment not delivered</h1><p class='error' id='failure'>telebot answered {status} to the "
                    f"successful_payment update: {html.escape(text[:300])}</p>"
                    f"<a class='button' href='{html.escape(config.miniapp_url)}'>Back to the app</a>")
            self.send_html(502, page("Payment not delivered", body, accent="#2481cc", bg="#eef3f8"))
            return None
        return charge_id

    def return_url(self, query):
        base = self.config.miniapp_url.split("#", 1)[0]
        return base + ("&" if "?" in base else "?") + query

    def deliver_telegram(self, update, kind):
        body = json.dumps(update, separators=(",", ":")).encode()
        url = self.config.telebot_url + "/webhooks/telegram"
        status, text = post_json(url, body, {"X-Telegram-Bot-Api-Secret-Token": self.config.webhook_secret})
        self.state.record("webhook", kind, status, provider="telegram", update_id=update["update_id"])
        log(f"-> telebot POST /webhooks/telegram {kind} update {update['update_id']} -> {status or 'unreachable'}")
        return status, text

    # -- Stripe --

    def route_stripe(self, method, path):
        if path.startswith("/v1/"):
            return self.stripe_api(method, path)
        match = re.fullmatch(r"/checkout/(cs_[A-Za-z0-9_]+)(/pay|/cancel)?", path)
        if match:
            session_id, action = match.group(1), match.group(2)
            if action == "/pay" and method == "POST":
                return self.checkout_pay(session_id)
            if action == "/cancel":
                with self.state.lock:
                    session = self.state.sessions.get(session_id)
                if session:
                    return self.redirect(session["cancel_url"])
            return self.checkout_page(session_id)
        match = re.fullmatch(r"/portal/(bps_[A-Za-z0-9_]+)(?:/cancel/(sub_[A-Za-z0-9_]+))?", path)
        if match:
            if match.group(2) and method == "POST":
                return self.portal_cancel(match.group(1), match.group(2))
            return self.portal_page(match.group(1))
        match = re.fullmatch(r"/invoices/(in_[A-Za-z0-9_]+)", path)
        if match:
            return self.hosted_invoice(match.group(1))
        if path == "/":
            return self.send_html(200, page("telebot sandbox: Stripe", "<h1>Stripe stand-in</h1>"
                                            "<p class='muted'>API under /v1, Checkout pages under /checkout.</p>"))
        return self.stripe_error(404, f"Unrecognized request URL ({method}: {path}).")

    def stripe_error(self, status, message, kind="invalid_request_error", code=None, param=None):
        error = {"type": kind, "message": message}
        if code:
            error["code"] = code
        if param:
            error["param"] = param
        self.send_json(status, {"error": error}, {"Request-Id": new_id("req_")})

    def stripe_api(self, method, path):
        raw = self.read_body()
        auth = self.headers.get("Authorization", "")
        key = auth[7:] if auth.startswith("Bearer ") else ""
        if auth.startswith("Basic "):  # curl -u sk_test_...:
            try:
                key = base64.b64decode(auth[6:]).decode().split(":", 1)[0]
            except (ValueError, UnicodeDecodeError):
                key = ""
        expected = self.config.stripe_api_key
        if not key or (expected and not hmac.compare_digest(key.encode(), expected.encode())) \
                or not (key.startswith("sk_") or key.startswith("rk_")):
            self.state.record("stripe", f"{method} {path}", 401)
            log(f"stripe {method} {path} -> 401 (missing or wrong API key)")
            return self.stripe_error(401, "Invalid API Key provided.")
        form = urllib.parse.parse_qsl(raw.decode(), keep_blank_values=True) if raw else []
        form += urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query, keep_blank_values=True)
        form = dict(form)
        idem = self.headers.get("Idempotency-Key")
        cache_key = (method, path, idem) if idem and method == "POST" else None
        if cache_key:
            with self.state.lock:
                cached = self.state.idempotent.get(cache_key)
            if cached:
                self.state.record("stripe", f"{method} {path}", cached[0], replayed=True)
                log(f"stripe {method} {path} -> {cached[0]} (idempotent replay)")
                return self.send(cached[0], cached[1], "application/json",
                                 {"Idempotent-Replayed": "true", "Request-Id": new_id("req_")})
        status, obj, summary = self.stripe_method(method, path, form)
        body = json.dumps(obj, separators=(",", ":")).encode()
        if cache_key and status < 500:
            with self.state.lock:
                self.state.idempotent[cache_key] = (status, body)
        self.state.record("stripe", f"{method} {path}", status, form=form, idempotency_key=bool(idem))
        log(f"stripe {method} {path} -> {status}{(' ' + summary) if summary else ''}")
        self.send(status, body, "application/json", {"Request-Id": new_id("req_")})

    def stripe_method(self, method, path, form):
        def missing(kind, ident):
            return 404, {"error": {"type": "invalid_request_error", "code": "resource_missing",
                                   "message": f"No such {kind}: '{ident}'"}}, "resource_missing"

        if method == "POST" and path == "/v1/customers":
            customer = {"id": new_id("cus_"), "object": "customer", "created": now(), "livemode": False,
                        "email": form.get("email"), "name": form.get("name"), "metadata": nested(form, "metadata")}
            with self.state.lock:
                self.state.customers[customer["id"]] = customer
            return 200, customer, customer["id"]
        match = re.fullmatch(r"/v1/customers/(cus_[A-Za-z0-9_]+)", path)
        if method == "GET" and match:
            with self.state.lock:
                customer = self.state.customers.get(match.group(1))
            return (200, customer, "") if customer else missing("customer", match.group(1))
        if method == "POST" and path == "/v1/checkout/sessions":
            return self.create_session(form)
        match = re.fullmatch(r"/v1/checkout/sessions/(cs_[A-Za-z0-9_]+)", path)
        if method == "GET" and match:
            with self.state.lock:
                session = self.state.sessions.get(match.group(1))
            return (200, public_session(session), "") if session else missing("checkout.session", match.group(1))
        if method == "POST" and path == "/v1/billing_portal/sessions":
            customer = form.get("customer")
            with self.state.lock:
                known = customer in self.state.customers
            if not customer:
                return 400, {"error": {"type": "invalid_request_error", "param": "customer",
                                       "message": "Missing required param: customer."}}, "no customer"
            if not known:
                return missing("customer", customer)
            portal = {"id": new_id("bps_"), "object": "billing_portal.session", "customer": customer,
                      "return_url": form.get("return_url"), "created": now(), "livemode": False}
            portal["url"] = f"{self.server.base_url}/portal/{portal['id']}"
            with self.state.lock:
                self.state.portals[portal["id"]] = portal
            return 200, portal, portal["id"]
        match = re.fullmatch(r"/v1/subscriptions/(sub_[A-Za-z0-9_]+)", path)
        if method == "GET" and match:
            with self.state.lock:
                subscription = self.state.subscriptions.get(match.group(1))
            return (200, subscription, "") if subscription else missing("subscription", match.group(1))
        if method == "POST" and match:
            # Cancel / resume at period end, as the Mini App's buttons ask; Stripe then sends
            # customer.subscription.updated (delivered from a thread, after this answer).
            with self.state.lock:
                subscription = self.state.subscriptions.get(match.group(1))
                if subscription is not None and "cancel_at_period_end" in form:
                    subscription["cancel_at_period_end"] = form.get("cancel_at_period_end") == "true"
                    subscription = dict(subscription)
            if subscription is None:
                return missing("subscription", match.group(1))
            threading.Timer(0.2, self.deliver_stripe, args=("customer.subscription.updated", subscription)).start()
            return 200, subscription, subscription["id"]
        return 404, {"error": {"type": "invalid_request_error",
                               "message": f"Unrecognized request URL ({method}: {path})."}}, "unrecognized"

    def create_session(self, form):
        mode = form.get("mode")
        if mode not in ("subscription", "payment"):
            return 400, {"error": {"type": "invalid_request_error", "param": "mode",
                                   "message": "Invalid mode: must be one of payment, setup, or subscription"}}, "mode"
        for required in ("success_url", "line_items[0][price]"):
            if not form.get(required):
                return 400, {"error": {"type": "invalid_request_error", "param": required,
                                       "message": f"Missing required param: {required}."}}, required
        customer = form.get("customer")
        with self.state.lock:
            if customer and customer not in self.state.customers:
                customer = None
                unknown = form.get("customer")
            else:
                unknown = None
        if unknown:
            return 400, {"error": {"type": "invalid_request_error", "code": "resource_missing", "param": "customer",
                                   "message": f"No such customer: '{unknown}'"}}, "resource_missing"
        price = form["line_items[0][price]"]
        quantity = int(form.get("line_items[0][quantity]") or 1)
        amount, currency, days = self.config.price(price)
        session_id = "cs_test_" + secrets.token_hex(16)
        session = {
            "id": session_id, "object": "checkout.session", "mode": mode, "status": "open",
            "payment_status": "unpaid", "customer": customer, "client_reference_id": form.get("client_reference_id"),
            "metadata": nested(form, "metadata"), "success_url": form["success_url"],
            "cancel_url": form.get("cancel_url") or form["success_url"], "amount_total": amount * quantity,
            "amount_subtotal": amount * quantity, "currency": currency, "created": now(), "livemode": False,
            "expires_at": now() + 86400, "subscription": None, "payment_intent": None, "invoice": None,
            "url": f"{self.server.base_url}/checkout/{session_id}",
            # Not part of Stripe's session object: what the line item and its metadata need at payment time.
            "_price": price, "_quantity": quantity, "_days": days,
            "_subscription_metadata": nested(form, "subscription_data[metadata]"),
            "_payment_metadata": nested(form, "payment_intent_data[metadata]"),
        }
        with self.state.lock:
            self.state.sessions[session_id] = session
        return 200, public_session(session), f"{session_id} {mode} {price} x{quantity}"

    def checkout_page(self, session_id):
        with self.state.lock:
            session = self.state.sessions.get(session_id)
            session = dict(session) if session else None
        if session is None:
            return self.send_html(404, page("Checkout not found", "<h1>This checkout session does not exist</h1>"))
        plan = session["metadata"].get("plan") or session["_price"]
        every = ""
        if session["mode"] == "subscription":
            every = f"<p class='muted'>Billed every {session['_days']} days until cancelled.</p>"
        if session["status"] == "complete":
            action = (f"<p id='paid'>This session is already paid.</p>"
                      f"<a class='button' id='back' href='{html.escape(success_url(session))}'>Back to the app</a>")
        else:
            action = (f"<form method='post' action='/checkout/{session_id}/pay'>"
                      f"<label class='muted'>Card</label><div>4242 4242 4242 4242 &middot; 12/34 &middot; 123</div>"
                      f"<button id='pay' type='submit'>Pay {money(session['amount_total'], session['currency'])}"
                      f"</button></form><a class='button secondary' id='cancel' "
                      f"href='/checkout/{session_id}/cancel'>Cancel</a>")
        body = (f"<h1>{html.escape(plan)}</h1><p class='muted'>Price {html.escape(session['_price'])} &times; "
                f"{session['_quantity']}</p><div class='amount'>{money(session['amount_total'], session['currency'])}"
                f"</div>{every}{action}")
        self.send_html(200, page("Sandbox Checkout", body, banner="telebot sandbox: Stripe Checkout in test mode"))

    def checkout_pay(self, session_id):
        with self.state.lock:
            session = self.state.sessions.get(session_id)
            state = None if session is None else session["status"]
            if state == "open":
                session["status"] = "complete"  # claimed: a second click cannot pay twice
        if state is None:
            return self.checkout_page(session_id)
        if state == "complete":
            return self.redirect(success_url(session))
        with self.state.lock:
            t = now()
            if not session["customer"] and session["mode"] == "subscription":
                customer = {"id": new_id("cus_"), "object": "customer", "created": t, "livemode": False,
                            "email": None, "name": None, "metadata": {}}
                self.state.customers[customer["id"]] = customer
                session["customer"] = customer["id"]
            price = {"id": session["_price"], "object": "price", "active": True, "currency": session["currency"],
                     "unit_amount": session["amount_total"] // max(session["_quantity"], 1), "livemode": False}
            events = []
            if session["mode"] == "subscription":
                end = t + session["_days"] * 86400
                price["type"] = "recurring"
                price["recurring"] = {"interval": "year" if session["_days"] >= 365 else "month", "interval_count": 1}
                metadata = dict(session["_subscription_metadata"])
                subscription_id, invoice_id = new_id("sub_"), new_id("in_")
                subscription = {
                    "id": subscription_id, "object": "subscription", "customer": session["customer"],
                    "status": "active", "cancel_at_period_end": False, "cancel_at": None, "canceled_at": None,
                    "ended_at": None, "created": t, "start_date": t, "current_period_start": t,
                    "current_period_end": end, "latest_invoice": invoice_id, "livemode": False, "metadata": metadata,
                    "items": {"object": "list", "has_more": False, "data": [{
                        "id": new_id("si_"), "object": "subscription_item", "price": price,
                        "quantity": session["_quantity"], "current_period_start": t, "current_period_end": end}]},
                }
                invoice = {
                    "id": invoice_id, "object": "invoice", "customer": session["customer"],
                    "subscription": subscription_id, "status": "paid", "paid": True,
                    "billing_reason": "subscription_create", "amount_due": session["amount_total"],
                    "amount_paid": session["amount_total"], "amount_remaining": 0, "currency": session["currency"],
                    "created": t, "period_start": t, "period_end": t, "livemode": False, "metadata": {},
                    "hosted_invoice_url": f"{self.server.base_url}/invoices/{invoice_id}",
                    "subscription_details": {"metadata": metadata},
                    "lines": {"object": "list", "has_more": False, "data": [{
                        "id": new_id("il_"), "object": "line_item", "type": "subscription",
                        "amount": session["amount_total"], "currency": session["currency"],
                        "period": {"start": t, "end": end}, "price": price, "quantity": session["_quantity"],
                        "subscription": subscription_id, "metadata": metadata}]},
                }
                session.update(payment_status="paid", subscription=subscription_id, invoice=invoice_id)
                self.state.subscriptions[subscription_id] = subscription
                self.state.invoices[invoice_id] = invoice
                events = [("checkout.session.completed", public_session(session)),
                          ("customer.subscription.created", subscription),
                          ("invoice.paid", invoice)]
            else:
                session.update(payment_status="paid", payment_intent=new_id("pi_"))
                events = [("checkout.session.completed", public_session(session))]
        results = [self.deliver_stripe(kind, obj) for kind, obj in events]
        failed = [r for r in results if r[1] != 200]
        if failed:
            rows = "".join(f"<tr><td>{html.escape(kind)}</td><td>{status or 'unreachable'} {html.escape(text[:120])}"
                           f"</td></tr>" for kind, status, text in results)
            body = (f"<h1>Paid, but telebot did not accept every webhook</h1><table id='deliveries'>{rows}</table>"
                    f"<a class='button' href='{html.escape(success_url(session))}'>Back to the app</a>")
            return self.send_html(502, page("Webhook delivery failed", body))
        self.redirect(success_url(session))

    def deliver_stripe(self, kind, obj):
        config = self.config
        event = {"id": new_id("evt_", 24), "object": "event", "api_version": STRIPE_API_VERSION, "created": now(),
                 "livemode": False, "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None},
                 "type": kind, "data": {"object": obj}}
        body = json.dumps(event, separators=(",", ":")).encode()
        headers = {"Stripe-Signature": stripe_signature(config.stripe_webhook_secret, body, now()),
                   "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)"}
        status, text = post_json(config.telebot_url + "/webhooks/stripe", body, headers)
        outcome = ""
        try:
            outcome = json.loads(text).get("outcome", "")
        except (ValueError, AttributeError):
            pass
        self.state.record("webhook", kind, status, provider="stripe", event_id=event["id"], outcome=outcome,
                          object_id=obj.get("id"))
        log(f"-> telebot POST /webhooks/stripe {kind} {event['id']} -> {status or 'unreachable'} {outcome}".rstrip())
        return kind, status, text

    def portal_page(self, portal_id):
        with self.state.lock:
            portal = self.state.portals.get(portal_id)
            subscriptions = [dict(s) for s in self.state.subscriptions.values()
                             if portal and s["customer"] == portal["customer"]]
        if portal is None:
            return self.send_html(404, page("Portal session not found", "<h1>This portal session does not exist</h1>"))
        rows = []
        for sub in subscriptions:
            item = sub["items"]["data"][0]
            price = item["price"]
            ends = time.strftime("%Y-%m-%d", time.gmtime(sub["current_period_end"]))
            cancel = ""
            if sub["status"] not in ("canceled", "incomplete_expired"):
                cancel = (f"<form method='post' action='/portal/{portal_id}/cancel/{sub['id']}'>"
                          f"<button class='cancel-subscription' type='submit'>Cancel subscription</button></form>")
            rows.append(f"<div><b>{html.escape(sub['metadata'].get('plan') or price['id'])}</b> "
                        f"<span class='muted'>{money(price['unit_amount'], price['currency'])} &middot; "
                        f"{html.escape(sub['status'])} &middot; period ends {ends}</span>{cancel}</div>")
        listing = "".join(rows) or "<p class='muted'>No subscriptions.</p>"
        body = (f"<h1>Billing portal</h1><p class='muted'>Customer {html.escape(portal['customer'])}</p>{listing}"
                f"<a class='button secondary' id='return' href='{html.escape(portal['return_url'] or '/')}'>"
                f"Return to the app</a>")
        self.send_html(200, page("Sandbox billing portal", body))

    def portal_cancel(self, portal_id, subscription_id):
        with self.state.lock:
            portal = self.state.portals.get(portal_id)
            sub = self.state.subscriptions.get(subscription_id)
            if not portal or not sub or sub["customer"] != portal["customer"]:
                sub = None
            elif sub["status"] != "canceled":
                t = now()
                sub.update(status="canceled", canceled_at=t, ended_at=t)
                sub = dict(sub)
            else:
                sub = None
        if sub is not None:
            self.deliver_stripe("customer.subscription.deleted", sub)
        self.redirect(portal["return_url"] if portal and portal.get("return_url") else f"/portal/{portal_id}")

    def hosted_invoice(self, invoice_id):
        with self.state.lock:
            invoice = self.state.invoices.get(invoice_id)
        if invoice is None:
            return self.send_html(404, page("Invoice not found", "<h1>Invoice not found</h1>"))
        line = invoice["lines"]["data"][0]
        period = " to ".join(time.strftime("%Y-%m-%d", time.gmtime(line["period"][k])) for k in ("start", "end"))
        body = (f"<h1>Invoice {html.escape(invoice_id)}</h1><div class='amount'>"
                f"{money(invoice['amount_paid'], invoice['currency'])}</div><table>"
                f"<tr><td>Status</td><td>{html.escape(invoice['status'])}</td></tr>"
                f"<tr><td>Price</td><td>{html.escape(line['price']['id'])}</td></tr>"
                f"<tr><td>Period</td><td>{period}</td></tr></table>")
        self.send_html(200, page("Sandbox invoice", body))


def nested(form, prefix):
    """`prefix[key]=value` entries of a Stripe form as {key: value}."""
    out = {}
    for key, value in form.items():
        if key.startswith(prefix + "[") and key.endswith("]"):
            inner = key[len(prefix) + 1:-1]
            if "[" not in inner:
                out[inner] = value
    return out


def public_session(session):
    return {k: v for k, v in session.items() if not k.startswith("_")}


def success_url(session):
    return session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])


# --- configuration and main -----------------------------------------------------------------------------------------

class Config:
    def __init__(self, args, env):
        self.host = args.host
        self.telebot_url = (args.telebot_url or env.get("TELEBOT_URL") or "http://127.0.0.1:8080").rstrip("/")
        self.miniapp_url = args.miniapp_url or env.get("SANDBOX_MINIAPP_URL") or self.telebot_url + "/miniapp/"
        self.user_id = int(args.user_id or env.get("DEMO_TELEGRAM_ID") or DEMO_TELEGRAM_ID)
        self.bot_token = env.get("TELEGRAM_BOT_TOKEN", "")
        self.webhook_secret = env.get("TELEGRAM_WEBHOOK_SECRET", "")
        self.stripe_webhook_secret = (env.get("STRIPE_WEBHOOK_SECRET", "").split(",")[0]).strip()
        self.stripe_api_key = env.get("STRIPE_API_KEY", "")
        self.prices = dict(DEFAULT_PRICES)
        for spec in getattr(args, "price", None) or []:
            match = re.fullmatch(r"([A-Za-z0-9_]+)=(\d+)(?::(\d+))?(?::([a-z]{3}))?", spec)
            if not match:
                raise SystemExit(f"sandbox: bad --price {spec!r} (want PRICE_ID=AMOUNT[:DAYS][:CURRENCY])")
            self.prices[match.group(1)] = (int(match.group(2)), match.group(4) or "usd", int(match.group(3) or 30))

    def price(self, price_id):
        if price_id in self.prices:
            return self.prices[price_id]
        return (999, "usd", 365 if "year" in price_id else 30)


def serve(args):
    config = Config(args, os.environ)
    missing = [name for name, value in (("TELEGRAM_BOT_TOKEN", config.bot_token),
                                        ("TELEGRAM_WEBHOOK_SECRET", config.webhook_secret),
                                        ("STRIPE_WEBHOOK_SECRET", config.stripe_webhook_secret)) if not value]
    if missing:
        raise SystemExit("sandbox: set " + ", ".join(missing) + " in the environment (the same values telebot uses)")
    state = State(config)
    servers = []
    for kind, port in (("telegram", args.telegram_port), ("stripe", args.stripe_port)):
        server = ThreadingHTTPServer((config.host, port), Handler)
        server.daemon_threads = True
        server.kind = kind
        server.state = state
        server.base_url = f"http://{config.host}:{server.server_address[1]}"
        servers.append(server)
    telegram, stripe = servers
    if args.ports_file:
        tmp = args.ports_file + ".tmp"
        with open(tmp, "w") as out:
            out.write(f"TELEGRAM_API_BASE_URL={telegram.base_url}\nSTRIPE_API_BASE_URL={stripe.base_url}\n"
                      f"SANDBOX_TELEGRAM_PORT={telegram.server_address[1]}\n"
                      f"SANDBOX_STRIPE_PORT={stripe.server_address[1]}\n")
        os.replace(tmp, args.ports_file)
    for server in servers:
        threading.Thread(target=server.serve_forever, name=server.kind, daemon=True).start()
    log(f"Bot API on {telegram.base_url}, Stripe on {stripe.base_url}; webhooks go to {config.telebot_url}; "
        f"demo user {config.user_id}")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(3600):
        pass
    for server in servers:
        server.shutdown()
        server.server_close()
    log("stopped")
    return 0


def main(argv):
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv = ["serve"] + argv
    parser = argparse.ArgumentParser(prog="sandbox.py", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="run the Bot API and Stripe stand-ins")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--telegram-port", type=int, default=int(os.environ.get("SANDBOX_TELEGRAM_PORT") or 0))
    run.add_argument("--stripe-port", type=int, default=int(os.environ.get("SANDBOX_STRIPE_PORT") or 0))
    run.add_argument("--ports-file", help="write TELEGRAM_API_BASE_URL=... / STRIPE_API_BASE_URL=... lines here")
    run.add_argument("--price", action="append", help="PRICE_ID=AMOUNT[:DAYS][:CURRENCY] (amount in cents)")
    for command in (run, commands.add_parser("init-data", help="print freshly signed initData"),
                    commands.add_parser("demo-url", help="print the Mini App URL with signed initData")):
        command.add_argument("--telebot-url", help="telebot's base URL (default $TELEBOT_URL or http://127.0.0.1:8080)")
        command.add_argument("--miniapp-url", help="the Mini App page (default <telebot-url>/miniapp/)")
        command.add_argument("--user-id", type=int, help=f"demo Telegram user id (default {DEMO_TELEGRAM_ID})")
        command.set_defaults(host="127.0.0.1")
    args = parser.parse_args(argv)
    if args.command == "serve":
        return serve(args)
    config = Config(args, os.environ)
    if not config.bot_token:
        raise SystemExit("sandbox: set TELEGRAM_BOT_TOKEN in the environment")
    init_data = signed_init_data(config.bot_token, config.user_id)
    print(init_data if args.command == "init-data" else demo_url(config.miniapp_url, init_data))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
