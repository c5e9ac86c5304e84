"""The shared fakes: start, call over HTTP, the answer, the recorded call."""
import json
import os
import sys
import unittest
import urllib.error
import urllib.request

from telebot_py import fakes, fuzz


def call(url, body=None, method=None, headers=None):
    data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
    hdrs = dict({"Content-Type": "application/json"} if data is not None else {}, **(headers or {}))
    request = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class BotAPITests(unittest.TestCase):
    def setUp(self):
        self.bot = fakes.FakeBotAPI(results={"getMe": {"id": 7}, "echo": lambda c: c.params}).start()
        self.addCleanup(self.bot.stop)

    def test_defaults_and_results(self):
        status, body = call(self.bot.url + "/bot1:t/createInvoiceLink", {"title": "x"})
        self.assertEqual((status, json.loads(body)), (200, {"ok": True, "result": "https://t.me/$fake_invoice"}))
        _, body = call(self.bot.url + "/bot1:t/sendMessage", {"chat_id": 5, "text": "hi"})
        self.assertEqual(json.loads(body)["result"]["chat"], {"id": 1, "type": "private"})
        _, body = call(self.bot.url + "/bot1:t/setWebhook", {})
        self.assertIs(json.loads(body)["result"], True)
        _, body = call(self.bot.url + "/bot1:t/getMe", {})
        self.assertEqual(json.loads(body)["result"], {"id": 7})

    def test_recorded_with_params_json_and_form(self):
        call(self.bot.url + "/bot1:t/echo", {"a": 1})
        _, body = call(self.bot.url + "/bot1:t/echo", b"prices=%5B%7B%22amount%22%3A5%7D%5D&x=y",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(json.loads(body)["result"], {"prices": [{"amount": 5}], "x": "y"})
        calls = self.bot.recorder.named("echo")
        self.assertEqual([c.params for c in calls], [{"a": 1}, {"prices": [{"amount": 5}], "x": "y"}])
        self.assertEqual(self.bot.recorder.count("echo"), 2)
        self.assertEqual(self.bot.recorder.by_method()["echo"], 2)

    def test_token_checked_when_set(self):
        bot = fakes.FakeBotAPI(token="1:good").start()
        self.addCleanup(bot.stop)
        self.assertEqual(call(bot.url + "/bot1:bad/getMe", {})[0], 401)
        self.assertEqual(call(bot.url + "/bot1:good/getMe", {})[0], 200)


class StripeTests(unittest.TestCase):
    def test_routes_form_and_404(self):
        stripe = fakes.FakeStripe([
            ("POST", "/v1/customers", lambda c, m: {"id": "cus_1", "email": c.form()["email"][0]}),
            ("GET", r"/v1/invoices/(in_\w+)", lambda c, m: (200, {"id": m.group(1)})),
            (None, "/v1/refunds", (402, {"error": {"type": "card_error"}})),
        ]).start()
        self.addCleanup(stripe.stop)
        status, body = call(stripe.url + "/v1/customers", b"email=a%40b.c", headers={"Idempotency-Key": "k1"})
        self.assertEqual((status, json.loads(body)), (200, {"id": "cus_1", "email": "a@b.c"}))
        self.assertEqual(json.loads(call(stripe.url + "/v1/invoices/in_9")[1]), {"id": "in_9"})
        self.assertEqual(call(stripe.url + "/v1/refunds", b"")[0], 402)
        status, body = call(stripe.url + "/v1/nothing", b"")
        self.assertEqual(status, 404)
        self.assertEqual(json.loads(body)["error"]["type"], "invalid_request_error")
        (customer,) = stripe.recorder.named("/v1/customers")
        self.assertEqual((customer.method, customer.headers.get("Idempotency-Key")), ("POST", "k1"))
        self.assertEqual(stripe.recorder.named("/v1/invoices/in_9")[0].method, "GET")


class ProvidersTests(unittest.TestCase):
    def test_fuzz_upstream_numbers_ids_over_both(self):
        up = fuzz.upstream().start()
        self.addCleanup(up.stop)
        _, body = call(up.url + "/bot1:t/createInvoiceLink", {})
        self.assertEqual(json.loads(body)["result"], "https://t.me/$fuzzinvoice1")
        _, body = call(up.url + "/v1/customers", b"")
        self.assertEqual(json.loads(body)["id"], "cus_fuzz2")
        self.assertEqual(call(up.url + "/v1/prices", b"")[0], 404)
        self.assertEqual(len(up.recorder.calls), 3)


class BrowserFakesTests(unittest.TestCase):
    def test_browser_suite_answers(self):
        here = os.path.dirname(os.path.abspath(__file__))
        sys.path.insert(0, os.path.join(here, "..", "..", "..", "Tests", "browser"))
        try:
            import fakes as browser_fakes
        finally:
            sys.path.pop(0)
        server, recorder = browser_fakes.start_stripe()
        self.addCleanup(server.shutdown)
        recorder.refund_amount = 1999
        url = "http://127.0.0.1:%d" % server.server_address[1]
        _, body = call(url + "/v1/refunds", b"payment_intent=pi_1")
        self.assertEqual(json.loads(body)["id"], "re_browser_1")
        self.assertEqual(json.loads(body)["amount"], 1999)
        self.assertEqual(recorder.named("/v1/refunds")[0].form(), {"payment_intent": ["pi_1"]})


if __name__ == "__main__":
    unittest.main()
