"""The sandbox's Bot API: /bot<token>/<method>, the demo redirect, the Stars invoice page routes."""
import hmac
import re
import urllib.parse

from ..fakes import parse_params
from ..fakes.bot_results import bot_id
from .common import (DEMO_FIRST_NAME, STARS_SUBSCRIPTION_PERIOD, demo_url, log, money, new_id, now, page,
                     signed_init_data)


class TelegramRoutes:
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
        try:
            params = parse_params(raw, content_type)
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
            return ok({"id": bot_id(self.config.bot_token), "is_bot": True, "first_name": "telebot sandbox", "username": "telebot_sandbox_bot",
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
