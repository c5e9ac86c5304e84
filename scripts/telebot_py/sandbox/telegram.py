"""The sandbox's Bot API port: /bot<token>/<method> is the fakes' ScriptedBotAPI (its token check, validation and
answers, createInvoiceLink's link pointing at the sandbox's own Stars invoice page), recorded and logged here; the
rest is the demo's: the Stars invoice page (stars.py), the /demo redirect and the port's front page."""
import json
import re
import urllib.parse

from ..fakes import ScriptedBotAPI, bot_error
from ..fakes.bot_api import decode_body
from .common import HISTORY, demo_url, log, money, new_id, page, signed_init_data
from .server import SandboxService, html_answer, json_answer, redirect
from .stars import StarsPages


class TelegramSandbox(StarsPages, SandboxService):
    kind = "telegram"
    parses_params = True  # a form body's parameters too (parse_params), for curl

    def __init__(self, state):
        super().__init__(state)
        self.bot = ScriptedBotAPI(self.config.bot_token, invoice_link=self.invoice_link, history=HISTORY)

    def route(self, call):
        path = call.path
        match = re.fullmatch(r"/(bot[^/]*)/([A-Za-z]+)", path)
        if match:
            return self.bot_api(call, match.group(1), match.group(2))
        match = re.fullmatch(r"/invoice/([A-Za-z0-9_-]+)(/pay)?", path)
        if match:
            if match.group(2) and call.method == "POST":
                return self.stars_pay(match.group(1))
            return self.stars_page(match.group(1))
        if path in ("/demo", "/demo/"):
            return redirect(self.fresh_demo_url(), status=302)
        if path == "/demo/init-data":
            init_data = signed_init_data(self.config.bot_token, self.config.user_id)
            return json_answer(200, {"init_data": init_data, "url": demo_url(self.config.miniapp_url, init_data),
                                     "telegram_id": self.config.user_id})
        if path == "/":
            return html_answer(200, page("telebot sandbox: Bot API", (
                "<h1>Bot API stand-in</h1><p class='muted'>Bot API calls go to /bot&lt;token&gt;/&lt;method&gt;.</p>"
                "<a class='button' href='/demo'>Open the Mini App as the demo user</a>"), accent="#2481cc"))
        return bot_error(404, "Not Found")

    def fresh_demo_url(self):
        return demo_url(self.config.miniapp_url, signed_init_data(self.config.bot_token, self.config.user_id))

    def bot_api(self, call, path_token, name):
        """Hands the call to the ScriptedBotAPI (a GET, a form body or query parameters become the JSON body
        Telegram would read from them), then records and logs it; an accepted pre-checkout answer wakes the Pay."""
        raw = call.body
        if "json" not in (call.headers.get("Content-Type") or "") and (raw or call.raw_query):
            params = {key: form_value(value) if isinstance(value, str) else value
                      for key, value in call.params.items()}
            for key, value in urllib.parse.parse_qsl(call.raw_query or "", keep_blank_values=True):
                params.setdefault(key, form_value(value))
            raw = json.dumps(params).encode()
        status, data, _ = self.bot.decide(path_token, name, raw)
        answer = json.loads(data)
        if status == 401:
            self.state.record("telegram", name, 401)
            log(f"telegram {name} -> 401 (wrong bot token)")
            return status, data, {}
        params = decode_body(raw)
        if name == "answerPreCheckoutQuery" and status == 200:
            self.state.remember_answer(str(params["pre_checkout_query_id"]), params)
        self.state.record("telegram", name, status, params=params)
        log(f"telegram {name} -> {status} {summary(name, params, answer)}".rstrip())
        return status, data, {}

    def invoice_link(self, body):
        """createInvoiceLink's URL (the fake validated the invoice): the sandbox's page that pays it."""
        invoice_id = new_id("", 20)
        with self.state.lock:
            self.state.tg_invoices[invoice_id] = {
                "id": invoice_id, "title": body["title"], "description": body.get("description", ""),
                "payload": body["payload"], "currency": body["currency"], "prices": body["prices"],
                "subscription_period": body.get("subscription_period"), "paid": None}
        return f"{self.base_url}/invoice/{invoice_id}"


def form_value(value):
    """A form value as Telegram reads it: digits are a number (chat_id=5), true/false a boolean, the rest text."""
    if value in ("true", "false"):
        return value == "true"
    return int(value) if re.fullmatch(r"-?[0-9]{1,18}", value) else value


def summary(name, params, answer):
    """What a log line says about a call: the error, or what was asked."""
    if not answer.get("ok"):
        return answer.get("description", "")
    if name == "createInvoiceLink":
        total = sum(int(p["amount"]) for p in params["prices"])
        return f"{money(total, params['currency'])} link {urllib.parse.urlsplit(answer['result']).path}"
    if name == "sendMessage":
        return f"to {params['chat_id']}: {str(params['text'])[:60]!r}"
    if name == "answerPreCheckoutQuery":
        return f"ok={params.get('ok')}"
    return ""
