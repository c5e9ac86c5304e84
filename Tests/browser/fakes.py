"""Loopback fakes for the browser tests: telebot_py.fakes' Bot API and Stripe with this suite's answers.

start_bot_api() / start_stripe() return (server, recorder); recorder.named(name) lists the calls (telebot_py.fakes.Call:
.params for the Bot API, .form() and .headers for Stripe). Set recorder.refund_amount for /v1/refunds answers.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from telebot_py.fakes import FakeBotAPI, FakeStripe, message  # noqa: E402


def start_bot_api():
    bot = FakeBotAPI(results={
        "createInvoiceLink": "https://t.me/$browser_test_invoice",
        "sendMessage": lambda call: dict(message(call.params.get("chat_id", 0)), date=0),
    }).start()
    return bot.server, bot.recorder


def start_stripe():
    holder = {}

    def refund(call, _):
        # A full refund of the payment intent (or charge) named in the form (admin console test).
        form = call.form()
        target = (form.get("payment_intent") or form.get("charge") or [""])[0]
        recorder = holder["recorder"]
        return {"id": "re_browser_" + str(len(recorder.named("/v1/refunds"))), "object": "refund",
                "amount": getattr(recorder, "refund_amount", 0), "currency": "usd", "status": "succeeded",
                "payment_intent": target if target.startswith("pi_") else None,
                "charge": target if target.startswith("ch_") else None}

    def subscription(call, match):
        return {"id": match.group(1), "object": "subscription", "customer": "cus_browser", "status": "active",
                "cancel_at_period_end": call.form().get("cancel_at_period_end", ["false"])[0] == "true"}

    stripe = FakeStripe([
        ("POST", "/v1/customers", {"id": "cus_browser", "object": "customer"}),
        ("POST", "/v1/checkout/sessions", {"id": "cs_browser", "object": "checkout.session",
                                           "url": "https://checkout.stripe.test/cs_browser"}),
        ("POST", "/v1/billing_portal/sessions", {"id": "bps_browser", "object": "billing_portal.session",
                                                 "url": "https://billing.stripe.test/p"}),
        ("POST", "/v1/refunds", refund),
        ("POST", r"/v1/subscriptions/([^/]+)", subscription),
        # GET /v1/invoices/<id>: the payment intent that paid it (what a Stripe refund by invoice asks first).
        ("GET", r"/v1/invoices/([^/]+)", lambda call, m: {"id": m.group(1), "object": "invoice",
                                                          "payment_intent": "pi_for_" + m.group(1), "charge": None}),
    ], fallback=lambda call: (404, b"")).start()
    holder["recorder"] = stripe.recorder
    return stripe.server, stripe.recorder
