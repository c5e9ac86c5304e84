#!/usr/bin/env python3
"""Helpers for scripts/fuzz (standard library only).

    fuzz_helpers.py upstream PORTFILE        a fake Stripe API + Telegram Bot API on 127.0.0.1 (a free port, written
                                             to PORTFILE), so that checkout, portal and bot calls made while fuzzing
                                             succeed without the network
    fuzz_helpers.py initdata BOT_TOKEN TG_ID  prints Mini App initData for Telegram user TG_ID, signed as Telegram
                                             signs it (HMAC-SHA256 "WebAppData" scheme)
    fuzz_helpers.py token BASE_URL BOT_TOKEN TG_ID
                                             exchanges such initData at POST /api/v1/miniapp/auth and prints the
                                             access token
    fuzz_helpers.py wait BASE_URL SECONDS     waits until GET /health/ready answers 200
"""

import hashlib
import hmac
import itertools
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def sign_init_data(bot_token: str, fields: dict) -> str:
    """initData for `fields` with its `hash`: secret = HMAC_SHA256(key="WebAppData", msg=bot_token); hash =
    HMAC_SHA256(key=secret, msg=the sorted `key=value` lines joined by newlines), hex."""
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    check = "\n".join(f"{key}={value}" for key, value in sorted(fields.items()))
    digest = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urllib.parse.urlencode({**fields, "hash": digest}, quote_via=urllib.parse.quote)


def init_data(bot_token: str, telegram_id: int) -> str:
    user = {"id": telegram_id, "first_name": "Fuzz", "username": "fuzz_user", "language_code": "en"}
    return sign_init_data(bot_token, {
        "auth_date": str(int(time.time())),
        "query_id": "AAHfuzzQueryId",
        "user": json.dumps(user, separators=(",", ":")),
    })


def access_token(base_url: str, bot_token: str, telegram_id: int) -> str:
    request = urllib.request.Request(
        base_url.rstrip("/") + "/api/v1/miniapp/auth", method="POST", data=b"",
        headers={"Authorization": "tma " + init_data(bot_token, telegram_id)})
    with urllib.request.urlopen(request, timeout=10) as response:
        body = json.load(response)
    return body["access_token"]


def wait_ready(base_url: str, seconds: float) -> None:
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


class Upstream(BaseHTTPRequestHandler):
    """Answers the few Stripe and Bot API calls the server makes, with the smallest valid bodies."""

    counter = itertools.count(1)
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def _reply(self, status: int, body) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _read_body(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)

    def do_GET(self):
        self._read_body()
        self._route()

    def do_POST(self):
        self._read_body()
        self._route()

    def do_DELETE(self):
        self._read_body()
        self._route()

    def _route(self):
        path = urllib.parse.urlsplit(self.path).path
        n = next(self.counter)
        if path.startswith("/bot"):
            method = path.rsplit("/", 1)[-1]
            results = {
                "createInvoiceLink": f"https://t.me/$fuzzinvoice{n}",
                "sendMessage": {"message_id": n, "date": int(time.time()), "chat": {"id": 1, "type": "private"}},
                "sendInvoice": {"message_id": n, "date": int(time.time()), "chat": {"id": 1, "type": "private"}},
            }
            self._reply(200, {"ok": True, "result": results.get(method, True)})
        elif path == "/v1/customers":
            self._reply(200, {"id": f"cus_fuzz{n}", "object": "customer", "metadata": {}})
        elif path == "/v1/checkout/sessions":
            self._reply(200, {"id": f"cs_fuzz{n}", "object": "checkout.session",
                              "url": f"https://checkout.stripe.com/c/pay/cs_fuzz{n}"})
        elif path == "/v1/billing_portal/sessions":
            self._reply(200, {"id": f"bps_fuzz{n}", "object": "billing_portal.session",
                              "url": f"https://billing.stripe.com/p/session/fuzz{n}"})
        else:
            self._reply(404, {"error": {"type": "invalid_request_error", "message": "No such resource"}})


def serve_upstream(port_file: str) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    with open(port_file, "w") as handle:
        handle.write(str(server.server_address[1]))
    server.serve_forever()


def main(argv) -> None:
    if len(argv) >= 2 and argv[1] == "upstream" and len(argv) == 3:
        serve_upstream(argv[2])
    elif len(argv) == 4 and argv[1] == "initdata":
        print(init_data(argv[2], int(argv[3])))
    elif len(argv) == 5 and argv[1] == "token":
        print(access_token(argv[2], argv[3], int(argv[4])))
    elif len(argv) == 4 and argv[1] == "wait":
        wait_ready(argv[2], float(argv[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
