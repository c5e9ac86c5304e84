"""The fakes host: its control API, the scripted Bot API behind it (the behaviour Tests/TelegramTests/FakeBotAPITests
asserts of the Swift fake, and the rest of the former Swift fake), and the host process itself (port file, parent pid,
SIGTERM). The stateful Stripe's tests are in test_fakes_host_stripe.py."""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

from telebot_py.fakes.control import ControlService

TOKEN = "7001234567:AAHfakeSecretPartOfTheTokenXYZ0123456"
SCRIPTS = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def request(port, method, path, body=None, headers=None, connection=None):
    """(status, body bytes, headers by lowercased name); JSON-encodes a body that is not bytes."""
    conn = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
    try:
        conn.request(method, path, body=data, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read(), {k.lower(): v for k, v in response.getheaders()}
    finally:
        if connection is None:
            conn.close()


class HostCase(unittest.TestCase):
    """A ControlService in this process (the subprocess is tested by HostProcessTests)."""

    @classmethod
    def setUpClass(cls):
        cls.host = ControlService().start()

    @classmethod
    def tearDownClass(cls):
        cls.host.stop()
        cls.host.stop_all()

    def control(self, method, path, body=None, status=200):
        got, data, _ = request(self.host.port, method, path, body)
        self.assertEqual(got, status, data)
        return json.loads(data) if data[:1] in (b"{", b"[") else data

    def new_fake(self, **body):
        created = self.control("POST", "/fakes", body)
        self.assertIsInstance(created["id"], str)
        self.addCleanup(lambda: request(self.host.port, "DELETE", "/fakes/" + created["id"]))
        return created["id"], created["port"]


class BotAPITests(HostCase):
    def setUp(self):
        self.id, self.port = self.new_fake(kind="bot_api", token=TOKEN)

    def bot(self, method, body=None, token=TOKEN, raw=None):
        status, data, _ = request(self.port, "POST", "/bot%s/%s" % (token, method), raw if raw is not None else body)
        return status, data if status == 502 else json.loads(data)

    def calls(self):
        return self.control("GET", "/fakes/%s/calls" % self.id)

    def fault(self, method, fault, times=1):
        self.control("POST", "/fakes/%s/faults" % self.id, {"method": method, "times": times, "fault": fault})

    def test_messages_numbered_from_one_and_calls_recorded(self):
        for text in ("0", "1", "2"):
            status, answer = self.bot("sendMessage", {"chat_id": 5, "text": text})
            self.assertEqual(status, 200)
        self.assertEqual(answer["result"]["message_id"], 3)
        self.assertEqual(answer["result"]["chat"], {"id": 5, "type": "private"})
        self.assertEqual(answer["result"]["from"]["id"], 7001234567)
        self.assertEqual(self.bot("sendMessage", {"chat_id": "@news", "text": "x"})[1]["result"]["chat"],
                         {"id": -1001000000000, "type": "channel", "username": "news"})
        calls = self.calls()
        self.assertEqual([(c["index"], c["method"], c["body"].get("text"), c["status"]) for c in calls["calls"]][:3],
                         [(0, "sendMessage", "0", 200), (1, "sendMessage", "1", 200), (2, "sendMessage", "2", 200)])
        self.assertAlmostEqual(calls["calls"][0]["received_at"], time.time(), delta=30)
        self.assertEqual(calls["unauthorized"], 0)
        self.bot("getMe", {})
        only = self.control("GET", "/fakes/%s/calls?method=getMe" % self.id)["calls"]
        self.assertEqual([(c["index"], c["method"]) for c in only], [(4, "getMe")])

    def test_bodies_empty_and_not_json(self):
        self.assertEqual(self.bot("getMe", raw=b"")[1]["result"],
                         {"id": 7001234567, "is_bot": True, "first_name": "Fake Bot", "username": "fake_bot"})
        self.assertEqual(self.bot("sendMessage", raw=b"not json")[1]["description"], "Bad Request: chat not found")
        self.assertEqual([c["body"] for c in self.calls()["calls"]], [{}, None])

    def test_wrong_token_is_401_counted_not_recorded(self):
        self.assertEqual(self.bot("getMe", {}, token="1:wrong"),
                         (401, {"ok": False, "error_code": 401, "description": "Unauthorized"}))
        self.assertEqual(self.calls(), {"calls": [], "unauthorized": 1})

    def test_malformed_calls_get_telegram_like_400s(self):
        stars = {"currency": "XTR", "title": "t", "description": "d", "payload": "p",
                 "prices": [{"label": "a", "amount": 1}, {"label": "b", "amount": 2}]}
        status, answer = self.bot("createInvoiceLink", stars)
        self.assertEqual((status, answer["error_code"], answer["description"]),
                         (400, 400, "Bad Request: STARS_INVOICE_INVALID"))
        self.assertEqual(self.bot("noSuchMethod", stars), (404, {"ok": False, "error_code": 404,
                                                                 "description": "Not Found"}))
        self.assertEqual(self.bot("createInvoiceLink", dict(stars, title=""))[1]["description"],
                         "Bad Request: INVOICE_TITLE_INVALID")
        one = dict(stars, prices=[{"label": "a", "amount": 5}])
        self.assertTrue(self.bot("createInvoiceLink", one)[1]["result"].startswith("https://t.me/$"))
        for period, currency, status in ((2592000, "XTR", 200), (60, "XTR", 200), (300, "XTR", 200),
                                         (100, "XTR", 400), (2592000, "USD", 400), (None, "XTR", 400)):
            self.assertEqual(self.bot("createInvoiceLink", dict(one, currency=currency,
                                                                subscription_period=period))[0], status)
        status, answer = self.bot("sendInvoice", dict(one, chat_id=9, subscription_period=2592000))
        self.assertEqual(answer["description"], "Bad Request: SUBSCRIPTION_PERIOD_INVALID")
        invoice = self.bot("sendInvoice", dict(one, chat_id=9))[1]["result"]["invoice"]
        self.assertEqual(invoice, {"title": "t", "description": "d", "start_parameter": "", "currency": "XTR",
                                   "total_amount": 5})
        self.assertEqual(self.bot("answerPreCheckoutQuery", {"pre_checkout_query_id": "q", "ok": False})[1][
            "description"], "Bad Request: PRECHECKOUT_ERROR_MESSAGE_EMPTY")
        self.assertEqual(self.bot("answerPreCheckoutQuery", {"ok": True})[1]["description"],
                         "Bad Request: QUERY_ID_INVALID")
        self.assertEqual(self.bot("answerCallbackQuery", {})[0], 400)
        self.assertEqual(self.bot("editUserStarSubscription", {"user_id": 1, "telegram_payment_charge_id": "c",
                                                              "is_canceled": True})[0], 200)
        self.assertEqual(self.bot("editUserStarSubscription", {"user_id": 1, "telegram_payment_charge_id": "c"})[1][
            "description"], "Bad Request: CHARGE_ID_INVALID")

    def test_refunding_a_charge_twice(self):
        refund = {"user_id": 5, "telegram_payment_charge_id": "ch_1"}
        self.assertEqual(self.bot("refundStarPayment", refund), (200, {"ok": True, "result": True}))
        self.assertEqual(self.bot("refundStarPayment", refund)[1]["description"],
                         "Bad Request: CHARGE_ALREADY_REFUNDED")
        self.assertEqual(self.bot("refundStarPayment", {"telegram_payment_charge_id": "ch_2"})[1]["description"],
                         "Bad Request: CHARGE_ID_INVALID")

    def test_every_fault_kind_in_order_per_method(self):
        self.fault("sendMessage", {"kind": "rate_limited", "retry_after": 3})
        self.fault("sendMessage", {"kind": "server_error", "status": 503}, times=2)
        self.fault("sendMessage", {"kind": "api_error", "code": 403, "description": "Forbidden: bot was blocked"})
        self.fault("sendMessage", {"kind": "raw", "status": 502, "body": "<html>bad gateway</html>"})
        self.fault("sendMessage", {"kind": "delay", "seconds": 0.25})
        self.fault("sendMessage", {"kind": "server_error"}, times=0)
        message = {"chat_id": 1, "text": "x"}
        self.assertEqual(self.bot("getMe", {})[0], 200)
        self.assertEqual(self.bot("sendMessage", message), (429, {
            "ok": False, "error_code": 429, "description": "Too Many Requests: retry after 3",
            "parameters": {"retry_after": 3}}))
        for _ in range(2):
            self.assertEqual(self.bot("sendMessage", message), (503, {
                "ok": False, "error_code": 503, "description": "Internal Server Error"}))
        self.assertEqual(self.bot("sendMessage", message)[1]["description"], "Forbidden: bot was blocked")
        self.assertEqual(self.bot("sendMessage", message), (502, b"<html>bad gateway</html>"))
        started = time.monotonic()
        status, answer = self.bot("sendMessage", message)
        self.assertGreaterEqual(time.monotonic() - started, 0.24)
        self.assertEqual((status, answer["result"]["message_id"]), (200, 1))
        self.assertEqual(self.bot("sendMessage", message)[1]["result"]["message_id"], 2)
        self.assertEqual([c["status"] for c in self.calls()["calls"]], [200, 429, 503, 503, 403, 502, 200, 200])

    def test_scripted_results_after_the_checks(self):
        path = "/fakes/%s/results" % self.id
        self.control("POST", path, {"method": "getMe", "result": {"id": 1}})
        self.assertEqual(self.bot("getMe", {})[1], {"ok": True, "result": {"id": 1}})
        self.control("POST", path, {"method": "getMe", "result": None})
        self.assertEqual(self.bot("getMe", {})[1], {"ok": True, "result": None})
        self.control("POST", path, {"method": "getMe", "clear": True})
        self.assertEqual(self.bot("getMe", {})[1]["result"]["id"], 7001234567)
        self.control("POST", path, {"method": "sendMessage", "result": True})
        self.assertEqual(self.bot("sendMessage", {"chat_id": 1})[0], 400)
        self.assertEqual(self.bot("sendMessage", {"chat_id": 1, "text": "x"})[1]["result"], True)
        self.control("POST", path, {"method": "getMe"}, status=400)

    def test_star_transactions_paged(self):
        listed = [{"id": "t%d" % i, "amount": i, "date": 1700000000 + i} for i in range(5)]
        self.control("POST", "/fakes/%s/star-transactions" % self.id, {"transactions": listed[:3]})
        self.control("POST", "/fakes/%s/star-transactions" % self.id, {"transactions": listed[3:]})
        self.assertEqual(self.bot("getStarTransactions", {})[1]["result"], {"transactions": listed})
        self.assertEqual(self.bot("getStarTransactions", {"offset": 1, "limit": 2})[1]["result"]["transactions"],
                         listed[1:3])
        self.assertEqual(self.bot("getStarTransactions", {"offset": 9})[1]["result"]["transactions"], [])
        for limit in (0, 101):
            self.assertEqual(self.bot("getStarTransactions", {"limit": limit})[1]["description"],
                             "Bad Request: LIMIT_INVALID")

    def test_webhook_info_from_the_last_successful_set_webhook(self):
        info = {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        self.assertEqual(self.bot("getWebhookInfo", {})[1]["result"], info)
        self.bot("setWebhook", {"url": "https://a/hook", "allowed_updates": ["message"], "secret_token": "s"})
        self.fault("setWebhook", {"kind": "server_error"})
        self.bot("setWebhook", {"url": "https://b/hook"})
        self.assertEqual(self.bot("getWebhookInfo", {})[1]["result"],
                         dict(info, url="https://a/hook", allowed_updates=["message"]))

    def test_reset_forgets_everything(self):
        self.bot("sendMessage", {"chat_id": 1, "text": "x"})
        self.bot("getMe", {}, token="1:bad")
        self.fault("sendMessage", {"kind": "server_error"}, times=5)
        self.bot("refundStarPayment", {"user_id": 5, "telegram_payment_charge_id": "ch_1"})
        self.assertEqual(self.control("POST", "/fakes/%s/reset" % self.id), {})
        self.assertEqual(self.bot("sendMessage", {"chat_id": 1, "text": "y"})[1]["result"]["message_id"], 1)
        self.assertEqual(self.bot("refundStarPayment", {"user_id": 5, "telegram_payment_charge_id": "ch_1"})[0], 200)
        calls = self.calls()
        self.assertEqual((len(calls["calls"]), calls["unauthorized"]), (2, 0))

    def test_stopped_fake_no_longer_answers_frees_its_port_and_keeps_its_record(self):
        kept = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        self.addCleanup(kept.close)
        self.assertEqual(request(self.port, "POST", "/bot%s/getMe" % TOKEN, {}, connection=kept)[0], 200)
        self.assertEqual(len(self.calls()["calls"]), 1)
        self.assertEqual(self.control("DELETE", "/fakes/" + self.id), {})
        with self.assertRaises((OSError, http.client.HTTPException)):
            request(self.port, "POST", "/bot%s/getMe" % TOKEN, {}, connection=kept)
        with self.assertRaises(OSError):
            request(self.port, "POST", "/bot%s/getMe" % TOKEN, {})
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", self.port))
        # What it recorded stays readable after it stopped, and stopping again is harmless.
        self.assertEqual(len(self.calls()["calls"]), 1)
        self.assertEqual(self.control("DELETE", "/fakes/" + self.id), {})


class ControlTests(HostCase):
    def test_malformed_and_unknown(self):
        self.assertIn("error", self.control("POST", "/fakes", {"kind": "ftp"}, status=400))
        self.control("POST", "/fakes", {"kind": "bot_api"}, status=400)
        self.assertEqual(request(self.host.port, "POST", "/fakes", b"{nope")[0], 400)
        self.control("POST", "/fakes", [1], status=400)
        self.control("GET", "/fakes/999/calls", status=404)
        self.control("DELETE", "/fakes/999", status=404)
        self.control("GET", "/nothing", status=404)
        bot, _ = self.new_fake(kind="bot_api", token=TOKEN)
        self.control("GET", "/fakes/%s/requests" % bot, status=404)
        self.control("POST", "/fakes/%s/faults" % bot, {"method": "getMe", "fault": {"kind": "boom"}}, status=400)
        self.control("POST", "/fakes/%s/faults" % bot, {"fault": {"kind": "server_error"}}, status=400)
        self.control("POST", "/fakes/%s/star-transactions" % bot, {"transactions": 1}, status=400)
        stripe, _ = self.new_fake(kind="stripe", api_key="sk_test_1")
        self.control("GET", "/fakes/%s/calls" % stripe, status=404)
        self.control("GET", "/fakes/%s/created?kind=price" % stripe, status=400)
        self.control("POST", "/fakes/%s/events" % stripe, {"events": [{}]}, status=400)


class HostProcessTests(unittest.TestCase):
    def start_host(self, parent_pid):
        directory = tempfile.mkdtemp()
        port_file = os.path.join(directory, "port")
        process = subprocess.Popen(
            [sys.executable, "-m", "telebot_py.fakes.host", "--port-file", port_file, "--parent-pid",
             str(parent_pid)], env=dict(os.environ, PYTHONPATH=SCRIPTS), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        self.addCleanup(lambda: (process.poll() is None and process.kill(), process.wait(),
                                 process.stdout.close(), process.stderr.close()))
        deadline = time.monotonic() + 20
        while not os.path.exists(port_file):
            self.assertLess(time.monotonic(), deadline, "no port file")
            self.assertIsNone(process.poll(), process.stderr.read() if process.poll() is not None else "")
            time.sleep(0.02)
        with open(port_file) as file:
            text = file.read()
        self.assertRegex(text, r"^[0-9]+\n$")
        self.assertEqual(os.listdir(directory), ["port"])
        return process, int(text)

    def test_exits_with_its_parent_and_stops_its_fakes(self):
        parent = subprocess.Popen(["sleep", "60"])
        self.addCleanup(lambda: (parent.poll() is None and parent.kill(), parent.wait()))
        process, port = self.start_host(parent.pid)
        status, data, _ = request(port, "POST", "/fakes", {"kind": "stripe", "api_key": "sk_test_1"})
        fake_port = json.loads(data)["port"]
        self.assertEqual(request(fake_port, "GET", "/v1/customers/cus_1")[0], 401)
        parent.kill()
        parent.wait()
        self.assertEqual(process.wait(timeout=10), 0)
        self.assertEqual(process.stdout.read(), b"")
        with self.assertRaises(OSError):
            request(fake_port, "GET", "/v1/customers/cus_1")

    def test_exits_on_sigterm(self):
        process, port = self.start_host(os.getpid())
        self.assertEqual(request(port, "POST", "/fakes", {"kind": "bot_api", "token": TOKEN})[0], 200)
        process.send_signal(signal.SIGTERM)
        self.assertEqual(process.wait(timeout=10), 0)
        self.assertEqual((process.stdout.read(), process.stderr.read()), (b"", b""))


if __name__ == "__main__":
    unittest.main()
