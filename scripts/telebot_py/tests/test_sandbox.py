"""The demo sandbox serves the fakes' StatefulStripe and ScriptedBotAPI (key check, idempotency, validation) and
keeps its own pages: Checkout's Pay and the portal's Cancel send telebot signed Stripe events, the Stars invoice
page's Pay sends the pre_checkout_query and successful_payment updates. telebot is a route-table fake here."""
import argparse
import base64
import contextlib
import http.client
import io
import json
import unittest
import urllib.parse

from telebot_py import fakes, signing
from telebot_py.sandbox.common import State
from telebot_py.sandbox.main import Config
from telebot_py.sandbox.stripe_api import StripeSandbox
from telebot_py.sandbox.telegram import TelegramSandbox

TOKEN, SECRET, WHSEC = "123456789:SANDBOX-test", "tg-secret", "whsec_test"


def request(url, method="GET", body=None, headers=None):
    """(status, headers, body bytes); redirects are not followed."""
    split = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(split.hostname, split.port, timeout=15)
    try:
        target = split.path + ("?" + split.query if split.query else "")
        connection.request(method, target, body, headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def telebot_webhook(call, match):
    """telebot's Telegram webhook as the sandbox meets it: a pre-checkout query answered in the response body."""
    update = json.loads(call.body)
    if "pre_checkout_query" in update:
        return {"method": "answerPreCheckoutQuery", "pre_checkout_query_id": update["pre_checkout_query"]["id"],
                "ok": True}
    return {}


class SandboxCase(unittest.TestCase):
    api_key = "sk_test_demo"

    def setUp(self):
        quiet = contextlib.redirect_stderr(io.StringIO())  # the sandbox's log lines
        quiet.__enter__()
        self.addCleanup(quiet.__exit__, None, None, None)
        self.telebot = fakes.FakeStripe([("POST", "/webhooks/stripe", {"outcome": "processed"}),
                                         ("POST", "/webhooks/telegram", telebot_webhook)]).start()
        self.addCleanup(self.telebot.stop)
        args = argparse.Namespace(host="127.0.0.1", telebot_url=self.telebot.url, miniapp_url=None, user_id=None,
                                  price=None)
        self.state = State(Config(args, {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": SECRET,
                                         "STRIPE_WEBHOOK_SECRET": WHSEC, "STRIPE_API_KEY": self.api_key}))
        self.stripe = StripeSandbox(self.state).start()
        self.bot = TelegramSandbox(self.state).start()
        for service in (self.stripe, self.bot):
            self.addCleanup(service.stop)

    def api(self, path, form=None, key="sk_test_demo", headers=None):
        body = None if form is None else urllib.parse.urlencode(form).encode()
        status, answer_headers, data = request(self.stripe.url + path, "GET" if form is None else "POST", body,
                                               dict({"Authorization": "Bearer " + key}, **(headers or {})))
        return status, json.loads(data), answer_headers

    def bot_call(self, method, params, token=TOKEN):
        status, _, data = request("%s/bot%s/%s" % (self.bot.url, token, method), "POST", json.dumps(params).encode(),
                                  {"Content-Type": "application/json"})
        return status, json.loads(data)

    def calls(self, name):
        return [c for c in json.loads(request(self.bot.url + "/sandbox/calls")[2])["calls"] if c["name"] == name]

    def delivered(self, path):
        return [(json.loads(c.body), c.headers) for c in self.telebot.recorder.named(path)]


class SandboxStripeTests(SandboxCase):
    def test_key_idempotency_and_errors_are_the_fakes(self):
        status, body, _ = self.api("/v1/customers", {"email": "a@b.c"}, key="sk_test_other")
        self.assertEqual((status, body["error"]["message"]), (401, "Invalid API Key provided"))
        basic = "Basic " + base64.b64encode(b"sk_test_demo:").decode()
        self.assertEqual(request(self.stripe.url + "/v1/customers", "POST", b"", {"Authorization": basic})[0], 200)
        _, first, _ = self.api("/v1/customers", {"email": "a@b.c"}, headers={"Idempotency-Key": "k"})
        _, again, headers = self.api("/v1/customers", {"email": "a@b.c"}, headers={"Idempotency-Key": "k"})
        self.assertEqual((again, headers["Idempotent-Replayed"]), (first, "true"))
        self.assertRegex(first["id"], r"^cus_[A-Za-z0-9]{14}$")
        status, body, _ = self.api("/v1/customers", {"email": "x"}, headers={"Idempotency-Key": "k"})
        self.assertEqual((status, body["error"]["type"]), (400, "idempotency_error"))
        status, body, _ = self.api("/v1/checkout/sessions", {"mode": "payment", "success_url": "http://x"})
        self.assertEqual((status, body["error"]["param"]), (400, "line_items"))
        self.assertEqual(self.api("/v1/subscriptions/sub_nope")[1]["error"]["code"], "resource_missing")
        logged = [(c["status"], c["detail"]) for c in self.calls("POST /v1/customers")]
        self.assertEqual(logged[0], (401, {}))
        self.assertEqual(logged[3], (200, {"replayed": True}))
        self.assertEqual(logged[2][1], {"form": {"email": "a@b.c"}, "idempotency_key": True})

    def test_checkout_pay_and_portal_cancel_send_signed_events(self):
        _, customer, _ = self.api("/v1/customers", {"metadata[user_id]": "7"})
        _, session, _ = self.api("/v1/checkout/sessions", {
            "mode": "subscription", "customer": customer["id"], "line_items[0][price]": "price_premium_monthly",
            "metadata[plan]": "premium_monthly", "subscription_data[metadata][plan]": "premium_monthly",
            "success_url": "http://app/miniapp/?checkout=success", "cancel_url": "http://app/miniapp/"})
        self.assertEqual((session["amount_total"], session["currency"]), (499, "usd"))
        self.assertEqual(session["url"], "%s/checkout/%s" % (self.stripe.url, session["id"]))
        page = request(session["url"])[2].decode()
        self.assertIn("4.99 USD", page)
        self.assertIn("id='pay'", page)
        status, headers, _ = request(session["url"] + "/pay", "POST")
        self.assertEqual((status, headers["Location"]), (303, "http://app/miniapp/?checkout=success"))
        self.assertEqual(request(session["url"] + "/pay", "POST")[0], 303)  # paid once only
        events = self.delivered("/webhooks/stripe")
        self.assertEqual([e["type"] for e, _ in events],
                         ["checkout.session.completed", "customer.subscription.created", "invoice.paid"])
        event, headers = events[0]
        raw = self.telebot.recorder.named("/webhooks/stripe")[0].body
        stamp = headers["Stripe-Signature"].split(",")[0][2:]
        self.assertEqual(headers["Stripe-Signature"], signing.stripe_signature(WHSEC, raw, int(stamp)))
        _, paid, _ = self.api("/v1/checkout/sessions/" + session["id"])
        self.assertEqual((paid["status"], paid["payment_status"]), ("complete", "paid"))
        _, subscription, _ = self.api("/v1/subscriptions/" + paid["subscription"])
        self.assertEqual((subscription["status"], subscription["metadata"]), ("active", {"plan": "premium_monthly"}))
        _, portal, _ = self.api("/v1/billing_portal/sessions", {"customer": customer["id"], "return_url": "http://app/"})
        self.assertIn("cancel-subscription", request(portal["url"])[2].decode())
        status, headers, _ = request("%s/cancel/%s" % (portal["url"], subscription["id"]), "POST")
        self.assertEqual((status, headers["Location"]), (303, "http://app/"))
        self.assertEqual(self.delivered("/webhooks/stripe")[-1][0]["type"], "customer.subscription.deleted")
        self.assertEqual(self.api("/v1/subscriptions/" + subscription["id"])[1]["status"], "canceled")


class AnyKeySandboxTests(SandboxCase):
    api_key = ""

    def test_any_secret_key_without_stripe_api_key(self):
        self.assertEqual(self.api("/v1/customers", {}, key="sk_test_anything")[0], 200)
        self.assertEqual(self.api("/v1/customers", {}, key="rk_test_anything")[0], 200)
        self.assertEqual(self.api("/v1/customers", {}, key="pk_test_anything")[0], 401)


class SandboxBotAPITests(SandboxCase):
    INVOICE = {"title": "Boost, one week", "description": "Boost: 7 days", "payload": "p1", "currency": "XTR",
               "prices": [{"label": "Boost", "amount": 50}]}

    def test_token_and_validation_are_the_fakes(self):
        self.assertEqual(self.bot_call("getMe", {}, token="1:wrong"), (401, {
            "ok": False, "error_code": 401, "description": "Unauthorized"}))
        status, body = self.bot_call("createInvoiceLink", dict(self.INVOICE, prices=[{"label": "a", "amount": 1}] * 2))
        self.assertEqual((status, body["description"]), (400, "Bad Request: STARS_INVOICE_INVALID"))
        status, body = self.bot_call("createInvoiceLink", dict(self.INVOICE, subscription_period=7))
        self.assertEqual((status, body["description"]), (400, "Bad Request: SUBSCRIPTION_PERIOD_INVALID"))
        self.assertEqual(self.bot_call("sendMessage", {"chat_id": 5})[1]["description"],
                         "Bad Request: message text is empty")
        status, _, data = request("%s/bot%s/sendMessage" % (self.bot.url, TOKEN), "POST", b"chat_id=5&text=hi",
                                  {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual((status, json.loads(data)["result"]["chat"]["id"]), (200, 5))
        self.assertEqual([c["status"] for c in self.calls("getMe")], [401])

    def test_stars_invoice_page_pays_through_telebot(self):
        status, body = self.bot_call("createInvoiceLink", self.INVOICE)
        link = body["result"]
        self.assertRegex(link, "^%s/invoice/[A-Za-z0-9]{20}$" % self.bot.url)
        self.assertIn("50 Stars", request(link)[2].decode())
        status, headers, _ = request(link + "/pay", "POST")
        self.assertEqual((status, headers["Location"]), (303, "http://%s/miniapp/?invoice=paid" % (
            self.telebot.url.split("//")[1])))
        updates = self.delivered("/webhooks/telegram")
        self.assertEqual([sorted(u) for u, _ in updates], [["pre_checkout_query", "update_id"], ["message", "update_id"]])
        self.assertTrue(all(h["X-Telegram-Bot-Api-Secret-Token"] == SECRET for _, h in updates))
        self.assertEqual(updates[1][0]["message"]["successful_payment"]["total_amount"], 50)
        answers = self.calls("answerPreCheckoutQuery")
        self.assertEqual((len(answers), answers[0]["detail"]["ok"]), (1, True))
        self.assertEqual(self.calls("createInvoiceLink")[-1]["detail"]["params"]["prices"][0]["amount"], 50)


if __name__ == "__main__":
    unittest.main()
