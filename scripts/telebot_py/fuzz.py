"""scripts/fuzz's helpers: the upstream fakes, Mini App initData and an access token, a readiness wait."""
import json
import sys
import threading
import time
import urllib.error
import urllib.request

from . import signing
from .fakes import FakeBotAPI, FakeProviders, FakeStripe, message


def init_data(bot_token, telegram_id):
    user = {"id": telegram_id, "first_name": "Fuzz", "username": "fuzz_user", "language_code": "en"}
    return signing.init_data(bot_token, {
        "auth_date": str(int(time.time())),
        "query_id": "AAHfuzzQueryId",
        "user": json.dumps(user, separators=(",", ":")),
    })


def access_token(base_url, bot_token, telegram_id):
    request = urllib.request.Request(
        base_url.rstrip("/") + "/api/v1/miniapp/auth", method="POST", data=b"",
        headers={"Authorization": "tma " + init_data(bot_token, telegram_id)})
    with urllib.request.urlopen(request, timeout=10) as response:
        body = json.load(response)
    return body["access_token"]


def wait_ready(base_url, seconds):
    deadline = time.monotonic() + seconds
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base_url.rstrip("/") + "/health/ready", timeout=2) as response:
                if response.status == 200:
                    return
                last = f"status {response.status}"
        except urllib.error.HTTPError as error:
            last = f"status {error.code}"
        except OSError as error:
            last = str(error)
        time.sleep(0.2)
    sys.exit(f"server not ready after {seconds:.0f}s: {last}")


def upstream():
    """The few Stripe and Bot API calls the server makes while fuzzed, answered with the smallest valid bodies (one
    server for both; ids numbered by call)."""
    def sent(call):
        return message(1, call.n, date=int(time.time()))

    bot = FakeBotAPI(results={"createInvoiceLink": lambda call: f"https://t.me/$fuzzinvoice{call.n}",
                              "sendMessage": sent, "sendInvoice": sent}, default=lambda call: True)
    stripe = FakeStripe([
        (None, "/v1/customers", lambda call, _: {"id": f"cus_fuzz{call.n}", "object": "customer", "metadata": {}}),
        (None, "/v1/checkout/sessions", lambda call, _: {
            "id": f"cs_fuzz{call.n}", "object": "checkout.session",
            "url": f"https://checkout.stripe.com/c/pay/cs_fuzz{call.n}"}),
        (None, "/v1/billing_portal/sessions", lambda call, _: {
            "id": f"bps_fuzz{call.n}", "object": "billing_portal.session",
            "url": f"https://billing.stripe.com/p/session/fuzz{call.n}"}),
    ], fallback=lambda call: (404, {"error": {"type": "invalid_request_error", "message": "No such resource"}}))
    return FakeProviders(bot, stripe)


def serve_upstream(port_file):
    server = upstream().start()
    with open(port_file, "w") as handle:
        handle.write(str(server.port))
    threading.Event().wait()  # until killed
