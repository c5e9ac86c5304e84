"""The hooks the demo sandbox plugs into the stateful fakes (key policy, ids, shaped objects, change callbacks,
invoice links) and what the fakes do without them."""
import base64
import http.client
import json
import unittest

from telebot_py import fakes
from telebot_py.tests.test_fakes import call

KEY = fakes.DEFAULT_API_KEY
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class StripeHookTests(unittest.TestCase):
    def start(self, **hooks):
        stripe = fakes.StatefulStripe(KEY, **hooks).start()
        self.addCleanup(stripe.stop)
        return stripe

    def post(self, stripe, path, form, key=KEY, headers=None):
        status, body = call(stripe.url + path, form.encode(), headers=dict(
            FORM, Authorization="Bearer " + key, **(headers or {})))
        return status, json.loads(body)

    def test_basic_auth_and_key_policy(self):
        stripe = self.start()
        basic = "Basic " + base64.b64encode((KEY + ":").encode()).decode()
        self.assertEqual(call(stripe.url + "/v1/customers", b"", headers={"Authorization": basic})[0], 200)
        self.assertEqual(call(stripe.url + "/v1/customers", b"", headers={"Authorization": "Basic %%%"})[0], 401)
        self.assertEqual(self.post(stripe, "/v1/customers", "", key="sk_test_other")[0], 401)
        lenient = self.start(accepts_key=lambda key: key.startswith("sk_"))
        self.assertEqual(self.post(lenient, "/v1/customers", "", key="sk_test_other")[0], 200)
        status, body = self.post(lenient, "/v1/customers", "", key="pk_test_other")
        self.assertEqual((status, body["error"]["message"]), (401, "Invalid API Key provided"))

    def test_ids_shape_and_changed(self):
        seen = []

        def shape(kind, obj, fields):
            if kind == "cs_test":
                obj["url"] = "http://sandbox/checkout/" + obj["id"]
                obj["price"] = fields["line_items[0][price]"]

        stripe = self.start(make_id=lambda kind: kind + "_X%d" % len(seen), shape=shape,
                            changed=lambda kind, obj: seen.append((kind, obj["id"])))
        _, customer = self.post(stripe, "/v1/customers", "email=a")
        self.assertEqual(customer["id"], "cus_X0")
        _, session = self.post(stripe, "/v1/checkout/sessions", "mode=payment&line_items[0][price]=price_a"
                                                                 "&success_url=http://x&customer=cus_X0")
        self.assertEqual((session["id"], session["url"], session["price"]),
                         ("cs_test_X1", "http://sandbox/checkout/cs_test_X1", "price_a"))
        stored = json.loads(call(stripe.url + "/v1/checkout/sessions/cs_test_X1",
                                 headers={"Authorization": "Bearer " + KEY})[1])
        self.assertEqual(stored, session)
        stripe.update("/v1/subscriptions/sub_1", lambda old: {"id": "sub_1", "cancel_at_period_end": False})
        self.assertEqual(self.post(stripe, "/v1/subscriptions/sub_1", "cancel_at_period_end=true")[1],
                         {"id": "sub_1", "cancel_at_period_end": True})
        self.assertEqual(self.post(stripe, "/v1/refunds", "payment_intent=pi_1")[1]["id"], "re_X3")
        self.assertEqual(seen, [("cus", "cus_X0"), ("cs_test", "cs_test_X1"), ("sub", "sub_1"), ("re", "re_X3")])
        self.assertEqual(stripe.created_ids("cs_test"), ["cs_test_X1"])

    def test_update_and_objects(self):
        stripe = self.start()
        self.post(stripe, "/v1/customers", "email=a")
        self.assertEqual([c["id"] for c in stripe.objects("/v1/customers/")], ["cus_fake000001"])
        claim = lambda obj: dict(obj, email="b") if obj and obj["email"] == "a" else None  # noqa: E731
        self.assertEqual(stripe.update("/v1/customers/cus_fake000001", claim)["email"], "b")
        self.assertIsNone(stripe.update("/v1/customers/cus_fake000001", claim))
        self.assertIsNone(stripe.update("/v1/customers/cus_nope", claim))
        self.assertEqual(stripe.objects("/v1/customers/")[0]["email"], "b")
        self.assertEqual(stripe.object_at("/v1/customers/cus_fake000001")["email"], "b")
        self.assertIsNone(stripe.object_at("/v1/customers/cus_fake"))
        stripe.reset()  # the hooks outlive a reset
        self.assertEqual(stripe.objects("/v1/"), [])

    def test_without_hooks_ids_and_urls_are_stripe_like(self):
        stripe = self.start()
        _, portal = self.post(stripe, "/v1/billing_portal/sessions", "customer=cus_1")
        self.assertEqual((portal["id"], portal["url"]),
                         ("bps_fake000001", "https://billing.stripe.com/p/session/bps_fake000001"))
        self.assertEqual(self.post(stripe, "/v1/refunds", "charge=ch_1")[1]["id"], "re_fake000002")


class BotHookTests(unittest.TestCase):
    INVOICE = {"title": "Boost", "description": "A week", "payload": "p", "currency": "XTR",
               "prices": [{"label": "Boost", "amount": 50}]}

    def test_invoice_link_hook(self):
        links = []
        bot = fakes.ScriptedBotAPI("1:t", invoice_link=lambda body: links.append(body) or "http://s/invoice/1")
        bot.start()
        self.addCleanup(bot.stop)
        status, body = call(bot.url + "/bot1:t/createInvoiceLink", self.INVOICE)
        self.assertEqual((status, json.loads(body)["result"]), (200, "http://s/invoice/1"))
        status, body = call(bot.url + "/bot1:t/createInvoiceLink", dict(self.INVOICE, prices=[]))
        self.assertEqual((status, json.loads(body)["description"]), (400, "Bad Request: PRICES_INVALID"))
        self.assertEqual(links, [self.INVOICE])  # not asked for a link the fake refused

    def test_head_has_no_body(self):
        bot = fakes.ScriptedBotAPI("1:t").start()
        self.addCleanup(bot.stop)
        connection = http.client.HTTPConnection("127.0.0.1", bot.port, timeout=5)
        connection.request("HEAD", "/bot1:t/getMe")
        response = connection.getresponse()
        self.assertEqual((response.status, response.read()), (404, b""))
        self.assertGreater(int(response.headers["Content-Length"]), 0)
        connection.close()


class HistoryTests(unittest.TestCase):
    """`history` bounds what a long-running fake (the demo's) remembers; numbering and answers go on."""

    def test_bot_keeps_the_last_calls(self):
        bot = fakes.ScriptedBotAPI("1:t", history=2).start()
        self.addCleanup(bot.stop)
        call(bot.url + "/bot1:t/setWebhook", {"url": "https://example.test/hook"})
        for text in ("a", "b"):
            self.assertEqual(call(bot.url + "/bot1:t/sendMessage", {"chat_id": 1, "text": text})[0], 200)
        self.assertEqual([(c["index"], c["body"]["text"]) for c in bot.calls()], [(1, "a"), (2, "b")])
        status, body = call(bot.url + "/bot1:t/sendMessage", {"chat_id": 1, "text": "c"})
        self.assertEqual(json.loads(body)["result"]["message_id"], 3)

    def test_stripe_keeps_the_last_requests(self):
        stripe = fakes.StatefulStripe(KEY, history=1).start()
        self.addCleanup(stripe.stop)
        for email in ("a@x.test", "b@x.test"):
            call(stripe.url + "/v1/customers", ("email=" + email).encode(),
                 headers=dict(FORM, Authorization="Bearer " + KEY))
        self.assertEqual([r["form"] for r in stripe.requests()], [[["email", "b@x.test"]]])
        self.assertEqual(len(stripe.created_ids("cus")), 2)


if __name__ == "__main__":
    unittest.main()
